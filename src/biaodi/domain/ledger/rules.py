"""Double-entry rules, free of I/O.

Every business event is one journal entry of postings whose signed amounts sum to zero
(debit positive, credit negative). An account's *balance* is shown on its normal side: assets
and expenses are debit-normal, liabilities, equity and income credit-normal. Wallets and other
accounts flagged `non_negative` can never show a negative balance.

One ledger holds every party's accounts, so that the sum of all postings is zero and one
verification proves the whole platform balanced. Account codes name owner and purpose:
`investor:12:available`, `loan:7:principal_payable`, `platform:fee_income`, `custody:cash`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from biaodi.domain.shared.errors import InvalidInput, UnbalancedEntry


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)

    def balance_delta(self, signed_amount: int) -> int:
        """How a posting (debit +, credit −) changes the normal-side balance."""
        return signed_amount if self.debit_normal else -signed_amount


class OwnerKind(StrEnum):
    INVESTOR = "investor"
    BORROWER = "borrower"
    GUARANTOR = "guarantor"
    ORIGINATOR = "originator"
    PLATFORM = "platform"
    CUSTODY = "custody"
    LOAN = "loan"
    HOLDING = "holding"
    SUSPENSE = "suspense"
    LOSS = "loss"
    CROWDFUNDING = "crowdfunding"


@dataclass(frozen=True)
class AccountSpec:
    """What an account is: enough to create it on first use."""

    code: str
    type: AccountType
    owner_kind: OwnerKind
    owner_id: int | None
    purpose: str
    non_negative: bool


def wallet(owner_kind: OwnerKind, owner_id: int, purpose: str = "available") -> AccountSpec:
    """A user's money held in custody: the platform owes it to them (a liability)."""
    return AccountSpec(
        code=f"{owner_kind.value}:{owner_id}:{purpose}",
        type=AccountType.LIABILITY,
        owner_kind=owner_kind,
        owner_id=owner_id,
        purpose=purpose,
        non_negative=True,
    )


#: Wallets each role gets at registration.
ROLE_WALLETS: dict[str, tuple[str, ...]] = {
    "investor": ("available", "frozen"),
    "borrower": ("available", "frozen"),
    "guarantor": ("available", "frozen"),
    "originator": ("available", "frozen", "buyback_reserve"),
}


def platform_account(purpose: str) -> AccountSpec:
    """The platform's own accounts and the custody mirror."""
    specs = {
        # Money at the custody bank / gateway: an asset of the custody pool, mirrored by wallets.
        "custody:cash": (AccountType.ASSET, OwnerKind.CUSTODY, False),
        "platform:cash": (AccountType.ASSET, OwnerKind.PLATFORM, False),
        "platform:fee_income": (AccountType.INCOME, OwnerKind.PLATFORM, True),
        "platform:penalty_income": (AccountType.INCOME, OwnerKind.PLATFORM, True),
        "platform:marketing_expense": (AccountType.EXPENSE, OwnerKind.PLATFORM, True),
        "platform:equity": (AccountType.EQUITY, OwnerKind.PLATFORM, False),
        "suspense:gateway": (AccountType.LIABILITY, OwnerKind.SUSPENSE, False),
        # The cash wallet's differences with the fund's statement that an operator accepted:
        # held in suspense against the platform's adjustment expense until recovered or paid.
        "suspense:fund": (AccountType.LIABILITY, OwnerKind.SUSPENSE, False),
        "platform:fund_adjustment": (AccountType.EXPENSE, OwnerKind.PLATFORM, False),
    }
    if purpose not in specs:
        raise KeyError(f"unknown platform account {purpose!r}")
    account_type, owner_kind, non_negative = specs[purpose]
    return AccountSpec(
        code=purpose,
        type=account_type,
        owner_kind=owner_kind,
        owner_id=None,
        purpose=purpose.split(":", 1)[1],
        non_negative=non_negative,
    )


PLATFORM_ACCOUNTS = (
    "custody:cash",
    "platform:cash",
    "platform:fee_income",
    "platform:penalty_income",
    "platform:marketing_expense",
    "platform:equity",
    "suspense:gateway",
    "suspense:fund",
    "platform:fund_adjustment",
)


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int  # signed fen: debit positive, credit negative


