"""Collecting and distributing repayments, set-based: the engine behind the close-of-business
auto-debit and every other way money reaches a loan's creditors (a borrower's repayment, a
buy-back, disposal proceeds, a recovery).

For each loan in scope with something owed: the amount taken is what is owed (capped), and
for a wallet no more than its balance — several loans of one payer are served in listing-id
order from one balance, so no wallet can go below zero. That amount is allocated to creditor
tiers (holders before a guarantor's subrogated claim), then to components in the loan's
order (default penalty → interest → principal), then to each position by largest remainder
(window functions: floor shares, then one fen each to the largest remainders, ties to the
lower position id) — exactly `domain.servicing.allocation.distribute`.

One journal entry per repayment: debit the payer; credit each creditor's wallet with its
share; debit `loan:L:principal_payable` and credit each claim (`holding:H:principal`, a
guarantor's subrogation account, or after a write-off the loss account) by the principal; for
interest, a guarantor's or written-off claim is credited by what it received, and each live
holding's `holding:H:interest` is trued up to the interest it is still owed, against
`loan:L:interest_payable` — interest that fell due today and is paid today never shows as a
claim. Penalty is not a ledger claim: it moves wallet to wallet only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.servicing.allocation import AllocationOrder, Component
from biaodi.domain.shared.errors import UnbalancedEntry
from biaodi.services.ledger import bulk as ledger_bulk
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import Sql, rows, run


@dataclass(frozen=True)
class Collection:
    source: str  # repayments.source: auto_debit, manual, early_full, buyback, disposal …
    kind: str  # the journal entry's kind: repayment, early_repayment, originator_buyback …
    key: str  # repayments.key; with `per_loan` the listing id is appended
    batch: str
    per_loan: bool = False
    payer_account_id: int | None = None  # None: the loan's payer wallet
    cap: int | None = None  # the most to take from each loan's payer
    limit_to_balance: bool = True  # False for money arriving from outside (custody)
    include_penalty: bool = True
    order: AllocationOrder | None = None  # None: each loan's own order


#: The predicate of the partial index `ix_loan_servicing_owing`, verbatim: what any variant of
#: `_owed` being positive implies (penalty is never negative), so that a chunk reads only the
#: loans owing something instead of all of them.
OWING = "(s.due_principal_fen + s.due_interest_fen + s.penalty_fen) > 0"


def _owed(spec: Collection, sql: Sql) -> str:
    owed = "s.due_principal_fen + s.due_interest_fen"
    if spec.include_penalty:
        owed += " + s.penalty_fen"
    return f"({owed})" if spec.cap is None else sql.least(f"({owed})", ":cap")


def collect(uow: UnitOfWork, day: date, lo: int, hi: int, spec: Collection) -> int:
    """Collect and distribute for loans with listing ids in [lo, hi]; the number of
    repayments made (one per loan at most)."""
    sql = Sql.of(uow)
    owed = _owed(spec, sql)
    payer = "s.payer_account_id" if spec.payer_account_id is None else ":payer"
    key = ":key || s.listing_id" if spec.per_loan else ":key"
    if spec.limit_to_balance:
        paid = f"{sql.least('o.bal', 'o.cum')} - {sql.least('o.bal', 'o.cum - o.owed')}"
    else:
        paid = "o.owed"
    params = dict(d=day, lo=lo, hi=hi, b=spec.batch, key=spec.key, source=spec.source,
                  payer=spec.payer_account_id, cap=spec.cap, now=uow.clock.now())
    if sql.pg:  # lock what the payers hold before reading it; ledger_bulk locks the rest
        run(uow, f"""SELECT a.id FROM accounts a WHERE a.id IN (
                         SELECT {payer} FROM loan_servicing s
                         WHERE s.listing_id BETWEEN :lo AND :hi AND s.status <> 'closed'
                           AND {OWING} AND {owed} > 0)
                     ORDER BY a.id FOR UPDATE""", **params)
    made = run(uow, f"""
        INSERT INTO repayments (key, batch, listing_id, business_date, source, payer_account_id,
                                amount_fen, penalty_fen, interest_fen, principal_fen, created_at)
        SELECT o.key, :b, o.listing_id, {sql.date("d")}, :source, o.payer, {paid}, 0, 0, 0, :now
        FROM (
            SELECT s.listing_id, {key} AS key, {payer} AS payer, a.balance AS bal,
                   {owed} AS owed,
                   CAST(SUM({owed}) OVER (PARTITION BY {payer} ORDER BY s.listing_id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS cum
            FROM loan_servicing s JOIN accounts a ON a.id = {payer}
            WHERE s.listing_id BETWEEN :lo AND :hi AND s.status <> 'closed' AND {OWING}
              AND {owed} > 0
              AND NOT EXISTS (SELECT 1 FROM repayments r WHERE r.key = {key})
        ) o
        WHERE {paid} > 0""", **params)
    if not made:
        return 0
    _shares(uow, spec, day, sql)
    _apply(uow, spec)
    _post(uow, spec)
    # One event per call; one loan's collection (a repayment, a disposal, a buy-back) is
    # filed under that loan, a close-of-business chunk under none (its step's event says it).
    audit.note(uow, f"loan.collected.{spec.source}",
               subjects=[("loan", lo), ("listing", lo)] if lo == hi else [],
               changes={"kind": spec.kind, "key": spec.key, "repayments": made,
                        "listing_ids": [lo, hi]})
    return made


def _ranks(spec: Collection) -> tuple[str, str, str]:
    if spec.order is None:
        return "s.order_penalty", "s.order_interest", "s.order_principal"
    o = spec.order
    return (str(o.rank(Component.PENALTY)), str(o.rank(Component.INTEREST)),
            str(o.rank(Component.PRINCIPAL)))


def _shares(uow: UnitOfWork, spec: Collection, day: date, sql: Sql) -> None:
    op, oi, opr = _ranks(spec)
    pen = "p.penalty_fen" if spec.include_penalty else "0"
    least, greatest = sql.least, sql.greatest

    def component(mine: str, due: str, others: list[tuple[str, str]]) -> str:
        before = " + ".join(f"(CASE WHEN {rank} < {mine} THEN {amount} ELSE 0 END)"
                            for rank, amount in others)
        return least(due, greatest("0", f"t.tp - ({before})"))

    cpen = component("t.op", "t.pen_t", [("t.oi", "t.itr_t"), ("t.opr", "t.prin_t")])
    citr = component("t.oi", "t.itr_t", [("t.op", "t.pen_t"), ("t.opr", "t.prin_t")])
    cprin = component("t.opr", "t.prin_t", [("t.op", "t.pen_t"), ("t.oi", "t.itr_t")])

    def split(name: str) -> tuple[str, str]:
        floor = f"CASE WHEN c.{name}_t > 0 THEN c.c{name} * c.{name} / c.{name}_t ELSE 0 END"
        rem = f"CASE WHEN c.{name}_t > 0 THEN c.c{name} * c.{name} % c.{name}_t ELSE 0 END"
        return floor, rem

    fpen, rpen = split("pen")
    fitr, ritr = split("itr")
    fprin, rprin = split("prin")
    group = "PARTITION BY b.rid, b.tier"
    # Tier totals and what the tiers before took are window sums over the positions, not a
    # GROUP BY joined back: the planner cannot estimate a fresh batch and nested-looped that
    # join, quadratic in the repayments of a chunk.
    run(uow, f"""
        WITH pos AS (
            SELECT r.id AS rid, r.amount_fen AS paid, p.id AS pid, p.tier,
                   {pen} AS pen, p.due_interest_fen AS itr, p.due_principal_fen AS prin,
                   {op} AS op, {oi} AS oi, {opr} AS opr
            FROM repayments r
            JOIN servicing_positions p ON p.listing_id = r.listing_id
            JOIN loan_servicing s ON s.listing_id = r.listing_id
            WHERE r.batch = :b AND {pen} + p.due_interest_fen + p.due_principal_fen > 0
        ),
        tiers AS (
            SELECT pos.*,
                   CAST(SUM(pen) OVER (PARTITION BY rid, tier) AS BIGINT) AS pen_t,
                   CAST(SUM(itr) OVER (PARTITION BY rid, tier) AS BIGINT) AS itr_t,
                   CAST(SUM(prin) OVER (PARTITION BY rid, tier) AS BIGINT) AS prin_t,
                   CAST(SUM(pen + itr + prin) OVER (PARTITION BY rid ORDER BY tier
                        RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS upto
            FROM pos
        ),
        paid_tiers AS (
            SELECT x.*, {least("x.pen_t + x.itr_t + x.prin_t",
                               greatest("0", "x.paid - (x.upto - x.pen_t - x.itr_t - x.prin_t)"))}
                        AS tp
            FROM tiers x
        ),
        comp AS (
            SELECT t.*, {cpen} AS cpen, {citr} AS citr, {cprin} AS cprin
            FROM paid_tiers t
        ),
        base AS (
            SELECT c.rid, c.pid, c.tier, c.cpen, c.citr, c.cprin,
                   {fpen} AS fpen, {rpen} AS rpen, {fitr} AS fitr, {ritr} AS ritr,
                   {fprin} AS fprin, {rprin} AS rprin
            FROM comp c
        ),
        ranked AS (
            SELECT b.*,
                   b.cpen - CAST(SUM(b.fpen) OVER ({group}) AS BIGINT) AS xpen,
                   ROW_NUMBER() OVER ({group} ORDER BY b.rpen DESC, b.pid) AS npen,
                   b.citr - CAST(SUM(b.fitr) OVER ({group}) AS BIGINT) AS xitr,
                   ROW_NUMBER() OVER ({group} ORDER BY b.ritr DESC, b.pid) AS nitr,
                   b.cprin - CAST(SUM(b.fprin) OVER ({group}) AS BIGINT) AS xprin,
                   ROW_NUMBER() OVER ({group} ORDER BY b.rprin DESC, b.pid) AS nprin
            FROM base b
        ),
        shares AS (
            SELECT rid, pid,
                   fpen + CASE WHEN npen <= xpen THEN 1 ELSE 0 END AS spen,
                   fitr + CASE WHEN nitr <= xitr THEN 1 ELSE 0 END AS sitr,
                   fprin + CASE WHEN nprin <= xprin THEN 1 ELSE 0 END AS sprin
            FROM ranked
        )
        INSERT INTO repayment_shares (repayment_id, position_id, penalty_fen, interest_fen,
                                      principal_fen)
        SELECT rid, pid, spen, sitr, sprin FROM shares WHERE spen + sitr + sprin > 0""",
        b=spec.batch)
    _totals(uow, spec, day, sql)
    wrong = rows(uow, """SELECT id, amount_fen, penalty_fen + interest_fen + principal_fen AS got
                         FROM repayments WHERE batch = :b
                           AND amount_fen <> penalty_fen + interest_fen + principal_fen""",
                 b=spec.batch)
    if wrong:
        raise UnbalancedEntry(f"repayment {wrong[0].id}: shares add up to {wrong[0].got} fen,"
                              f" not {wrong[0].amount_fen}")


def _apply(uow: UnitOfWork, spec: Collection) -> None:
    shares = """SELECT sh.position_id, SUM(sh.penalty_fen) AS pen, SUM(sh.interest_fen) AS itr,
                       SUM(sh.principal_fen) AS prin
                FROM repayment_shares sh JOIN repayments r ON r.id = sh.repayment_id
                WHERE r.batch = :b GROUP BY sh.position_id"""
    run(uow, f"""
        UPDATE servicing_positions SET
            penalty_fen = penalty_fen - x.pen, due_interest_fen = due_interest_fen - x.itr,
            due_principal_fen = due_principal_fen - x.prin,
            outstanding_principal_fen = outstanding_principal_fen - x.prin,
            received_penalty_fen = received_penalty_fen + x.pen,
            received_interest_fen = received_interest_fen + x.itr,
            received_principal_fen = received_principal_fen + x.prin
        FROM ({shares}) x WHERE servicing_positions.id = x.position_id""", b=spec.batch)
    run(uow, f"""
        UPDATE holdings SET outstanding_principal_fen = outstanding_principal_fen - x.prin
        FROM (SELECT p.holding_id, SUM(x.prin) AS prin FROM ({shares}) x
              JOIN servicing_positions p ON p.id = x.position_id
              WHERE p.holding_id IS NOT NULL GROUP BY p.holding_id) x
        WHERE holdings.id = x.holding_id AND x.prin > 0""", b=spec.batch)
    run(uow, """
        UPDATE loan_servicing SET
            penalty_fen = penalty_fen - x.pen, due_interest_fen = due_interest_fen - x.itr,
            due_principal_fen = due_principal_fen - x.prin,
            outstanding_principal_fen = outstanding_principal_fen - x.prin
        FROM (SELECT listing_id, SUM(penalty_fen) AS pen, SUM(interest_fen) AS itr,
                     SUM(principal_fen) AS prin
              FROM repayments WHERE batch = :b GROUP BY listing_id) x
        WHERE loan_servicing.listing_id = x.listing_id""", b=spec.batch)


_KEY = "repayment:"  # a repayment's journal entry: this and the repayment's id


def _totals(uow: UnitOfWork, spec: Collection, day: date, sql: Sql) -> None:
    """Each repayment's components (the sums of its shares) and its journal entry. On
    PostgreSQL one statement: the entries' ids come straight from their INSERT, and the
    repayments are updated once — each update of a row inserted in this transaction checks
    its three foreign keys again, whatever it changes."""
    sums = """SELECT sh.repayment_id, SUM(sh.penalty_fen) AS pen, SUM(sh.interest_fen) AS itr,
                     SUM(sh.principal_fen) AS prin
              FROM repayment_shares sh JOIN repayments r ON r.id = sh.repayment_id
              WHERE r.batch = :b GROUP BY sh.repayment_id"""
    entries = f"""
        INSERT INTO journal_entries (kind, memo, idempotency_key, business_date, created_at)
        SELECT :kind, 'listing ' || r.listing_id || ' ' || r.source, '{_KEY}' || r.id,
               {sql.date("d")}, :now
        FROM repayments r WHERE r.batch = :b"""
    params = dict(kind=spec.kind, b=spec.batch, d=day, now=uow.clock.now())
    if sql.pg:  # each repayment found by its id, whatever the planner guesses of a new batch
        run(uow, f"""
            WITH e AS ({entries} RETURNING id, idempotency_key)
            UPDATE repayments SET entry_id = e.id,
                (penalty_fen, interest_fen, principal_fen) = (
                    SELECT COALESCE(SUM(sh.penalty_fen), 0), COALESCE(SUM(sh.interest_fen), 0),
                           COALESCE(SUM(sh.principal_fen), 0)
                    FROM repayment_shares sh WHERE sh.repayment_id = repayments.id)
            FROM e
            WHERE repayments.id = CAST(substr(e.idempotency_key, {len(_KEY) + 1}) AS BIGINT)""",
            **params)
        return
    run(uow, f"""
        UPDATE repayments SET penalty_fen = x.pen, interest_fen = x.itr, principal_fen = x.prin
        FROM ({sums}) x WHERE repayments.id = x.repayment_id""", b=spec.batch)
    run(uow, entries, **params)
    run(uow, """
        UPDATE repayments SET entry_id = (
            SELECT e.id FROM journal_entries e
            WHERE e.idempotency_key = 'repayment:' || repayments.id)
        WHERE batch = :b""", b=spec.batch)


def _post(uow: UnitOfWork, spec: Collection) -> None:
    shares = """FROM repayment_shares sh JOIN repayments r ON r.id = sh.repayment_id
                JOIN servicing_positions p ON p.id = sh.position_id WHERE r.batch = :b"""
    other = f"{shares} AND NOT ({ACTIVE_HOLDING})"
    ledger_bulk.post_legs(
        uow,
        f"""SELECT r.entry_id, r.payer_account_id AS account_id, r.amount_fen AS amount, 1 AS leg
            FROM repayments r WHERE r.batch = :b
            UNION ALL
            SELECT r.entry_id, s.principal_account_id, r.principal_fen, 3
            FROM repayments r JOIN loan_servicing s ON s.listing_id = r.listing_id
            WHERE r.batch = :b
            UNION ALL
            SELECT r.entry_id, p.wallet_account_id,
                   -(sh.penalty_fen + sh.interest_fen + sh.principal_fen), 4 {shares}
            UNION ALL
            SELECT r.entry_id, p.principal_account_id, -sh.principal_fen, 6 {shares}
            UNION ALL
            SELECT r.entry_id, s.interest_account_id, sh.interest_fen, 2
            {other.replace("WHERE", "JOIN loan_servicing s ON s.listing_id = r.listing_id WHERE")}
            UNION ALL
            SELECT r.entry_id, p.interest_account_id, -sh.interest_fen, 5 {other}
            UNION ALL
            {_true_up_legs("r.entry_id", "repayments r", "r.listing_id", "r.batch = :b")}""",
        "SELECT entry_id FROM repayments WHERE batch = :b",
        b=spec.batch)


#: A holding's own claim, still live: its interest claim account is trued up to what it is owed.
ACTIVE_HOLDING = "p.holding_id IS NOT NULL AND p.status = 'active'"


def _true_up_legs(entry: str, source: str, listing: str, where: str) -> str:
    """Legs that make each live holding's `holding:H:interest` equal the interest it is owed
    (after the payment being posted), against `loan:L:interest_payable`: interest that fell
    due becomes a claim, interest paid leaves it — netting to nothing when both happen."""
    gap = "p.due_interest_fen - a.balance"
    joins = (f"FROM {source} JOIN servicing_positions p ON p.listing_id = {listing} "
             f"AND {ACTIVE_HOLDING} JOIN accounts a ON a.id = p.interest_account_id")
    return f"""SELECT {entry} AS entry_id, p.interest_account_id AS account_id,
                      {gap} AS amount, 5 AS leg {joins} WHERE {where}
               UNION ALL
               SELECT {entry}, s.interest_account_id, -({gap}), 2 {joins}
               JOIN loan_servicing s ON s.listing_id = {listing} WHERE {where}"""


def true_up(uow: UnitOfWork, day: date, lo: int, hi: int) -> int:
    """`interest_due` for loans whose instalments fell due on `day` and were not (fully) paid:
    one entry per loan recognising the interest now owed (debit each `holding:H:interest`,
    credit `loan:L:interest_payable`). Returns the number of entries."""
    sql = Sql.of(uow)
    d = sql.date("d")
    gap = ("EXISTS (SELECT 1 FROM servicing_positions p JOIN accounts a "
           f"ON a.id = p.interest_account_id WHERE p.listing_id = m.listing_id "
           f"AND {ACTIVE_HOLDING} AND a.balance <> p.due_interest_fen)")
    marks = (f"m.business_date = {d} AND m.listing_id BETWEEN :lo AND :hi "
             "AND m.entry_id IS NULL")
    made = run(uow, f"""
        INSERT INTO journal_entries (kind, memo, idempotency_key, business_date, created_at)
        SELECT 'interest_due', 'listing ' || m.listing_id || ' instalments ' || m.seq_from
               || '-' || m.seq_to, 'interest_due:' || m.id, {d}, :now
        FROM servicing_due_marks m WHERE {marks} AND {gap}""",
        d=day, lo=lo, hi=hi, now=uow.clock.now())
    if not made:
        return 0
    batch = f"trueup:{day}:{lo}"
    run(uow, f"""
        UPDATE servicing_due_marks SET batch = :tb, entry_id = (
            SELECT e.id FROM journal_entries e
            WHERE e.idempotency_key = 'interest_due:' || servicing_due_marks.id)
        WHERE id IN (SELECT m.id FROM servicing_due_marks m WHERE {marks})
          AND EXISTS (SELECT 1 FROM journal_entries e
                      WHERE e.idempotency_key = 'interest_due:' || servicing_due_marks.id)""",
        d=day, lo=lo, hi=hi, tb=batch)
    ledger_bulk.post_legs(
        uow, _true_up_legs("m.entry_id", "servicing_due_marks m", "m.listing_id",
                           "m.batch = :tb"),
        "SELECT entry_id FROM servicing_due_marks WHERE batch = :tb", tb=batch)
    return made
