"""Listing use cases: create, review, publish, advance; security, buy-back reserves, queries."""
