"""Risk metrics: outstanding principal, overdue by bucket, bad-debt rate, vintage curves,
losses and recoveries, guarantors' compensation and capacity.

They read the servicing state close of business keeps (`loan_servicing`: one row per funded
loan with its bucket, days past due and amounts owed; `servicing_positions`: each creditor's
claim), so they describe the book as of the last closed business day. A loan is *live* while
its servicing status is not `closed` or `written_off`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from biaodi.domain.analytics.tiers import rate
from biaodi.domain.risk.grades import GRADES
from biaodi.domain.servicing.buckets import BUCKETS
from biaodi.services.analytics.common import Sql, UnitOfWork, fetch, month_index, month_text
from biaodi.services.listings.security import OUTSTANDING

_LIVE = "s.status NOT IN ('closed', 'written_off')"
#: Repayment sources that are a safeguard paying for the borrower, not money recovered.
_SAFEGUARDS = "'guarantor', 'buyback'"


@dataclass(frozen=True)
class OutstandingRow:
    kind: str
    loans: int
    principal_fen: int


def outstanding_principal(uow: UnitOfWork) -> list[OutstandingRow]:
    """Principal still owed on live loans (every creditor's claim: holders' and a guarantor's
    subrogated one), and how many live loans, by listing type."""
    found = fetch(uow, f"""
        SELECT l.kind, COUNT(*) AS n, COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id WHERE {_LIVE}
        GROUP BY l.kind ORDER BY l.kind""")
    return outstanding_rows(found)


def outstanding_rows(found: Iterable[Any]) -> list[OutstandingRow]:
    """The rows from live loans `n` and principal `fen` by kind. Shared by the SQL metric and
    the Spark engine (`spark.py`)."""
    return sorted((OutstandingRow(r.kind, int(r.n), int(r.fen)) for r in found),
                  key=lambda r: r.kind)


@dataclass(frozen=True)
class BucketRow:
    bucket: str
    loans: int
    principal_fen: int  # outstanding principal of the loans in the bucket
    overdue_fen: int  # principal and interest fallen due and unpaid
    amount_rate: Decimal | None  # principal_fen / outstanding principal of all live loans
    count_rate: Decimal | None  # loans / live loans


def overdue_by_bucket(uow: UnitOfWork) -> list[BucketRow]:
    """Live loans by overdue bucket (逾期分类 — current, M1 1–30 days past due, M2 31–60,
    M3 61–90, M3+ over 90; days counted from the oldest instalment not covered by what the
    borrower paid): their outstanding principal and unpaid fallen-due principal + interest,
    the amount overdue rate (the bucket's outstanding principal over all live loans'
    outstanding principal) and the count rate (loans over live loans). Every bucket listed."""
    found = fetch(uow, f"""
        SELECT s.bucket, COUNT(*) AS n, COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen,
               COALESCE(SUM(s.due_principal_fen + s.due_interest_fen), 0) AS due
        FROM loan_servicing s WHERE {_LIVE} GROUP BY s.bucket""")
    return bucket_rows(found)


def bucket_rows(found: Iterable[Any]) -> list[BucketRow]:
    """Every bucket's row (in bucket order, empty ones as 0) from loans, outstanding principal
    and due amounts grouped by bucket, with the amount and count rates over all live loans.
    Shared by the SQL metric and the Spark engine (`spark.py`)."""
    by = {r.bucket: (int(r.n), int(r.fen), int(r.due)) for r in found}
    loans = sum(v[0] for v in by.values())
    principal = sum(v[1] for v in by.values())
    out = []
    for _, bucket in BUCKETS:
        n, fen, due = by.get(bucket.value, (0, 0, 0))
        out.append(BucketRow(bucket.value, n, fen, due, rate(fen, principal), rate(n, loans)))
    return out


@dataclass(frozen=True)
class BadDebt:
    bad_fen: int
    funded_fen: int
    rate: Decimal | None


def bad_debt_rate(uow: UnitOfWork) -> BadDebt:
    """Bad debt (坏账): outstanding principal of live loans in M3+ (over 90 days past due)
    plus what was written off (principal and interest due at write-off, every creditor's;
    recoveries after it are not netted here: see `losses_and_recoveries`), over the principal
    of every loan ever funded (taken on by servicing)."""
    r = fetch(uow, f"""
        SELECT (SELECT COALESCE(SUM(s.outstanding_principal_fen), 0) FROM loan_servicing s
                WHERE {_LIVE} AND s.bucket = 'M3+') AS m3,
               (SELECT COALESCE(SUM(p.written_off_fen), 0) FROM servicing_positions p) AS off,
               (SELECT COALESCE(SUM(l.funded_fen), 0) FROM loan_servicing s
                JOIN listings l ON l.id = s.listing_id) AS funded""")[0]
    return bad_debt_of(int(r.m3), int(r.off), int(r.funded))


def bad_debt_of(m3_fen: int, written_off_fen: int, funded_fen: int) -> BadDebt:
    """Bad debt (M3+ outstanding + written off) over funded. Shared with the Spark engine."""
    bad = m3_fen + written_off_fen
    return BadDebt(bad, funded_fen, rate(bad, funded_fen))


@dataclass(frozen=True)
class VintagePoint:
    vintage: str  # 'YYYY-MM': month the loans were funded (servicing took them on)
    months_on_book: int
    loans: int
    funded_fen: int
    defaulted_loans: int  # cumulative, to the end of that month on book
    defaulted_fen: int  # their funded principal
    default_rate: Decimal | None  # defaulted_fen / funded_fen


def vintage_curves(uow: UnitOfWork, as_of: date) -> list[VintagePoint]:
    """Cumulative default by origination month and months on book: for each month in which
    loans were funded (up to `as_of`), and each k from 0 to the months between it and
    `as_of`, the loans of that vintage that defaulted (entered default handling past M3:
    `loan_servicing.defaulted_on`) by the end of month k, and their funded principal over the
    vintage's."""
    sql = Sql.of(uow)
    on, dd = month_index(sql, "s.onboarded_on"), month_index(sql, "s.defaulted_on")
    born = fetch(uow, f"""
        SELECT {on} AS m0, COUNT(*) AS n, COALESCE(SUM(l.funded_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.onboarded_on <= {sql.date('asof')} GROUP BY {on}""", asof=as_of)
    died = fetch(uow, f"""
        SELECT {on} AS m0, {dd} - {on} AS k, COUNT(*) AS n, COALESCE(SUM(l.funded_fen), 0) AS fen
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.onboarded_on <= {sql.date('asof')} AND s.defaulted_on IS NOT NULL
          AND s.defaulted_on <= {sql.date('asof')}
        GROUP BY {on}, {dd} - {on}""", asof=as_of)
    return vintage_points(born, died, as_of)


