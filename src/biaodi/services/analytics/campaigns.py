"""Marketing campaigns and their recorded cost (cost per acquired investor divides it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from biaodi.adapters.db.tables import Campaign
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.attribution import parse_campaign, parse_channel
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money


@dataclass(frozen=True)
class RecordCampaign:
    name: str
    channel: str
    cost: Money


@dataclass(frozen=True)
class CampaignView:
    id: int
    channel: str
    name: str
    cost_fen: int


def record_campaign(uow: UnitOfWork, cmd: RecordCampaign, *, actor_id: int) -> CampaignView:
    """A campaign of a channel and what it cost; one per (channel, name)."""
    channel = parse_channel(cmd.channel)
    name = parse_campaign(cmd.name, field="name")
    if not name:
        raise InvalidInput("name must not be empty", field="name")
    if cmd.cost.fen < 0:
        raise InvalidInput("cost must not be negative", field="cost")
    found = uow.s.execute(select(Campaign.id).where(Campaign.channel == channel.value,
                                                    Campaign.name == name)).first()
    if found:
        raise Conflict(f"campaign {name!r} of {channel.value} is already recorded",
                       field="name", code="campaign_exists")
    row = Campaign(channel=channel.value, name=name, cost_fen=cmd.cost.fen,
                   recorded_by=actor_id, recorded_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    return CampaignView(row.id, row.channel, row.name, row.cost_fen)
