"""The audit trail of one listing, loan, user, payment order or sale: who changed what, when,
in which request. Read by operators and auditors (read only: nothing here changes anything)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from biaodi.api.deps import PlatformDep, require_role
from biaodi.domain.accounts.roles import Role
from biaodi.domain.shared.bounds import Limit, RowId
from biaodi.services.accounts.users import UserView
from biaodi.services.shared import audit

router = APIRouter(tags=["operator"])

Staff = Annotated[UserView, Depends(require_role(Role.OPERATOR, Role.AUDITOR))]
SubjectKind = Literal["listing", "loan", "user", "payment_order", "sale"]


class AuditEvent(BaseModel):
    action: str
    changes: dict[str, Any]


class AuditEntry(BaseModel):
    """One committed transaction's record, with the events about the subject asked for."""

    seq: int
    at: datetime
    business_date: date
    actor: str
    actor_id: int | None
    request_id: str | None
    events: list[AuditEvent]


@router.get("/operator/audit", response_model=list[AuditEntry])
def audit_trail(platform: PlatformDep, _staff: Staff, subject_kind: SubjectKind,
                subject_id: RowId, limit: Limit = 500) -> list[dict[str, Any]]:
    """The trail of one subject, oldest first (its last `limit` records). Money in the
    changes is integer fen; personal data never appears, only that it changed."""
    with platform.reader() as uow:
        entries = audit.trail(uow, subject_kind, subject_id, limit=limit)
    return [e.__dict__ for e in entries]
