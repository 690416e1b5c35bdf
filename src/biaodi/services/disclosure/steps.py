"""The close-of-business steps of disclosure and of the analytics history it publishes."""

from __future__ import annotations

from biaodi.config import Settings
from biaodi.services.analytics.history import snapshot_buckets
from biaodi.services.disclosure.public import fee_schedule
from biaodi.services.disclosure.report import publish_at_month_end
from biaodi.services.servicing.close_day import DayStep


def disclosure_steps(settings: Settings) -> list[DayStep]:
    """Snapshot every live loan's bucket (the roll rates' and the reports' history), then on a
    month's last day publish its operating report."""
    return [DayStep("bucket_history", snapshot_buckets),
            DayStep("disclosure_report", publish_at_month_end(fee_schedule(settings)))]
