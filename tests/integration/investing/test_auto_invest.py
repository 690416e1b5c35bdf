"""Auto-invest: fair queue, the 70 % share, rule limits and the allocation log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from biaodi.adapters.db.tables import AutoInvestAllocation, AutoInvestRun, Investment, Listing
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.investing import auto_invest
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.servicing import repayments
from biaodi.services.shared.tx import in_transaction
from investing_support import invest, investor, many_investors, published_listing
from servicing_support import pay_in, seed_lpr, servicing_rules

RULES = InvestingRules()


def add_rule(platform: Platform, investor_id: int, **changes: object) -> int:
    cmd = auto_invest.RuleInput(**{"amount_per_listing": Money.yuan(1_000), **changes})
    return in_transaction(platform.uow, lambda uow: auto_invest.save_rule(
        uow, investor_id, cmd)).id


def allocations(platform: Platform, listing_id: int) -> list[AutoInvestAllocation]:
    with platform.uow() as uow:
        return list(uow.s.scalars(select(AutoInvestAllocation).where(
            AutoInvestAllocation.listing_id == listing_id).order_by(
            AutoInvestAllocation.position)))


def test_queue_serves_everyone_once_before_anyone_twice(platform: Platform) -> None:
    people = many_investors(platform, 10, yuan=50_000)
    for who in people:
        add_rule(platform, who)
    served_order: list[int] = []
    for _ in range(4):  # each listing's 70 % share fits seven 1,000.00 allocations
        listing_id = published_listing(platform, RULES, amount=10_000)
        lines = allocations(platform, listing_id)
        got = [line.investor_id for line in lines if line.outcome == "allocated"]
        assert len(got) == 7
        assert sum(line.amount_fen for line in lines) == 700_000  # exactly the 70 % share
        with platform.uow() as uow:
            listing = uow.s.get(Listing, listing_id)
            run = uow.s.scalars(select(AutoInvestRun).where(
                AutoInvestRun.listing_id == listing_id)).one()
        assert listing.remaining_fen == 300_000 and run.share_cap_fen == 700_000
        assert run.eligible == 10 and run.served == 7
        served_order.extend(got)
    # Fairness: in any window of 10 consecutive allocations, nobody appears twice.
    for start in range(0, len(served_order) - 9):
        window = served_order[start:start + 10]
        assert len(set(window)) == 10, window
    assert served_order[:10] == sorted(people)  # first round: never-served, by investor id


def test_rule_limits_filters_and_the_log_says_why(platform: Platform) -> None:
    rich, reserved, picky, capped = many_investors(platform, 4, yuan=5_000)
    add_rule(platform, rich, amount_per_listing=Money.yuan(2_550))
    add_rule(platform, reserved, cash_reserve=Money.yuan(4_950))
    add_rule(platform, picky, min_rate=Decimal("0.15"))
    add_rule(platform, capped, total_cap=Money.yuan(300))
    listing_id = published_listing(platform, RULES, amount=10_000, rate="0.10")
    lines = {line.investor_id: line for line in allocations(platform, listing_id)}
    assert picky not in lines  # the rate is below its minimum: not eligible at all
    assert lines[rich].amount_fen == 250_000  # rounded down to the 100.00 step
    assert lines[reserved].outcome == "skipped"
    assert "cash above reserve" in lines[reserved].reason
    assert lines[capped].amount_fen == 30_000
    with platform.uow() as uow:
        sources = {i.investor_id: i.source for i in uow.s.scalars(select(Investment))}
        mine = auto_invest.my_allocations(uow, rich)
        assert ledger.verify(uow).balanced
    assert sources == {rich: "auto", capped: "auto"}
    assert mine[0]["amount"] == "2500.00" and mine[0]["outcome"] == "allocated"

    later = investor(platform, 20_000)
    made = invest(platform, RULES, listing_id, later, 5_000)  # manual opens after the run
    assert made.remaining == Money.yuan(10_000 - 2_500 - 300 - 5_000)


def test_bad_rules_are_refused(platform: Platform) -> None:
    who = investor(platform)
    for changes, field in (({"best_grade": "Z"}, "best_grade"),
                           ({"best_grade": "D", "worst_grade": "B"}, "best_grade"),
                           ({"max_term_months": 0}, "max_term_months"),
                           ({"kinds": ("p2p",)}, "kind"),
                           ({"rule_cap": Money.zero()}, "rule_cap")):
        with pytest.raises(InvalidInput) as info:
            add_rule(platform, who, **changes)
        assert info.value.field == field


def test_a_rule_cap_stops_its_rule_while_the_investors_other_rule_still_invests(
        platform: Platform) -> None:
    who = investor(platform, 20_000)
    capped = add_rule(platform, who, min_rate=Decimal("0.11"), rule_cap=Money.yuan(1_500))
    other = add_rule(platform, who, max_term_months=6)  # the two never match the same listing

    def line(listing_id: int) -> AutoInvestAllocation:
        (mine,) = [a for a in allocations(platform, listing_id) if a.investor_id == who]
        return mine

    first, second, third = (published_listing(platform, RULES, rate="0.11") for _ in range(3))
    assert (line(first).rule_id, line(first).amount_fen) == (capped, 100_000)
    assert line(second).amount_fen == 50_000  # what the rule cap leaves: 1,500 − 1,000
    assert line(third).outcome == "skipped"
    assert line(third).reason == "below the minimum ticket after rule cap (0.00)"
    # the cap is the rule's, not the investor's: the other rule still invests its full amount
    short = published_listing(platform, RULES, rate="0.10", term=6)
    assert (line(short).rule_id, line(short).amount_fen) == (other, 100_000)
    with platform.uow() as uow:
        assert auto_invest.rule_invested(uow, capped) == 150_000
        assert auto_invest.rule_invested(uow, other) == 100_000
        assert ledger.verify(uow).balanced


def test_a_repaid_holding_frees_the_rule_cap(platform: Platform) -> None:
    seed_lpr(platform)
    who, other = investor(platform, 20_000), investor(platform, 20_000)
    capped = add_rule(platform, who, rule_cap=Money.yuan(1_000))
    loan = published_listing(platform, RULES, amount=2_000, rate="0.06", term=3)
    invest(platform, RULES, loan, other, 1_000)  # the rest: funded, the rule's ticket a holding
    with platform.uow() as uow:
        funded = uow.s.get(Listing, loan)
        assert funded is not None and funded.status == "repaying"
        assert auto_invest.rule_invested(uow, capped) == 100_000
    held = published_listing(platform, RULES)
    (line,) = [a for a in allocations(platform, held) if a.investor_id == who]
    assert line.outcome == "skipped" and "rule cap" in line.reason

    borrower = funded.applicant_id
    pay_in(platform, wallet(OwnerKind.BORROWER, borrower).code, 50_000)  # the interest
    in_transaction(platform.uow, lambda uow: repayments.repay_early(uow, repayments.RepayEarly(
        loan, borrower, "payoff"), servicing_rules(platform)))
    with platform.uow() as uow:
        assert auto_invest.rule_invested(uow, capped) == 0  # repaid: nothing kept invested
    freed = published_listing(platform, RULES)
    (line,) = [a for a in allocations(platform, freed) if a.investor_id == who]
    assert (line.rule_id, line.outcome, line.amount_fen) == (capped, "allocated", 100_000)
    with platform.uow() as uow:
        assert ledger.verify(uow).balanced


def test_a_rule_at_its_cap_gives_way_to_the_investors_next_matching_rule(
        platform: Platform) -> None:
    who = investor(platform, 20_000)
    capped = add_rule(platform, who, rule_cap=Money.yuan(1_000))
    wider = add_rule(platform, who, amount_per_listing=Money.yuan(700))  # matches the same

    def line(listing_id: int) -> AutoInvestAllocation:
        (mine,) = [a for a in allocations(platform, listing_id) if a.investor_id == who]
        return mine

    first, second = published_listing(platform, RULES), published_listing(platform, RULES)
    assert (line(first).rule_id, line(first).amount_fen) == (capped, 100_000)
    assert (line(second).rule_id, line(second).amount_fen) == (wider, 70_000)
