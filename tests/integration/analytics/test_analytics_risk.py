"""Risk, product and money metrics on one hand-built book, on SQLite and PostgreSQL.

The book (every loan 10,000.00 yuan in three tickets, through the services and close of
business day by day):
- 2026-11-28: `good` 信用标 at 9 %, 6 months interest-first, its borrower pays on time;
  `bad` 信用标 at 6 %, 3 months, never paid: written off at M3+ (2027-03-29), then 5,000.00
  recovered (2027-04-02); `backed` 担保标 at 6 %, 3 months, never paid: its guarantor pays
  holders three days after each due date;
- 2027-01-05 a holder of `good` offers 1,000.00 of principal at a 2 % discount, bought
  2027-01-08;
- 2027-02-01: `late` 信用标 (M2 at the end: first due 2027-03-01, unpaid);
- 2027-03-01: `fresh` 信用标, published and fully funded 90 minutes later (M1 at the end:
  first due 2027-04-01, unpaid);
- the book is read after the close of 2027-04-03, when a second 担保标 of the same guarantor
  is published (not yet funded).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from biaodi.adapters.db.disclosure_tables import BucketHistory
from biaodi.adapters.db.secondary_tables import SecondaryPurchase
from biaodi.adapters.db.servicing_tables import LoanServicing
from biaodi.adapters.db.tables import Listing, LoanInstalment
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.services.analytics import catalog, history, money, products, risk, users
from biaodi.services.analytics.common import Period
from biaodi.services.secondary import purchases, sales
from biaodi.services.servicing.close_day import CloseDay, close_day
from servicing_support import (
    INVESTING,
    Loan,
    balance,
    check_books,
    funded_loan,
    guarantor,
    invest,
    investor,
    move,
    pay_in,
    published_listing,
    servicing_rules,
)

END = date(2027, 4, 3)
WHOLE = Period(date(2026, 11, 1), date(2027, 4, 30))
LOAN = 1_000_000  # fen: every loan is 10,000.00 yuan


def at(platform: Platform, day: date, hour: int = 2, minute: int = 0) -> None:
    """Move the clock to `day` (02:00 UTC is 10:00 in Beijing, the same business day)."""
    platform.clock.set(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC))


def close_through(platform: Platform, day: date) -> None:
    """Close of business through `day` with the steps of the capabilities above servicing
    (the bucket history among them)."""
    close_day(CloseDay(platform.engine, platform.clock, servicing_rules(platform), INVESTING,
                       day_steps=platform.day_steps), day)


@dataclass
class Book:
    good: Loan
    bad: Loan
    backed: Loan
    late: Loan
    fresh: int
    guarantor: int
    second_guarantee: int


def _fresh_loan(platform: Platform) -> int:
    """A 信用标 published now and funded 90 minutes later; its borrower spends the money."""
    listing_id = published_listing(platform, INVESTING, amount=10_000, rate="0.06", term=3)
    platform.clock.advance(minutes=90)
    for ticket in (3_300, 3_300, 3_400):
        invest(platform, INVESTING, listing_id, investor(platform, ticket), ticket)
    with platform.uow() as uow:
        borrower = uow.s.get(Listing, listing_id).applicant_id  # type: ignore[union-attr]
    code = wallet(OwnerKind.BORROWER, borrower).code
    move(platform, code, "custody:cash", balance(platform, code))
    return listing_id


@pytest.fixture(scope="module")
def book(book_platform: Platform) -> Book:
    platform = book_platform
    at(platform, date(2026, 11, 28))
    good = funded_loan(platform, "credit", rate="0.09", term=6, method="interest_first")
    pay_in(platform, good.payer, 200_000)  # more than the interest of the whole book
    bad = funded_loan(platform, "credit")
    backer = guarantor(platform, days=3)
    backed = funded_loan(platform, "guarantee", guarantor_id=backer)
    close_through(platform, date(2026, 11, 28))  # servicing takes the loans on

    at(platform, date(2027, 1, 5))
    close_through(platform, date(2027, 1, 4))
    secondary = replace(platform.secondary_rules, servicing=platform.servicing_rules)
    sale = _in(platform, lambda uow: sales.offer(uow, sales.Offer(
        good.holdings[0], good.investors[0], Decimal("-0.02"), Money.yuan(1_000)), secondary))
    at(platform, date(2027, 1, 8))
    close_through(platform, date(2027, 1, 7))
    buyer = investor(platform, 5_000)
    _in(platform, lambda uow: purchases.buy(uow, purchases.Buy(sale.id, buyer, None, None),
                                            secondary))

    at(platform, date(2027, 2, 1))
    close_through(platform, date(2027, 1, 31))
    late = funded_loan(platform, "credit")
    close_through(platform, date(2027, 2, 1))
    at(platform, date(2027, 3, 1))
    close_through(platform, date(2027, 2, 28))
    fresh = _fresh_loan(platform)
    close_through(platform, date(2027, 3, 1))
    at(platform, date(2027, 4, 2))
    close_through(platform, date(2027, 4, 1))
    pay_in(platform, bad.payer, 500_000)  # recovered after the write-off
    at(platform, END)
    close_through(platform, END)
    second = published_listing(platform, INVESTING, kind="guarantee", amount=20_000,
                               rate="0.06", term=3, guarantor_id=backer)
    check_books(platform)
    return Book(good, bad, backed, late, fresh, backer, second)


def _in(platform: Platform, work):  # type: ignore[no-untyped-def]
    from biaodi.services.shared.tx import in_transaction
    return in_transaction(platform.uow, work)


def _read(platform: Platform, fn, *args):  # type: ignore[no-untyped-def]
    with platform.reader() as uow:
        return fn(uow, *args)


def _instalments(platform: Platform, listing_id: int, upto: date) -> tuple[int, int]:
    """Principal and interest of the loan's instalments due by `upto`, from its schedule."""
    with platform.uow() as uow:
        p, i = uow.s.execute(select(func.sum(LoanInstalment.principal_fen),
                                    func.sum(LoanInstalment.interest_fen))
                             .where(LoanInstalment.listing_id == listing_id,
                                    LoanInstalment.due_date <= upto)).one()
    return int(p or 0), int(i or 0)


