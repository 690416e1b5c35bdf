"""The demo marketplace seeded for `python3 dev.py serve`."""
