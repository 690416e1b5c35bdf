"""E-contracts and customer service (issue #19): tables appear here with migration 0020."""

from __future__ import annotations
