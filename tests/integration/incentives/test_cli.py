"""`biaodi incentives` against a real database: issuing (a refusal is one line with its rule)
and the campaigns with their exposure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from biaodi.bootstrap import Platform
from biaodi.cli.main import app
from conftest import TEST_KEY
from incentive_support import campaign, template
from investing_support import investor


def test_issue_and_list_campaigns(db_url: str, platform: Platform,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIAODI_DATABASE_URL", db_url)
    monkeypatch.setenv("BIAODI_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("BIAODI_FIXED_NOW", platform.clock.now().isoformat())
    runner = CliRunner()
    alice, bob = investor(platform, 0), investor(platform, 0)
    cash = template(platform, campaign(platform, budget_yuan=30))
    done = runner.invoke(app, ["incentives", "issue", str(cash), str(alice)])
    assert done.exit_code == 0 and "issued 1 coupon(s)" in done.output, done.output
    over = runner.invoke(app, ["incentives", "issue", str(cash), str(bob)])
    assert over.exit_code == 1 and "(campaign_budget)" in over.output
    listed = runner.invoke(app, ["incentives", "campaigns"])
    assert listed.exit_code == 0 and "新手季" in listed.output and "20.00" in listed.output