def vintage_points(born: Iterable[Any], died: Iterable[Any], as_of: date) -> list[VintagePoint]:
    """The curves from two groupings by origination month `m0` (months since year 0): `born`
    (`n` loans, `fen` funded) and `died` (defaults `k` months on book); each vintage gets a
    point for every month on book up to `as_of`, the defaults cumulated. Shared by the SQL
    metric and the Spark engine (`spark.py`)."""
    dead = {(int(r.m0), int(r.k)): (int(r.n), int(r.fen)) for r in died}
    last = as_of.year * 12 + as_of.month
    out = []
    for r in sorted(born, key=lambda r: int(r.m0)):
        m0, n, fen = int(r.m0), int(r.n), int(r.fen)
        cum_n = cum_fen = 0
        for k in range(last - m0 + 1):
            dn, dfen = dead.get((m0, k), (0, 0))
            cum_n, cum_fen = cum_n + dn, cum_fen + dfen
            out.append(VintagePoint(month_text(m0), k, n, fen, cum_n, cum_fen,
                                    rate(cum_fen, fen)))
    return out


@dataclass(frozen=True)
class LossRow:
    kind: str
    written_off_fen: int  # principal and interest written off, every creditor's
    recovered_fen: int  # paid towards defaulted loans from their default date on
    net_loss_fen: int  # written off − recovered


#: Written off `off` and recovered `got` by listing `kind` (the same text on SQLite,
#: PostgreSQL and Spark SQL; `loss_rows` orders the kinds).
LOSSES_SQL = f"""
        SELECT l.kind, COALESCE(SUM(x.off), 0) AS off, COALESCE(SUM(x.got), 0) AS got
        FROM (SELECT p.listing_id, p.written_off_fen AS off, 0 AS got
              FROM servicing_positions p WHERE p.written_off_fen > 0
              UNION ALL
              SELECT r.listing_id, 0 AS off, r.amount_fen AS got
              FROM repayments r JOIN loan_servicing s ON s.listing_id = r.listing_id
              WHERE s.defaulted_on IS NOT NULL AND r.business_date >= s.defaulted_on
                AND r.source NOT IN ({_SAFEGUARDS})) x
        JOIN listings l ON l.id = x.listing_id
        GROUP BY l.kind"""


def losses_and_recoveries(uow: UnitOfWork) -> list[LossRow]:
    """By listing type: what was written off (`servicing_positions.written_off_fen`: the
    principal and interest due when a claim was written off, every creditor's), what was
    recovered — money paid towards a defaulted loan (`loan_servicing.defaulted_on` set) on or
    after its default date, except a guarantor's compensation and an originator's buy-back
    (safeguards, not recoveries): the borrower's late payments, collateral disposal proceeds
    and recoveries an operator recorded — and the net loss (written off − recovered). Types
    with neither are left out."""
    return loss_rows(fetch(uow, LOSSES_SQL))


