"""Default paths by listing type, one close of business a day on SQLite and PostgreSQL:
担保标 guarantor compensation and subrogation, 抵押标 disposal waterfall (shortfall and surplus),
流转标 buy-back (at maturity from the reserve; at default short and written off), 信用标
write-off with a later recovery. Every investor's cash is checked to the fen against the
domain's allocation rules, and the books verify after every day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.servicing_tables import CollateralDisposal, Repayment
from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.servicing.allocation import (
    WATERFALL_ORDER,
    AllocationOrder,
    Component,
    Creditor,
    distribute,
)
from biaodi.domain.servicing.waterfall import waterfall
from biaodi.domain.shared.money import Money
from biaodi.services.servicing import defaults
from biaodi.services.shared.tx import in_transaction
from servicing_support import (
    Events,
    Loan,
    balance,
    funded_loan,
    guarantor,
    investor_cash,
    listing_status,
    loan_state,
    pay_in,
    positions,
    run_close,
    schedule_shares,
    servicing_rules,
    user,
    walk,
)

M3_PLUS = date(2027, 3, 29)  # 91 days after the first due date, 2026-12-28
PEN, INT, PRIN = Component.PENALTY, Component.INTEREST, Component.PRINCIPAL


def owed(platform: Platform, loan: Loan, *, penalty: bool = True) -> list[Creditor]:
    return [Creditor(p.id, p.tier, {PEN: p.penalty_fen if penalty else 0, INT: p.due_interest_fen,
                                    PRIN: p.due_principal_fen})
            for p in positions(platform, loan.listing_id)]


def shares_of(platform: Platform, loan: Loan, amount: int, order: AllocationOrder,
              penalty: bool = True) -> list[int]:
    """What each investor gets of `amount` by the domain's rule, from positions as they are."""
    creditors = [c for c in owed(platform, loan, penalty=penalty) if c.tier == 0]
    split = distribute(amount, creditors, order)
    return [sum(split[c.position_id].values()) for c in creditors]


