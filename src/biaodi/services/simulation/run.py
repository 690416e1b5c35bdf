"""The simulated market, day by day, through the platform's own services.

Each day: the clock moves to the day (10:00 in Beijing); scenario events happen; investors
arrive (sign-up, a deposit through the gateway's protocol, the suitability questionnaire, an
auto-invest rule for those who want one); borrowers arrive and apply to risk control, and the
approved ones list (credit, collateral, guarantee; originators list transfer claims); the
operator reviews and publishes (auto-invest runs), manual investors pick listings; borrowers
who keep paying deposit what falls due (or repay early), those who stopped do not; pledged
assets in disposal are sold; holders sell on the secondary market and others buy; some
investors withdraw; close of business runs; then the books are checked (`integrity`).

Every random choice comes from a `random.Random` seeded by the seed and the purpose, and every
loop runs in id order, so the same seed and configuration give the same market to the fen, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from time import perf_counter as time_counter
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.bureau.sandbox import SandboxBureau
from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.crypto import hash_password
from biaodi.adapters.db.secondary_tables import SecondarySale
from biaodi.adapters.db.servicing_tables import CollateralDisposal, LoanServicing
from biaodi.adapters.db.tables import Holding, Listing, LoanInstalment, PledgedAssetRow, User
from biaodi.domain.ledger.rules import OwnerKind, wallet
from biaodi.domain.listings import ListingTerms
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.shared.money import Money
from biaodi.domain.simulation import market
from biaodi.domain.simulation.scenario import Scenario
from biaodi.services.investing import auto_invest, suitability
from biaodi.services.investing import invest as investing
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings import reserve
from biaodi.services.listings.lifecycle import CreateListing
from biaodi.services.listings.security import AssetInput, ClaimInput, SecurityInput
from biaodi.services.risk import applications as risk
from biaodi.services.secondary import purchases, sales
from biaodi.services.servicing import defaults, products, repayments
from biaodi.services.servicing.close_day import close_day
from biaodi.services.shared.rates import lpr_on
from biaodi.services.shared.tx import in_transaction
from biaodi.services.simulation import integrity, people
from biaodi.services.simulation.gateway import Payments
from biaodi.services.simulation.ports import Market as Platform

#: Guarantee companies: (name, capacity in yuan).
GUARANTORS = (("中诚担保有限公司", 8_000_000), ("华安融资担保有限公司", 5_000_000),
              ("东方信用担保有限公司", 3_000_000))
ORIGINATORS = ("华信资产管理有限公司", "恒泰商业保理有限公司")
DISPOSAL_DAYS = 7  # from disposal opened to the sale recorded
ASSET_LTV = {"house": Decimal("0.5"), "car": Decimal("0.4"), "art": Decimal("0.3")}


@dataclass(frozen=True)
class SimConfig:
    days: int
    borrowers: int
    investors: int
    seed: int
    mix: Mapping[str, int] = field(default_factory=lambda: market.DEFAULT_MIX)
    strategies: Mapping[str, int] = field(default_factory=lambda: market.STRATEGY_WEIGHTS)
    scenario: Scenario = field(default_factory=Scenario)
    data: Path | None = None  # credit data CSV; None: the full credit_data set
    arrival_days: int | None = None  # borrowers arrive within these first days (None: all)
    disposal_days: int = DISPOSAL_DAYS  # from a disposal opened to the sale


@dataclass
class Investor:
    user_id: int
    strategy: market.Strategy
    tier: str
    runner_day: int | None = None  # the day this investor runs (investor run scenario)
    ran: bool = False
    channel: str = ""  # where the investor came from (users.acquisition_channel)


@dataclass
class Payer:
    """Who repays a loan and how they behave."""

    user_id: int
    role: str
    bad: bool
    instalments: int
    segment: str
    stopped: bool = False


@dataclass
class DayFigures:
    day: int
    business_date: date
    book_fen: int
    overdue_fen: int
    listings: int
    refusals: int

    @property
    def overdue_rate(self) -> Decimal:
        return (Decimal(self.overdue_fen) / self.book_fen) if self.book_fen else Decimal(0)


Progress = Callable[[DayFigures], None]


class Simulator:
    def __init__(self, platform: Platform, config: SimConfig, *,
                 progress: Progress | None = None):
        if not isinstance(platform.clock, FixedClock):
            raise TypeError("the simulator moves the clock: build the platform with a FixedClock")
        self.p, self.cfg, self.clock = platform, config, platform.clock
        self.progress = progress
        self.start = self.clock.today()
        self.tag = f"{config.seed}x{self.start:%y%m%d}"
        self.rng = {name: random.Random(f"{config.seed}:{name}") for name in (
            "people", "borrowers", "listings", "invest", "secondary", "cash")}
        self.pay = Payments(platform, self.tag)
        self.rules = platform.investing_rules
        self.secondary_rules = platform.secondary_rules
        self.servicing_rules = platform.servicing_rules
        self.env = risk.build_env(platform.settings, platform.cipher, bureau=SandboxBureau())
        self.investors: list[Investor] = []
        self.payers: dict[int, Payer] = {}
        self.guarantors: list[tuple[int, int]] = []  # (user id, capacity fen)
        self.originators: list[int] = []
        self.operator = 0
        self.refusals: dict[str, int] = {}
        self.refusal_examples: dict[str, str] = {}
        self.events: dict[str, int] = {}
        self.history: list[DayFigures] = []
        self.timings: dict[str, float] = {}
        self.baseline = integrity.Baseline.take(platform)
        self.password_hash = hash_password(people.PASSWORD)  # once: see people.register
        self._n = self._first_number()

    # --- helpers ---------------------------------------------------------------------------
    def _first_number(self) -> int:
        with self.p.reader() as uow:
            return int(uow.s.scalar(select(func.coalesce(func.max(User.id), 0))) or 0) * 10 + 1

    def register(self, uow: Any, n: int, name: str, roles: tuple[str, ...],
                 **details: Any) -> int:
        return people.register(uow, self.p.cipher, self.tag, n, name, roles,
                               password_hash=self.password_hash, **details)

    def _next(self) -> int:
        self._n += 1
        return self._n

    def tx(self, fn: Callable[[Any], Any]) -> Any:
        return in_transaction(self.p.uow, fn)

    def attempt(self, what: str, fn: Callable[[Any], Any]) -> Any:
        """Run a use case; a refusal is part of the market: counted by its code, not fatal."""
        try:
            return self.tx(fn)
        except BiaodiError as refusal:
            self.refused(what, refusal)
            return None

    def refused(self, what: str, refusal: BiaodiError) -> None:
        key = f"{what}:{refusal.code}"
        self.refusals[key] = self.refusals.get(key, 0) + 1
        self.refusal_examples.setdefault(key, refusal.message)

    def keyed(self, purpose: str, *key: object) -> random.Random:
        return random.Random(":".join(str(k) for k in (self.cfg.seed, purpose, *key)))

    def count(self, event: str, n: int = 1) -> None:
        self.events[event] = self.events.get(event, 0) + n

    def day_no(self) -> int:
        return (self.clock.today() - self.start).days

    def set_day(self, day: date) -> None:
        self.clock.set(datetime.combine(day, time(10, 0), tzinfo=CST))

    def cash(self, people: list[Investor]) -> dict[int, int]:
        """Investors' available cash, in one query."""
        codes = {i.user_id: wallet(OwnerKind.INVESTOR, i.user_id).code for i in people}
        with self.p.reader() as uow:
            found = ledger.balances(uow, list(codes.values())) if codes else {}
        return {uid: found.get(code, 0) for uid, code in codes.items()}

    def balance(self, code: str) -> int:
        with self.p.reader() as uow:
            return ledger.balance(uow, code)

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> list[DayFigures]:
        self.setup()
        arrivals = self._arrivals()
        investor_days = self._investor_days()
        for d in range(self.cfg.days):
            self.one_day(d, investor_days.get(d, []), arrivals.get(d, []))
        return self.history

    def one_day(self, d: int, investors: list[int], borrowers: list[people.Profile]) -> None:
        day = self.start + timedelta(days=d)
        self.set_day(day)
        self.timed("scenario", self.scenario_events, d)
        for n in investors:
            self.timed("investors", self.new_investor, n)
        for profile in borrowers:
            self.timed("borrowers", self.new_borrower, profile)
        self.timed("invest", self.invest_by_hand)
        self.timed("repay", self.repay, day)
        self.timed("dispose", self.dispose, day)
        self.timed("secondary", self.secondary, d)
        self.timed("cash", self.cash_moves, d)
        self.timed("cash", self.top_up_guarantors, d)
        self.timed("close_day", close_day, self.p.close_day_command(), day)
        problems = self.timed("integrity", integrity.check, self.p, self.baseline, self.pay)
        figures = self.figures(d, day)
        self.history.append(figures)
        if problems:
            raise integrity.Violation(day, problems, figures)
        if self.progress:
            self.progress(figures)

    def timed(self, phase: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one phase of a day, adding its wall time to `timings` (for the benchmark)."""
        began = time_counter()
        try:
            return fn(*args)
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time_counter() - began

    def setup(self) -> None:
        """The operator, guarantee companies, originators; staff of the simulated market."""
        n = self._next()
        self.operator = self.tx(lambda uow: self.register(
            uow, n, "模拟运营", ("operator",), staff=True))
        for name, capacity in GUARANTORS:
            n = self._next()
            gid = self.tx(lambda uow, n=n, name=name: self.register(
                uow, n, name[:4], ("guarantor",)))
            self.tx(lambda uow, gid=gid, name=name, capacity=capacity:
                    listings.set_guarantor_terms(
                        uow, gid, name=name, capacity=Money.yuan(capacity),
                        fee_rate=Decimal("0.01"), compensation_days=3, actor_id=self.operator))
            self.guarantors.append((gid, Money.yuan(capacity).fen))
            self.pay.deposit(gid, Money.yuan(capacity).fen // 10, "guarantor")
        for name in ORIGINATORS:
            n = self._next()
            oid = self.tx(lambda uow, n=n, name=name: self.register(
                uow, n, name[:4], ("originator",)))
            self.originators.append(oid)
        self.profiles = people.load_profiles(self.cfg.data)

    def _arrivals(self) -> dict[int, list[people.Profile]]:
        rng = self.rng["borrowers"]
        drawn = people.draw(self.profiles, self.cfg.borrowers, rng)
        last = max(min(self.cfg.arrival_days or self.cfg.days, self.cfg.days) - 1, 1)
        out: dict[int, list[people.Profile]] = {}
        for profile in drawn:
            out.setdefault(rng.randrange(last), []).append(profile)
        return out

    def _investor_days(self) -> dict[int, list[int]]:
        """Most investors are there from the start; the rest join over the first tenth."""
        rng = self.rng["people"]
        spread = max(self.cfg.days // 10, 1)
        out: dict[int, list[int]] = {}
        for i in range(self.cfg.investors):
            day = 0 if i < self.cfg.investors * 2 // 3 else rng.randrange(spread)
            out.setdefault(day, []).append(i)
        return out

    # --- scenario events -------------------------------------------------------------------
    def scenario_events(self, d: int) -> None:
        s = self.cfg.scenario
        if s.rate_rise_bp and d == s.rate_rise_day:
            day = self.clock.today()

            def rise(uow: Any) -> None:
                now = lpr_on(uow, day) or 30_000
                products.set_lpr(uow, day, now + s.rate_rise_bp * 100, None,
                                 f"simulation scenario {s.name}")

            self.tx(rise)
            self.count("lpr_rise")
        if s.guarantor_failed(d) and self.guarantors:
            largest, _ = max(self.guarantors, key=lambda g: (g[1], -g[0]))
            left = self.balance(wallet(OwnerKind.GUARANTOR, largest).code)
            if left:
                self._withdraw(largest, left, "guarantor")

    # --- investors -------------------------------------------------------------------------
    def new_investor(self, i: int) -> None:
        rng = self.rng["people"]
        strategy = market.STRATEGIES[market.pick(rng, self.cfg.strategies)]
        tier_index = rng.choices(range(len(market.TIER_DEPOSITS)), market.TIER_WEIGHTS)[0]
        tier, low, high = market.TIER_DEPOSITS[tier_index]
        yuan = rng.randrange(low, high, 1_000)
        channel = market.CHANNELS[rng.randrange(len(market.CHANNELS))]
        n = self._next()
        uid = self.tx(lambda uow: self.register(uow, n, "模拟投资人",
                                                  ("investor",), channel=channel))
        self.pay.deposit(uid, Money.yuan(yuan).fen, "investor")
        self.tx(lambda uow: suitability.assess(uow, uid, dict(strategy.answers)))
        if strategy.auto:
            per_listing = Money.yuan(max(int(yuan * strategy.ticket_share) // 100 * 100, 100))
            rule = auto_invest.RuleInput(per_listing, best_grade=strategy.best_grade,
                                         worst_grade=strategy.worst_grade, max_term_months=60)
            self.attempt("auto_invest_rule", lambda uow: auto_invest.save_rule(uow, uid, rule))
        investor = Investor(uid, strategy, tier, channel=channel)
        s = self.cfg.scenario
        if s.investor_run_share > 0 and market.chance(rng, s.investor_run_share):
            investor.runner_day = s.investor_run_day + rng.randrange(s.investor_run_days)
        self.investors.append(investor)

    def invest_by_hand(self) -> None:
        """Manual investors look at the open listings in the order they were published; each
        takes a ticket of a listing with a two-in-five chance a day, until it is full."""
        rng = self.rng["invest"]
        with self.p.reader() as uow:
            open_ = list(uow.s.scalars(select(Listing.id).where(
                Listing.status == "published", Listing.remaining_fen > 0).order_by(Listing.id)))
        manual = [i for i in self.investors if not i.strategy.auto and not i.ran]
        # Only these investments move manual investors' cash until the loop ends: their cash
        # is read once and each ticket placed is taken off it.
        held = self.cash(manual) if open_ else {}
        for listing_id in open_:
            for investor in manual:
                if not market.chance(rng, Decimal("0.4")):
                    continue
                cash = held[investor.user_id]
                ticket = int(cash * investor.strategy.ticket_share) // 10_000 * 10_000
                if ticket <= 0:
                    continue

                def place(uow: Any, listing_id: int = listing_id, ticket: int = ticket,
                          who: int = investor.user_id) -> Any:
                    listing = uow.s.get(Listing, listing_id)
                    amount = min(ticket, listing.remaining_fen)
                    return investing.invest(uow, investing.Invest(listing_id, who,
                                                                  Money(amount)), self.rules)

                placed = self.attempt("invest", place)
                if placed is not None:
                    held[investor.user_id] -= placed.amount.fen
                    self.count("manual_investments")
                    if placed.remaining.fen == 0:
                        break  # the listing is full: it leaves the market's list

    # --- borrowers and listings ------------------------------------------------------------
    def new_borrower(self, profile: people.Profile) -> None:
        rng = self.rng["listings"]
        segment = market.pick(rng, self.cfg.mix)
        kind, vertical = segment.split(":")
        if kind == "transfer":
            self.transfer_listing(profile, rng)
            return
        today = self.clock.today()
        n = self._next()
        amount = max(min(profile.amount // 100 * 100, 150_000), 3_000)
        term = {"house": min(max(profile.term_months, 12), 36), "car": rng.choice((6, 12, 24)),
                "art": rng.choice((3, 6))}.get(vertical, min(max(profile.term_months, 6), 36))
        appraisal = (int(Decimal(amount) / ASSET_LTV[vertical]) // 1000 * 1000
                     if kind == "collateral" else None)
        birth = people.birth_for(profile.age, today, n)
        uid = self.tx(lambda uow: self.register(uow, n, "模拟借款人",
                                                  ("borrower",), birth=birth))
        cmd = people.application(profile, n, today, kind=kind, amount=amount, term=term,
                                 security_value=appraisal)
        decision = self.attempt("apply", lambda uow: risk.apply(uow, cmd, applicant_id=uid,
                                                                env=self.env))
        if decision is None or decision["outcome"] != "approved":
            self.count("applications_declined")
            return
        self.count("applications_approved")
        limit = Money.parse(decision["credit_limit"], field="credit_limit").fen // 10_000 * 100
        amount = min(amount, limit)
        if amount < 1_000:
            self.count("applications_without_limit")
            return
        band = decision["rate_band"]
        low, high = Decimal(band["min"]) / 100, Decimal(band["max"]) / 100
        extra = Decimal(self.cfg.scenario.extra_rate_bp(self.day_no())) / 10_000
        rate = min(low + Decimal(rng.randrange(0, 5)) / 400 + extra, high)
        security = SecurityInput()
        if kind == "collateral":
            assert appraisal is not None
            asset = AssetInput(vertical, Money.yuan(appraisal), today - timedelta(days=3),
                               "模拟估价有限公司", f"模拟{vertical}",
                               plate_number=f"沪A{n % 100_000:05d}" if vertical == "car" else None,
                               registration_certificate_no=(f"31{n:010d}"[-12:]
                                                            if vertical == "car" else None))
            security = SecurityInput(assets=(asset,))
        elif kind == "guarantee":
            weights = {str(g): cap // 100 for g, cap in self.guarantors}
            security = SecurityInput(guarantor_id=int(market.pick(rng, weights)))
        for offered in sorted({rate, low}, reverse=True):  # at the cap, the band's low end
            create = CreateListing(kind, f"模拟{segment}", Money.yuan(amount), offered, term,
                                   "month", "equal_installment", security=security)
            if self.list_and_publish(uid, "borrower", create, segment, profile.bad, term):
                return

    def transfer_listing(self, profile: people.Profile, rng: random.Random) -> None:
        originator = self.originators[rng.randrange(len(self.originators))]
        today = self.clock.today()
        amount = max(min(profile.amount // 100 * 100, 200_000), 5_000)
        term = rng.choice((3, 6))
        maturity = ListingTerms(Money.yuan(amount), Decimal("0.07"), term, "month",
                                "bullet").maturity(today)
        reserve_fen = Money.yuan(amount).fen // 10
        self.pay.deposit(originator, reserve_fen, "originator")
        self.attempt("reserve", lambda uow: reserve.fund_buyback_reserve(
            uow, originator, Money(reserve_fen), idempotency_key=f"sim-{self.tag}-{self._next()}"))
        rate = Decimal("0.07") + Decimal(rng.randrange(0, 5)) / 400
        claim = ClaimInput(Money.yuan(amount * 3 // 2), Decimal("0.12"), maturity)
        create = CreateListing("transfer", "模拟transfer:receivables", Money.yuan(amount), rate,
                               term, "month", "interest_first",
                               security=SecurityInput(claim=claim))
        # An originator's claims are sound: it pays (and buys back) unless a scenario says not.
        self.list_and_publish(originator, "originator", create, "transfer:receivables",
                              False, term)

    def list_and_publish(self, applicant: int, role: str, create: CreateListing, segment: str,
                         bad: bool, instalments: int) -> bool:
        """Create, submit, approve and publish, in one transaction as one day's work of the
        applicant and the operator (a refusal at any step leaves nothing listed); whether the
        listing was published."""
        lrules = self.rules.listing
        step = ["create_listing"]

        def steps(uow: Any) -> int:
            listing_id = listings.create_listing(uow, create, applicant_id=applicant,
                                                 rules=lrules).id
            step[0] = "submit"
            listings.submit(uow, listing_id, actor_id=applicant, rules=lrules)
            step[0] = "approve"
            listings.approve(uow, listing_id, actor_id=self.operator, reason="simulated review",
                             rules=lrules)
            if segment == "collateral:house":
                step[0] = "offline_steps"
                self.house_formalities(uow, listing_id)
            step[0] = "publish"
            auto_invest.publish(uow, listing_id, actor_id=self.operator, reason="simulation",
                                rules=self.rules)
            return listing_id

        try:
            listing_id = self.tx(steps)
        except BiaodiError as refusal:
            self.refused(step[0], refusal)
            return False
        self.count("listings_published")
        self.payers[listing_id] = Payer(applicant, role, bad, instalments, segment)
        return True

    def house_formalities(self, uow: Any, listing_id: int) -> None:
        today = self.clock.today()
        asset = uow.s.scalars(select(PledgedAssetRow.id).where(
            PledgedAssetRow.listing_id == listing_id)).one()
        for step, ref in (("signed_contract", f"HT-SIM-{listing_id}"),
                          ("notarisation", f"(2026)沪东证字第{listing_id}号"),
                          ("mortgage_registration", f"沪(2026)不动产证明第{listing_id:07d}号")):
            listings.record_offline_step(uow, listing_id, asset, step=step, done_on=today,
                                         reference=ref, operator_id=self.operator)

    # --- repayments ------------------------------------------------------------------------
    def repay(self, day: date) -> None:
        """Before close of business: each payer with an instalment due today either deposits
        it (auto-debit takes it at the close), repays the whole loan early, or stops paying."""
        factor = self.cfg.scenario.default_factor(self.day_no())
        with self.p.reader() as uow:
            due = uow.s.execute(
                select(LoanInstalment.listing_id,
                       func.sum(LoanInstalment.principal_fen + LoanInstalment.interest_fen
                                + LoanInstalment.service_fee_fen
                                + LoanInstalment.guarantee_fee_fen))
                .where(LoanInstalment.due_date == day, LoanInstalment.status == "scheduled")
                .group_by(LoanInstalment.listing_id).order_by(LoanInstalment.listing_id)).all()
        for listing_id, amount in due:
            payer = self.payers.get(listing_id)
            if payer is None:
                payer = self.payers[listing_id] = self._live_payer(listing_id)
            if payer.stopped:
                continue
            # One draw per loan and date: a scenario that changes the odds changes only the
            # decisions it should, never the rest of the market's draws.
            rng = self.keyed("repay", listing_id, day)
            if market.stops_at_due_date(rng, payer.bad, payer.instalments, factor):
                payer.stopped = True
                self.count("borrowers_stopped")
                continue
            self.pay.deposit(payer.user_id, int(amount), payer.role)
            if payer.role == "borrower" and market.chance(rng, market.EARLY_REPAYMENT_CHANCE):
                self.repay_early(listing_id, payer, day)

    def repay_early(self, listing_id: int, payer: Payer, day: date) -> None:
        with self.p.reader() as uow:
            owed = repayments.quote(uow, listing_id, day).payoff.fen
        have = self.balance(wallet(OwnerKind(payer.role), payer.user_id).code)
        if owed > have:
            self.pay.deposit(payer.user_id, owed - have, payer.role)
        cmd = repayments.RepayEarly(listing_id, payer.user_id, key=f"sim-{day}")
        if self.attempt("repay_early", lambda uow: repayments.repay_early(
                uow, cmd, self.servicing_rules)) is not None:
            self.count("early_repayments")

    def _live_payer(self, listing_id: int) -> Payer:
        """A loan the simulation did not make (a live book's): its payer behaves as a good
        credit-data row would."""
        with self.p.reader() as uow:
            listing = uow.s.get(Listing, listing_id)
            assert listing is not None
            instalments = uow.s.scalar(select(func.count()).select_from(LoanInstalment).where(
                LoanInstalment.listing_id == listing_id))
        role = "originator" if listing.kind == "transfer" else "borrower"
        return Payer(listing.applicant_id, role, False, int(instalments or 1),
                     f"{listing.kind}:live")

    # --- collateral disposal ---------------------------------------------------------------
    def dispose(self, day: date) -> None:
        with self.p.reader() as uow:
            pending = uow.s.execute(
                select(CollateralDisposal.listing_id, CollateralDisposal.opened_on)
                .where(CollateralDisposal.status == "pending")
                .order_by(CollateralDisposal.listing_id)).all()
        for listing_id, opened_on in pending:
            if (day - opened_on).days < self.cfg.disposal_days:
                continue
            with self.p.reader() as uow:
                assets = uow.s.execute(select(PledgedAssetRow.asset_class,
                                              PledgedAssetRow.appraisal_value_fen)
                                       .where(PledgedAssetRow.listing_id == listing_id)
                                       .order_by(PledgedAssetRow.id)).all()
            rng = self.keyed("disposal", listing_id)
            proceeds = sum(market.sale_price_fen(
                value, self.cfg.scenario.haircut(asset, self.day_no()), rng)
                for asset, value in assets)
            costs = proceeds // 50  # 2 % auction and legal costs
            cmd = defaults.RecordDisposal(listing_id, Money(proceeds), Money(costs),
                                          f"SIM-AUCTION-{listing_id}", self.operator)
            if self.attempt("disposal", lambda uow, cmd=cmd: defaults.record_disposal(uow, cmd)):
                self.count("disposals")

    # --- the secondary market --------------------------------------------------------------
    def secondary(self, d: int) -> None:
        rng = self.rng["secondary"]
        with self.p.reader() as uow:
            free = self.clock.today() - timedelta(
                days=self.secondary_rules.sale.holding_period_days)
            held = uow.s.execute(select(Holding.id, Holding.investor_id)
                                 .where(Holding.status == "active",
                                        Holding.interest_start <= free,
                                        Holding.outstanding_principal_fen > 0)
                                 .order_by(Holding.id)).all()
        by_investor: dict[int, list[int]] = {}
        for holding_id, investor_id in held:
            by_investor.setdefault(investor_id, []).append(holding_id)
        for investor in self.investors:
            mine = by_investor.get(investor.user_id, [])
            running = investor.runner_day is not None and d >= investor.runner_day
            if running and not investor.ran:
                investor.ran = True
                self.count("investors_ran")
                self.attempt("stop_auto", lambda uow, i=investor.user_id: _pause_rules(uow, i))
            if running:
                for holding_id in mine:
                    premium = -Decimal(rng.randrange(30, 81)) / 1000
                    self._offer(investor.user_id, holding_id, premium)
            elif mine and market.chance(rng, Decimal("0.01")):
                holding_id = mine[rng.randrange(len(mine))]
                premium = Decimal(rng.randrange(-10, 6)) / 1000
                self._offer(investor.user_id, holding_id, premium)
        self._buy(rng)

    def _offer(self, seller: int, holding_id: int, premium: Decimal) -> None:
        cmd = sales.Offer(holding_id, seller, premium)
        if self.attempt("offer", lambda uow: sales.offer(uow, cmd, self.secondary_rules)):
            self.count("offers")

    def _buy(self, rng: random.Random) -> None:
        with self.p.reader() as uow:
            sales_open = uow.s.execute(select(SecondarySale.id, SecondarySale.premium_ppm,
                                              SecondarySale.remaining_fen,
                                              SecondarySale.seller_id)
                                       .where(SecondarySale.status == "open")
                                       .order_by(SecondarySale.id)).all()
        buyers = [i for i in self.investors if i.runner_day is None or not i.ran]
        if not buyers:
            return
        for sale_id, premium_ppm, remaining, seller in sales_open:
            buyer = buyers[rng.randrange(len(buyers))]
            if buyer.user_id == seller:
                continue
            if Decimal(premium_ppm) / 1_000_000 > buyer.strategy.sells_below:
                continue
            cash = self.balance(wallet(OwnerKind.INVESTOR, buyer.user_id).code)
            if cash < remaining * 11 // 10:
                continue
            cmd = purchases.Buy(sale_id, buyer.user_id)
            if self.attempt("buy", lambda uow, cmd=cmd: purchases.buy(
                    uow, cmd, self.secondary_rules)):
                self.count("purchases")

    # --- cash in and out -------------------------------------------------------------------
    def cash_moves(self, d: int) -> None:
        rng = self.rng["cash"]
        held = self.cash(self.investors)
        for investor in self.investors:
            left = held[investor.user_id]
            if investor.ran:
                if left:
                    self._withdraw(investor.user_id, left, "investor")
            elif market.chance(rng, Decimal("0.004")):
                self._withdraw(investor.user_id, left * 3 // 10, "investor")
            elif market.chance(rng, Decimal("0.01")):
                self.pay.deposit(investor.user_id, Money.yuan(rng.randrange(5, 50) * 1000).fen,
                                 "investor")
        borrowers = {listing_id: wallet(OwnerKind.BORROWER, payer.user_id).code
                     for listing_id, payer in self.payers.items() if payer.role == "borrower"}
        with self.p.reader() as uow:
            found = ledger.balances(uow, sorted(set(borrowers.values()))) if borrowers else {}
        for listing_id, code in sorted(borrowers.items()):
            payer = self.payers[listing_id]
            # A borrower takes the loan's money out once it is disbursed.
            left = found.get(code, 0)
            if left > 0 and self._owes_nothing_today(listing_id):
                self._withdraw(payer.user_id, left, "borrower")
                found[code] = 0

    def _owes_nothing_today(self, listing_id: int) -> bool:
        with self.p.reader() as uow:
            due = uow.s.scalar(select(func.count()).select_from(LoanInstalment).where(
                LoanInstalment.listing_id == listing_id,
                LoanInstalment.due_date == self.clock.today()))
            loan = uow.s.get(LoanServicing, listing_id)
        return not due and (loan is None or loan.due_principal_fen + loan.due_interest_fen == 0)

    def _withdraw(self, user_id: int, fen: int, role: str) -> None:
        try:
            self.pay.withdraw(user_id, fen, role)
            self.count("withdrawals")
        except BiaodiError as refusal:
            key = f"withdraw:{refusal.code}"
            self.refusals[key] = self.refusals.get(key, 0) + 1

    def top_up_guarantors(self, d: int) -> None:
        failed = None
        if self.cfg.scenario.guarantor_failed(d) and self.guarantors:
            failed = max(self.guarantors, key=lambda g: (g[1], -g[0]))[0]
        for gid, capacity in self.guarantors:
            if gid == failed:
                continue
            have = self.balance(wallet(OwnerKind.GUARANTOR, gid).code)
            if have < capacity // 20:
                self.pay.deposit(gid, capacity // 10 - have, "guarantor")

    # --- figures ---------------------------------------------------------------------------
    def figures(self, d: int, day: date) -> DayFigures:
        with self.p.reader() as uow:
            book, overdue = uow.s.execute(select(
                func.coalesce(func.sum(LoanServicing.outstanding_principal_fen), 0),
                func.coalesce(func.sum(LoanServicing.outstanding_principal_fen).filter(
                    LoanServicing.days_past_due > 0), 0))
                .where(LoanServicing.status != "closed")).one()
            count = uow.s.scalar(select(func.count()).select_from(Listing))
        return DayFigures(d, day, int(book), int(overdue), int(count or 0),
                          sum(self.refusals.values()))


def _pause_rules(uow: Any, investor_id: int) -> int:
    from biaodi.adapters.db.tables import AutoInvestRule

    ids = uow.s.scalars(select(AutoInvestRule.id).where(
        AutoInvestRule.investor_id == investor_id, AutoInvestRule.active.is_(True))).all()
    for rule_id in ids:
        auto_invest.set_active(uow, investor_id, rule_id, False)
    return len(ids)