@dataclass
class EntryDraft:
    """A journal entry before it is written: kind, memo and balanced postings."""

    kind: str
    memo: str = ""
    postings: list[Posting] = field(default_factory=list)

    def debit(self, account: str, fen: int) -> EntryDraft:
        self.postings.append(Posting(account, fen))
        return self

    def credit(self, account: str, fen: int) -> EntryDraft:
        self.postings.append(Posting(account, -fen))
        return self

    def transfer(self, debit: str, credit: str, fen: int) -> EntryDraft:
        """Debit one account and credit another by the same positive amount."""
        if fen <= 0:
            raise InvalidInput("a transfer amount must be positive", field="amount")
        return self.debit(debit, fen).credit(credit, fen)

    def validate(self) -> None:
        if not self.postings:
            raise UnbalancedEntry(f"entry {self.kind!r} has no postings")
        for posting in self.postings:
            if isinstance(posting.amount, bool) or not isinstance(posting.amount, int):
                raise UnbalancedEntry(f"posting amounts are integer fen ({posting!r})")
            if posting.amount == 0:
                raise UnbalancedEntry(
                    f"entry {self.kind!r} has a zero posting on {posting.account}"
                )
        total = sum(p.amount for p in self.postings)
        if total != 0:
            raise UnbalancedEntry(
                f"entry {self.kind!r} does not balance: postings sum to {total} fen"
            )


# --- servicing: claims recognised when instalments fall due, subrogation, losses -----------
def claim_account(owner_kind: OwnerKind, owner_id: int, purpose: str) -> AccountSpec:
    """A memo claim between users (never custody money): what a creditor is owed.

    `holding:H:interest` (interest due to a holding), `guarantor:G:subrogation` (what a
    guarantor paid investors and may now recover from borrowers)."""
    return AccountSpec(f"{owner_kind.value}:{owner_id}:{purpose}", AccountType.ASSET,
                       owner_kind, owner_id, purpose, True)


def payable_account(owner_kind: OwnerKind, owner_id: int, purpose: str) -> AccountSpec:
    """The other side of a claim: what a debtor owes (`loan:L:interest_payable`)."""
    return AccountSpec(f"{owner_kind.value}:{owner_id}:{purpose}", AccountType.LIABILITY,
                       owner_kind, owner_id, purpose, True)


def written_off_account(listing_id: int) -> AccountSpec:
    """`loss:L:written_off`: claims of loan L written off, net of later recoveries (the
    creditors' loss, an expense)."""
    return AccountSpec(f"loss:{listing_id}:written_off", AccountType.EXPENSE, OwnerKind.LOSS,
                       listing_id, "written_off", True)


# --- reward crowdfunding: a product line with its own escrow, apart from lending custody ------
def crowdfunding_account(purpose: str, project_id: int | None = None) -> AccountSpec:
    """Accounts of reward crowdfunding (众筹), kept apart from lending custody:
    `crowdfunding:escrow_cash` (the crowdfunding escrow bank account, an asset),
    `crowdfunding:fee_income` (the platform's 3 % on successful projects),
    `crowdfunding:P:backers` (what project P owes its backers until it succeeds or fails) and
    `crowdfunding:P:owner_payable` (what P's owner is owed once it succeeded, until paid)."""
    shared = {"escrow_cash": AccountType.ASSET, "fee_income": AccountType.INCOME}
    per_project = {"backers": AccountType.LIABILITY, "owner_payable": AccountType.LIABILITY}
    if project_id is None and purpose in shared:
        return AccountSpec(f"crowdfunding:{purpose}", shared[purpose], OwnerKind.CROWDFUNDING,
                           None, purpose, True)
    if project_id is not None and purpose in per_project:
        return AccountSpec(f"crowdfunding:{project_id}:{purpose}", per_project[purpose],
                           OwnerKind.CROWDFUNDING, project_id, purpose, True)
    raise KeyError(f"unknown crowdfunding account {purpose!r} (project {project_id})")
