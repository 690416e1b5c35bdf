"""Risk-control use cases: applications scored and decided, credit limits, the dynamic blacklist."""
