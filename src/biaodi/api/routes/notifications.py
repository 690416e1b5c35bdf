"""Notifications: the signed-in user's inbox (read, mark read) and where messages go."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from biaodi.api.deps import CurrentUser, PlatformDep
from biaodi.api.params import RequestBody, one_of
from biaodi.domain.notifications.kinds import KINDS, LANGUAGES, Channel
from biaodi.domain.shared.bounds import PageNo, PageSize, RowId
from biaodi.services.notifications import inbox
from biaodi.services.notifications.inbox import EMAIL_CORE
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["notifications"])

_KINDS = tuple(k for k in KINDS if k != "security.code")


class MessageView(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    created_at: str
    read: bool
    channels: dict[str, str] = Field(description="channel → pending, sent or dead")


class InboxPage(BaseModel):
    items: list[MessageView]
    total: int
    unread: int


class Marked(BaseModel):
    marked: int = Field(description="messages newly marked read")


class ChannelChoice(RequestBody):
    kind: Annotated[str, one_of(*_KINDS)]
    channel: Annotated[str, one_of(*Channel)]
    enabled: bool


class SettingsUpdate(RequestBody):
    email: str | None = Field(default=None, max_length=254, pattern=f"^$|^{EMAIL_CORE}$",
                              description="address for e-mail; empty removes it")
    language: Annotated[str, one_of(*LANGUAGES)] | None = None
    channels: list[ChannelChoice] = Field(default_factory=list, max_length=100)


class SettingsView(BaseModel):
    email: str | None
    language: str
    kinds: dict[str, list[str]] = Field(description="kind → the channels it goes to besides "
                                                    "the inbox")
    choices: dict[str, list[str]] = Field(description="kind → the channels chosen (e-mail "
                                                      "counts here even without an address)")


@router.get("/me/notifications", response_model=InboxPage)
def my_inbox(platform: PlatformDep, user: CurrentUser, page: PageNo = 1,
             page_size: PageSize = 20,
             unread: Annotated[bool, Query(description="only unread messages")] = False
             ) -> dict[str, Any]:
    """The inbox, newest first."""
    with platform.reader() as uow:
        items, total, unread_count = inbox.messages(uow, user.id, unread_only=unread,
                                                    page=page, page_size=page_size)
    return {"items": [m.as_dict() for m in items], "total": total, "unread": unread_count}


@router.post("/me/notifications/{message_id}/read", response_model=Marked)
def mark_read(message_id: RowId, platform: PlatformDep, user: CurrentUser) -> dict[str, int]:
    """Mark one of your messages read (404 for one that is not yours)."""
    return {"marked": in_transaction(platform.uow, lambda uow: inbox.mark_read(
        uow, user.id, message_id))}


@router.post("/me/notifications/read-all", response_model=Marked)
def mark_all_read(platform: PlatformDep, user: CurrentUser) -> dict[str, int]:
    return {"marked": in_transaction(platform.uow, lambda uow: inbox.mark_read(uow, user.id))}


@router.get("/me/notification-settings", response_model=SettingsView)
def my_settings(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    with platform.reader() as uow:
        return inbox.preferences(uow, user.id)


@router.put("/me/notification-settings", response_model=SettingsView)
def change_settings(body: SettingsUpdate, platform: PlatformDep,
                    user: CurrentUser) -> dict[str, Any]:
    """Set the e-mail address, the language and, per kind, each channel on or off."""
    def act(uow: Any) -> dict[str, Any]:
        inbox.set_contact(uow, user.id, email=body.email, language=body.language)
        for choice in body.channels:
            inbox.set_channel(uow, user.id, choice.kind, choice.channel, choice.enabled)
        return inbox.preferences(uow, user.id)

    return in_transaction(platform.uow, act)
