"""Servicing takes over funded loans: one `loan_servicing` row per loan, one position per
holding, and the interest claim accounts (`loan:L:interest_payable`, `holding:H:interest`).

Set-based over a range of listing ids; loans already taken over are left alone, so it is safe
to run again. The product's terms are copied into each loan (a later change never alters a
contract made), and the penalty rate is capped for the cost cap of the loan's contract date,
the day interest started (the profile's dated table: a fixed line, or a multiple of the
one-year LPR in force that day): the listing's all-in cost (interest and fees) plus the
penalty a year stays within it.
"""

from __future__ import annotations

from datetime import date

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings import all_policies
from biaodi.domain.listings.cost import DAYS_A_YEAR
from biaodi.domain.servicing.allocation import Component
from biaodi.domain.shared.compliance import ComplianceProfile
from biaodi.domain.shared.errors import Conflict
from biaodi.domain.shared.money import Money
from biaodi.services.servicing.rules import Product, ServicingRules
from biaodi.services.shared.sqlkit import Sql, rows, run

#: Shares are amount × amount in 64-bit integers: (3 × 10⁹)² < 2⁶³.
MAX_LOAN_FEN = 3_000_000_000
#: Above this many loans taken over at once, PostgreSQL gets fresh table statistics.
BULK = 1_000
#: Repaying loans not serviced yet. NOT IN builds its set once, before anything is inserted.
LIVE_LISTING = ("l.status IN ('repaying', 'overdue') AND l.id BETWEEN :lo AND :hi "
                "AND l.id NOT IN (SELECT s.listing_id FROM loan_servicing s "
                "WHERE s.listing_id BETWEEN :lo AND :hi)")


