"""Account use cases: registration, staff, login tokens, wallets, marketing bonuses."""
