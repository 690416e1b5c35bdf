"""Days past due, buckets, instalment states, the repaying ↔ overdue moves, and penalty
accrual — set-based over a range of listing ids.

Days past due count from the oldest instalment not covered by what the borrower has paid,
taking payments oldest first (FIFO): instalment k is paid once the instalments due so far,
summed up to k, are no more than what was paid of them. The same rule over what holders
received (from the borrower or a guarantor) gives the holders' oldest unpaid instalment (the
guarantor's deadline counts from it), and per holding its own days past due and bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings.cost import PPM
from biaodi.domain.listings.lifecycle import TRANSITIONS, ListingStatus
from biaodi.domain.risk.blacklist import PAST_M3_DAYS
from biaodi.domain.servicing.buckets import bucket_case_sql
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import Sql, rows, run


def late(alias: str = "s") -> str:
    """Loans with an instalment unpaid past its date, for them or for their holders: the
    predicate of the partial index `ix_loan_servicing_in_arrears`, so that a step that needs
    only late loans reads those, not every loan of the chunk. Days past due, a bucket past
    current, arrears to compensate or a default all imply it (only `refresh` clears both
    dates, and it sets days past due to 0 when it does)."""
    a = f"{alias}." if alias else ""
    return f"({a}oldest_due_date IS NOT NULL OR {a}holders_oldest_due_date IS NOT NULL)"


_IN_ARREARS = f"s.listing_id BETWEEN :lo AND :hi AND s.status <> 'closed' AND {late()}"


def _running(table: str, owner: str, owners: str, d: str) -> str:
    """Each instalment fallen due by `d` of the `owners` (a SELECT of ids), with the running
    and the total sum of its amounts."""
    return f"""
        SELECT i.id, i.{owner} AS owner, i.due_date,
               CAST(SUM(i.principal_fen + i.interest_fen) OVER (
                   PARTITION BY i.{owner} ORDER BY i.seq
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS cum,
               CAST(SUM(i.principal_fen + i.interest_fen) OVER (PARTITION BY i.{owner})
                    AS BIGINT) AS total
        FROM {table} i WHERE i.due_date <= {d} AND i.status <> 'cancelled'
          AND i.{owner} IN ({owners})"""


def refresh(uow: UnitOfWork, day: date, lo: int, hi: int) -> int:
    """Recompute arrears states for loans with arrears (or that had some until today)."""
    sql = Sql.of(uow)
    d = sql.date("d")
    _refresh_holdings(uow, day, lo, hi, sql)  # first: the loans' own update ends their scope
    loans = f"""
        SELECT s.listing_id, s.due_principal_fen + s.due_interest_fen AS a,
               COALESCE((SELECT SUM(p.due_principal_fen + p.due_interest_fen)
                         FROM servicing_positions p
                         WHERE p.listing_id = s.listing_id AND p.tier = 0), 0) AS a0
        FROM loan_servicing s WHERE {_IN_ARREARS}"""
    inst = _running("loan_instalments", "listing_id",
                    f"SELECT s.listing_id FROM loan_servicing s WHERE {_IN_ARREARS}", d)
    run(uow, f"""
        UPDATE loan_instalments SET status = x.new_status
        FROM (SELECT i.id, CASE WHEN i.cum <= i.total - l.a THEN 'paid'
                                WHEN i.cum <= i.total - l.a0 THEN 'compensated'
                                WHEN i.due_date >= {d} THEN 'due' ELSE 'overdue' END AS new_status
              FROM ({inst}) i JOIN ({loans}) l ON l.listing_id = i.owner) x
        WHERE loan_instalments.id = x.id AND loan_instalments.status <> x.new_status""",
        d=day, lo=lo, hi=hi)
    dpd = (f"CASE WHEN y.oldest IS NULL THEN 0 "
           f"ELSE {sql.greatest('0', sql.days(d, 'y.oldest'))} END")
    changed = run(uow, f"""
        UPDATE loan_servicing SET
            oldest_due_date = z.oldest, holders_oldest_due_date = z.holders_oldest,
            days_past_due = z.dpd, bucket = {bucket_case_sql("z.dpd")},
            status = CASE WHEN status = 'performing' AND z.dpd > 0 THEN 'overdue'
                          WHEN status = 'overdue' AND z.dpd = 0 THEN 'performing'
                          ELSE status END
        FROM (SELECT y.listing_id, y.oldest, y.holders_oldest, {dpd} AS dpd
              FROM (SELECT l.listing_id,
                           MIN(CASE WHEN i.cum > i.total - l.a THEN i.due_date END) AS oldest,
                           MIN(CASE WHEN i.cum > i.total - l.a0 THEN i.due_date END)
                               AS holders_oldest
                    FROM ({loans}) l LEFT JOIN ({inst}) i ON i.owner = l.listing_id
                    GROUP BY l.listing_id) y) z
        WHERE loan_servicing.listing_id = z.listing_id""", d=day, lo=lo, hi=hi)
    _move_listings(uow, lo, hi)
    return changed


def _refresh_holdings(uow: UnitOfWork, day: date, lo: int, hi: int, sql: Sql) -> None:
    d = sql.date("d")
    positions = f"""
        SELECT p.id, p.holding_id, p.due_principal_fen + p.due_interest_fen AS a
        FROM servicing_positions p
        WHERE p.holding_id IS NOT NULL AND p.listing_id IN (
            SELECT s.listing_id FROM loan_servicing s WHERE {_IN_ARREARS})"""
    inst = _running("holding_instalments", "holding_id",
                    f"SELECT q.holding_id FROM ({positions}) q", d)
    run(uow, f"""
        UPDATE holding_instalments SET status = x.new_status
        FROM (SELECT i.id, CASE WHEN i.cum <= i.total - p.a THEN 'paid'
                                WHEN i.due_date >= {d} THEN 'due' ELSE 'overdue' END AS new_status
              FROM ({inst}) i JOIN ({positions}) p ON p.holding_id = i.owner) x
        WHERE holding_instalments.id = x.id AND holding_instalments.status <> x.new_status""",
        d=day, lo=lo, hi=hi)
    dpd = (f"CASE WHEN y.oldest IS NULL THEN 0 "
           f"ELSE {sql.greatest('0', sql.days(d, 'y.oldest'))} END")
    run(uow, f"""
        UPDATE servicing_positions SET days_past_due = z.dpd, bucket = {bucket_case_sql("z.dpd")}
        FROM (SELECT y.id, {dpd} AS dpd
              FROM (SELECT p.id, MIN(CASE WHEN i.cum > i.total - p.a THEN i.due_date END) AS oldest
                    FROM ({positions}) p LEFT JOIN ({inst}) i ON i.owner = p.holding_id
                    GROUP BY p.id) y) z
        WHERE servicing_positions.id = z.id
          AND (servicing_positions.days_past_due <> z.dpd)""", d=day, lo=lo, hi=hi)


def move_listings(uow: UnitOfWork, ids_sql: str, target: ListingStatus, reason: str, *,
                  lo: int, hi: int, **params: object) -> int:
    """Move many listings at once along the lifecycle: only those whose status may go to
    `target` (the domain's transition table), each move recorded in listing_transitions.
    `ids_sql` selects listing ids within [lo, hi]; the range is also put on `listings` itself,
    so that a chunk reads its own listings and never the whole table (or every listing of the
    source status in the book), once per chunk."""
    sources = ", ".join(f"'{s.value}'" for s, targets in TRANSITIONS.items() if target in targets)
    where = f"id BETWEEN :lo AND :hi AND id IN ({ids_sql}) AND status IN ({sources})"
    params = {**params, "lo": lo, "hi": hi}
    now = uow.clock.now()
    run(uow, f"""
        INSERT INTO listing_transitions (listing_id, from_status, to_status, actor_id, reason, at)
        SELECT id, status, :target, NULL, :reason, :now FROM listings WHERE {where}""",
        target=target.value, reason=reason, now=now, **params)
    moved = [int(r.id) for r in rows(
        uow, f"UPDATE listings SET status = :target, updated_at = :now WHERE {where} "
             "RETURNING id", target=target.value, now=now, **params)]
    if moved:  # one event for the set, filed under each listing (and its loan)
        audit.note(uow, "listing.status_bulk", subjects=[
            (kind, i) for i in moved for kind in ("listing", "loan")],
            changes={"to_status": target.value, "reason": reason, "listings": len(moved)})
    return len(moved)


def _move_listings(uow: UnitOfWork, lo: int, hi: int) -> None:
    move_listings(uow, "SELECT listing_id FROM loan_servicing WHERE listing_id BETWEEN :lo AND "
                       ":hi AND status = 'overdue'",
                  ListingStatus.OVERDUE, "past due", lo=lo, hi=hi)
    move_listings(uow, "SELECT listing_id FROM loan_servicing WHERE listing_id BETWEEN :lo AND "
                       ":hi AND status = 'performing' AND days_past_due = 0",
                  ListingStatus.REPAYING, "arrears paid", lo=lo, hi=hi)


def accrue_penalty(uow: UnitOfWork, day: date, lo: int, hi: int) -> int:
    """One day's penalty per creditor on what it is owed and was due before today, for loans
    past due beyond their grace period — and for a holding, its own days past due beyond it
    (a holding a guarantor made whole is not late); once per loan and business date."""
    sql = Sql.of(uow)
    d = sql.date("d")
    loans = (f"SELECT s.listing_id, s.penalty_daily_ppm, s.grace_days FROM loan_servicing s "
             f"WHERE s.listing_id BETWEEN :lo AND :hi AND {late()} "
             f"AND s.days_past_due > s.grace_days "
             f"AND s.status NOT IN ('closed', 'written_off') AND s.penalty_daily_ppm > 0 "
             f"AND (s.penalty_through IS NULL OR s.penalty_through < {d})")
    due_today = (f"COALESCE(CAST((SELECT SUM(hi.principal_fen + hi.interest_fen) "
                 f"FROM holding_instalments hi WHERE hi.holding_id = p.holding_id "
                 f"AND hi.due_date = {d} AND hi.status <> 'cancelled') AS BIGINT), 0)")
    base = sql.greatest("0", f"p.due_principal_fen + p.due_interest_fen - {due_today}")
    penalty = f"(2 * {base} * l.penalty_daily_ppm + {PPM}) / {2 * PPM}"
    changed = run(uow, f"""
        UPDATE servicing_positions SET penalty_fen = penalty_fen + x.extra
        FROM (SELECT p.id, {penalty} AS extra
              FROM servicing_positions p JOIN ({loans}) l ON l.listing_id = p.listing_id
              WHERE p.listing_id BETWEEN :lo AND :hi AND p.status = 'active'
                AND (p.holding_id IS NULL OR p.days_past_due > l.grace_days)) x
        WHERE servicing_positions.id = x.id AND x.extra > 0""", d=day, lo=lo, hi=hi)
    run(uow, f"""
        UPDATE loan_servicing SET penalty_through = {d},
            penalty_fen = (SELECT COALESCE(SUM(p.penalty_fen), 0) FROM servicing_positions p
                           WHERE p.listing_id = loan_servicing.listing_id)
        WHERE listing_id IN (SELECT l.listing_id FROM ({loans}) l)""", d=day, lo=lo, hi=hi)
    return changed


def list_past_m3(uow: UnitOfWork, day: date, lo: int, hi: int,
                 list_defaulter: Callable[[UnitOfWork, int, int, str], None] | None) -> int:
    """Borrowers of loans more than 90 days past due go on the risk blacklist (动态黑名单),
    once per loan (`loan_servicing.blacklisted_on`). Few loans cross M3 on one day, so the
    blacklist (which lists every value of the identity and links others) runs per loan."""
    crossed = rows(uow, f"""
        SELECT s.listing_id, l.applicant_id, s.days_past_due
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.listing_id BETWEEN :lo AND :hi AND {late()} AND s.days_past_due > {PAST_M3_DAYS}
          AND s.blacklisted_on IS NULL AND s.status <> 'closed'
        ORDER BY s.listing_id""", lo=lo, hi=hi)
    for loan in crossed:
        if list_defaulter is not None:
            list_defaulter(uow, loan.applicant_id, loan.days_past_due,
                           f"listing {loan.listing_id}")
    if crossed:
        d = Sql.of(uow).date("d")
        run(uow, f"""UPDATE loan_servicing SET blacklisted_on = {d}
                     WHERE listing_id BETWEEN :lo AND :hi AND {late("")}
                       AND days_past_due > {PAST_M3_DAYS}
                       AND blacklisted_on IS NULL AND status <> 'closed'""",
            d=day, lo=lo, hi=hi)
    return len(crossed)
