"""The console's analytics dashboards on a one-loan book, on both databases: every tab
renders its chart with the table beside it from the metrics (the volume funded this month, the
active investors, the funnel, a cohort heatmap, the vintage, the buckets now and at each
month-end, the roll-rate matrix from the bucket history close of business keeps); a month
without data says so; both languages; a bad month is named; only staff read it."""

from __future__ import annotations

import json
import re
from datetime import date

from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.services.servicing.close_day import close_day
from operator_support import sign_in
from servicing_support import TICKETS, funded_loan, set_day


def _figure(html: str, key: str) -> dict:
    found = re.search(rf'<script type="application/json" id="chart-{key}-figure">(.*?)</script>',
                      html, re.S)
    assert found, f"no chart {key}"
    return json.loads(found.group(1))


def test_every_tab_draws_the_metrics_of_the_book(client: TestClient, platform: Platform) -> None:
    loan = funded_loan(platform, "credit")
    # close of business as the platform runs it (with the bucket history): servicing takes
    # the loan on, funded on 2026-11-28; the history has 28–30 November
    set_day(platform.clock, date(2026, 11, 30))
    close_day(platform.close_day_command(), date(2026, 11, 30))
    sign_in(client, platform, "risk_officer")
    page = client.get("/operator/analytics?month=2026-11")
    assert page.status_code == 200
    html = page.text
    assert "运营分析" in html and 'src="/static/vendor/plotly.min.js' in html
    volume = _figure(html, "volume")
    assert volume["data"][0]["x"][-1] == "2026-11" and len(volume["data"][0]["x"]) == 12
    total = sum(TICKETS)
    assert volume["data"][0]["y"][-1] == total  # yuan drawn; the label exact
    assert f"¥{total:,}.00" in volume["data"][0]["customdata"][-1]
    assert f"<td>2026-11</td><td>1</td><td>{total:,}.00</td>" in html  # the table beside it
    mau = _figure(html, "mau")
    assert mau["data"][0]["y"][-1] == len(loan.investors)
    daily = _figure(html, "dau")
    assert daily["data"][0]["y"][27] == len(loan.investors)  # 28 November

    funnel = client.get("/operator/analytics?month=2026-11&tab=funnel").text
    steps = _figure(funnel, "funnel")["data"][0]
    # the test's investors were registered this month and funded without a deposit order
    assert steps["x"][0] == "注册" and steps["y"][0] == len(loan.investors)
    assert steps["y"][-2:] == [0, 0]

    cohorts = _figure(client.get("/operator/analytics?month=2026-11&tab=cohorts").text,
                      "cohorts")["data"][0]
    assert cohorts["type"] == "heatmap" and cohorts["y"] == ["2026-11"]
    assert cohorts["text"] == [["100.00%"]]

    vintages = client.get("/operator/analytics?month=2026-12&tab=vintages").text
    curve = _figure(vintages, "vintages")["data"][0]
    assert curve["name"] == "2026-11" and curve["x"] == ["0", "1"] and curve["y"] == [0, 0]

    buckets = client.get("/operator/analytics?month=2026-11&tab=buckets").text
    stack = _figure(buckets, "buckets")
    assert [s["name"] for s in stack["data"]] == ["current", "M1", "M2", "M3", "M3+"]
    assert stack["data"][0]["y"] == [total] and stack["layout"]["barmode"] == "stack"

    history = _figure(buckets, "bucket-history")
    assert history["data"][0]["name"] == "current" and history["data"][0]["x"] == ["2026-11"]
    assert history["data"][0]["y"] == [total]
    # November's rolls start before the first closed day: none; December's from 30 November
    assert "暂无数据" in client.get("/operator/analytics?month=2026-11&tab=rolls").text
    rolls = _figure(client.get("/operator/analytics?month=2026-12&tab=rolls").text,
                    "rolls")["data"][0]
    assert rolls["type"] == "heatmap" and rolls["y"] == ["current"]
    assert rolls["x"] == ["current"] and rolls["text"] == [["100.00%"]]

    client.get("/lang/en")
    english = client.get("/operator/analytics?month=2026-11").text
    client.get("/lang/zh-CN")
    assert "Volume funded per month" in english and "Monthly active investors" in english
    assert _figure(english, "volume")["data"][0]["name"] == "Principal funded"


def test_a_bad_month_is_named_and_only_staff_read(client: TestClient,
                                                  platform: Platform) -> None:
    sign_in(client, platform, "auditor")
    bad = client.get("/operator/analytics?month=2026-13")
    assert bad.status_code == 422 and "月份的格式为 YYYY-MM" in bad.text
    empty = client.get("/operator/analytics?month=2026-10&tab=cohorts")
    assert empty.status_code == 200 and "暂无数据" in empty.text
    assert 'href="/operator/analytics"' in empty.text  # the console's tab
    sign_in(client, platform, "investor")
    assert client.get("/operator/analytics").status_code == 403