def test_the_book_is_as_described(book_platform: Platform, book: Book) -> None:
    with book_platform.uow() as uow:
        states = {lid: (s.status, s.bucket) for lid, s in (
            (lid, uow.s.get(LoanServicing, lid)) for lid in (
                book.good.listing_id, book.backed.listing_id, book.late.listing_id,
                book.fresh))}
        bad = uow.s.get(LoanServicing, book.bad.listing_id)
        assert bad is not None and bad.status == "written_off"
    assert states == {book.good.listing_id: ("performing", "current"),
                      book.backed.listing_id: ("defaulted", "M3+"),
                      book.late.listing_id: ("overdue", "M2"), book.fresh: ("overdue", "M1")}


# --- risk -------------------------------------------------------------------------------------
def test_outstanding_principal_of_live_loans_by_type(book_platform: Platform, book: Book
                                                     ) -> None:
    found = _read(book_platform, risk.outstanding_principal)
    # good (interest-first), late and fresh (nothing paid); backed's principal is now owed to
    # the guarantor; bad is written off
    assert found == [risk.OutstandingRow("credit", 3, 3 * LOAN),
                     risk.OutstandingRow("guarantee", 1, LOAN)]


def test_overdue_amount_and_rate_by_bucket(book_platform: Platform, book: Book) -> None:
    found = {row.bucket: row for row in _read(book_platform, risk.overdue_by_bucket)}
    assert list(found) == ["current", "M1", "M2", "M3", "M3+"]
    quarter = Decimal("0.250000")
    fresh_due = sum(_instalments(book_platform, book.fresh, END))  # due 2027-04-01
    late_due = sum(_instalments(book_platform, book.late.listing_id, END))  # 03-01, 04-01
    backed_due = sum(_instalments(book_platform, book.backed.listing_id, END))  # all three
    assert found["current"] == risk.BucketRow("current", 1, LOAN, 0, quarter, quarter)
    assert found["M1"] == risk.BucketRow("M1", 1, LOAN, fresh_due, quarter, quarter)
    assert found["M2"] == risk.BucketRow("M2", 1, LOAN, late_due, quarter, quarter)
    assert found["M3"] == risk.BucketRow("M3", 0, 0, 0, Decimal(0), Decimal(0))
    assert found["M3+"] == risk.BucketRow("M3+", 1, LOAN, backed_due, quarter, quarter)
    assert late_due == 2 * fresh_due  # the same schedule: two instalments against one


def test_bad_debt_rate(book_platform: Platform, book: Book) -> None:
    written_off = sum(_instalments(book_platform, book.bad.listing_id, END))
    found = _read(book_platform, risk.bad_debt_rate)
    # backed's principal in M3+ and everything bad owed when it was written off, over the
    # five loans funded
    assert found.bad_fen == LOAN + written_off and found.funded_fen == 5 * LOAN
    assert found.rate == (Decimal(LOAN + written_off) / (5 * LOAN)).quantize(Decimal("1e-6"))


