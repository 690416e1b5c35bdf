"""The close-of-business steps of disclosure and of the analytics history it publishes."""

from __future__ import annotations

from biaodi.services.analytics.history import snapshot_buckets
from biaodi.services.servicing.close_day import DayStep


def disclosure_steps() -> list[DayStep]:
    """Snapshot every live loan's bucket (the roll rates' history)."""
    return [DayStep("bucket_history", snapshot_buckets)]
