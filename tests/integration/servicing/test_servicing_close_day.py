"""Close of business as a whole: idempotent per day, catch-up day by day, chunks; the
set-based distribution agrees with the domain's reference to the fen; one wallet serves
several loans without going negative; product order and the cost cap; collections."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.db.servicing_tables import (
    CloseDayRun,
    CollectionContact,
    CollectionNotice,
    Repayment,
    RepaymentShare,
)
from biaodi.bootstrap import Platform
from biaodi.domain.listings import ListingTerms
from biaodi.domain.listings.cost import check_listing_cost_cap, listing_all_in_cost
from biaodi.domain.servicing.allocation import Component, Creditor, distribute
from biaodi.domain.shared.compliance import CN_2016, ComplianceViolation
from biaodi.domain.shared.errors import BiaodiError, InsufficientBalance
from biaodi.domain.shared.money import Money
from biaodi.services.servicing import collections, products, repayments
from biaodi.services.shared.rates import lpr_on
from biaodi.services.shared.tx import in_transaction
from servicing_support import (
    balance,
    check_books,
    due_dates,
    funded_loan,
    investor_cash,
    loan_state,
    pay_in,
    positions,
    run_close,
    seed_lpr,
    servicing_rules,
    set_day,
    snapshot,
    user,
    walk,
)


def test_a_day_closed_twice_changes_nothing_and_missed_days_catch_up(
        platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit")
    dues = due_dates(platform, loan.listing_id)
    pay_in(platform, loan.payer, 100_000)  # not enough for the first instalment
    run_close(platform)
    set_day(clock, dues[0] + timedelta(days=6))
    days = run_close(platform)  # the missed days first, in order
    assert [d.business_date for d in days] == [clock.today() - timedelta(days=n)
                                               for n in range(len(days) - 1, -1, -1)]
    assert days[0].business_date == date(2026, 11, 29)
    check_books(platform)
    before = snapshot(platform)
    again = run_close(platform)
    assert [d.status for d in again] == ["done"] and not again[0].resumed
    assert again[0].steps == days[-1].steps
    assert snapshot(platform) == before
    state = loan_state(platform, loan.listing_id)
    assert (state.days_past_due, state.bucket) == (6, "M1")
    assert state.penalty_fen > 0 and balance(platform, loan.payer) == 0  # partly collected
    with pytest.raises(BiaodiError) as info:
        run_close(platform, date(2026, 11, 20))
    assert info.value.code == "before_last_close"


def test_chunks_are_independent_transactions(platform: Platform, clock: FixedClock) -> None:
    loans = [funded_loan(platform, "credit", tickets=(200, 200)) for _ in range(3)]
    for loan in loans:
        pay_in(platform, loan.payer, Money.yuan(1_000).fen)
    rules = servicing_rules(platform, chunk_size=2)
    run_close(platform, rules=rules)
    walk(platform, clock, due_dates(platform, loans[0].listing_id)[0], rules=rules)
    with platform.uow() as uow:
        run = uow.s.get(CloseDayRun, clock.today())
        assert run is not None and run.chunk_size == 2
        assert run.summary["chunks"] == (run.last_listing_id - run.first_listing_id) // 2 + 1
        assert run.summary["auto_debits"] == 3


def test_a_repayment_refers_to_an_entry_and_a_payer_that_exist(platform: Platform,
                                                              clock: FixedClock) -> None:
    """Checked once per statement by trigger on PostgreSQL (migration 0028), by foreign keys
    on SQLite: an insert or an update naming what does not exist is refused on both."""
    loan = funded_loan(platform, "credit")
    pay_in(platform, loan.payer, Money.yuan(2_000).fen)
    run_close(platform)
    walk(platform, clock, due_dates(platform, loan.listing_id)[0])
    missing = 10**9
    for column in ("payer_account_id", "entry_id"):
        with pytest.raises(IntegrityError), platform.engine.begin() as conn:
            conn.execute(text(f"UPDATE repayments SET {column} = :m"), {"m": missing})
    with pytest.raises(IntegrityError), platform.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO repayments (key, batch, listing_id, business_date, source,"
            " payer_account_id, amount_fen, penalty_fen, interest_fen, principal_fen,"
            " entry_id, created_at) SELECT key || '+', batch, listing_id, business_date, source,"
            " payer_account_id, amount_fen, penalty_fen, interest_fen, principal_fen, :m,"
            " created_at FROM repayments"), {"m": missing})
    check_books(platform)


def test_set_based_distribution_matches_the_reference(platform: Platform,
                                                      clock: FixedClock) -> None:
    """Random partial repayments of a loan with seven odd holdings: every share the SQL wrote
    equals `domain.servicing.allocation.distribute` on the positions as they were."""
    rng = random.Random(7)
    tickets = (1_300, 700, 2_100, 900, 1_100, 1_700, 2_200)
    loan = funded_loan(platform, "credit", tickets=tickets, rate="0.0737", term=6)
    dues = due_dates(platform, loan.listing_id)
    run_close(platform)
    walk(platform, clock, dues[1] + timedelta(days=12))  # two instalments overdue, penalty
    checked = 0
    while True:
        with platform.uow() as uow:
            owed = repayments.quote(uow, loan.listing_id, clock.today()).due_now.fen
        if owed == 0:
            break
        amount = min(owed, rng.randint(1, 400_000))
        before = [Creditor(p.id, p.tier, {Component.PENALTY: p.penalty_fen,
                                          Component.INTEREST: p.due_interest_fen,
                                          Component.PRINCIPAL: p.due_principal_fen})
                  for p in positions(platform, loan.listing_id)]
        pay_in(platform, loan.payer, amount)
        made = in_transaction(platform.uow, lambda uow, a=amount, n=checked: repayments.repay(
            uow, repayments.Repay(loan.listing_id, loan.applicant, Money(a), f"r{n}"),
            servicing_rules(platform)))
        with platform.uow() as uow:
            written = {s.position_id: {Component.PENALTY: s.penalty_fen,
                                       Component.INTEREST: s.interest_fen,
                                       Component.PRINCIPAL: s.principal_fen}
                       for s in uow.s.scalars(select(RepaymentShare).where(
                           RepaymentShare.repayment_id == made.repayment_id))}
        expected = distribute(amount, before)
        assert written == {k: v for k, v in expected.items() if sum(v.values())}
        checked += 1
    assert checked >= 3
    check_books(platform)
    assert sum(investor_cash(platform, loan)) > sum(tickets) * 100 // 3


def test_one_wallet_serves_its_loans_in_order_and_never_goes_negative(
        platform: Platform, clock: FixedClock) -> None:
    borrower = user(platform, "borrower")
    loans = [funded_loan(platform, "credit", tickets=(500, 500)) for _ in range(3)]
    with platform.engine.begin() as conn:  # the same borrower owes all three
        conn.execute(text("UPDATE listings SET applicant_id = :b WHERE id IN (:x, :y, :z)"),
                     {"b": borrower, "x": loans[0].listing_id, "y": loans[1].listing_id,
                      "z": loans[2].listing_id})
    run_close(platform)
    first = due_dates(platform, loans[0].listing_id)[0]
    wallet = f"borrower:{borrower}:available"
    pay_in(platform, wallet, 50_000)
    walk(platform, clock, first)
    paid = []
    with platform.uow() as uow:
        for loan in loans:
            made = uow.s.scalars(select(Repayment).where(
                Repayment.listing_id == loan.listing_id)).all()
            paid.append(sum(r.amount_fen for r in made))
    assert balance(platform, wallet) == 0
    assert sum(paid) == 50_000 and paid[0] > paid[1] > 0 and paid[2] == 0


def test_product_order_principal_first(platform: Platform, clock: FixedClock) -> None:
    seed_lpr(platform)
    operator = user(platform, "operator")
    in_transaction(platform.uow, lambda uow: products.set_product(uow, products.SetProduct(
        "collateral", 20, 0, "principal,interest,penalty", True, operator),
        servicing_rules(platform)))
    loan = funded_loan(platform, "collateral")
    run_close(platform)
    walk(platform, clock, due_dates(platform, loan.listing_id)[0] + timedelta(days=2))
    state = loan_state(platform, loan.listing_id)
    assert (state.order_principal, state.order_interest, state.order_penalty) == (1, 2, 3)
    assert state.grace_days == 0 and state.penalty_daily_ppm == 20 and state.penalty_fen > 0
    pay_in(platform, loan.payer, state.due_principal_fen + 1)
    made = in_transaction(platform.uow, lambda uow: repayments.repay(uow, repayments.Repay(
        loan.listing_id, loan.applicant, Money(state.due_principal_fen + 1), "p"),
        servicing_rules(platform)))
    assert (made.principal.fen, made.interest.fen, made.penalty.fen) == \
        (state.due_principal_fen, 1, 0)


def test_cost_cap_refuses_products_and_listings(platform: Platform) -> None:
    seed_lpr(platform)
    operator = user(platform, "operator")
    rules = servicing_rules(platform)
    with pytest.raises(ComplianceViolation) as info:
        in_transaction(platform.uow, lambda uow: products.set_product(uow, products.SetProduct(
            "credit", 500, 3, "penalty,interest,principal", True, operator), rules))
    assert info.value.rule_id == "cn2020.cost_cap_4x_lpr"
    terms = ListingTerms(Money.yuan(10_000), Decimal("0.115"), 24, "month", "equal_installment")
    with platform.uow() as uow:  # 11.5 % + a 1 % yearly fee over 2 years = 12.5 % > 12 %
        with pytest.raises(ComplianceViolation):
            check_listing_cost_cap(listing_all_in_cost(terms, Decimal("0.01"), Decimal(0),
                                                       date(2026, 11, 28)), rules.profile,
                                   date(2026, 11, 28), 30_000)
        within = listing_all_in_cost(terms, Decimal("0.005"), Decimal(0), date(2026, 11, 28))
        check_listing_cost_cap(within, rules.profile, date(2026, 11, 28),
                               30_000)  # 11.5 % + 0.5 %: the cap
        assert lpr_on(uow, date(2026, 11, 28)) == 30_000
    assert rules.profile is CN_2016


def test_a_loan_made_in_2019_is_capped_by_the_24_percent_line(platform: Platform,
                                                              clock: FixedClock) -> None:
    """Contract date before 2020-08-20: the 2015 line (24 % a year) caps penalty and products,
    with or without an LPR on record; the same numbers from 2020-08-20 follow 4 × LPR."""
    set_day(clock, date(2019, 6, 3))
    loan = funded_loan(platform, "credit", rate="0.22")  # 3 months: no fee, 22 % all-in
    run_close(platform)
    state = loan_state(platform, loan.listing_id)
    assert state.cost_cap_ppm == 240_000
    assert state.penalty_daily_ppm == 54  # (240,000 − 220,000) ÷ 365, not the product's 300
    operator = user(platform, "operator")
    rules = servicing_rules(platform)

    def product(daily_ppm: int) -> None:
        in_transaction(platform.uow, lambda uow: products.set_product(uow, products.SetProduct(
            "credit", daily_ppm, 3, "penalty,interest,principal", True, operator), rules))

    product(500)  # 18.25 % a year: within 24 % (refused under 4 × a 3 % LPR)
    with pytest.raises(ComplianceViolation) as info:
        product(700)  # 25.55 % a year
    assert info.value.rule_id == "cn2015.rate_cap_24_36"
    assert "2019-06-03" in info.value.message and info.value.field == "penalty_daily_rate"
    set_day(clock, date(2020, 8, 20))
    in_transaction(platform.uow, lambda uow: products.set_lpr(  # 3.85 %: cap 15.4 %
        uow, date(2020, 4, 20), 38_500, 46_500, "test"))
    with pytest.raises(ComplianceViolation) as info:
        product(500)
    assert info.value.rule_id == "cn2020.cost_cap_4x_lpr" and "2020-08-20" in info.value.message


def test_collections_follow_the_rules_of_conduct(platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit")
    rules = servicing_rules(platform)
    friend = in_transaction(platform.uow, lambda uow: collections.add_contact(
        uow, loan.applicant, name="李四", mobile="13900001111", relation="friend",
        authorised=True, cipher=platform.cipher))
    stranger = in_transaction(platform.uow, lambda uow: collections.add_contact(
        uow, loan.applicant, name="王五", mobile="13900002222", relation="colleague",
        authorised=False, cipher=platform.cipher))
    dues = due_dates(platform, loan.listing_id)
    run_close(platform)
    walk(platform, clock, dues[0] + timedelta(days=2))  # reminder at D-3, notice at D+1

    def contact(at: time, contact_id: int | None = None) -> CollectionContact:
        clock.set(datetime.combine(clock.today(), at, tzinfo=CST))
        return in_transaction(platform.uow, lambda uow: collections.record_contact(
            uow, collections.RecordContact(loan.applicant, "call", loan.listing_id, contact_id,
                                           None, "test"), rules.conduct))

    assert contact(time(7, 30)).rule_id == "collection.contact_hours"
    assert contact(time(21, 5)).rule_id == "collection.contact_hours"
    assert contact(time(10), stranger.id).rule_id == "collection.third_party"
    assert contact(time(10), friend.id).outcome == "made"
    sent = in_transaction(platform.uow, lambda uow: collections.send_notices(uow, rules.conduct))
    assert sent["sent"] == 2  # the overdue notice and the reminder queued on earlier days
    assert contact(time(12)).rule_id == "collection.daily_limit"
    with platform.uow() as uow:
        log = collections.contact_log(uow, loan.applicant)
        notices = uow.s.scalars(select(CollectionNotice)).all()
    assert [c.outcome for c in reversed(log)] == \
        ["refused", "refused", "refused", "made", "made", "made", "refused"]
    assert {n.kind for n in notices} == {"reminder", "overdue_notice"}
    assert {n.status for n in notices} == {"sent"}


def test_early_repayment_refusals(platform: Platform, clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit")
    run_close(platform)
    with pytest.raises(InsufficientBalance):
        in_transaction(platform.uow, lambda uow: repayments.repay_early(
            uow, repayments.RepayEarly(loan.listing_id, loan.applicant, "k"),
            servicing_rules(platform)))
    with pytest.raises(BiaodiError) as info:
        in_transaction(platform.uow, lambda uow: repayments.repay(
            uow, repayments.Repay(loan.listing_id, loan.applicant, Money(100), "k"),
            servicing_rules(platform)))
    assert info.value.code == "nothing_due"
    with pytest.raises(BiaodiError) as info:
        in_transaction(platform.uow, lambda uow: repayments.repay_early(
            uow, repayments.RepayEarly(loan.listing_id, loan.investors[0], "k"),
            servicing_rules(platform)))
    assert info.value.code == "not_borrower"


def test_a_borrower_past_m3_is_blacklisted_once(platform: Platform, clock: FixedClock) -> None:
    from biaodi.adapters.db.risk_tables import BlacklistEntry
    from biaodi.domain.risk.blacklist import Blacklisted
    from biaodi.services.risk import blacklist

    loan = funded_loan(platform, "credit")
    operator = user(platform, "operator")
    past_m3 = due_dates(platform, loan.listing_id)[0] + timedelta(days=91)

    def listed() -> list[BlacklistEntry]:
        with platform.uow() as uow:
            return list(uow.s.scalars(select(BlacklistEntry).where(
                BlacklistEntry.user_id == loan.applicant, BlacklistEntry.reason == "default_m3",
                BlacklistEntry.removed_at.is_(None))))

    set_day(clock, past_m3 - timedelta(days=1))
    run_close(platform)  # catches up day by day: 90 days past due is M3, not past it
    assert loan_state(platform, loan.listing_id).days_past_due == 90 and not listed()
    set_day(clock, past_m3)
    run_close(platform)
    entries = listed()
    assert {e.kind for e in entries} == {"id_number", "mobile"}
    assert all(e.source == "servicing" and f"listing {loan.listing_id}" in e.note
               for e in entries)
    assert loan_state(platform, loan.listing_id).blacklisted_on == past_m3
    with platform.uow() as uow, pytest.raises(Blacklisted):
        blacklist.check_before_disbursement(uow, loan.applicant, platform.cipher)

    for entry in entries:  # an operator's removal stands: the next day does not list again
        in_transaction(platform.uow, lambda uow, e=entry: blacklist.remove(
            uow, e.id, actor_id=operator, reason="settled with the platform"))
    set_day(clock, past_m3 + timedelta(days=1))
    run_close(platform)
    assert not listed()
    check_books(platform)
