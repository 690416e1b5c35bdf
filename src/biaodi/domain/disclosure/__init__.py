"""Disclosure rules without I/O: due dates, lateness, masking, the report's formulas."""
