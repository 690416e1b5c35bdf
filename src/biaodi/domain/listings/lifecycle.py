"""The listing lifecycle, shared by every listing type.

    draft → submitted → approved → published (open for funding) → funded → repaying → settled
                      ↘ rejected              ↘ failed (deadline passed, refunded)
    repaying → overdue → repaying (cured) | settled (paid off while overdue) | defaulted
    defaulted → recovered (guarantor, buy-back or disposal paid) | written_off

A type whose policy has `settles_on_funding` (秒标) may also go funded → settled directly.
Rejected, failed, settled, recovered and written_off are terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from biaodi.domain.shared.errors import Conflict, InvalidInput


class ListingStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    FUNDED = "funded"
    FAILED = "failed"
    REPAYING = "repaying"
    OVERDUE = "overdue"
    SETTLED = "settled"
    DEFAULTED = "defaulted"
    RECOVERED = "recovered"
    WRITTEN_OFF = "written_off"


S = ListingStatus
TRANSITIONS = MappingProxyType({
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.PUBLISHED}),
    S.PUBLISHED: frozenset({S.FUNDED, S.FAILED}),
    S.FUNDED: frozenset({S.REPAYING}),  # on disbursement
    S.REPAYING: frozenset({S.SETTLED, S.OVERDUE}),
    S.OVERDUE: frozenset({S.REPAYING, S.SETTLED, S.DEFAULTED}),
    S.DEFAULTED: frozenset({S.RECOVERED, S.WRITTEN_OFF}),
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
    S.SETTLED: frozenset(),
    S.RECOVERED: frozenset(),
    S.WRITTEN_OFF: frozenset(),
})
TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
#: Moves that need a stated reason, kept with the transition for audit.
REASON_REQUIRED = frozenset({S.REJECTED, S.FAILED, S.DEFAULTED, S.WRITTEN_OFF})


class IllegalTransition(Conflict):
    code = "illegal_transition"


@dataclass(frozen=True)
class Transition:
    """One recorded move; `actor_id` None means the system (a deadline, close of business)."""

    from_status: ListingStatus
    to_status: ListingStatus
    actor_id: int | None
    at: datetime
    reason: str | None


def allowed_targets(
    current: ListingStatus | str, *, settles_on_funding: bool = False
) -> frozenset[ListingStatus]:
    status = _status(current, "current")
    targets = TRANSITIONS[status]
    if settles_on_funding and status is S.FUNDED:
        targets = targets | {S.SETTLED}
    return targets


def is_terminal(status: ListingStatus | str) -> bool:
    return _status(status, "status") in TERMINAL


def transition(
    current: ListingStatus | str,
    target: ListingStatus | str,
    *,
    actor_id: int | None,
    reason: str | None,
    at: datetime,
    settles_on_funding: bool = False,
) -> Transition:
    """Check a move and return its record; raises IllegalTransition or InvalidInput (reason)."""
    source, goal = _status(current, "current"), _status(target, "target")
    allowed = allowed_targets(source, settles_on_funding=settles_on_funding)
    if goal not in allowed:
        listed = ", ".join(sorted(allowed)) or "nothing (terminal)"
        raise IllegalTransition(
            f"a listing cannot go from {source} to {goal}; from {source} it may go to {listed}",
            field="status",
        )
    reason = reason.strip() if reason else None
    if goal in REASON_REQUIRED and not reason:
        raise InvalidInput(f"moving a listing to {goal} needs a reason", field="reason")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("transition time must be timezone-aware")
    return Transition(source, goal, actor_id, at, reason)


def _status(value: ListingStatus | str, name: str) -> ListingStatus:
    try:
        return ListingStatus(value)
    except ValueError:
        raise InvalidInput(f"unknown listing status {value!r}", field=name) from None
