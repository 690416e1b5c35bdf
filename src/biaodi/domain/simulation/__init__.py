"""The market simulator's rules: scenarios, borrower behaviour, investor strategies (no I/O)."""
