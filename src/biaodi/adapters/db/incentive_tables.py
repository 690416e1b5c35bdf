"""Incentives (issue #20): tables appear here with migration 0021."""

from __future__ import annotations
