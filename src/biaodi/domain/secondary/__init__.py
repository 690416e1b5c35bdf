"""Secondary-market rules: fair value, price guardrails, the buyer's yield, splitting a holding."""