def test_vintage_curves_count_defaults_by_months_on_book(book_platform: Platform, book: Book
                                                          ) -> None:
    found = [(p.vintage, p.months_on_book, p.loans, p.defaulted_loans, p.defaulted_fen,
              p.default_rate) for p in _read(book_platform, risk.vintage_curves, END)]
    zero, two_thirds = Decimal(0), Decimal("0.666667")
    # bad and backed defaulted on 2027-03-29: month 4 of the November vintage
    assert found == [
        *[("2026-11", k, 3, 0, 0, zero) for k in range(4)],
        ("2026-11", 4, 3, 2, 2 * LOAN, two_thirds), ("2026-11", 5, 3, 2, 2 * LOAN, two_thirds),
        *[("2027-02", k, 1, 0, 0, zero) for k in range(3)],
        *[("2027-03", k, 1, 0, 0, zero) for k in range(2)]]
    earlier = _read(book_platform, risk.vintage_curves, date(2027, 3, 28))
    assert all(p.defaulted_loans == 0 for p in earlier)


def test_losses_and_recoveries_by_type(book_platform: Platform, book: Book) -> None:
    written_off = sum(_instalments(book_platform, book.bad.listing_id, END))
    found = _read(book_platform, risk.losses_and_recoveries)
    # the 5,000.00 the borrower of bad paid after the write-off is a recovery; the
    # guarantor's payments on backed are a safeguard, not one
    assert found == [risk.LossRow("credit", written_off, 500_000, written_off - 500_000)]


def test_guarantor_compensation_and_capacity(book_platform: Platform, book: Book) -> None:
    compensated = sum(_instalments(book_platform, book.backed.listing_id, END))
    found = _read(book_platform, risk.guarantors)
    capacity = Money.yuan(10_000_000).fen
    # only the second listing (published, 20,000.00) still uses capacity: backed defaulted
    assert found == [risk.GuarantorRow(book.guarantor, "中和担保", capacity, 2 * LOAN,
                                       capacity - 2 * LOAN, 3, compensated)]


def test_borrowers_by_grade(book_platform: Platform, book: Book) -> None:
    # listings approved by an override carry no grade
    assert _read(book_platform, users.borrowers_by_grade) == [
        users.GradeRow("", 4, 4, 4 * LOAN)]


# --- products ---------------------------------------------------------------------------------
def test_volume_by_type_term_and_grade(book_platform: Platform, book: Book) -> None:
    assert _read(book_platform, products.volume, WHOLE) == [
        products.VolumeRow("credit", 3, "month", "", 3, 3 * LOAN),
        products.VolumeRow("credit", 6, "month", "", 1, LOAN),
        products.VolumeRow("guarantee", 3, "month", "", 1, LOAN)]
    march = Period(date(2027, 3, 1), date(2027, 3, 31))
    assert _read(book_platform, products.volume, march) == [
        products.VolumeRow("credit", 3, "month", "", 1, LOAN)]


def test_weighted_average_rate_and_all_in_cost(book_platform: Platform, book: Book) -> None:
    with book_platform.uow() as uow:
        cost = {lid: ppm for lid, ppm in uow.s.execute(
            select(Listing.id, Listing.all_in_cost_ppm))}
    credit = [book.good.listing_id, book.bad.listing_id, book.late.listing_id, book.fresh]
    six = Decimal("1e-6")
    found = {r.kind: r for r in _read(book_platform, products.weighted_rates, WHOLE)}
    # (9 % × 10,000 + 6 % × 30,000) / 40,000
    assert found["credit"].rate == Decimal("0.067500")
    assert found["credit"].all_in_cost == (Decimal(sum(cost[i] for i in credit))
                                           / 4 / 1_000_000).quantize(six)
    assert found["guarantee"].rate == Decimal("0.060000")
    assert found["guarantee"].all_in_cost == (Decimal(cost[book.backed.listing_id])
                                              / 1_000_000).quantize(six)


