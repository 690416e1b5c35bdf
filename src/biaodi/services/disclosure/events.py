"""Major events (重大事项) and related parties (关联方), both recorded by operators.

A related party is related from `since` to `until` (both days included; open while `until`
is empty); one user's periods never overlap, and an ended relation is not changed again.

An event is public from the moment it is recorded and never changes (append-only; on
PostgreSQL a trigger refuses UPDATE and DELETE); it is flagged late when recorded more than
48 hours after it happened (rule `cn-2017-disclosure-event-48h`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select

from biaodi.adapters.clock import CST
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
    # stored in UTC: SQLite keeps no offset, so another zone would read back hours off
    occurred = _aware(cmd.occurred_at).astimezone(UTC)
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


def _today(uow: UnitOfWork) -> date:
    return uow.clock.now().astimezone(CST).date()


def _overlapping(uow: UnitOfWork, user_id: int, since: date, until: date | None
                 ) -> RelatedParty | None:
    """The user's recorded relation whose days meet [since, until] (None: still related)."""
    query = select(RelatedParty).where(
        RelatedParty.user_id == user_id,
        or_(RelatedParty.until.is_(None), RelatedParty.until >= since))
    if until is not None:
        query = query.where(RelatedParty.since <= until)
    return uow.s.scalars(query.order_by(RelatedParty.since)).first()


def record_related_party(uow: UnitOfWork, user_id: int, relation: str, *, actor_id: int,
                         since: date | None = None, until: date | None = None
                         ) -> dict[str, Any]:
    """Record a user as related to the platform from `since` (today when not given) to
    `until` (both included; open when not given). A monthly report counts the user's loans
    in its related-party figures when the user is related on the month's last day."""
    relation = relation.strip()
    if not relation or len(relation) > RELATION_MAX:
        raise InvalidInput(f"relation must have 1 to {RELATION_MAX} characters",
                           field="relation")
    today = _today(uow)
    since = since or today
    if since > today:
        raise InvalidInput(f"since {since.isoformat()} is in the future: record a relation "
                           "once it has begun", field="since")
    if until is not None and until < since:
        raise InvalidInput(f"until {until.isoformat()} is before since {since.isoformat()}",
                           field="until")
    if uow.s.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}", field="user_id")
    clash = _overlapping(uow, user_id, since, until)
    if clash is not None:
        raise Conflict(f"user {user_id} is already recorded as a related party from "
                       f"{clash.since.isoformat()}"
                       + (f" to {clash.until.isoformat()}" if clash.until else ""),
                       field="user_id", code="already_related")
    row = RelatedParty(user_id=user_id, relation=relation, since=since, until=until,
                       recorded_by=actor_id, recorded_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "disclosure.related_party", subjects=[("user", user_id)],
               changes={"relation": relation, "since": since,
                        "until": until})
    return related_view(row, today)


def end_related_party(uow: UnitOfWork, party_id: int, until: date | None = None, *,
                      actor_id: int) -> dict[str, Any]:
    """End a recorded relation on `until` (today when not given), its last related day. An
    ended relation stays as it was: a second end is refused (409 `already_ended`)."""
    row = uow.s.get(RelatedParty, party_id)
    if row is None:
        raise NotFound(f"no related party {party_id}", field="party_id")
    if row.until is not None:
        raise Conflict(f"related party {party_id} already ended on {row.until.isoformat()}",
                       field="until", code="already_ended")
    today = _today(uow)
    until = until or today
    if until < row.since:
        raise InvalidInput(f"until {until.isoformat()} is before since "
                           f"{row.since.isoformat()}", field="until")
    row.until = until
    uow.s.flush()
    audit.note(uow, "disclosure.related_party_ended", subjects=[("user", row.user_id)],
               changes={"party_id": party_id, "until": until, "ended_by": actor_id})
    return related_view(row, today)


def related_view(row: RelatedParty, today: date | None = None) -> dict[str, Any]:
    view = {"id": row.id, "user_id": row.user_id, "relation": row.relation,
            "since": row.since.isoformat(),
            "until": row.until.isoformat() if row.until else None,
            "recorded_at": _aware(row.recorded_at).isoformat()}
    if today is not None:
        view["current"] = row.since <= today and (row.until is None or row.until >= today)
    return view


def related_parties(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every recorded relation, by user and start, with the user's name and whether the
    relation holds today."""
    today = _today(uow)
    rows = uow.s.execute(select(RelatedParty, User.username).join(
        User, User.id == RelatedParty.user_id).order_by(
        RelatedParty.user_id, RelatedParty.since, RelatedParty.id)).all()
    return [related_view(r, today) | {"username": name} for r, name in rows]