def _case(column: str, values: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{kind}' THEN {value}" for kind, value in values.items())
    return f"CASE {column} {whens} END"


def _per_kind(rules: ServicingRules, pick: str) -> dict[str, str]:
    out = {}
    for policy in all_policies():
        product: Product = rules.product_for(policy.kind)
        value = {
            "penalty_ppm": str(product.penalty_daily_ppm),
            "grace": str(product.grace_days),
            "full": "1" if product.guarantor_full_at_m3 else "0",
            "rank_penalty": str(product.order.rank(Component.PENALTY)),
            "rank_interest": str(product.order.rank(Component.INTEREST)),
            "rank_principal": str(product.order.rank(Component.PRINCIPAL)),
        }[pick]
        out[policy.kind.value] = value
    return out


def _cap(profile: ComplianceProfile, sql: Sql) -> tuple[str | None, dict[str, date]]:
    """The profile's dated cost cap as SQL over a loan's contract date `y.start` (and the LPR
    in force that day, `y.lpr`), in ppm, with the dates it binds; None when there is no cap.
    A date before the first line takes the first line, as `ComplianceProfile.cost_cap_on`;
    a fixed line needs no LPR, an LPR multiple is NULL while the LPR is unknown."""
    if not profile.cost_caps:
        return None, {}
    whens, dates = [], {}
    for index, line in enumerate(profile.cost_caps):
        formula = (f"{line.lpr_multiple} * y.lpr" if line.lpr_multiple is not None
                   else str(line.rate_ppm(None)))
        if line.end is None:
            whens.append(f"ELSE {formula}")
            break
        dates[f"cap_end_{index}"] = line.end
        whens.append(f"WHEN y.start <= {sql.date(f'cap_end_{index}')} THEN {formula}")
    return f"(CASE {' '.join(whens)} END)", dates


def onboard(uow: UnitOfWork, day: date, lo: int, hi: int, rules: ServicingRules) -> int:
    """Take over every repaying loan with a listing id in [lo, hi] not yet serviced."""
    sql = Sql.of(uow)
    largest = rows(uow, f"SELECT l.id, l.funded_fen FROM listings l WHERE {LIVE_LISTING} "
                        "ORDER BY l.funded_fen DESC LIMIT 1", lo=lo, hi=hi)
    if not largest:
        return 0
    if (largest[0].funded_fen or 0) > MAX_LOAN_FEN:
        raise Conflict(f"listing {largest[0].id} is above the {Money(MAX_LOAN_FEN)} yuan that"
                       " set-based servicing distributes exactly", code="loan_too_large",
                       field="listing_id")
    now = uow.clock.now()
    yes = True
    run(uow, f"""
        INSERT INTO accounts (code, type, owner_kind, owner_id, purpose, non_negative, balance,
                              created_at)
        SELECT 'loan:' || l.id || '\\:interest_payable', 'liability', 'loan', l.id,
               'interest_payable', :yes, 0, :now
        FROM listings l WHERE {LIVE_LISTING}
          AND NOT EXISTS (SELECT 1 FROM accounts a
                          WHERE a.code = 'loan:' || l.id || '\\:interest_payable')""",
        lo=lo, hi=hi, yes=yes, now=now)
    run(uow, f"""
        INSERT INTO accounts (code, type, owner_kind, owner_id, purpose, non_negative, balance,
                              created_at)
        SELECT 'holding:' || h.id || '\\:interest', 'asset', 'holding', h.id, 'interest', :yes, 0,
               :now
        FROM holdings h JOIN listings l ON l.id = h.listing_id
        WHERE {LIVE_LISTING} AND h.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM accounts a
                          WHERE a.code = 'holding:' || h.id || '\\:interest')
        """, lo=lo, hi=hi, yes=yes, now=now)

    role = _case("y.kind", {p.kind.value: f"'{p.applicant_role}'" for p in all_policies()})
    action = _case("y.kind", {p.kind.value: f"'{p.default_action.value}'" for p in all_policies()})
    product = _case("y.kind", _per_kind(rules, "penalty_ppm"))
    cap, cap_dates = _cap(rules.profile, sql)
    if cap is None:
        cap, penalty = "NULL", product
    else:
        cost = "y.all_in_cost"  # interest and every fee, as the IRR fixed on the listing
        headroom = sql.greatest("0", f"{cap} - {cost}")
        penalty = (f"CASE WHEN {cap} IS NULL THEN {product} "
                   f"ELSE {sql.least(product, f'{headroom} / {DAYS_A_YEAR}')} END")

    def account(code: str) -> str:  # an index lookup per loan, never a scan of all accounts
        return f"(SELECT a.id FROM accounts a WHERE a.code = {code})"

    def first(column: str) -> str:
        return (f"(SELECT li.{column} FROM loan_instalments li "
                f"WHERE li.listing_id = y.id AND li.seq = 1)")

    # Positions first: inserting them while scanning for existing ones would read the pages
    # being filled (quadratic); a loan not yet serviced has no positions.
    purse = account("'investor:' || h.investor_id || '\\:available'")
    claim = account("'holding:' || h.id || '\\:principal'")
    accrued = account("'holding:' || h.id || '\\:interest'")
    run(uow, f"""
        INSERT INTO servicing_positions (
            listing_id, holding_id, creditor_kind, creditor_id, tier, wallet_account_id,
            principal_account_id, interest_account_id, outstanding_principal_fen,
            due_principal_fen, due_interest_fen, penalty_fen, received_principal_fen,
            received_interest_fen, received_penalty_fen, written_off_fen, days_past_due,
            bucket, status)
        SELECT h.listing_id, h.id, 'holding', h.id, 0, {purse}, {claim}, {accrued},
               h.outstanding_principal_fen, 0, 0, 0, 0, 0, 0, 0, 0, 'current', 'active'
        FROM holdings h JOIN listings l ON l.id = h.listing_id
        WHERE {LIVE_LISTING} AND h.status = 'active'
          AND EXISTS (SELECT 1 FROM loan_instalments li WHERE li.listing_id = l.id AND li.seq = 1)
        """, lo=lo, hi=hi)
    payer = account(f"{role} || ':' || y.applicant_id || '\\:available'")
    principal = account("'loan:' || y.id || '\\:principal_payable'")
    interest = account("'loan:' || y.id || '\\:interest_payable'")
    onboarded = run(uow, f"""
        INSERT INTO loan_servicing (
            listing_id, default_action, payer_account_id, principal_account_id,
            interest_account_id, status, outstanding_principal_fen, due_principal_fen,
            due_interest_fen, penalty_fen, penalty_waived_fen, accrued_interest_fen, next_seq,
            next_due_date, next_interest_fen, next_principal_fen, period_start, days_past_due,
            bucket,
            penalty_daily_ppm, cost_cap_ppm, grace_days, order_penalty, order_interest,
            order_principal, guarantor_full_at_m3, onboarded_on)
        SELECT y.id, {action}, {payer}, {principal}, {interest}, 'performing', y.outstanding,
               0, 0, 0, 0, 0, 1, {first("due_date")}, {first("interest_fen")},
               {first("principal_fen")}, y.start, 0,
               'current', {penalty}, {cap},
               {_case("y.kind", _per_kind(rules, "grace"))},
               {_case("y.kind", _per_kind(rules, "rank_penalty"))},
               {_case("y.kind", _per_kind(rules, "rank_interest"))},
               {_case("y.kind", _per_kind(rules, "rank_principal"))},
               {_case("y.kind", _per_kind(rules, "full"))} = 1, {sql.date("d")}
        FROM (
            SELECT x.*, (SELECT r.one_year_ppm FROM lpr_rates r WHERE r.effective_on <= x.start
                         ORDER BY r.effective_on DESC LIMIT 1) AS lpr
            FROM (
                SELECT l.id, l.kind, l.applicant_id,
                       COALESCE(l.all_in_cost_ppm, l.annual_rate_ppm + l.guarantee_fee_ppm
                                + l.service_fee_ppm) AS all_in_cost,
                       (SELECT MIN(h.interest_start) FROM holdings h
                        WHERE h.listing_id = l.id AND h.status = 'active') AS start,
                       (SELECT SUM(h.outstanding_principal_fen) FROM holdings h
                        WHERE h.listing_id = l.id AND h.status = 'active') AS outstanding
                FROM listings l
                WHERE {LIVE_LISTING}
            ) x WHERE x.start IS NOT NULL
        ) y
        WHERE EXISTS (SELECT 1 FROM loan_instalments li WHERE li.listing_id = y.id AND li.seq = 1)
        """, lo=lo, hi=hi, d=day, **cap_dates)
    if onboarded > BULK and sql.pg:
        _analyze(uow)
    return onboarded


def _analyze(uow: UnitOfWork) -> None:
    """Fresh statistics after a bulk take-over (PostgreSQL plans nested loops over tables it
    believes empty; ANALYZE runs inside the transaction and samples a few thousand rows)."""
    for table in ("loan_servicing", "servicing_positions", "accounts"):
        run(uow, f"ANALYZE {table}")


def ensure_onboarded(uow: UnitOfWork, listing_id: int, day: date, rules: ServicingRules) -> None:
    """Take one loan over now (a repayment may come before its first close of business)."""
    onboard(uow, day, listing_id, listing_id, rules)
