"""Ledger use cases: open accounts, post balanced entries one by one or in sets, verify."""
