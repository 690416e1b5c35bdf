"""Helpers for risk tests: a borrower, a consistent application, a risk environment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from biaodi.adapters.bureau.sandbox import SandboxBureau
from biaodi.bootstrap import Platform
from biaodi.domain.risk.consistency import luhn_ok
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.risk import applications as risk_service
from biaodi.services.shared.tx import in_transaction
from factories import identity

TODAY = date(2026, 11, 28)  # conftest.START in Beijing


def card_number(seed: int) -> str:
    """A 16-digit UnionPay-style card number with a valid Luhn digit."""
    body = f"622202{seed:09d}"
    return next(body + str(d) for d in range(10) if luhn_ok(body + str(d)))


def age_of(id_number: str) -> int:
    birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    return TODAY.year - birth.year - ((TODAY.month, TODAY.day) < (birth.month, birth.day))


def register_borrower(platform: Platform, n: int | None = None, *,
                      birth: date = date(1990, 5, 17)) -> tuple[int, dict[str, str]]:
    data = identity(n, birth=birth)
    cmd = users.Register(**data, roles=("borrower",))
    view = in_transaction(platform.uow, lambda uow: users.register(uow, cmd, platform.cipher))
    return view.id, data


def application(person: dict[str, str], **overrides: Any) -> risk_service.Application:
    """A sound application for `person` (a factories.identity()): grade A or B, approved."""
    base = risk_service.Application(
        real_name=person["real_name"], id_number=person["id_number"],
        declared_age=age_of(person["id_number"]), province="北京", mobile=person["mobile"],
        bank_card=card_number(int(person["mobile"][-6:])),
        monthly_income=Money.yuan(20000), employment_type="permanent", employment_years=8,
        housing="own", marital_status="married", monthly_expenses=Money.yuan(3000),
        assets=Money.yuan(400000), debts=Money.yuan(0), monthly_debt_payments=Money.yuan(0),
        purpose="consumption", amount=Money.yuan(30000), term_months=24,
        device_id=f"device-{person['mobile']}",
    )
    return replace(base, **overrides)


def env(platform: Platform, bureau: SandboxBureau | None = None,
        pack: str | None = None) -> risk_service.RiskEnv:
    settings = platform.settings
    if pack is not None:
        settings = settings.model_copy(update={"risk_rule_pack": pack})
    return risk_service.build_env(settings, platform.cipher, bureau=bureau or SandboxBureau())


def apply(platform: Platform, user_id: int, cmd: risk_service.Application,
          risk_env: risk_service.RiskEnv) -> dict[str, Any]:
    return in_transaction(platform.uow, lambda uow: risk_service.apply(
        uow, cmd, applicant_id=user_id, env=risk_env))


def fired(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule_id"]: r for r in decision["fired_rules"]}


def application_body(person: dict[str, str]) -> dict[str, Any]:
    """A sound risk application, as the API takes it, for a registered `identity()`."""
    return {
        "real_name": person["real_name"], "id_number": person["id_number"],
        "declared_age": age_of(person["id_number"]), "province": "北京",
        "mobile": person["mobile"], "bank_card": card_number(int(person["mobile"][-6:])),
        "monthly_income": "20000.00", "employment_type": "permanent", "employment_years": 8,
        "housing": "own", "marital_status": "married", "monthly_expenses": "3000",
        "assets": "400000", "purpose": "consumption", "amount": "30000.00",
        "term_months": 24, "device_id": f"device-{person['mobile']}", "channel": "app",
    }
