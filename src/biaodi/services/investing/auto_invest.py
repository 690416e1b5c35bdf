"""Auto-invest (自动投标): standing rules that invest in new listings before manual investing
opens, within a share of the listing (default 70 %).

Fairness, published: eligible investors are served in a queue ordered by when they last
received an allocation (never served first, then oldest), ties by investor id; each gets at
most their rule's amount. Every run writes an allocation log — position, amount or the reason
for skipping — that each investor can read back for their own lines.

A rule may draw on the cash wallet (opt-in, `draw_on_cash_wallet`): when the wallet is short of
the ticket, an instant redemption of the investor's own fund units tops it up first, in the same
transaction and within the dated daily instant-redemption cap; the money goes from the
investor's units to the investor's wallet to one ticket — never pooled, never split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select, text

from biaodi.adapters.db.tables import (
    AutoInvestAllocation,
    AutoInvestQueue,
    AutoInvestRule,
    AutoInvestRun,
    Listing,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.listings import policy_for
from biaodi.domain.shared.errors import BiaodiError, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.funds import wallet as cash_wallet
from biaodi.services.incentives import coupons
from biaodi.services.investing import suitability
from biaodi.services.investing.invest import Invest, invest, investor_cap
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.shared.rates import rate_to_ppm

GRADES = ("A", "B", "C", "D", "E", "HR")


@dataclass(frozen=True)
class RuleInput:
    amount_per_listing: Money
    kinds: tuple[str, ...] = ()
    best_grade: str | None = None
    worst_grade: str | None = None
    min_rate: Decimal = Decimal(0)
    max_term_months: int = 36
    cash_reserve: Money = field(default_factory=Money.zero)
    total_cap: Money | None = None
    #: The most this rule keeps invested (its own tickets still frozen or outstanding).
    rule_cap: Money | None = None
    #: When the wallet is short, top it up by an instant redemption from the cash wallet.
    draw_on_cash_wallet: bool = False


def save_rule(uow: UnitOfWork, investor_id: int, cmd: RuleInput,
              rule_id: int | None = None, *, active: bool = True) -> AutoInvestRule:
    """Create a rule, or change one of the investor's own (`rule_id`); `active=False` saves
    it paused."""
    if "investor" not in roles_of(uow, investor_id):
        raise Forbidden("auto-invest needs the investor role", code="role_required")
    for kind in cmd.kinds:
        policy_for(kind)
    for name in ("best_grade", "worst_grade"):
        value = getattr(cmd, name)
        if value is not None and value not in GRADES:
            raise InvalidInput(f"{name} must be one of {', '.join(GRADES)}", field=name)
    if cmd.best_grade and cmd.worst_grade and (
            GRADES.index(cmd.best_grade) > GRADES.index(cmd.worst_grade)):
        raise InvalidInput("best_grade must not be worse than worst_grade", field="best_grade")
    if not 1 <= cmd.max_term_months <= 360:
        raise InvalidInput("max_term_months must be from 1 to 360", field="max_term_months")
    if cmd.amount_per_listing.fen <= 0:
        raise InvalidInput("amount_per_listing must be positive", field="amount_per_listing")
    if cmd.rule_cap is not None and cmd.rule_cap.fen <= 0:
        raise InvalidInput("rule_cap must be positive (or left out for no cap)",
                           field="rule_cap")
    now = uow.clock.now()
    if rule_id is None:
        rule = AutoInvestRule(investor_id=investor_id, created_at=now)
        uow.s.add(rule)
    else:
        rule = own_rule(uow, investor_id, rule_id)
    rule.kinds = sorted(set(cmd.kinds))
    rule.best_grade, rule.worst_grade = cmd.best_grade, cmd.worst_grade
    rule.min_rate_ppm = rate_to_ppm(cmd.min_rate, field="min_rate")
    rule.max_term_months = cmd.max_term_months
    rule.amount_per_listing_fen = cmd.amount_per_listing.fen
    rule.cash_reserve_fen = cmd.cash_reserve.fen
    rule.total_cap_fen = cmd.total_cap.fen if cmd.total_cap else None
    rule.rule_cap_fen = cmd.rule_cap.fen if cmd.rule_cap else None
    rule.draw_on_cash_wallet = cmd.draw_on_cash_wallet
    rule.active, rule.updated_at = active, now
    uow.s.flush()
    return rule


def own_rule(uow: UnitOfWork, investor_id: int, rule_id: int) -> AutoInvestRule:
    """The investor's own rule, not deleted; anyone else's is "not found" (not "forbidden"),
    so that rule ids reveal nothing."""
    rule = uow.s.get(AutoInvestRule, rule_id)
    if rule is None or rule.investor_id != investor_id or rule.deleted_at is not None:
        raise NotFound(f"no auto-invest rule {rule_id}", field="rule_id")
    return rule


def set_active(uow: UnitOfWork, investor_id: int, rule_id: int, active: bool) -> None:
    """Pause (`active=False`) or resume one of the investor's rules."""
    rule = own_rule(uow, investor_id, rule_id)
    rule.active, rule.updated_at = active, uow.clock.now()