def test_funding_time_from_publication_to_full(book_platform: Platform, book: Book) -> None:
    # fresh filled 90 minutes after publication; the others at once
    assert _read(book_platform, products.funding_time, WHOLE) == [
        products.FundingTime("credit", 4, 5400 // 4, 5400),
        products.FundingTime("guarantee", 1, 0, 0)]


def test_auto_invest_share_of_a_book_invested_by_hand(book_platform: Platform, book: Book
                                                      ) -> None:
    assert _read(book_platform, products.auto_invest_share, WHOLE) == products.AutoShare(
        5 * LOAN, 0, Decimal("0.000000"))


def test_secondary_turnover_discount_and_time_to_sell(book_platform: Platform, book: Book
                                                      ) -> None:
    with book_platform.uow() as uow:
        bought = uow.s.scalars(select(SecondaryPurchase)).one()
    found = _read(book_platform, products.secondary_market, WHOLE)
    assert (found.purchases, found.principal_fen) == (1, 100_000)
    assert (found.price_fen, found.fair_value_fen, found.fee_fen) == (
        bought.price_fen, bought.fair_value_fen, bought.fee_fen)
    # offered at 2 % under fair value on the day it was bought (rounded to the fen)
    assert abs(found.discount - Decimal("0.02")) < Decimal("0.00001")  # type: ignore[operator]
    assert found.average_days_to_sell == Decimal("3.000000")  # 2027-01-05 → 2027-01-08
    none = _read(book_platform, products.secondary_market, Period(END, END))
    assert none == products.Secondary(0, 0, 0, 0, 0, None, None)


# --- money and users on this book ---------------------------------------------------------
def test_platform_income_by_fee_type(book_platform: Platform, book: Book) -> None:
    with book_platform.uow() as uow:
        fee = uow.s.scalars(select(SecondaryPurchase.fee_fen)).one()
    # 3-month loans carry no service fee; the guarantee fee is the guarantor's income
    assert fee > 0
    assert _read(book_platform, money.platform_income, WHOLE) == [
        money.IncomeRow("platform:fee_income", "secondary_transfer", 1, fee)]


def test_custody_equals_the_wallets(book_platform: Platform, book: Book) -> None:
    found = _read(book_platform, money.custody_against_wallets)
    assert found.custody_fen > 0 and found.difference_fen == 0
    assert found.custody_fen == balance(book_platform, "custody:cash")


def test_active_investors_of_the_book(book_platform: Platform, book: Book) -> None:
    days = _read(book_platform, users.active_investors, WHOLE, "day")
    assert days == [users.ActiveRow("2026-11-28", 9), users.ActiveRow("2027-01-08", 1),
                    users.ActiveRow("2027-02-01", 3), users.ActiveRow("2027-03-01", 3)]


def test_every_metric_answers_through_the_catalogue(book_platform: Platform, book: Book
                                                    ) -> None:
    from biaodi.domain.analytics.tiers import DEFAULT_TIERS, parse_tiers
    with book_platform.reader() as uow:
        for name in catalog.METRICS:
            found = catalog.compute(uow, name, tiers=parse_tiers(DEFAULT_TIERS),
                                    start=WHOLE.start, end=WHOLE.end, as_of=END)
            assert found is not None, name
        bucket = catalog.compute(uow, "overdue-by-bucket", tiers=())
    assert bucket[0] == {"bucket": "current", "loans": 1, "principal_fen": LOAN,
                         "overdue_fen": 0, "amount_rate": "0.250000",
                         "count_rate": "0.250000"}



# --- bucket history, roll rates, verticals ---------------------------------------------------
def test_close_of_business_keeps_each_live_loans_bucket(book_platform: Platform, book: Book
                                                        ) -> None:
    with book_platform.reader() as uow:
        found = {r.listing_id: (r.bucket, r.status, r.outstanding_principal_fen)
                 for r in uow.s.scalars(select(BucketHistory).where(
                     BucketHistory.business_date == END))}
    # bad was written off on 2027-03-29: no longer live, so not in the history
    assert found == {book.good.listing_id: ("current", "performing", LOAN),
                     book.backed.listing_id: ("M3+", "defaulted", LOAN),
                     book.late.listing_id: ("M2", "overdue", LOAN),
                     book.fresh: ("M1", "overdue", LOAN)}


def test_roll_rates_between_two_closed_dates(book_platform: Platform, book: Book) -> None:
    third, half = Decimal("0.333333"), Decimal("0.500000")
    # on 2027-03-01 bad and backed were 63 days past their first due date (M3); good, late
    # (first due that day) and fresh (funded that day) were current
    assert _read(book_platform, history.roll_rates, Period(date(2027, 3, 1), END)) == [
        history.RollRow("current", "current", 1, LOAN, third, third),  # good
        history.RollRow("current", "M1", 1, LOAN, third, third),  # fresh
        history.RollRow("current", "M2", 1, LOAN, third, third),  # late
        history.RollRow("M3", "M3+", 1, LOAN, half, half),  # backed
        history.RollRow("M3", "written_off", 1, LOAN, half, half)]  # bad
    # a start before the first closed date has no history to roll from
    assert _read(book_platform, history.roll_rates, Period(date(2026, 11, 1), END)) == []


def test_volume_by_vertical(book_platform: Platform, book: Book) -> None:
    assert _read(book_platform, products.volume_by_vertical, WHOLE) == [
        products.VerticalRow("credit", 4, 4 * LOAN),
        products.VerticalRow("guarantee", 1, LOAN)]