def test_default_paths_for_every_type(platform: Platform, clock: FixedClock) -> None:
    rules = servicing_rules(platform)
    credit = funded_loan(platform, "credit")
    short = funded_loan(platform, "collateral")
    surplus = funded_loan(platform, "collateral")
    backed = funded_loan(platform, "guarantee", guarantor_id=guarantor(platform, days=3))
    unbacked = funded_loan(platform, "guarantee", guarantor_id=guarantor(platform, yuan=0))
    bought = funded_loan(platform, "transfer", reserve_yuan=10_100)
    stranded = funded_loan(platform, "transfer")  # reserve 10 %, nothing else
    funded = {loan.listing_id: schedule_shares(platform, loan) for loan in
              (backed, bought, stranded)}
    scheduled = {lid: [sum(p + i for p, i in rows) for rows in shares.values()]
                 for lid, shares in funded.items()}
    # the good originator pays the interest it owes monthly, but not the principal at maturity
    interest_only = sum(sum(rows[k][1] for rows in funded[bought.listing_id].values())
                        for k in (0, 1))
    pay_in(platform, bought.payer, interest_only)
    seen: dict[str, object] = {}
    events = Events()
    on = events.on

    def guarantor_paid_everything() -> None:  # after the third deadline (2027-03-03)
        assert investor_cash(platform, backed) == scheduled[backed.listing_id]
        assert all(p.penalty_fen == 0 for p in positions(platform, backed.listing_id)
                   if p.tier == 0)
        claim = [p for p in positions(platform, backed.listing_id) if p.tier == 1]
        assert len(claim) == 1 and claim[0].creditor_id == backed.guarantor
        total = sum(scheduled[backed.listing_id])
        assert claim[0].due_principal_fen + claim[0].due_interest_fen == total
        assert balance(platform, f"guarantor:{backed.guarantor}:subrogation") == total
        assert balance(platform, wallet(OwnerKind.GUARANTOR, backed.guarantor).code) == \
            Money.yuan(100_000).fen - total
        assert listing_status(platform, backed.listing_id) == "overdue"
        assert {i["status"] for i in instalments(platform, backed)} == {"compensated"}

    def maturity() -> None:  # the day after the 流转标 matured (2027-02-28)
        assert investor_cash(platform, bought) == scheduled[bought.listing_id]
        assert listing_status(platform, bought.listing_id) == "settled"
        assert loan_state(platform, bought.listing_id).default_stage == "bought_back"
        reserve = wallet(OwnerKind.ORIGINATOR, bought.applicant, "buyback_reserve").code
        assert balance(platform, reserve) == Money.yuan(10_100).fen - \
            sum(funded_rows_total(funded[bought.listing_id], 2))
        assert listing_status(platform, stranded.listing_id) == "written_off"
        assert balance(platform, wallet(OwnerKind.ORIGINATOR, stranded.applicant,
                                        "buyback_reserve").code) == 0
        assert investor_cash(platform, stranded) == stranded_share()

    def stranded_share() -> list[int]:
        """The 10 % reserve buys back what it can of every instalment (interest first)."""
        rows = funded[stranded.listing_id]
        creditors = [Creditor(n, 0, {INT: sum(i for _, i in rows[h]),
                                     PRIN: sum(p for p, _ in rows[h])})
                     for n, h in enumerate(stranded.holdings)]
        paid = distribute(100_000, creditors)
        return [sum(paid[n].values()) for n in range(len(creditors))]

    def before_m3() -> None:
        seen["credit_owed"] = sum(c.total - c.owed[PEN] for c in owed(platform, credit))

    def after_m3() -> None:
        assert listing_status(platform, credit.listing_id) == "written_off"
        assert balance(platform, f"loss:{credit.listing_id}:written_off") == seen["credit_owed"]
        assert investor_cash(platform, credit) == [0, 0, 0]
        for loan in (short, surplus):
            assert listing_status(platform, loan.listing_id) == "defaulted"
            assert loan_state(platform, loan.listing_id).status == "disposal"
        assert listing_status(platform, backed.listing_id) == "recovered"
        assert listing_status(platform, unbacked.listing_id) == "written_off"
        assert investor_cash(platform, unbacked) == [0, 0, 0]
        assert {h["bucket"] for h in holdings_of(platform, credit)} == {"M3+"}

    def sell(loan: Loan, proceeds: int, costs: int) -> None:
        state = loan_state(platform, loan.listing_id)
        plan = waterfall(proceeds, costs, state.penalty_fen, state.due_interest_fen,
                         state.due_principal_fen)
        expected = shares_of(platform, loan, plan.to_creditors, AllocationOrder(WATERFALL_ORDER))
        borrower_before = balance(platform, loan.payer)
        operator = user(platform, "operator")
        in_transaction(platform.uow, lambda uow: defaults.record_disposal(
            uow, defaults.RecordDisposal(loan.listing_id, Money(proceeds), Money(costs),
                                         "拍卖成交确认书 2027-0401", operator)))
        assert investor_cash(platform, loan) == expected
        assert balance(platform, loan.payer) == borrower_before + plan.surplus
        with platform.uow() as uow:
            row = uow.s.scalars(select(CollateralDisposal).where(
                CollateralDisposal.listing_id == loan.listing_id)).one()
            assert (row.surplus_fen, row.shortfall_fen) == (plan.surplus, plan.shortfall)
        seen[f"plan{loan.listing_id}"] = plan

    def recover() -> None:
        seen["credit_recovery"] = shares_of(platform, credit, 500_000, AllocationOrder())
        seen["loss_before"] = balance(platform, f"loss:{credit.listing_id}:written_off")
        pay_in(platform, credit.payer, 500_000)
        claim = next(p for p in positions(platform, backed.listing_id) if p.tier == 1)
        seen["guarantor_owed"] = (claim.penalty_fen + claim.due_interest_fen
                                  + claim.due_principal_fen)
        seen["guarantor_before"] = balance(platform, wallet(OwnerKind.GUARANTOR,
                                                            backed.guarantor).code)
        pay_in(platform, backed.payer, Money.yuan(12_000).fen)

    on(date(2027, 3, 1), maturity)
    on(date(2027, 3, 4), guarantor_paid_everything)
    on(M3_PLUS, before_m3)
    on(M3_PLUS + timedelta(days=1), after_m3)
    on(date(2027, 4, 1), lambda: sell(short, Money.yuan(6_000).fen, Money.yuan(500).fen))
    on(date(2027, 4, 1), lambda: sell(surplus, Money.yuan(20_000).fen, Money.yuan(1_000).fen))
    on(date(2027, 4, 2), recover)

    run_close(platform, clock.today(), rules)
    walk(platform, clock, date(2027, 4, 3), events, rules)

    # 抵押标: a shortfall is the holders' loss; a surplus goes back to the borrower
    plan = seen[f"plan{short.listing_id}"]
    assert plan.shortfall > 0 and listing_status(platform, short.listing_id) == "written_off"
    assert balance(platform, f"loss:{short.listing_id}:written_off") == plan.shortfall == sum(
        p.written_off_fen for p in positions(platform, short.listing_id))
    plan = seen[f"plan{surplus.listing_id}"]
    assert plan.surplus > 0 and listing_status(platform, surplus.listing_id) == "recovered"
    assert loan_state(platform, surplus.listing_id).status == "closed"
    # 信用标: the recovery reached the holders (penalty, interest, principal) and cut the loss
    assert investor_cash(platform, credit) == seen["credit_recovery"]
    with platform.uow() as uow:
        recovery = uow.s.scalars(select(Repayment).where(
            Repayment.listing_id == credit.listing_id)).one()
    assert balance(platform, f"loss:{credit.listing_id}:written_off") == \
        seen["loss_before"] - recovery.interest_fen - recovery.principal_fen
    # 担保标: the borrower's late money went to the guarantor, who was subrogated
    owed_to_guarantor = seen["guarantor_owed"]
    # and once the holders' claim was paid, the guarantee fees that fell due (3 months: no
    # service fee), collected from what was left
    guarantee_fees = loan_state(platform, backed.listing_id).paid_fee_fen
    assert guarantee_fees > 0
    assert balance(platform, wallet(OwnerKind.GUARANTOR, backed.guarantor).code) == \
        seen["guarantor_before"] + owed_to_guarantor + guarantee_fees
    assert balance(platform, backed.payer) == Money.yuan(12_000).fen - owed_to_guarantor \
        - guarantee_fees
    assert balance(platform, f"guarantor:{backed.guarantor}:subrogation") == 0
    assert loan_state(platform, backed.listing_id).status == "closed"
    assert investor_cash(platform, backed) == scheduled[backed.listing_id]  # unchanged


def funded_rows_total(shares: dict[int, list[tuple[int, int]]], index: int) -> list[int]:
    return [rows[index][0] + rows[index][1] for rows in shares.values()]


def instalments(platform: Platform, loan: Loan) -> list[dict]:
    from biaodi.services.servicing.queries import loan_view

    with platform.uow() as uow:
        return loan_view(uow, loan.listing_id, platform.clock.today())["instalments"]


def holdings_of(platform: Platform, loan: Loan) -> list[dict]:
    from biaodi.services.servicing.queries import holdings_view

    with platform.uow() as uow:
        return [h for who in loan.investors for h in holdings_view(uow, who)]
