"""Tables of the risk capability (money columns are BigInteger fen)."""

from __future__ import annotations

from biaodi.adapters.db.tables import Base

__all__ = ["Base"]
