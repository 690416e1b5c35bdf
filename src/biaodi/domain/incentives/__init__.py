"""Incentives: coupons (红包, 加息券), trial principal (体验金), referrals, points and levels."""
