"""Every table module, imported once so that `Base.metadata` holds the whole schema (Alembic,
the schema-drift test and test clean-up use it)."""

from biaodi.adapters.db import (
    audit_tables,
    counter_tables,
    disclosure_tables,
    document_tables,
    fund_tables,
    incentive_tables,
    notification_tables,
    payment_tables,
    risk_tables,
    secondary_tables,
    servicing_tables,
    tables,
)
from biaodi.adapters.db.tables import Base

__all__ = [
    "Base",
    "audit_tables",
    "counter_tables",
    "disclosure_tables",
    "document_tables",
    "fund_tables",
    "incentive_tables",
    "notification_tables",
    "payment_tables",
    "risk_tables",
    "secondary_tables",
    "servicing_tables",
    "tables",
]
