"""PSI monitoring over stored decisions, and the `biaodi risk psi` command."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from biaodi.adapters.clock import FixedClock
from biaodi.adapters.db.risk_tables import PsiSnapshot
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.risk import applications as risk_service
from biaodi.services.shared.tx import in_transaction
from conftest import TEST_KEY
from risk_support import application, apply, env, register_borrower


def _decide(platform: Platform, incomes: list[int]) -> risk_service.RiskEnv:
    risk = env(platform)
    for income in incomes:
        user_id, person = register_borrower(platform)
        apply(platform, user_id, application(person, monthly_income=Money.yuan(income)), risk)
    return risk


def test_psi_compares_recent_decisions_with_the_training_baseline(
        platform: Platform, clock: FixedClock) -> None:
    risk = _decide(platform, [2500, 3000, 3500, 4000, 30000, 50000])
    with platform.uow() as uow:
        report = risk_service.psi_report(uow, risk.model, days=30)
    assert report["applications"] == 6 and not report["enough_data"]
    assert report["thresholds"] == {"stable_below": 0.1, "act_above": 0.25}
    assert report["score"]["psi"] > 0 and report["status"] == "act"
    names = {r["input"] for r in report["inputs"]}
    assert {"monthly_income", "housing", "loan_to_value"} <= names
    psis = [r["psi"] for r in report["inputs"]]
    assert psis == sorted(psis, reverse=True)
    clock.advance(days=31)
    with platform.uow() as uow:
        later = risk_service.psi_report(uow, risk.model, days=30)
    assert later["applications"] == 0 and later["status"] == "no data"
    with platform.uow() as uow, pytest.raises(InvalidInput, match="days must be"):
        risk_service.psi_report(uow, risk.model, days=0)


def test_a_snapshot_is_recorded_on_request(platform: Platform) -> None:
    risk = _decide(platform, [12000, 15000])
    report = in_transaction(platform.uow, lambda uow: risk_service.psi_report(
        uow, risk.model, days=7, record=True))
    with platform.uow() as uow:
        snapshot = uow.s.execute(select(PsiSnapshot)).scalar_one()
    assert snapshot.applications == 2 and snapshot.model_version == risk.model.version
    assert snapshot.score_psi == pytest.approx(report["score"]["psi"])
    assert snapshot.status == report["status"] and snapshot.result["days"] == 7


def test_psi_command(platform: Platform, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _decide(platform, [9000])
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", platform.clock.now().isoformat())
    result = CliRunner().invoke(app, ["risk", "psi", "--days", "3", "--record"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["applications"] == 1 and report["score"]["status"] in (
        "stable", "watch", "act")
    with platform.uow() as uow:
        assert len(uow.s.execute(select(PsiSnapshot)).scalars().all()) == 1