def loss_rows(found: Iterable[Any]) -> list[LossRow]:
    """The rows from written off `off` and recovered `got` grouped by listing `kind`, by kind.
    Shared by the SQL metric and the Spark engine (`spark_risk.py`)."""
    return sorted((LossRow(r.kind, int(r.off), int(r.got), int(r.off) - int(r.got))
                   for r in found), key=lambda r: r.kind)


@dataclass(frozen=True)
class GuarantorRow:
    guarantor_id: int
    name: str
    capacity_fen: int
    used_fen: int  # amounts of the listings it guarantees that are outstanding
    left_fen: int  # capacity − used (negative when over)
    compensations: int
    compensation_fen: int  # paid to holders


def guarantors(uow: UnitOfWork) -> list[GuarantorRow]:
    """Per guarantor with terms on file: its capacity, the capacity used — the amounts of the
    listings it guarantees whose status still counts (published, funded, repaying, overdue:
    the figure the capacity check at publishing counts) — what is left, and the compensation
    it paid holders (repayments of source `guarantor`: how many and how much)."""
    statuses = ", ".join(f"'{s}'" for s in OUTSTANDING)
    found = fetch(uow, f"""
        SELECT g.user_id, g.name, g.capacity_fen,
               COALESCE((SELECT SUM(l.amount_fen) FROM listings l
                         WHERE l.guarantor_id = g.user_id AND l.status IN ({statuses})), 0)
                   AS used,
               (SELECT COUNT(*) FROM repayments r JOIN listings l ON l.id = r.listing_id
                WHERE r.source = 'guarantor' AND l.guarantor_id = g.user_id) AS n,
               COALESCE((SELECT SUM(r.amount_fen) FROM repayments r
                         JOIN listings l ON l.id = r.listing_id
                         WHERE r.source = 'guarantor' AND l.guarantor_id = g.user_id), 0)
                   AS paid
        FROM guarantor_profiles g ORDER BY g.user_id""")
    return guarantor_rows(found)


def guarantor_rows(found: Iterable[Any]) -> list[GuarantorRow]:
    """The rows from each guarantor's `user_id`, `name`, `capacity_fen`, capacity `used`,
    compensations `n` and `paid`, by guarantor. Shared by the SQL metric and the Spark engine."""
    return sorted((GuarantorRow(int(r.user_id), r.name, int(r.capacity_fen), int(r.used),
                                int(r.capacity_fen) - int(r.used), int(r.n), int(r.paid))
                   for r in found), key=lambda r: r.guarantor_id)


@dataclass(frozen=True)
class BuybackRow:
    originator_id: int
    loans: int  # live 流转标 of the originator
    outstanding_fen: int
    reserve_fen: int  # its buy-back reserve (`originator:<id>:buyback_reserve`)
    coverage: Decimal | None  # reserve / outstanding


def buyback_coverage(uow: UnitOfWork) -> list[BuybackRow]:
    """Per originator with live transfer listings (流转标): their loans' outstanding principal,
    the originator's buy-back reserve, and the reserve over the outstanding principal."""
    found = fetch(uow, f"""
        SELECT l.applicant_id AS who, COUNT(*) AS n,
               COALESCE(SUM(s.outstanding_principal_fen), 0) AS fen,
               COALESCE((SELECT a.balance FROM accounts a
                         WHERE a.owner_kind = 'originator' AND a.owner_id = l.applicant_id
                           AND a.purpose = 'buyback_reserve'), 0) AS reserve
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE {_LIVE} AND l.kind = 'transfer'
        GROUP BY l.applicant_id ORDER BY l.applicant_id""")
    return buyback_rows(found)


def buyback_rows(found: Iterable[Any]) -> list[BuybackRow]:
    """The rows from each originator `who`'s loans `n`, outstanding `fen` and `reserve`, by
    originator. Shared by the SQL metric and the Spark engine."""
    return sorted((BuybackRow(int(r.who), int(r.n), int(r.fen), int(r.reserve),
                              rate(int(r.reserve), int(r.fen))) for r in found),
                  key=lambda r: r.originator_id)


#: Loan-to-value bands (upper bounds in percent, the last open): a loan falls in the first band
#: whose bound its LTV does not exceed.
LTV_BANDS = (30, 50, 70, 100)


@dataclass(frozen=True)
class LtvBand:
    band: str  # e.g. "30-50%" (over 30 %, at most 50 %), ">100%"
    loans: int
    outstanding_fen: int
    appraisal_fen: int


