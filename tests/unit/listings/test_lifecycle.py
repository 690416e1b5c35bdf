from datetime import UTC, datetime
from itertools import product

import pytest

from biaodi.domain.listings.lifecycle import (
    REASON_REQUIRED,
    TERMINAL,
    IllegalTransition,
    ListingStatus,
    Transition,
    allowed_targets,
    is_terminal,
    transition,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput

S = ListingStatus
AT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)

# Written out independently of the module's table, so a change there must change this too.
LEGAL = {
    ("draft", "submitted"),
    ("submitted", "approved"),
    ("submitted", "rejected"),
    ("approved", "published"),
    ("published", "funded"),
    ("published", "failed"),
    ("funded", "repaying"),
    ("repaying", "settled"),
    ("repaying", "overdue"),
    ("overdue", "repaying"),
    ("overdue", "settled"),
    ("overdue", "defaulted"),
    ("defaulted", "recovered"),
    ("defaulted", "written_off"),
}
ALL_PAIRS = list(product([s.value for s in S], repeat=2))


def move(current, target, **kwargs):
    kwargs.setdefault("reason", "because")
    return transition(current, target, actor_id=7, at=AT, **kwargs)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_every_legal_edge_is_allowed_and_recorded(current, target):
    record = move(current, target)
    assert record == Transition(S(current), S(target), 7, AT, "because")


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_every_other_pair_is_illegal(current, target):
    with pytest.raises(IllegalTransition) as caught:
        move(current, target)
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.code == "illegal_transition"
    assert f"from {current} to {target}" in error.message


def test_illegal_message_lists_allowed_targets():
    with pytest.raises(IllegalTransition) as caught:
        move("draft", "published")
    assert "may go to submitted" in caught.value.message
    with pytest.raises(IllegalTransition) as caught:
        move("overdue", "funded")
    assert "defaulted, repaying, settled" in caught.value.message


@pytest.mark.parametrize("terminal", ["rejected", "failed", "settled", "recovered", "written_off"])
def test_terminal_states_allow_nothing(terminal):
    assert is_terminal(terminal)
    assert allowed_targets(terminal) == frozenset()
    assert allowed_targets(terminal, settles_on_funding=True) == frozenset()
    with pytest.raises(IllegalTransition, match="nothing \\(terminal\\)"):
        move(terminal, "draft")


def test_terminal_set():
    assert {s.value for s in TERMINAL} == {"rejected", "failed", "settled", "recovered",
                                           "written_off"}


@pytest.mark.parametrize(("current", "target"), [
    ("submitted", "rejected"), ("published", "failed"), ("overdue", "defaulted"),
    ("defaulted", "written_off"),
])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required_for_reject_fail_default_write_off(current, target, reason):
    with pytest.raises(InvalidInput) as caught:
        move(current, target, reason=reason)
    assert caught.value.field == "reason"
    assert target in caught.value.message


def test_reason_required_set():
    assert {s.value for s in REASON_REQUIRED} == {"rejected", "failed", "defaulted", "written_off"}


def test_reason_optional_elsewhere_and_stripped():
    assert move("draft", "submitted", reason=None).reason is None
    assert move("submitted", "rejected", reason="  no income proof ").reason == "no income proof"


def test_settles_on_funding_opens_funded_to_settled_only_when_asked():
    with pytest.raises(IllegalTransition):
        move("funded", "settled")
    record = move("funded", "settled", settles_on_funding=True)
    assert record.to_status is S.SETTLED
    assert allowed_targets("funded", settles_on_funding=True) == {S.REPAYING, S.SETTLED}
    with pytest.raises(IllegalTransition):
        move("published", "settled", settles_on_funding=True)


def test_system_actor_is_none():
    record = transition("published", "failed", actor_id=None, reason="deadline passed", at=AT)
    assert record.actor_id is None


def test_naive_time_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        transition("draft", "submitted", actor_id=1, reason=None, at=datetime(2024, 3, 1))


def test_unknown_status_is_refused():
    with pytest.raises(InvalidInput) as caught:
        move("archived", "draft")
    assert caught.value.field == "current"
    with pytest.raises(InvalidInput) as caught:
        move("draft", "launched")
    assert caught.value.field == "target"
