"""A demo marketplace for `python3 dev.py serve`: staff, borrowers, investors and listings of
every type the compliance profile allows, some of them partly or fully funded.

Lending by the rules: each borrower applies to risk control first (through
`services/risk/applications.apply`, as a real borrower would), so every listing is approved
on an approved risk decision, takes its grade, and is priced inside the grade's rate band; the
borrowing caps hold — 张借款 is a natural person with 190,000.00 listed (cap 200,000.00), 陈企业
applies for 沪上建材有限公司, a legal person, with 900,000.00 listed (cap 1,000,000.00). The
流转标 is an originator's, outside both rules.

Demo money is the platform's own (like a marketing bonus): `platform:marketing_expense` ↑ /
`platform:cash` ↓ and `custody:cash` ↑ / wallet ↑, so the books balance and custody still
equals the users' wallets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.tables import Listing, PledgedAssetRow, User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.identity import make_resident_id
from biaodi.domain.ledger.rules import EntryDraft
from biaodi.domain.listings import ListingTerms
from biaodi.domain.risk.consistency import luhn_ok
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.investing import auto_invest, suitability
from biaodi.services.investing import invest as investing
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.ledger import posting as ledger
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings import reserve
from biaodi.services.listings.lifecycle import CreateListing
from biaodi.services.listings.security import AssetInput, ClaimInput, SecurityInput
from biaodi.services.risk import applications as risk

PASSWORD = "demo-pass-2026"
#: Who logs in as what in the demo marketplace (all with PASSWORD).
DEMO_LOGINS = {"operator": "demo_operator", "risk officer": "demo_risk",
               "borrower": "demo_borrower", "company borrower": "demo_company",
               "investor": "demo_investor", "originator": "demo_originator"}
AGGRESSIVE = {"age": 3, "income": 2, "experience": 3, "horizon": 3, "loss_tolerance": 3,
              "share_of_assets": 3}


@dataclass
class DemoSummary:
    created: bool
    users: dict[str, str]
    listings: int


def is_seeded(uow: UnitOfWork) -> bool:
    return bool(uow.s.execute(select(func.count()).select_from(User)).scalar())


def has_demo_users(uow: UnitOfWork) -> bool:
    """Whether the demo marketplace was seeded into this database (its operator exists)."""
    found = uow.s.execute(select(func.count()).select_from(User).where(
        User.username == DEMO_LOGINS["operator"])).scalar()
    return bool(found)


def _id_number(n: int) -> str:
    return make_resident_id("310101", date(1985, 1 + n % 12, 1 + n), 100 + n)


def _person(uow: UnitOfWork, cipher: PersonalDataCipher, n: int, username: str, name: str,
            roles: tuple[str, ...], staff: bool = False) -> int:
    cmd = users.Register(username=username, password=PASSWORD, real_name=name,
                         id_number=_id_number(n), mobile=f"139{n:08d}", roles=roles)
    create = users.create_staff if staff else users.register
    return create(uow, cmd, cipher).id


def _card(n: int) -> str:
    body = f"622848{n:09d}"
    return next(body + str(d) for d in range(10) if luhn_ok(body + str(d)))


def _apply(uow: UnitOfWork, env: risk.RiskEnv, user_id: int, n: int, name: str, *,
           amount: int, income: int, kind: str, security_value: int | None = None,
           company: tuple[str, str] | None = None) -> dict[str, object]:
    """The borrower's risk application (Shanghai, steady job, no debts); must be approved."""
    born = date(1985, 1 + n % 12, 1 + n)
    today = uow.clock.today()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    cmd = risk.Application(
        real_name=name, id_number=_id_number(n), declared_age=age, province="上海",
        mobile=f"139{n:08d}", bank_card=_card(n), monthly_income=Money.yuan(income),
        employment_type="permanent", employment_years=10, housing="own",
        marital_status="married", monthly_expenses=Money.yuan(income // 5),
        assets=Money.yuan(amount * 3), debts=Money.zero(), monthly_debt_payments=Money.zero(),
        purpose="business", amount=Money.yuan(amount), term_months=36, listing_kind=kind,
        security_value=Money.yuan(security_value) if security_value else None,
        device_id=f"demo-device-{n}", channel="app",
        borrower_type="legal" if company else "natural",
        company_name=company[0] if company else "", credit_code=company[1] if company else "")
    decision = risk.apply(uow, cmd, applicant_id=user_id, env=env)
    if decision["outcome"] != "approved":
        raise RuntimeError(f"demo: risk control did not approve {name}: {decision['outcome']}"
                           f" {decision['fired_rules']}")
    return decision


def _rate(decision: dict[str, object], steps: int) -> Decimal:
    """A rate inside the decision's band: its lower end plus `steps` quarter points."""
    band = decision["rate_band"]
    assert isinstance(band, dict)
    low, high = Decimal(band["min"]), Decimal(band["max"])
    return min(low + Decimal("0.25") * steps, high) / 100


def _fund(uow: UnitOfWork, account: str, yuan: int) -> None:
    fen = Money.yuan(yuan).fen
    draft = (EntryDraft("demo_funding", memo="demo marketplace money, paid by the platform")
             .transfer("platform:marketing_expense", "platform:cash", fen)
             .transfer("custody:cash", account, fen))
    ledger.post(uow, draft)


def seed(uow: UnitOfWork, cipher: PersonalDataCipher, rules: InvestingRules,
         risk_env: risk.RiskEnv, *, beside_others: bool = False) -> DemoSummary:
    """Create the demo marketplace in one transaction; does nothing if users already exist
    (with `beside_others`, e.g. after a simulated market: only if the demo users do not).
    `risk_env` decides the borrowers' risk applications."""
    if has_demo_users(uow) if beside_others else is_seeded(uow):
        return DemoSummary(created=False, users={}, listings=0)
    today = uow.clock.today()
    operator = _person(uow, cipher, 1, "demo_operator", "王运营", ("operator",), staff=True)
    _person(uow, cipher, 2, "demo_risk", "李风控", ("risk_officer",), staff=True)
    borrower = _person(uow, cipher, 3, "demo_borrower", "张借款", ("borrower",))
    company = _person(uow, cipher, 6, "demo_company", "陈企业", ("borrower",))
    guarantor = _person(uow, cipher, 4, "demo_guarantor", "中诚担保", ("guarantor",))
    originator = _person(uow, cipher, 5, "demo_originator", "华信资产", ("originator",))
    investors = [_person(uow, cipher, 10 + i, f"demo_investor{i or ''}", name, ("investor",))
                 for i, name in enumerate(("赵投资", "钱投资", "孙投资", "李投资"))]
    for investor_id in investors:
        _fund(uow, f"investor:{investor_id}:available", 200_000)
        suitability.assess(uow, investor_id, AGGRESSIVE)
    _fund(uow, f"originator:{originator}:available", 50_000)
    # Risk control approves both borrowers and sets 张借款's 信用标 credit limit.
    person = _apply(uow, risk_env, borrower, 3, "张借款", amount=190_000, income=30_000,
                    kind="credit")
    firm = _apply(uow, risk_env, company, 6, "陈企业", amount=900_000, income=200_000,
                  kind="collateral", security_value=2_000_000,
                  company=("上海沪上建材有限公司", "91350100M000100Y43"))
    listings.set_guarantor_terms(uow, guarantor, name="中诚担保有限公司",
                                 capacity=Money.yuan(2_000_000), fee_rate=Decimal("0.02"),
                                 compensation_days=3, actor_id=operator)
    reserve.fund_buyback_reserve(uow, originator, Money.yuan(20_000),
                                 idempotency_key="demo-reserve")
    house = AssetInput("house", Money.yuan(2_000_000), today - timedelta(days=20),
                       "上海同信房地产估价有限公司", "浦东新区两居室")
    car = AssetInput("car", Money.yuan(260_000), today - timedelta(days=5), "车易估",
                     "2023 款新能源轿车", "沪A·D12345", "310012345678")
    # The claim matures in six months and is sold for all of them (no term splitting).
    claim_due = ListingTerms(Money.yuan(100_000), Decimal("0.07"), 6, "month",
                             "bullet").maturity(today)
    plans = [
        (borrower, CreateListing("credit", "小微企业经营周转", Money.yuan(50_000),
                                 _rate(person, 4), 12, "month", "equal_installment")),
        (company, CreateListing("collateral", "房产抵押 · 门店装修", Money.yuan(600_000),
                                _rate(firm, 2), 24, "month", "equal_principal",
                                security=SecurityInput(assets=(house,)))),
        (borrower, CreateListing("collateral", "车辆抵押 · 短期周转", Money.yuan(120_000),
                                 _rate(person, 2), 6, "month", "interest_first",
                                 security=SecurityInput(assets=(car,)))),
        (company, CreateListing("guarantee", "担保标 · 设备采购", Money.yuan(300_000),
                                _rate(firm, 0), 12, "month", "equal_installment",
                                security=SecurityInput(guarantor_id=guarantor))),
        (originator, CreateListing("transfer", "流转标 · 优质应收账款", Money.yuan(100_000),
                                   Decimal("0.07"), 6, "month", "bullet",
                                   security=SecurityInput(claim=ClaimInput(
                                       Money.yuan(150_000), Decimal("0.12"), claim_due)))),
        (borrower, CreateListing("credit", "消费贷 · 已满标示例", Money.yuan(20_000),
                                 _rate(person, 3), 6, "month", "equal_installment")),
    ]
    ids = []
    for applicant, cmd in plans:
        listing = listings.create_listing(uow, cmd, applicant_id=applicant, rules=rules.listing)
        listings.submit(uow, listing.id, actor_id=applicant, rules=rules.listing)
        listings.approve(uow, listing.id, actor_id=operator, reason="demo review passed",
                         rules=rules.listing)
        ids.append(listing.id)
    house_asset = uow.s.scalars(select(PledgedAssetRow.id).where(
        PledgedAssetRow.listing_id == ids[1])).one()
    for step, reference in (("signed_contract", "HT-DEMO-001"),
                            ("notarisation", "(2026)沪东证字第88号"),
                            ("mortgage_registration", "沪(2026)浦东新区不动产证明第0099887号")):
        listings.record_offline_step(uow, ids[1], house_asset, step=step,
                                     done_on=today - timedelta(days=2), reference=reference,
                                     operator_id=operator)
    for listing_id in ids:
        auto_invest.publish(uow, listing_id, actor_id=operator, reason="demo", rules=rules)
    tickets = [(ids[0], 0, 20_000), (ids[0], 1, 10_000), (ids[3], 2, 100_000),
               (ids[4], 3, 30_000), (ids[5], 0, 10_000), (ids[5], 1, 10_000)]
    for listing_id, who, yuan in tickets:
        amount = Money.yuan(yuan)
        if beside_others:  # a simulated market's auto-invest rules took their part already
            left = uow.s.execute(select(Listing.remaining_fen).where(
                Listing.id == listing_id)).scalar_one()
            amount = min(amount, Money(left))
            if not amount.fen:
                continue
        investing.invest(uow, investing.Invest(listing_id, investors[who], amount), rules)
    return DemoSummary(
        created=True,
        users=DEMO_LOGINS | {"password (all)": PASSWORD},
        listings=len(ids),
    )
