import pytest

from biaodi.domain.ledger.rules import AccountType, EntryDraft
from biaodi.domain.shared.errors import InvalidInput, UnbalancedEntry


def test_balanced_entry_validates() -> None:
    EntryDraft("deposit").transfer("custody:cash", "investor:1:available", 500).validate()


@pytest.mark.parametrize(
    "draft",
    [
        EntryDraft("half").debit("custody:cash", 500),
        EntryDraft("skew").debit("custody:cash", 500).credit("investor:1:available", 499),
        EntryDraft("empty"),
        EntryDraft("zero").debit("a", 0).credit("b", 0),
    ],
)
def test_unbalanced_entries_are_refused(draft: EntryDraft) -> None:
    with pytest.raises(UnbalancedEntry):
        draft.validate()


def test_transfer_amount_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        EntryDraft("x").transfer("a", "b", -1)


def test_normal_side() -> None:
    assert AccountType.ASSET.balance_delta(100) == 100
    assert AccountType.LIABILITY.balance_delta(-100) == 100
    assert AccountType.INCOME.balance_delta(-5) == 5
