"""Major events (重大事项) and related parties (关联方), both recorded by operators.

An event is public from the moment it is recorded and never changes (append-only; on
PostgreSQL a trigger refuses UPDATE and DELETE); it is flagged late when recorded more than
48 hours after it happened (rule `cn-2017-disclosure-event-48h`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.disclosure_tables import DisclosureEvent, RelatedParty
from biaodi.adapters.db.tables import User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.disclosure.rules import EVENT_RULE, event_late
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.services.shared import audit

#: The kinds of major event the guideline names (a short code each; the page translates).
EVENT_KINDS = ("shareholder_change", "capital_change", "executive_change", "litigation",
               "penalty", "suspension", "merger", "custody_change", "outage", "other")
TITLE_MAX = 200
BODY_MAX = 10_000
RELATION_MAX = 64


@dataclass(frozen=True)
class RecordEvent:
    kind: str
    title: str
    body: str
    occurred_at: datetime


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_event(uow: UnitOfWork, cmd: RecordEvent, *, actor_id: int) -> dict[str, Any]:
    if cmd.kind not in EVENT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(EVENT_KINDS)}", field="kind")
    title, body = cmd.title.strip(), cmd.body.strip()
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput(f"title must have 1 to {TITLE_MAX} characters", field="title")
    if not body or len(body) > BODY_MAX:
        raise InvalidInput(f"body must have 1 to {BODY_MAX} characters", field="body")
    now = uow.clock.now()
    occurred = _aware(cmd.occurred_at)
    if occurred > now:
        raise InvalidInput("occurred_at is in the future: record an event once it happened",
                           field="occurred_at")
    row = DisclosureEvent(kind=cmd.kind, title=title, body=body, occurred_at=occurred,
                          recorded_at=now, recorded_by=actor_id,
                          late=event_late(occurred, now))
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "disclosure.event_recorded", changes={
        "event_id": row.id, "kind": row.kind, "late": row.late})
    return event_view(row)


def event_view(row: DisclosureEvent) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "title": row.title, "body": row.body,
            "occurred_at": _aware(row.occurred_at).isoformat(),
            "recorded_at": _aware(row.recorded_at).isoformat(), "late": row.late,
            "rule": EVENT_RULE}


def events(uow: UnitOfWork, *, limit: int = 100) -> list[dict[str, Any]]:
    """Recorded events, newest first."""
    rows = uow.s.scalars(select(DisclosureEvent).order_by(
        DisclosureEvent.recorded_at.desc(), DisclosureEvent.id.desc()).limit(limit))
    return [event_view(r) for r in rows]


def record_related_party(uow: UnitOfWork, user_id: int, relation: str, *, actor_id: int
                         ) -> dict[str, Any]:
    """Record a user as related to the platform (their loans count in the report's related-
    party figures from the next report on)."""
    relation = relation.strip()
    if not relation or len(relation) > RELATION_MAX:
        raise InvalidInput(f"relation must have 1 to {RELATION_MAX} characters",
                           field="relation")
    if uow.s.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    if uow.s.scalars(select(RelatedParty).where(RelatedParty.user_id == user_id)).first():
        raise Conflict(f"user {user_id} is already recorded as a related party",
                       field="user_id", code="already_related")
    row = RelatedParty(user_id=user_id, relation=relation, recorded_by=actor_id,
                       recorded_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "disclosure.related_party", subjects=[("user", user_id)],
               changes={"relation": relation})
    return related_view(row)


def related_view(row: RelatedParty) -> dict[str, Any]:
    return {"id": row.id, "user_id": row.user_id, "relation": row.relation,
            "recorded_at": _aware(row.recorded_at).isoformat()}


def related_parties(uow: UnitOfWork) -> list[dict[str, Any]]:
    rows = uow.s.scalars(select(RelatedParty).order_by(RelatedParty.id))
    return [related_view(r) for r in rows]
