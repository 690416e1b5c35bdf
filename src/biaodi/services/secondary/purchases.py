"""Buying all or part of a sale (承接债权), settled in one transaction of a few statements.

The hot path is SQL, not ORM (no objects per row, no flush or refresh), in one global lock
order — the sale's row first:

1. (PostgreSQL) the servicing lock, shared (`sqlkit.tune`);
2. the hot row: one conditional `UPDATE secondary_sales SET remaining_fen = remaining_fen -
   :p WHERE … remaining_fen >= :p RETURNING …`, which serialises the buyers of one sale (no
   oversell on either database) — a refusal (sold out, closed, too much) is explained after
   it by reading the sale;
3. one read of everything the checks and the price need, taking (PostgreSQL, `FOR UPDATE`)
   the seller's servicing position, its holding and the loan, in the order close of business
   takes them, and (PostgreSQL) the buyer's and the seller's exposure counters, which the
   writes move, before the accounts: the listing, the buyer's role, assessment and money at
   risk (the counter), the seller's
   future shares (as JSON), the accounts of the entry, and ids reserved for the new holding
   and journal entry;
4. checks and the quote in Python: the same split of every future share (principal exactly,
   interest by largest remainder: `domain.secondary.valuation.split_shares`), price, fee and
   yield as offering and browsing quote;
5. every write at once (`sqlkit.write_together`: one statement on PostgreSQL, one per table
   on SQLite): the buyer's holding inserted and the seller's reduced (one upsert), the
   buyer's shares inserted and the seller's reduced (one multi-row upsert), the buyer's
   servicing position inserted and the seller's reduced (one upsert), the journal entry —
   accounts opened and balances moved by one upsert, the entry, its postings — and the
   purchase (its id reserved by the read) — and, through the API (`buy_answering`), the
   request's idempotency record with its answer. Rows of varying number (the shares, the
   entry's accounts and postings) go as one JSON parameter each, so the statement's text is
   the same every time (converted once by the driver, prepared by PostgreSQL). The entry: the
   buyer pays the price; the seller receives it less the transfer
   fee (platform income); the principal claim moves from the seller's holding to the
   buyer's.

Interest accrued to the sale date is the seller's (inside the price); the buyer receives the
whole next instalment share. Any refusal rolls everything back. Statements per purchase,
whatever the number of instalments: 4 on PostgreSQL; 10 on SQLite (BEGIN IMMEDIATE, the hot
row, the read, one per table written) — `tests/integration/secondary/test_statement_budget.py`
holds them to that. Buying "all that remains" reads it first: one statement more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, TextClause, bindparam, text
from sqlalchemy.exc import IntegrityError

from biaodi.adapters import faults
from biaodi.adapters.db.servicing_tables import LoanServicing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import InvestorLevel, check_suitable
from biaodi.domain.ledger.rules import (
    AccountSpec,
    EntryDraft,
    OwnerKind,
    claim_account,
    platform_account,
    wallet,
)
from biaodi.domain.listings import policy_for
from biaodi.domain.listings.policy import listing_risk_level
from biaodi.domain.secondary.valuation import Share, check_yield
from biaodi.domain.shared.errors import (
    BiaodiError,
    Conflict,
    Forbidden,
    InsufficientBalance,
    InvalidInput,
    NotFound,
)
from biaodi.domain.shared.money import Money
from biaodi.services.investing.funding import holding_account
from biaodi.services.ledger import posting as ledger
from biaodi.services.secondary.pricing import (
    PPM,
    PartQuote,
    check_part,
    check_tradable,
    holding_period_start,
    ppm_of,
    price_shares,
)
from biaodi.services.secondary.rules import SecondaryRules
from biaodi.services.shared import audit
from biaodi.services.shared.idempotency import Answer, Keyed, refusal_answer
from biaodi.services.shared.sqlkit import Sql, as_json, decode_json, tune, write_together


class SaleSoldOut(Conflict):
    code = "sale_sold_out"


@dataclass(frozen=True)
class Buy:
    sale_id: int
    buyer_id: int
    principal: Money | None = None  # None: all that remains of the sale
    max_price: Money | None = None  # refuse if the day's price is above this


@dataclass(frozen=True)
class Bought:
    purchase_id: int
    sale_id: int
    holding_id: int  # the buyer's new holding
    quote: PartQuote
    sale_remaining: Money
    sale_status: str


#: The row comes back only if the part is positive and fits.
_TAKE = text(
    "UPDATE secondary_sales SET remaining_fen = remaining_fen - :p, "
    "status = CASE WHEN remaining_fen = :p THEN 'sold' ELSE status END, "
    "closed_at = CASE WHEN remaining_fen = :p THEN :now ELSE closed_at END "
    "WHERE id = :id AND status = 'open' AND :p > 0 AND remaining_fen >= :p "
    "RETURNING remaining_fen, status, holding_id, listing_id, seller_id, premium_ppm, "
    "expected_loss_ppm"
).bindparams(bindparam("now", type_=DateTime(timezone=True)))

#: The buyer's role and the sale, in one read (no sale: the role alone, its columns NULL).
_WHY = text("SELECT (SELECT COUNT(*) FROM user_roles r WHERE r.user_id = :buyer AND "
            "r.role = 'investor') AS investor_role, s.id, s.status, s.remaining_fen, "
            "s.seller_id, s.cancel_reason, s.listing_id FROM (SELECT 1 AS one) o "
            "LEFT JOIN secondary_sales s ON s.id = :id")

_TYPES: dict[str, Any] = {"now": DateTime(timezone=True)}


def _refused(uow: UnitOfWork, cmd: Buy, part: int, rules: SecondaryRules) -> BiaodiError:
    """Why the hot-row UPDATE took nothing, in the order a buyer would check; a caller
    without the investor role learns nothing of the sale."""
    sale = uow.s.execute(_WHY, {"id": cmd.sale_id, "buyer": cmd.buyer_id}).one()
    if not sale.investor_role:
        return _not_an_investor()
    if sale.id is None:
        return NotFound(f"no sale {cmd.sale_id}", field="sale_id")
    if sale.status == "sold" or (sale.status == "open" and not sale.remaining_fen):
        return SaleSoldOut(f"sale {cmd.sale_id} is sold out", field="sale_id")
    if sale.status != "open":
        return Conflict(f"sale {cmd.sale_id} was cancelled ({sale.cancel_reason})",
                        code="sale_closed", field="sale_id")
    if sale.seller_id == cmd.buyer_id:
        return Conflict("you cannot buy your own sale", code="own_sale", field="sale_id")
    kind = uow.s.execute(text("SELECT kind FROM listings WHERE id = :id"),
                         {"id": sale.listing_id}).scalar_one()
    try:
        _check_principal(cmd, sale.remaining_fen, _min_ticket(kind, rules))
    except InvalidInput as refusal:
        return refusal
    return SaleSoldOut(f"sale {cmd.sale_id} has less than {Money(part)} left",
                       field="principal")


def _min_ticket(kind: str, rules: SecondaryRules) -> int:
    return policy_for(kind).funding_rules(rules.investing.listing.config).min_ticket.fen


def _check_principal(cmd: Buy, remaining: int, smallest: int) -> int:
    principal = remaining if cmd.principal is None else cmd.principal.fen
    check_part(principal, remaining, smallest,
               limit=f"the {Money(remaining)} left in sale {cmd.sale_id}", verb="buy",
               rest="leave")
    return principal


@dataclass(frozen=True)
class _Sale:
    remaining: int  # after this purchase
    status: str
    holding_id: int
    listing_id: int
    seller_id: int
    premium_ppm: int
    expected_loss_ppm: int


@lru_cache(maxsize=4)
def _context_sql(sql: Sql) -> TextClause:
    """Everything after the hot row, in one statement; on PostgreSQL it locks the seller's
    position, holding and the loan (in that order: the order of the FROM clause)."""
    shares = sql.json_rows("seq, due_date, principal_fen, interest_fen",
                           "holding_instalments WHERE holding_id = h.id AND seq >= l.next_seq")
    accounts = sql.json_rows("code, id, balance", "accounts WHERE code IN (:a0, :a1, :a2, :a3,"
                             " :a4, :a5)")
    lock = " FOR UPDATE OF p, h, l" if sql.pg else ""
    # Money at risk, from the buyer's exposure counter. PostgreSQL locks the buyer's and the
    # seller's counters (which the writes move) here, in id order, before the accounts: the
    # order investments and close of business take exposure and wallets in.
    at_risk = ("(SELECT SUM(CASE WHEN x.investor_id = :buyer THEN x.outstanding_fen ELSE 0 END)"
               " FROM (SELECT investor_id, outstanding_fen FROM investor_exposure"
               " WHERE investor_id IN (:buyer, h.investor_id) ORDER BY investor_id FOR UPDATE)"
               " x)" if sql.pg else
               "(SELECT e.outstanding_fen FROM investor_exposure e WHERE e.investor_id = :buyer)")
    return text(f"""
        SELECT h.investor_id, h.investment_id, h.outstanding_principal_fen AS outstanding,
               h.interest_start, h.status AS holding_status,
               p.tier, p.status AS position_status,
               l.status AS loan_status, l.due_principal_fen, l.due_interest_fen, l.penalty_fen,
               l.accelerated_on, l.next_seq, l.next_due_date, l.period_start,
               li.kind, li.applicant_id, li.risk_level, li.grade,
               (SELECT COUNT(*) FROM user_roles r
                WHERE r.user_id = :buyer AND r.role = 'investor') AS investor_role,
               (SELECT a.level FROM risk_assessments a WHERE a.investor_id = :buyer
                ORDER BY a.id DESC LIMIT 1) AS level,
               (SELECT a.valid_until FROM risk_assessments a WHERE a.investor_id = :buyer
                ORDER BY a.id DESC LIMIT 1) AS valid_until,
               COALESCE({at_risk}, 0) AS at_risk,
               {shares} AS shares, {accounts} AS accounts,
               {sql.next_id("holdings")} AS new_holding_id,
               {sql.next_id("journal_entries")} AS new_entry_id,
               {sql.next_id("secondary_purchases")} AS new_purchase_id
        FROM servicing_positions p
        JOIN holdings h ON h.id = p.holding_id
        JOIN loan_servicing l ON l.listing_id = h.listing_id
        JOIN listings li ON li.id = h.listing_id
        WHERE p.holding_id = :holding{lock}""")


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def buy(uow: UnitOfWork, cmd: Buy, rules: SecondaryRules) -> Bought:
    bought = _buy(uow, cmd, rules)[0]
    assert bought is not None  # without a key every refusal is raised
    return bought


def buy_answering(uow: UnitOfWork, cmd: Buy, rules: SecondaryRules, keyed: Keyed,
                  view: Callable[[Bought], Answer]) -> Answer:
    """`buy` for `idempotency.run_keyed`: the request's answer, `view` of the purchase, is
    written by the purchase's own statement (no round trip more while the sale's row is
    held). A refusal found before anything is written (the sale's row took nothing: sold
    out, closed, not an investor …) is answered and stored in the same transaction, as
    `remember_refusal` would store it in a second one."""
    answer = _buy(uow, cmd, rules, keyed, view)[1]
    assert answer is not None
    return answer


def _buy(uow: UnitOfWork, cmd: Buy, rules: SecondaryRules, keyed: Keyed | None = None,
         view: Callable[[Bought], Answer] | None = None
         ) -> tuple[Bought | None, Answer | None]:
    tune(uow)  # a servicing transaction: never interleaved with a close-of-business chunk
    today, now = uow.clock.today(), uow.clock.now()
    sql = Sql.of(uow)
    part = (_all_that_remains(uow, cmd.sale_id) if cmd.principal is None
            else cmd.principal.fen)
    took = uow.s.execute(_TAKE, {"p": part, "id": cmd.sale_id, "now": now}).one_or_none()
    if took is None:
        refusal = _refused(uow, cmd, part, rules)
        if keyed is None:
            raise refusal
        # Nothing was written: the refusal, stored in this transaction, is the answer.
        return None, keyed.store(uow, refusal_answer(refusal))
    faults.point("secondary.taken")
    sale = _Sale(*took)
    remaining = sale.remaining + part  # before this purchase
    if sale.seller_id == cmd.buyer_id:
        raise Conflict("you cannot buy your own sale", code="own_sale", field="sale_id")

    purse, seller_purse = wallet(OwnerKind.INVESTOR, cmd.buyer_id), wallet(
        OwnerKind.INVESTOR, sale.seller_id)
    seller_claim = holding_account(sale.holding_id)
    codes = [purse.code, seller_purse.code, seller_claim.code, "custody:cash", "platform:cash",
             "platform:fee_income"]
    ctx = uow.s.execute(_context_sql(sql), {
        "buyer": cmd.buyer_id, "holding": sale.holding_id,
        **{f"a{n}": code for n, code in enumerate(codes)}}).one()
    if not ctx.investor_role:  # before any check that would tell of the sale
        raise _not_an_investor()

    principal = _check_principal(replace(cmd, principal=Money(part)), remaining,
                                 _min_ticket(ctx.kind, rules))
    _check_buyer(cmd, ctx, principal, today, rules)
    check_tradable(LoanServicing(
        listing_id=sale.listing_id, status=ctx.loan_status,
        due_principal_fen=ctx.due_principal_fen, due_interest_fen=ctx.due_interest_fen,
        penalty_fen=ctx.penalty_fen, accelerated_on=_day(ctx.accelerated_on),
        next_seq=ctx.next_seq, next_due_date=_day(ctx.next_due_date)), today)
    if ctx.holding_status != "active" or ctx.outstanding < principal:
        raise Conflict(f"the seller's holding {sale.holding_id} no longer covers this sale",
                       code="sale_closed", field="sale_id")
    shares = [Share(int(s[0]), _day(s[1]), int(s[2]), int(s[3]))  # type: ignore[arg-type]
              for s in sorted(decode_json(ctx.shares))]
    start = holding_period_start(_day(ctx.period_start), ctx.investment_id,  # type: ignore[arg-type]
                                 _day(ctx.interest_start))  # type: ignore[arg-type]
    quote = price_shares(shares, ctx.outstanding, principal, Decimal(sale.premium_ppm) / PPM,
                         today, rules.sale, Decimal(sale.expected_loss_ppm) / PPM, start)
    check_yield(quote.yield_rate)
    if cmd.max_price is not None and quote.price > cmd.max_price.fen:
        raise Conflict(f"today's price is {Money(quote.price)}, above your limit of "
                       f"{cmd.max_price}", code="price_above_limit", field="max_price")
    accounts = {row[0]: (int(row[1]), int(row[2])) for row in decode_json(ctx.accounts)}
    if accounts.get(purse.code, (0, 0))[1] < quote.price:
        raise InsufficientBalance(f"insufficient balance in {purse.code} for "
                                  "secondary_transfer", field="amount")

    mine = int(ctx.new_holding_id)
    specs = {s.code: s for s in (purse, seller_purse, seller_claim, holding_account(mine),
                                 claim_account(OwnerKind.HOLDING, mine, "interest"),
                                 *map(platform_account, codes[3:]))}
    draft = _entry(cmd, sale, mine, quote, purse, seller_purse, seller_claim)
    steps, params = ledger.entry_steps(
        draft, int(ctx.new_entry_id), specs, {c: ids[0] for c, ids in accounts.items()}, sql,
        idempotency_key=f"secondary:{cmd.sale_id}:{mine}")
    steps = [*_transfer_steps(sql), *steps, ("positions", _POSITIONS)]
    params |= {"today": today, "now": now, "buyer": cmd.buyer_id, "sale": cmd.sale_id,
               "listing": sale.listing_id, "seller_holding": sale.holding_id, "mine": mine,
               "p": principal, "tier": ctx.tier, "purse": purse.code,
               "claim": holding_account(mine).code,
               "accrued_claim": claim_account(OwnerKind.HOLDING, mine, "interest").code,
               "seller_holding_status": "sold" if ctx.outstanding == principal else "active",
               "seller_position_status": ("closed" if ctx.outstanding == principal
                                          else ctx.position_status),
               "accrued": quote.accrued_interest, "fair": quote.fair_value,
               "price": quote.price, "fee": quote.fee, "yield_ppm": ppm_of(quote.yield_rate),
               "entry": int(ctx.new_entry_id), "shares": _shares(quote),
               "purchase": int(ctx.new_purchase_id)}
    bought = Bought(int(ctx.new_purchase_id), cmd.sale_id, mine, quote, Money(sale.remaining),
                    sale.status)
    answer = None
    if keyed is not None and view is not None:
        answer = view(bought)
        answered, more = keyed.step(answer, pg=sql.pg)
        steps, params = [*steps, answered], params | more
    try:
        purchase = write_together(uow, steps, _PURCHASE, params, _TYPES).scalar_one()
    except IntegrityError as exc:
        if "non_negative_balance" in str(exc.orig):
            raise InsufficientBalance(f"insufficient balance in {purse.code} for "
                                      "secondary_transfer", field="amount") from exc
        raise
    ledger.note_entry(uow, draft, int(ctx.new_entry_id),
                      [(spec.owner_kind, spec.owner_id) for spec in specs.values()])
    audit.note(uow, "secondary.purchase", subjects=[
        ("sale", cmd.sale_id), ("listing", sale.listing_id), ("loan", sale.listing_id),
        ("user", cmd.buyer_id), ("user", sale.seller_id)], changes={
        "purchase_id": int(purchase), "principal_fen": principal, "price_fen": quote.price,
        "fee_fen": quote.fee, "seller_holding_id": sale.holding_id, "buyer_holding_id": mine,
        "sale_remaining_fen": sale.remaining, "sale_status": sale.status})
    faults.point("secondary.written")
    return bought, answer


def _all_that_remains(uow: UnitOfWork, sale_id: int) -> int:
    """What is left of a sale, for a buyer taking all of it: read first (one statement
    more), then taken like any part — if another buyer takes some in between, the hot-row
    UPDATE finds less than this and the purchase is refused as sold out."""
    left = uow.s.execute(text("SELECT remaining_fen FROM secondary_sales WHERE id = :id"),
                         {"id": sale_id}).scalar()
    return int(left or 0)  # nothing (or no sale): the UPDATE takes nothing


def _not_an_investor() -> Forbidden:
    return Forbidden("buying holdings needs the investor role", code="role_required")


def _check_buyer(cmd: Buy, ctx: Any, principal: int, today: date,
                 rules: SecondaryRules) -> None:
    if ctx.applicant_id == cmd.buyer_id:
        raise Conflict("you cannot buy claims on your own loan", code="self_investment",
                       field="sale_id")
    check_suitable(
        None if ctx.level is None else InvestorLevel(ctx.level), _day(ctx.valid_until), today,
        listing_risk_level(ctx.risk_level, ctx.grade), Money(principal),
        Money(int(ctx.at_risk)), rules.investing.level_limits)


def _entry(cmd: Buy, sale: _Sale, mine: int, quote: PartQuote, purse: AccountSpec,
           seller_purse: AccountSpec, seller_claim: AccountSpec) -> EntryDraft:
    draft = EntryDraft("secondary_transfer",
                       memo=f"sale {cmd.sale_id}: listing {sale.listing_id}, holding "
                            f"{sale.holding_id} → {mine}")
    draft.debit(purse.code, quote.price)
    draft.credit(seller_purse.code, quote.proceeds)
    if quote.fee:
        draft.credit("custody:cash", quote.fee).debit("platform:cash", quote.fee)
        draft.credit("platform:fee_income", quote.fee)
    draft.debit(holding_account(mine).code, quote.principal)
    draft.credit(seller_claim.code, quote.principal)
    return draft


#: The seller's row is proposed only to be updated (ON CONFLICT on its id): its values merely
#: satisfy the constraints; only the outstanding principal and the status change.
_HOLDINGS = """
    INSERT INTO holdings (id, listing_id, investor_id, investment_id, principal_fen,
                          outstanding_principal_fen, interest_start, status, created_at)
    VALUES (:seller_holding, :listing, :buyer, NULL, :p, 0, :today, 'sold', :now),
           (:mine, :listing, :buyer, NULL, :p, :p, :today, 'active', :now)
    ON CONFLICT (id) DO UPDATE SET
        outstanding_principal_fen = holdings.outstanding_principal_fen - :p,
        status = :seller_holding_status
    WHERE holdings.id = :seller_holding"""

#: Likewise the seller's servicing position (matched on listing, kind and creditor). SQLite
#: needs the WHERE of an INSERT … SELECT with ON CONFLICT (and the text, squeezed onto one
#: line by `write_together`, no `--` comment).
_POSITIONS = """
    INSERT INTO servicing_positions (
        listing_id, holding_id, creditor_kind, creditor_id, tier, wallet_account_id,
        principal_account_id, interest_account_id, outstanding_principal_fen,
        due_principal_fen, due_interest_fen, penalty_fen, received_principal_fen,
        received_interest_fen, received_penalty_fen, written_off_fen, days_past_due, bucket,
        status)
    SELECT :listing, v.holding, 'holding', v.creditor, :tier, w.id, c.id, i.id, v.outstanding,
           0, 0, 0, 0, 0, 0, 0, 0, 'current', 'active'
    FROM (SELECT CAST(:mine AS BIGINT) AS holding, CAST(:mine AS BIGINT) AS creditor,
                 CAST(:p AS BIGINT) AS outstanding, 1 AS n
          UNION ALL
          SELECT NULL, CAST(:seller_holding AS BIGINT), 0, 0) v
    JOIN {moved} w ON w.code = :purse
    JOIN {moved} c ON c.code = :claim
    JOIN {moved} i ON i.code = :accrued_claim
    WHERE true
    ORDER BY v.n
    ON CONFLICT (listing_id, creditor_kind, creditor_id) DO UPDATE SET
        outstanding_principal_fen = servicing_positions.outstanding_principal_fen - :p,
        status = :seller_position_status"""

_PURCHASE = """
    INSERT INTO secondary_purchases (
        id, sale_id, listing_id, buyer_id, seller_holding_id, buyer_holding_id, business_date,
        principal_fen, accrued_interest_fen, fair_value_fen, price_fen, fee_fen, yield_ppm,
        entry_id, created_at)
    VALUES (:purchase, :sale, :listing, :buyer, :seller_holding, :mine, :today, :p, :accrued,
            :fair, :price, :fee, :yield_ppm, :entry, :now)
    RETURNING id"""


def _shares(quote: PartQuote) -> str:
    """Each future share: the buyer's part and what the seller keeps (zero where it sold
    all), as one JSON parameter for `_transfer_steps`."""
    kept = {s.seq: s for s in quote.keep}
    rows = []
    for share in quote.take:
        left = kept.get(share.seq)
        rows.append({"seq": share.seq, "due": share.due_date, "bp": share.principal,
                     "bi": share.interest, "kp": left.principal if left else 0,
                     "ki": left.interest if left else 0})
    return as_json(rows)


@lru_cache(maxsize=4)
def _transfer_steps(sql: Sql) -> tuple[tuple[str, str], ...]:
    """The holdings and the shares: the buyer's future shares inserted, the seller's set to
    what it keeps, both in one multi-row upsert (the buyer's row of each share first)."""
    rows = sql.json_table("shares", "v", "seq INTEGER, due DATE, bp BIGINT, bi BIGINT, "
                          "kp BIGINT, ki BIGINT")
    shares = (
        "INSERT INTO holding_instalments (holding_id, seq, due_date, principal_fen, "
        "interest_fen, status) SELECT CASE WHEN x.buyer = 1 THEN CAST(:mine AS BIGINT) ELSE "
        "CAST(:seller_holding AS BIGINT) END, v.seq, v.due, CASE WHEN x.buyer = 1 THEN v.bp "
        "ELSE v.kp END, CASE WHEN x.buyer = 1 THEN v.bi ELSE v.ki END, 'scheduled' "
        f"FROM {rows} CROSS JOIN (SELECT 1 AS buyer UNION ALL SELECT 0) x WHERE true "
        "ORDER BY v.seq, x.buyer DESC "
        "ON CONFLICT (holding_id, seq) DO UPDATE SET principal_fen = excluded.principal_fen, "
        "interest_fen = excluded.interest_fen")
    return (("holders", _HOLDINGS), ("shares", shares))
