"""Investing use cases: invest, funding and disbursement, auto-invest, suitability."""
