"""The operator console's analytics (`/operator/analytics?month=2026-10&tab=activity`): the
dashboards of `services/analytics/dashboards.py` — time series, the funnel, cohort retention,
vintage curves, bucket stacks and the roll-rate matrix — each a Plotly chart with its table
beside it. Operators, risk officers and auditors read them; nobody acts here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from biaodi.domain.analytics.tiers import parse_tiers
from biaodi.domain.shared.errors import InvalidInput
from biaodi.services.accounts.users import UserView
from biaodi.services.analytics import dashboards
from biaodi.web import dashboards as views
from biaodi.web import i18n
from biaodi.web.pages import platform_of, render, require_role
from biaodi.web.routes import operator_books

router = APIRouter(prefix="/operator")

AnalyticsReader = Annotated[UserView, Depends(require_role(*operator_books.READ["analytics"]))]


@router.get("/analytics")
def analytics_page(request: Request, user: AnalyticsReader, month: str | None = None,
                   tab: str = "activity") -> Response:
    lang = i18n.language_of(request)
    platform = platform_of(request)
    status, error = 200, None
    chosen: date = platform.clock.today().replace(day=1)
    if month:
        try:
            chosen = dashboards.parse_month(month)
        except InvalidInput:
            error, status = i18n.translate(lang, "dash.bad_month"), 422
    if tab not in dashboards.TABS:
        tab = "activity"
    panels = []
    if error is None:
        tiers = parse_tiers(platform.settings.analytics_tiers)
        with platform.reader() as uow:
            panels = [views.view(p, lang) for p in dashboards.panels(uow, chosen, tiers, (tab,))]
    label = chosen.strftime("%Y-%m")
    chrome = operator_books.chrome(request, user, "analytics")
    chrome["can_act"] = True  # nothing to act on: no read-only note
    return render(request, "operator/analytics.html", {
        "panels": panels, "month": month if error else label, "label": label, "error": error,
        "tab": tab, "dash_tabs": [(t, i18n.translate(lang, f"dash.tab.{t}"))
                                  for t in dashboards.TABS],
        "window": dashboards.WINDOW, **chrome}, status)
