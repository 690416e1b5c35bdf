"""`biaodi close-day` and friends against a real database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from biaodi.adapters.clock import CST, FixedClock
from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from biaodi.cli.servicing import next_run
from conftest import TEST_KEY
from servicing_support import due_dates, funded_loan, snapshot


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch, clock: FixedClock):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("BIAODI_FIXED_NOW", clock.now().isoformat())
        return runner.invoke(app, list(args))

    return invoke


def test_close_day_json_then_again_changes_nothing(run, platform: Platform,  # type: ignore[no-untyped-def]
                                                  clock: FixedClock) -> None:
    loan = funded_loan(platform, "guarantee")
    first = run("close-day", "--json")
    assert first.exit_code == 0, first.output
    days = json.loads(first.stdout)["days"]
    assert days[0]["business_date"] == clock.today().isoformat()
    assert days[0]["steps"]["onboard"] == 1
    clock.set(datetime.combine(due_dates(platform, loan.listing_id)[0] + timedelta(days=4),
                               datetime.min.time(), tzinfo=CST).replace(hour=23))
    caught_up = run("close-day", "--json")
    assert caught_up.exit_code == 0, caught_up.output
    days = json.loads(caught_up.stdout)["days"]
    assert len(days) == (clock.today() - datetime(2026, 11, 28).date()).days
    assert sum(d["steps"]["defaults"] for d in days) == 1  # the guarantor, 3 days past due
    before = snapshot(platform)
    again = run("close-day", "--date", clock.today().isoformat())
    assert again.exit_code == 0, again.output
    assert "close of business" in again.stdout and "done" in again.stdout
    assert snapshot(platform) == before
    bad = run("close-day", "--date", "2026-13-01")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    early = run("close-day", "--date", "2026-11-01")
    assert early.exit_code == 1 and "never closed" in early.output
    sent = run("send-notices")
    assert sent.exit_code == 0 and "sent" in sent.stdout


def test_close_day_refuses_a_date_after_today(run, platform: Platform,  # type: ignore[no-untyped-def]
                                              clock: FixedClock) -> None:
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    refused = run("close-day", "--date", tomorrow)
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"error: business_date {tomorrow} is after today, {clock.today().isoformat()}: close of"
        " business runs for today or earlier"]
    assert snapshot(platform)["runs"] == []
    today = run("close-day", "--date", clock.today().isoformat(), "--json")
    assert today.exit_code == 0, today.output
    assert [d["business_date"] for d in json.loads(today.stdout)["days"]] == \
        [clock.today().isoformat()]


def test_scheduler_picks_the_next_run_time() -> None:
    now = datetime(2026, 11, 28, 22, 0, tzinfo=CST)
    assert next_run(now, 23, 30) == datetime(2026, 11, 28, 23, 30, tzinfo=CST)
    assert next_run(now, 21, 0) == datetime(2026, 11, 29, 21, 0, tzinfo=CST)
