"""Payments and custody rules: order states, channels, limits and the entries each event posts."""
