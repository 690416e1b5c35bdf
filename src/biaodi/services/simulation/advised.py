"""Back-testing smart advisory on the simulator: a cohort of investors takes the advice for their
level, adopts it with one click (auto-invest rules per grade and listing type) and does nothing
else while the simulated market runs; afterwards their realised return and loss, from the ledger
and the servicing positions, stand beside what the advice expected.

The market is the simulator's own (`run.Simulator`); the cohort is added when it sets up, before
the first day, through the same services an investor uses, and it is not one of the simulator's
investors (so it never invests by hand, sells or withdraws)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.shared.money import Money
from biaodi.domain.simulation import market
from biaodi.services.advisory import suggest as advisory
from biaodi.services.advisory.suggest import Suggestion
from biaodi.services.investing import suitability
from biaodi.services.ledger import posting as ledger
from biaodi.services.simulation import people
from biaodi.services.simulation.ports import Market as Platform
from biaodi.services.simulation.run import SimConfig, Simulator

#: The cohort answers the questionnaire like the simulator's aggressive investors (C5).
COHORT_ANSWERS = market.STRATEGIES["auto_aggressive"].answers


@dataclass(frozen=True)
class Cohort:
    investors: int = 5
    deposit: Money = field(default_factory=lambda: Money.yuan(100_000))
    budget: Money = field(default_factory=lambda: Money.yuan(100_000))
    per_listing: Money = field(default_factory=lambda: Money.yuan(5_000))


class AdvisedSimulator(Simulator):
    """The simulator with an advised cohort; `exposure` records the cohort's money at work
    (principal outstanding and subscriptions waiting for their listing to fill) every day."""

    def __init__(self, platform: Platform, config: SimConfig, cohort: Cohort, **kw: Any):
        super().__init__(platform, config, **kw)
        self.cohort = cohort
        self.advised: list[int] = []
        self.level = ""
        self.advice: Suggestion | None = None
        self.exposure: list[int] = []

    def setup(self) -> None:
        super().setup()
        for _ in range(self.cohort.investors):
            n = self._next()
            uid = self.tx(lambda uow, n=n: people.register(
                uow, self.p.cipher, self.tag, n, "智投投资人", ("investor",)))
            self.pay.deposit(uid, self.cohort.deposit.fen, "investor")
            self.tx(lambda uow, uid=uid: suitability.assess(uow, uid, dict(COHORT_ANSWERS)))
            self.tx(lambda uow, uid=uid: self._adopt(uow, uid))
            self.advised.append(uid)

    def _adopt(self, uow: Any, uid: int) -> list[int]:
        self.level, self.advice = advisory.advise(uow, uid, settings=self.p.settings)
        return advisory.adopt(uow, uid, self.advice, self.cohort.budget, self.cohort.per_listing)

    def one_day(self, d: int, investors: list[int], borrowers: list[Any]) -> None:
        super().one_day(d, investors, borrowers)
        with self.p.reader() as uow:
            self.exposure.append(_money_at_work(uow, self.advised))


def _ids(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def _money_at_work(uow: Any, ids: list[int]) -> int:
    return int(uow.s.execute(text(f"""
        SELECT COALESCE((SELECT SUM(h.outstanding_principal_fen) FROM holdings h
                         WHERE h.investor_id IN ({_ids(ids)}) AND h.status = 'active'), 0)
             + COALESCE((SELECT SUM(i.amount_fen) FROM investments i
                         WHERE i.investor_id IN ({_ids(ids)}) AND i.status = 'pending'), 0)
        """)).scalar())


def by_choice(uow: Any, ids: list[int]) -> list[dict[str, Any]]:
    """Per grade and listing type the cohort bought: subscribed, principal outstanding,
    interest (and penalty) received, principal written off."""
    rows = uow.s.execute(text(f"""
        SELECT l.grade AS grade, l.kind AS kind, COUNT(*) AS investments,
               SUM(i.amount_fen) AS subscribed_fen,
               SUM(COALESCE(h.outstanding_principal_fen, 0)) AS outstanding_fen,
               SUM(COALESCE(p.received_interest_fen + p.received_penalty_fen, 0))
                   AS interest_fen,
               SUM(COALESCE(p.written_off_fen, 0)) AS written_off_fen
        FROM investments i JOIN listings l ON l.id = i.listing_id
        LEFT JOIN holdings h ON h.investment_id = i.id
        LEFT JOIN servicing_positions p ON p.holding_id = h.id AND p.creditor_kind = 'holding'
        WHERE i.investor_id IN ({_ids(ids)}) AND i.status <> 'refunded'
        GROUP BY l.grade, l.kind ORDER BY l.grade, l.kind""")).mappings().all()
    return [dict(r) for r in rows]


def _pct(x: float | Decimal) -> str:
    return f"{float(x) * 100:.2f}"


def report(platform: Platform, sim: AdvisedSimulator) -> dict[str, Any]:
    """The cohort's realised figures beside the advice's expectation: `headline` (one row),
    `mix` (per grade and type: suggested share, realised share of what was subscribed)."""
    advice = sim.advice
    assert advice is not None, "the cohort adopts its advice when the simulation sets up"
    ids = sim.advised
    codes = [wallet(OwnerKind.INVESTOR, i).code for i in ids]
    with platform.reader() as uow:
        cash = int(uow.s.execute(text(f"""
            SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE owner_kind = 'investor'
            AND owner_id IN ({_ids(ids)}) AND purpose IN ('available', 'frozen')""")).scalar())
        available = sum(ledger.balances(uow, codes).values())
        deposited = int(uow.s.execute(text(f"""
            SELECT COALESCE(SUM(settled_fen), 0) FROM payment_orders WHERE user_id IN
            ({_ids(ids)}) AND role = 'investor' AND kind = 'deposit'
            AND status = 'succeeded'""")).scalar())
        held = int(uow.s.execute(text(f"""
            SELECT COALESCE(SUM(outstanding_principal_fen), 0) FROM holdings
            WHERE investor_id IN ({_ids(ids)}) AND status = 'active'""")).scalar())
        choices = by_choice(uow, ids)
    days = len(sim.history)
    at_work = sum(sim.exposure) / len(sim.exposure) if sim.exposure else 0.0
    gain = cash + held - deposited
    lost = sum(int(r["written_off_fen"]) for r in choices)
    year = 365 / days if days else 0.0
    invested = 1 - advice.cash
    headline = {
        "level": sim.level, "investors": len(ids), "days": days,
        "deposited_fen": deposited, "cash_fen": cash, "available_fen": available,
        "holdings_fen": held, "gain_fen": gain, "written_off_fen": lost,
        "average_at_work_fen": round(at_work),
        "expected_return_percent": _pct(advice.expected_return / invested if invested else 0),
        "realised_return_percent": _pct(gain / at_work * year if at_work else 0),
        "expected_loss_percent": _pct(advice.expected_loss / invested if invested else 0),
        "realised_loss_percent": _pct(lost / at_work * year if at_work else 0),
    }
    subscribed = sum(int(r["subscribed_fen"]) for r in choices)
    found = {f"{r['grade']}/{r['kind']}": r for r in choices}
    mix = []
    for key in sorted(set(advice.weights) | set(found)):
        row = found.get(key, {})
        mix.append({
            "choice": key,
            "suggested_percent": _pct(advice.weights.get(key, 0.0) / invested if invested
                                      else 0),
            "realised_percent": _pct(int(row.get("subscribed_fen", 0)) / subscribed
                                     if subscribed else 0),
            "investments": int(row.get("investments", 0)),
            "subscribed_fen": int(row.get("subscribed_fen", 0)),
            "outstanding_fen": int(row.get("outstanding_fen", 0)),
            "interest_fen": int(row.get("interest_fen", 0)),
            "written_off_fen": int(row.get("written_off_fen", 0)),
        })
    return {"headline": headline, "mix": mix}


def backtest(platform: Platform, config: SimConfig, cohort: Cohort | None = None,
             **kw: Any) -> dict[str, Any]:
    """Run the market with the advised cohort and report on it."""
    sim = AdvisedSimulator(platform, config, cohort or Cohort(), **kw)
    sim.run()
    return report(platform, sim)
