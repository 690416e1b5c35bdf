"""Information disclosure (信息披露, 2017 guideline): institution details, the monthly
operating report, per-listing borrower items, major events (docs/DISCLOSURE.md)."""
