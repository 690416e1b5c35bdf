"""The maintained counters of investing (`adapters/db/counter_tables.py`): read on the hot
path instead of summing history, and recomputed from history to prove them right.

The triggers of migration 0017 keep them; nothing here writes them. A missing row counts 0
(an investor who never invested, a listing an investor never took)."""

from __future__ import annotations

from sqlalchemy import text

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.money import Money

#: Money at risk: frozen subscriptions plus the outstanding principal of active holdings.
EXPOSURE_SQL = ("COALESCE((SELECT outstanding_fen FROM investor_exposure "
                "WHERE investor_id = :user), 0)")

#: What an investor holds of one listing: frozen and settled subscriptions.
STAKE_SQL = ("COALESCE((SELECT stake_fen FROM listing_stakes "
             "WHERE listing_id = :listing AND investor_id = :user), 0)")

_EXPOSURE = text(f"SELECT {EXPOSURE_SQL}")

#: PostgreSQL: the exposure row locked (made first if missing), before the wallet — the
#: order funding and close of business take them in; it queues one investor's investments.
_LOCK = text("SELECT outstanding_fen FROM investor_exposure WHERE investor_id = :user "
             "FOR UPDATE")
_MAKE = text("INSERT INTO investor_exposure (investor_id, outstanding_fen) VALUES (:user, 0) "
             "ON CONFLICT (investor_id) DO NOTHING")

_RECOUNT = text("""
    SELECT 'exposure' AS counter, who AS investor_id, NULL AS listing_id,
           COALESCE(kept, 0) AS kept, COALESCE(summed, 0) AS summed
    FROM (SELECT COALESCE(e.investor_id, s.investor_id) AS who, e.outstanding_fen AS kept,
                 s.fen AS summed
          FROM investor_exposure e
          FULL OUTER JOIN (
              SELECT investor_id, SUM(fen) AS fen FROM (
                  SELECT investor_id, amount_fen AS fen FROM investments WHERE status = 'frozen'
                  UNION ALL
                  SELECT investor_id, outstanding_principal_fen FROM holdings
                  WHERE status = 'active') m
              GROUP BY investor_id) s ON s.investor_id = e.investor_id) x
    WHERE COALESCE(kept, 0) <> COALESCE(summed, 0)
    UNION ALL
    SELECT 'stake', COALESCE(k.investor_id, s.investor_id), COALESCE(k.listing_id, s.listing_id),
           COALESCE(k.stake_fen, 0), COALESCE(s.fen, 0)
    FROM listing_stakes k
    FULL OUTER JOIN (
        SELECT listing_id, investor_id, SUM(amount_fen) AS fen FROM investments
        WHERE status IN ('frozen', 'settled') GROUP BY listing_id, investor_id) s
      ON s.listing_id = k.listing_id AND s.investor_id = k.investor_id
    WHERE COALESCE(k.stake_fen, 0) <> COALESCE(s.fen, 0)
    ORDER BY 1, 2, 3
    LIMIT :limit""")


def exposure(uow: UnitOfWork, investor_id: int) -> Money:
    """The investor's money at risk, from the counter."""
    return Money(int(uow.s.execute(_EXPOSURE, {"user": investor_id}).scalar_one()))


def lock_exposure(uow: UnitOfWork, investor_id: int) -> None:
    """PostgreSQL: take the investor's exposure row (the step-by-step investment, before the
    wallet). SQLite's BEGIN IMMEDIATE already holds every row."""
    if uow.s.get_bind().dialect.name != "postgresql":
        return
    if uow.s.execute(_LOCK, {"user": investor_id}).first() is None:
        uow.s.execute(_MAKE, {"user": investor_id})
        uow.s.execute(_LOCK, {"user": investor_id})


def mismatches(uow: UnitOfWork, *, limit: int = 1000) -> list[str]:
    """Every counter that differs from the sum of the history it counts (none: all right)."""
    found = []
    for row in uow.s.execute(_RECOUNT, {"limit": limit}):
        what = (f"investor {row.investor_id}'s exposure" if row.counter == "exposure"
                else f"investor {row.investor_id}'s stake in listing {row.listing_id}")
        found.append(f"{what} is {row.kept} fen; history sums to {row.summed} fen")
    return found
