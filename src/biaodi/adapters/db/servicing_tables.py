"""Tables of the servicing capability (close of business, repayments, defaults, collections)."""

from __future__ import annotations

from biaodi.adapters.db.tables import Base

__all__ = ["Base"]
