"""Payment use cases: deposits, withdrawals, gateway callbacks, reconciliation, exceptions."""
