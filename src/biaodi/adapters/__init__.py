"""Adapters to the outside world: database, payment gateway, credit bureau, crypto, clock."""
