"""Investing rules: exact splits of a loan's schedule among holdings, investor suitability."""
