"""Charts: Plotly's own bundle served from the installed package (no CDN, no copy in our tree),
the figure helpers, and the dashboard's cash-flow figure embedded as JSON with the month data
in the page's language."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from importlib import resources

import plotly
from fastapi.testclient import TestClient

from biaodi.bootstrap import Platform
from biaodi.domain.shared.money import Money
from biaodi.web import charts
from servicing_support import funded_loan
from web_support import assessed_investor as investor

FIGURE = re.compile(r'<script type="application/json" id="cashflow-figure">(.*?)</script>', re.S)


def test_the_figure_helpers_keep_money_exact_in_the_labels() -> None:
    bars = charts.bar_chart(["2027-01", "2027-02"], [
        charts.money_series("本金", [Money(123_456_789), Money(0)]),
        charts.money_series("利息", [Decimal("0.10"), Decimal("12.35")])], lang="zh-CN")
    assert bars["layout"]["barmode"] == "stack" and bars["config"]["displayModeBar"] is False
    principal, interest = bars["data"]
    assert principal["type"] == "bar" and principal["x"] == ["2027-01", "2027-02"]
    assert principal["customdata"] == ["¥1,234,567.89", "¥0.00"]
    assert interest["customdata"] == ["¥0.10", "¥12.35"] and interest["name"] == "利息"
    assert "%{customdata}" in principal["hovertemplate"]
    line = charts.line_chart(["d1", "d2"], [charts.Series("n", [1, 2], ["1", "2"])], lang="en")
    assert line["data"][0]["mode"] == "lines+markers" and "barmode" not in line["layout"]
    escaped = str(charts.to_json({"t": "</script><b>&"}))
    assert "</script>" not in escaped and json.loads(escaped) == {"t": "</script><b>&"}


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "max-age=31536000" in response.headers["cache-control"]
    assert hashlib.sha256(response.content).digest() == \
        hashlib.sha256(bundle.read_bytes()).digest()
    assert client.get("/static/charts.js").status_code == 200


def test_the_dashboard_embeds_the_cash_flow_figure(client: TestClient,
                                                   platform: Platform) -> None:
    user_id = investor(client, platform, 10_000)
    empty = client.get("/me").text
    assert "cashflow-figure" not in empty and "plotly.min.js" not in empty  # nothing due
    funded_loan(platform, "guarantee", tickets=(3_300, 3_300),
                people=[user_id, investor(TestClient(client.app), platform, 3_300)])
    page = client.get("/me").text
    assert f'src="/static/vendor/plotly.min.js?v={plotly.__version__}"' in page
    assert 'src="/static/charts.js"' in page and "cdn" not in page.lower()
    assert 'data-chart="cashflow-figure"' in page and 'role="img"' in page
    figure = json.loads(FIGURE.search(page).group(1))  # type: ignore[union-attr]
    principal, interest = figure["data"]
    assert (principal["name"], interest["name"]) == ("本金", "利息")
    assert figure["layout"]["barmode"] == "stack"
    # the same months and amounts as the table kept below the chart
    rows = re.findall(r"<tr><td>(\d{4}-\d{2})</td><td class=\"num\">([\d,.]+)</td>"
                      r"<td class=\"num\">([\d,.]+)</td>", page)
    assert len(rows) == 12 and principal["x"] == [month for month, _, _ in rows]
    assert principal["customdata"] == [f"¥{p}" for _, p, _ in rows]
    assert interest["customdata"] == [f"¥{i}" for _, _, i in rows]
    assert sum(1 for y in principal["y"] if y) == 3  # three monthly instalments ahead

    client.cookies.set("lang", "en")
    english = json.loads(FIGURE.search(client.get("/me").text).group(1))  # type: ignore[union-attr]
    assert [t["name"] for t in english["data"]] == ["Principal", "Interest"]
    assert english["layout"]["yaxis"]["title"]["text"] == "Yuan"
