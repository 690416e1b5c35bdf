"""Operations analytics as JSON, for operators and auditors: one route per metric
(definitions in docs/ANALYTICS.md), and the campaigns whose cost analytics divides."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from biaodi.api.deps import Operator, PlatformDep, require_role
from biaodi.api.params import NonBlank, RequestBody, YuanOrZero, one_of, query_one_of
from biaodi.domain.accounts.attribution import CAMPAIGN_MAX, Channel
from biaodi.domain.accounts.roles import Role
from biaodi.domain.analytics.tiers import parse_tiers
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.analytics import campaigns, catalog
from biaodi.services.shared.tx import in_transaction

router = APIRouter(prefix="/operator", tags=["analytics"])
Staff = Annotated[UserView, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]


class CampaignRequest(RequestBody):
    name: NonBlank = Field(max_length=CAMPAIGN_MAX,
                           description="the campaign, as sign-up links carry it (utm_campaign)")
    channel: Annotated[str, one_of(*Channel)] = Field(description="the acquisition channel")
    cost: YuanOrZero = Field(description="what it cost, yuan with at most two decimals",
                             examples=["5000.00"])


@router.post("/campaigns", status_code=201)
def record_campaign(body: CampaignRequest, platform: PlatformDep, op: Operator
                    ) -> dict[str, Any]:
    """Record a campaign and its cost (once per channel and name)."""
    cost = Money.parse(body.cost, field="cost", allow_zero=True,
                       ceiling_fen=platform.settings.money_ceiling_fen)
    cmd = campaigns.RecordCampaign(name=body.name, channel=body.channel, cost=cost)
    view = in_transaction(platform.uow, lambda uow: campaigns.record_campaign(
        uow, cmd, actor_id=op.id))
    return {"id": view.id, "channel": view.channel, "name": view.name,
            "cost": str(Money(view.cost_fen))}


@router.get("/analytics")
def metrics(_staff: Staff) -> list[dict[str, Any]]:
    """Every metric: its name, area, parameters and definition."""
    return catalog.listing()


def _route(name: str, summary: str) -> None:
    def metric(platform: PlatformDep, _staff: Staff,
               start: Annotated[date | None, Query(description="first business day")] = None,
               end: Annotated[date | None, Query(description="last business day")] = None,
               as_of: Annotated[date | None, Query(description="default today")] = None,
               grain: Annotated[str | None, query_one_of("day", "month")] = None) -> Any:
        tiers = parse_tiers(platform.settings.analytics_tiers)
        with platform.reader() as uow:
            return catalog.compute(uow, name, tiers=tiers, start=start, end=end, as_of=as_of,
                                   grain=grain)

    metric.__name__ = f"metric_{name.replace('-', '_')}"
    router.add_api_route(f"/analytics/{name}", metric, methods=["GET"], summary=name,
                         description=summary, name=metric.__name__)


for _metric in catalog.METRICS.values():
    _route(_metric.name, _metric.summary)
