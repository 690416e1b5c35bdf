"""Notifications and account security (issue #19): tables appear here with migration 0019."""

from __future__ import annotations