def collateral_ltv(uow: UnitOfWork) -> list[LtvBand]:
    """Live loans secured by pledged assets (抵押标), by loan-to-value band: LTV = the loan's
    outstanding principal / the sum of its assets' appraisal values; bands up to 30 %, 30–50 %,
    50–70 %, 70–100 % and over 100 % (each band's upper bound included). Every band listed,
    with the loans' outstanding principal and appraisal values."""
    band = ltv_band("x.fen", "x.value")
    found = fetch(uow, f"""
        SELECT {band} AS band, COUNT(*) AS n,
               COALESCE(SUM(x.fen), 0) AS fen, COALESCE(SUM(x.value), 0) AS value
        FROM (SELECT s.listing_id, s.outstanding_principal_fen AS fen,
                     (SELECT SUM(a.appraisal_value_fen) FROM pledged_assets a
                      WHERE a.listing_id = s.listing_id) AS value
              FROM loan_servicing s WHERE {_LIVE}
                AND EXISTS (SELECT 1 FROM pledged_assets a WHERE a.listing_id = s.listing_id)
             ) x
        GROUP BY {band}""")
    return ltv_rows(found)


def ltv_band(outstanding: str, value: str) -> str:
    """The SQL (standard, Spark's too) of a loan's band index in `LTV_BANDS` (the last + 1:
    over the last bound) from its outstanding principal and its assets' appraisal value."""
    whens = " ".join(f"WHEN {outstanding} * 100 <= {value} * {bound} THEN {i}"
                     for i, bound in enumerate(LTV_BANDS))
    return f"CASE {whens} ELSE {len(LTV_BANDS)} END"


def ltv_rows(found: Iterable[Any]) -> list[LtvBand]:
    """Every band's row from loans `n`, outstanding `fen` and appraisal `value` grouped by
    `band` index. Shared by the SQL metric and the Spark engine."""
    by = {int(r.band): (int(r.n), int(r.fen), int(r.value)) for r in found}
    names = [f"0-{LTV_BANDS[0]}%", *(f"{lo}-{hi}%" for lo, hi in pairwise(LTV_BANDS)),
             f">{LTV_BANDS[-1]}%"]
    return [LtvBand(name, *by.get(i, (0, 0, 0))) for i, name in enumerate(names)]


@dataclass(frozen=True)
class CalibrationRow:
    grade: str
    loans: int
    expected_pd: Decimal | None  # mean model PD of the loans' decisions
    expected_default_rate: Decimal | None  # mean of the model card's default rate per grade
    defaulted: int
    observed_default_rate: Decimal | None  # defaulted / loans


def grade_calibration(uow: UnitOfWork) -> list[CalibrationRow]:
    """Grade calibration: for every funded loan with a grade, the decision it was priced on —
    its applicant's latest risk decision made at or before the listing was created — gives
    the expected probability of default (the model's PD, `risk_decisions.pd_ppm`, and the
    default rate the model card states for the grade, `expected_default_ppm`); the observed
    rate is the loans that entered default handling (`loan_servicing.defaulted_on` set) over
    the loans. Per grade (A … HR): loans, mean expected PD, mean expected default rate,
    defaulted loans and the observed default rate. Grades with no loan are left out."""
    found = fetch(uow, """
        SELECT x.grade, COUNT(*) AS n, COUNT(x.pd) AS with_pd, COALESCE(SUM(x.pd), 0) AS pd,
               COUNT(x.card) AS with_card, COALESCE(SUM(x.card), 0) AS card,
               SUM(CASE WHEN x.defaulted_on IS NULL THEN 0 ELSE 1 END) AS dead
        FROM (SELECT l.grade, s.defaulted_on,
                     (SELECT d.pd_ppm FROM risk_decisions d WHERE d.user_id = l.applicant_id
                        AND d.decided_at <= l.created_at
                      ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) AS pd,
                     (SELECT d.expected_default_ppm FROM risk_decisions d
                      WHERE d.user_id = l.applicant_id AND d.decided_at <= l.created_at
                      ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) AS card
              FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
              WHERE l.grade IS NOT NULL) x
        GROUP BY x.grade""")
    return calibration_rows(found)


def calibration_rows(found: Iterable[Any]) -> list[CalibrationRow]:
    """The rows from loans `n`, PDs (`with_pd`, sum `pd`), model-card rates (`with_card`,
    sum `card`) and defaulted loans `dead` grouped by `grade`, in grade order. Shared by the
    SQL metric and the Spark engine."""
    order = {g.value: i for i, g in enumerate(GRADES)}
    out = [CalibrationRow(r.grade, int(r.n), rate(int(r.pd), int(r.with_pd) * 1_000_000),
                          rate(int(r.card), int(r.with_card) * 1_000_000), int(r.dead),
                          rate(int(r.dead), int(r.n))) for r in found]
    return sorted(out, key=lambda r: order.get(r.grade, 99))
