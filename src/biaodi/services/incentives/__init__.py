"""Incentives: campaigns, coupons checked and consumed by investing, the day steps."""
