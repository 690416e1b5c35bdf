"""Maintained counters on money paths (issue #15): tables appear here with migration 0017."""

from __future__ import annotations
