"""Acquisition attribution (获客渠道): the channel a sign-up came through and its campaign.

A sign-up link carries `utm_source`/`utm_campaign`-style values; the API takes them as
`channel` and `campaign`. Without a channel a registration is `organic`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from biaodi.domain.shared.errors import InvalidInput


class Channel(StrEnum):
    SEARCH_ADS = "search_ads"
    WECHAT = "wechat"
    APP_STORE = "app_store"
    PARTNER = "partner"
    REFERRAL = "referral"
    ORGANIC = "organic"


#: Longest campaign name kept (the column's width).
CAMPAIGN_MAX = 64


@dataclass(frozen=True)
class Attribution:
    channel: Channel = Channel.ORGANIC
    campaign: str = ""


def parse_channel(raw: str | None, *, field: str = "channel") -> Channel:
    value = (raw or "").strip().lower()
    if not value:
        return Channel.ORGANIC
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be one of {', '.join(c.value for c in Channel)} (got {raw!r})",
            field=field, code="unknown_channel") from None


def parse_campaign(raw: str | None, *, field: str = "campaign") -> str:
    value = " ".join((raw or "").split())
    if len(value) > CAMPAIGN_MAX:
        raise InvalidInput(f"{field} must have at most {CAMPAIGN_MAX} characters",
                           field=field, code="campaign_too_long")
    if any(not ch.isprintable() for ch in value):
        raise InvalidInput(f"{field} must be printable text", field=field)
    return value


def parse_attribution(channel: str | None, campaign: str | None) -> Attribution:
    """A sign-up's attribution from the values its link or request carried."""
    return Attribution(parse_channel(channel), parse_campaign(campaign))
