"""Information disclosure and analytics history (issue #17): tables with migration 0018."""

from __future__ import annotations
