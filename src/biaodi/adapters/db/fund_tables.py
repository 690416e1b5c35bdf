"""Cash wallet and reward crowdfunding (issue #20): tables appear here with migration 0022."""

from __future__ import annotations
