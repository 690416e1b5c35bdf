"""Close-of-business steps of incentives, run once per business date after the loan steps
(wired by `bootstrap.Platform.day_steps`): coupons past their last day expire; rate boosts
accrue on their holdings and pay whole fen (a boost is lost when its holding is sold); trials
that saw a withdrawal are voided and those that matured are paid; referrers are rewarded;
points are awarded for the day's investments. Each returns the rows it changed and changes
nothing when run again for the same date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Date, text

from biaodi.adapters.db import audit
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.incentives.coupons import MICRO, boost_micro
from biaodi.domain.shared.money import round_half_up
from biaodi.services.incentives.payouts import pay
from biaodi.services.incentives.rules import IncentiveRules

DayFn = Callable[[UnitOfWork, date], int]

_EXPIRE = text("UPDATE incentive_coupons SET status = 'expired', ended_on = :day "
               "WHERE status = 'issued' AND expires_on < :day")


def expire_coupons(uow: UnitOfWork, day: date) -> int:
    return int(uow.s.execute(_EXPIRE, {"day": day}).rowcount or 0)


_BOOSTS = text("""
    SELECT k.id, k.user_id, k.campaign_id, k.accrued_micro, k.accrued_through, k.paid_fen,
           t.rate_ppm, t.days, t.max_invest_fen, i.status AS investment_status,
           h.id AS holding_id, h.status AS holding_status, h.investor_id,
           h.outstanding_principal_fen, h.interest_start
    FROM incentive_coupons k
    JOIN coupon_templates t ON t.id = k.template_id
    JOIN investments i ON i.id = k.investment_id
    LEFT JOIN holdings h ON h.investment_id = k.investment_id
    WHERE k.status = 'accruing' ORDER BY k.id""").columns(
    accrued_through=Date, interest_start=Date)

_ACCRUE = text("""
    UPDATE incentive_coupons SET accrued_micro = :micro, accrued_through = :through,
           paid_fen = paid_fen + :pay, status = :status, ended_on = :ended
    WHERE id = :id AND status = 'accruing'""")


def accrue_boosts(uow: UnitOfWork, day: date) -> int:
    """Each accruing boost: its holding's outstanding principal (at most the template's
    maximum investment) × the boost rate for each day from the holding's interest start
    until `days` have run, paid in whole fen; the last day pays the rounded rest. A boost
    whose holding was sold is lost from the day of sale; one whose investment was refunded
    is void; one whose holding ended (settled, written off) ends."""
    changed = 0
    for b in list(uow.s.execute(_BOOSTS)):
        micro, through, pay_fen = int(b.accrued_micro), b.accrued_through, 0
        status, ended = "accruing", None
        if b.investment_status == "refunded":
            status, ended = "void", day
        elif b.holding_id is None:
            continue  # still funding: the boost starts with the holding
        elif b.holding_status == "sold" or b.investor_id != b.user_id:
            status, ended = "lost", day
        elif b.holding_status != "active":
            status, ended = "ended", day
        else:
            last = b.interest_start + timedelta(days=int(b.days) - 1)
            start = (through + timedelta(days=1)) if through else b.interest_start
            until = min(day, last)
            if until >= start:
                base = min(int(b.outstanding_principal_fen), int(b.max_invest_fen))
                micro += boost_micro(base, int(b.rate_ppm), (until - start).days + 1)
                through = until
            owed = (round_half_up(_fen(micro)) if until >= last else micro // MICRO)
            pay_fen = max(owed - int(b.paid_fen), 0)
            if until >= last:
                status, ended = "ended", day
        if pay_fen:
            pay(uow, user_id=b.user_id, fen=pay_fen, kind="boost_interest",
                memo=f"rate boost {b.id} on holding {b.holding_id} to {through}",
                campaign_id=b.campaign_id)
        if (pay_fen or status != "accruing" or micro != int(b.accrued_micro)):
            uow.s.execute(_ACCRUE, {"micro": micro, "through": through, "pay": pay_fen,
                                    "status": status, "ended": ended, "id": b.id})
            changed += 1
            if status != "accruing":
                audit.note(uow, f"incentive.boost_{status}", subjects=[("user", b.user_id)],
                           changes={"coupon_id": b.id, "holding_id": b.holding_id,
                                    "paid_fen": int(b.paid_fen) + pay_fen})
    return changed


def _fen(micro: int) -> Decimal:
    return Decimal(micro) / MICRO


_TRIALS = text("""
    SELECT p.id, p.user_id, p.campaign_id, p.interest_fen, p.starts_on, p.matures_on,
      EXISTS (SELECT 1 FROM payment_orders o WHERE o.user_id = p.user_id
              AND o.kind = 'withdrawal' AND o.status NOT IN ('failed', 'reversed')
              AND o.business_date >= p.starts_on AND o.business_date <= p.matures_on
              AND o.business_date <= :day) AS withdrew
    FROM trial_principals p
    WHERE p.status = 'running' AND p.starts_on <= :day ORDER BY p.id""").columns(
    starts_on=Date, matures_on=Date)

_SETTLE_TRIAL = text("UPDATE trial_principals SET status = :status, settled_on = :day "
                     "WHERE id = :id AND status = 'running'")


def settle_trials(uow: UnitOfWork, day: date) -> int:
    """Void running trials that saw a withdrawal; pay the interest of those that matured."""
    changed = 0
    for t in list(uow.s.execute(_TRIALS, {"day": day})):
        if t.withdrew:
            status = "void"
        elif t.matures_on <= day:
            status = "paid"
            pay(uow, user_id=t.user_id, fen=int(t.interest_fen), kind="trial_interest",
                memo=f"trial principal {t.id} matured {t.matures_on}",
                campaign_id=t.campaign_id)
        else:
            continue
        uow.s.execute(_SETTLE_TRIAL, {"status": status, "day": day, "id": t.id})
        audit.note(uow, f"incentive.trial_{status}", subjects=[("user", t.user_id)],
                   changes={"trial_id": t.id, "interest_fen": int(t.interest_fen)
                            if status == "paid" else 0})
        changed += 1
    return changed


_DUE_REFERRALS = text("""
    SELECT r.id, r.referrer_id, r.referee_id FROM referrals r
    WHERE r.rewarded_on IS NULL
      AND (SELECT COALESCE(SUM(i.amount_fen), 0) FROM investments i
           WHERE i.investor_id = r.referee_id AND i.status IN ('frozen', 'settled')
             AND i.subscribed_on <= :day) >= :min
    ORDER BY r.id""")

_REWARDED = text("UPDATE referrals SET rewarded_on = :day, reward_fen = :fen "
                 "WHERE id = :id AND rewarded_on IS NULL")

_REFERRAL_POINTS = text("""
    INSERT INTO points_entries (user_id, points, reason, ref, business_date, created_at)
    VALUES (:user, :points, 'referral', :ref, :day, :now)""")

_INVESTMENT_POINTS = text("""
    INSERT INTO points_entries (user_id, points, reason, ref, business_date, created_at)
    SELECT i.investor_id, (i.amount_fen / 10000) * :per_100, 'investment',
           CAST(i.id AS VARCHAR(24)), :day, :now
    FROM investments i
    WHERE i.subscribed_on = :day AND i.status IN ('frozen', 'settled')
      AND i.amount_fen >= 10000
      AND NOT EXISTS (SELECT 1 FROM points_entries e WHERE e.user_id = i.investor_id
                      AND e.reason = 'investment' AND e.ref = CAST(i.id AS VARCHAR(24)))""")


def reward_referrals(rules: IncentiveRules) -> DayFn:
    def run(uow: UnitOfWork, day: date) -> int:
        done = 0
        for r in list(uow.s.execute(_DUE_REFERRALS, {"day": day,
                                                     "min": rules.referral_min_invested.fen})):
            fen = rules.referral_reward.fen
            if uow.s.execute(_REWARDED, {"day": day, "fen": fen, "id": r.id}).rowcount != 1:
                continue
            pay(uow, user_id=r.referrer_id, fen=fen, kind="referral_reward",
                memo=f"referral {r.id}: user {r.referee_id} invested", campaign_id=None)
            uow.s.execute(_REFERRAL_POINTS, {"user": r.referrer_id,
                                             "points": rules.referral_points, "ref": str(r.id),
                                             "day": day, "now": uow.clock.now()})
            audit.note(uow, "incentive.referral_rewarded",
                       subjects=[("user", r.referrer_id)],
                       changes={"referral_id": r.id, "reward_fen": fen})
            done += 1
        return done
    return run


def award_points(rules: IncentiveRules) -> DayFn:
    def run(uow: UnitOfWork, day: date) -> int:
        if rules.points_per_100_yuan <= 0:
            return 0
        return int(uow.s.execute(_INVESTMENT_POINTS, {
            "per_100": rules.points_per_100_yuan, "day": day,
            "now": uow.clock.now()}).rowcount or 0)
    return run


def incentive_steps(rules: IncentiveRules | None = None) -> list[tuple[str, DayFn]]:
    """(name, function) in the order close of business runs them."""
    rules = rules or IncentiveRules()
    return [("incentive_expiry", expire_coupons), ("incentive_boosts", accrue_boosts),
            ("incentive_trials", settle_trials),
            ("incentive_referrals", reward_referrals(rules)),
            ("incentive_points", award_points(rules))]