def deactivate_rule(uow: UnitOfWork, investor_id: int, rule_id: int) -> None:
    set_active(uow, investor_id, rule_id, False)


def delete_rule(uow: UnitOfWork, investor_id: int, rule_id: int) -> None:
    """Delete one of the investor's rules: it never runs again and leaves their list; the row
    stays for the allocation log lines that name it."""
    rule = own_rule(uow, investor_id, rule_id)
    now = uow.clock.now()
    rule.active, rule.updated_at, rule.deleted_at = False, now, now


def _term_months(listing: Listing) -> int:
    return listing.term if listing.term_unit == "month" else -(-listing.term // 30)


def matches(rule: AutoInvestRule, listing: Listing) -> bool:
    if rule.kinds and listing.kind not in rule.kinds:
        return False
    if listing.annual_rate_ppm < rule.min_rate_ppm or _term_months(listing) > rule.max_term_months:
        return False
    if rule.best_grade or rule.worst_grade:
        if listing.grade not in GRADES:
            return False  # an ungraded listing only matches rules without a grade range
        position = GRADES.index(listing.grade)
        if rule.best_grade and position < GRADES.index(rule.best_grade):
            return False
        if rule.worst_grade and position > GRADES.index(rule.worst_grade):
            return False
    return True


def publish(uow: UnitOfWork, listing_id: int, *, actor_id: int, reason: str,
            rules: InvestingRules) -> AutoInvestRun:
    """Publish a listing and run auto-invest in the same transaction, so that manual
    investing only ever sees the listing after the auto-invest share was allocated."""
    listings.publish(uow, listing_id, actor_id=actor_id, reason=reason, rules=rules.listing)
    return run_for_listing(uow, listing_id, rules)


def run_for_listing(uow: UnitOfWork, listing_id: int, rules: InvestingRules) -> AutoInvestRun:
    """Allocate a newly published listing to auto-invest rules, in queue order."""
    listing = uow.s.get(Listing, listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    funding = policy_for(listing.kind).funding_rules(rules.listing.config)
    step = funding.step.fen
    share = Money(listing.amount_fen).times_rate(rules.auto_invest_share).fen
    cap_left = (share // step) * step
    run = AutoInvestRun(listing_id=listing.id, share_cap_fen=cap_left, allocated_fen=0,
                        eligible=0, served=0, run_at=uow.clock.now())
    uow.s.add(run)
    uow.s.flush()

    queue_seq = func.coalesce(AutoInvestQueue.last_served_seq, 0)
    candidates = uow.s.execute(
        select(AutoInvestRule, queue_seq.label("seq"))
        .outerjoin(AutoInvestQueue, AutoInvestQueue.investor_id == AutoInvestRule.investor_id)
        .where(AutoInvestRule.active.is_(True), AutoInvestRule.investor_id != listing.applicant_id)
        .order_by(queue_seq, AutoInvestRule.investor_id, AutoInvestRule.id)
    ).all()
    chosen: dict[int, AutoInvestRule] = {}
    full: set[int] = set()  # investors whose chosen rule is held at its rule cap
    #: what each capped matching rule keeps invested, read once for the run: in a run a rule's
    #: investment moves only by its own allocation, which comes after
    invested: dict[int, int] = {}
    for rule, _seq in candidates:
        if not matches(rule, listing) or (
                rule.investor_id in chosen and rule.investor_id not in full):
            continue
        # an investor's first matching rule serves, unless its rule cap leaves less than a
        # ticket and a later matching rule of theirs has room
        if rule.rule_cap_fen is not None:
            invested[rule.id] = rule_invested(uow, rule.id)
        at_cap = rule.rule_cap_fen is not None and (
            rule.rule_cap_fen - invested[rule.id] < funding.min_ticket.fen)
        if rule.investor_id not in chosen or not at_cap:
            chosen[rule.investor_id] = rule
            if at_cap:
                full.add(rule.investor_id)
            else:
                full.discard(rule.investor_id)
    run.eligible = len(chosen)
    next_seq = int(uow.s.execute(select(func.coalesce(func.max(
        AutoInvestQueue.last_served_seq), 0))).scalar() or 0)
    per_investor = investor_cap(listing, rules).fen
    cash = _cash(uow, list(chosen))

    for position, (investor_id, rule) in enumerate(chosen.items(), start=1):
        # Each log row is added once its outcome is known: one INSERT, sent with the others.
        log = AutoInvestAllocation(run_id=run.id, listing_id=listing.id, investor_id=investor_id,
                                   rule_id=rule.id, position=position, amount_fen=0,
                                   outcome="skipped", reason="")
        amount, why, short = _amount_for(uow, rule, cap_left, per_investor, step,
                                         funding.min_ticket.fen, cash[investor_id],
                                         invested.get(rule.id, 0))
        if amount == 0:
            log.reason = why
            uow.s.add(log)
            continue
        coupon = coupons.best_for_auto_invest(uow, investor_id, listing.id, Money(amount))
        savepoint = uow.s.begin_nested()
        try:
            if short:  # the investor's own units, redeemed at once into their own wallet
                cash_wallet.top_up(uow, investor_id, Money(short))
            made = invest(uow, Invest(listing.id, investor_id, Money(amount), source="auto",
                                      coupon_ids=(coupon,) if coupon else ()), rules)
        except BiaodiError as refusal:
            savepoint.rollback()
            log.reason = refusal.message
            uow.s.add(log)  # after the rollback: the skipped allocation is logged
            continue
        savepoint.commit()
        uow.s.add(log)
        next_seq += 1
        _mark_served(uow, investor_id, next_seq)
        log.amount_fen, log.outcome, log.investment_id = amount, "allocated", made.investment_id
        log.reason = f"rule {rule.id}: {Money(amount)} of {Money(rule.amount_per_listing_fen)}"
        if short:
            log.reason += f" ({Money(short)} redeemed from the cash wallet)"
        cap_left -= amount
        run.allocated_fen += amount
        run.served += 1
    uow.s.flush()
    return run


def _cash(uow: UnitOfWork, investor_ids: list[int]) -> dict[int, int]:
    """The investors' available cash, read once for a run: in a run a wallet moves only by its
    own investor's allocation, which comes after its read."""
    codes = {wallet(OwnerKind.INVESTOR, i).code: i for i in investor_ids}
    found: dict[str, int] = {}
    listed = sorted(codes)
    for start in range(0, len(listed), 500):
        found |= ledger.balances(uow, listed[start:start + 500])
    return {i: found.get(code, 0) for code, i in codes.items()}


def _amount_for(uow: UnitOfWork, rule: AutoInvestRule, cap_left: int, per_investor: int,
                step: int, min_ticket: int, available: int, invested: int
                ) -> tuple[int, str, int]:
    """The ticket for this rule, or 0 and why not; and how much of it an instant redemption
    from the cash wallet must first bring into the wallet (only for a rule that opted in).
    `available`: the investor's wallet, read for the run (`_cash`); `invested`: what the rule
    keeps invested (`rule_invested`, read for the run when it has a rule cap)."""
    spendable = available - rule.cash_reserve_fen
    cash_limit = (spendable, "cash above reserve")
    if rule.draw_on_cash_wallet:
        redeemable, cap_rule = cash_wallet.instant_redeemable(uow, rule.investor_id)
        cash_limit = (spendable + redeemable.fen, "cash above reserve and the cash wallet" + (
            f" within its instant-redemption cap ({cap_rule})" if cap_rule else ""))
    limits = [(rule.amount_per_listing_fen, "rule amount"), cash_limit,
              (cap_left, "auto-invest share left"), (per_investor, "per-investor cap")]
    if rule.total_cap_fen is not None:
        used = suitability.outstanding(uow, rule.investor_id).fen
        limits.append((rule.total_cap_fen - used, "rule total cap"))
    if rule.rule_cap_fen is not None:
        limits.append((rule.rule_cap_fen - invested, "rule cap"))
    amount, binding = min(limits)
    amount = (max(amount, 0) // step) * step
    if amount < min_ticket:
        return 0, f"below the minimum ticket after {binding} ({Money(max(amount, 0))})", 0
    return amount, "", max(amount - spendable, 0)


#: What one rule keeps invested: its allocations' subscriptions while frozen, then the
#: outstanding principal of the holdings they became while active (repaid, sold, written off
#: or refunded: nothing).
_RULE_INVESTED = text("""
    SELECT COALESCE(SUM(CASE WHEN i.status = 'frozen' THEN i.amount_fen
                             WHEN h.status = 'active' THEN h.outstanding_principal_fen
                             ELSE 0 END), 0)
    FROM auto_invest_allocations a
    JOIN investments i ON i.id = a.investment_id
    LEFT JOIN holdings h ON h.investment_id = i.id
    WHERE a.rule_id = :rule""")


def rule_invested(uow: UnitOfWork, rule_id: int) -> int:
    """What the rule keeps invested now, in fen (what its `rule_cap_fen` caps)."""
    return int(uow.s.execute(_RULE_INVESTED, {"rule": rule_id}).scalar_one())


def _mark_served(uow: UnitOfWork, investor_id: int, seq: int) -> None:
    row = uow.s.get(AutoInvestQueue, investor_id)
    if row is None:
        uow.s.add(AutoInvestQueue(investor_id=investor_id, last_served_seq=seq))
    else:
        row.last_served_seq = seq


def my_allocations(uow: UnitOfWork, investor_id: int, limit: int = 100) -> list[dict]:
    rows = uow.s.scalars(select(AutoInvestAllocation).where(
        AutoInvestAllocation.investor_id == investor_id).order_by(
        AutoInvestAllocation.id.desc()).limit(limit)).all()
    return [{"run_id": r.run_id, "listing_id": r.listing_id, "rule_id": r.rule_id,
             "position": r.position, "amount": str(Money(r.amount_fen)), "outcome": r.outcome,
             "reason": r.reason, "investment_id": r.investment_id} for r in rows]

