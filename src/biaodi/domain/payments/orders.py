"""Payments and custody (资金存管), free of I/O: order states, channels, withdrawal limits and
the journal entries each payment event posts.

Users' money sits in custody: `custody:cash` (the custody account at the gateway, an asset)
mirrors the users' wallets and `suspense:gateway`. A deposit brings money into custody and
credits a wallet; a withdrawal freezes wallet money, then pays it out of custody. Money whose
owner is not yet clear (an amount that differs from its order) waits in `suspense:gateway`
until an operator resolves it, never silently in a wallet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from biaodi.domain.ledger.rules import ROLE_WALLETS, EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

CUSTODY = "custody:cash"
SUSPENSE = "suspense:gateway"
PLATFORM_CASH = "platform:cash"


class Channel(StrEnum):
    """Payment channels named in the seed (支付渠道), kept on each order for metrics."""

    THIRD_PARTY = "third_party"  # 第三方支付: 支付宝, 微信支付
    ONLINE_BANKING = "online_banking"  # 网银
    BANK_TRANSFER = "bank_transfer"  # 网银转账 / 线下汇款
    MOBILE = "mobile"  # 移动支付
    POS = "pos"


#: A payout goes to a bank card or a third-party wallet bound at the custody bank.
WITHDRAWAL_CHANNELS = frozenset({Channel.BANK_TRANSFER, Channel.THIRD_PARTY})


class OrderKind(StrEnum):
    DEPOSIT = "deposit"  # 充值
    WITHDRAWAL = "withdrawal"  # 提现


class OrderStatus(StrEnum):
    CREATED = "created"  # stored by the platform, not yet accepted by the gateway
    PENDING = "pending"  # accepted by the gateway, waiting for its callback
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # declined by the gateway (a withdrawal's money is released)
    SUSPENDED = "suspended"  # the gateway's amount differs: held in suspense for an operator
    REVERSED = "reversed"  # reconciliation found no such transaction at the gateway


_S = OrderStatus
ORDER_TRANSITIONS = MappingProxyType({
    _S.CREATED: frozenset({_S.PENDING, _S.SUCCEEDED, _S.FAILED, _S.SUSPENDED}),
    _S.PENDING: frozenset({_S.SUCCEEDED, _S.FAILED, _S.SUSPENDED}),
    _S.SUSPENDED: frozenset({_S.SUCCEEDED, _S.FAILED}),
    _S.SUCCEEDED: frozenset({_S.REVERSED}),
    _S.FAILED: frozenset(),
    _S.REVERSED: frozenset(),
})
#: States in which the gateway's final word is still awaited.
OPEN_STATUSES = frozenset({_S.CREATED, _S.PENDING})


def move_order(current: str, target: OrderStatus) -> OrderStatus:
    status = OrderStatus(current)
    if target not in ORDER_TRANSITIONS[status]:
        raise Conflict(
            f"a payment order cannot go from {status.value} to {target.value}",
            field="status", code="illegal_order_transition",
        )
    return target


class GatewayStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TxnType(StrEnum):
    """What a gateway transaction did, as the gateway's callbacks and statement name it."""

    DEPOSIT = "deposit"  # money in
    PAYOUT = "payout"  # a withdrawal paid out
    REFUND = "refund"  # money sent back to a payer

    @property
    def outflow(self) -> bool:
        return self is not TxnType.DEPOSIT

    def custody_effect(self, amount_fen: int) -> int:
        """Signed change to `custody:cash` when this type of transaction succeeds."""
        return -amount_fen if self.outflow else amount_fen


TXN_TYPE_OF_ORDER = MappingProxyType(
    {OrderKind.DEPOSIT: TxnType.DEPOSIT, OrderKind.WITHDRAWAL: TxnType.PAYOUT}
)


# --- whose wallet -----------------------------------------------------------------------------
def wallet_role(roles: list[str], requested: str | None) -> str:
    """The role whose wallet a payment uses: the one asked for, else investor, else the first
    role that has a wallet."""
    with_wallet = [r for r in roles if r in ROLE_WALLETS]
    if requested is not None:
        if not isinstance(requested, str):
            raise InvalidInput("role must be a role name, e.g. investor", field="role")
        if requested not in ROLE_WALLETS:
            raise InvalidInput(f"role {requested!r} has no wallet", field="role")
        if requested not in with_wallet:
            raise InvalidInput(f"you do not have the role {requested!r}", field="role")
        return requested
    if not with_wallet:
        raise InvalidInput("this account has no wallet (no investor, borrower, guarantor or "
                           "originator role)", field="role")
    return "investor" if "investor" in with_wallet else with_wallet[0]


def available(role: str, user_id: int) -> str:
    return wallet(OwnerKind(role), user_id).code


def frozen(role: str, user_id: int) -> str:
    return wallet(OwnerKind(role), user_id, "frozen").code


def parse_channel(value: str, kind: OrderKind) -> Channel:
    try:
        channel = Channel(value)
    except ValueError:
        raise InvalidInput(
            f"channel must be one of {', '.join(c.value for c in Channel)}", field="channel"
        ) from None
    if kind is OrderKind.WITHDRAWAL and channel not in WITHDRAWAL_CHANNELS:
        raise InvalidInput(
            "a withdrawal is paid out by "
            f"{' or '.join(sorted(c.value for c in WITHDRAWAL_CHANNELS))}", field="channel",
        )
    return channel


# --- withdrawal limits ------------------------------------------------------------------------
@dataclass(frozen=True)
class WithdrawalLimits:
    per_transaction: Money
    per_day: Money


class WithdrawalLimitExceeded(Conflict):
    code = "withdrawal_daily_limit"


def check_withdrawal(amount: Money, used_today: Money, limits: WithdrawalLimits) -> None:
    """Per-transaction limit (422: the amount itself is too large) and per-day limit (409: the
    amount is fine but today's earlier withdrawals leave too little room)."""
    if amount > limits.per_transaction:
        raise InvalidInput(
            f"amount must not exceed {limits.per_transaction} yuan per withdrawal "
            f"(per-transaction limit)", field="amount", code="withdrawal_transaction_limit",
        )
    if used_today + amount > limits.per_day:
        left = max(limits.per_day - used_today, Money.zero())
        raise WithdrawalLimitExceeded(
            f"amount {amount} yuan would bring today's withdrawals to {used_today + amount} "
            f"yuan, above the daily limit of {limits.per_day} yuan ({left} yuan left today)",
            field="amount",
        )


# --- the entries each event posts ---------------------------------------------------------------
def deposit_received(wallet_code: str, fen: int, memo: str) -> EntryDraft:
    """Deposit succeeded: custody:cash ↑ (debit), the user's available wallet ↑ (credit)."""
    return EntryDraft("deposit_received", memo).transfer(CUSTODY, wallet_code, fen)


def received_into_suspense(fen: int, memo: str) -> EntryDraft:
    """Money came in that matches no order's amount: custody:cash ↑, suspense:gateway ↑."""
    return EntryDraft("deposit_suspended", memo).transfer(CUSTODY, SUSPENSE, fen)


def withdrawal_requested(role: str, user_id: int, fen: int, memo: str) -> EntryDraft:
    """Withdrawal asked for: available ↓ (debit), frozen ↑ (credit), until the gateway answers."""
    return EntryDraft("withdrawal_requested", memo).transfer(
        available(role, user_id), frozen(role, user_id), fen
    )


def withdrawal_paid(role: str, user_id: int, fen: int, memo: str) -> EntryDraft:
    """Gateway paid it out: frozen ↓ (debit), custody:cash ↓ (credit)."""
    return EntryDraft("withdrawal_paid", memo).transfer(frozen(role, user_id), CUSTODY, fen)


def withdrawal_released(role: str, user_id: int, fen: int, memo: str) -> EntryDraft:
    """Gateway declined it: frozen ↓ (debit), available ↑ (credit): the money is back."""
    return EntryDraft("withdrawal_released", memo).transfer(
        frozen(role, user_id), available(role, user_id), fen
    )


def paid_out_from_suspense(fen: int, memo: str) -> EntryDraft:
    """The gateway paid out an amount that differs from the order: suspense:gateway ↓ (debit,
    a claim to settle), custody:cash ↓ (credit). The user's frozen money stays frozen."""
    return EntryDraft("withdrawal_suspended", memo).transfer(SUSPENSE, CUSTODY, fen)


def suspense_to_wallet(wallet_code: str, fen: int, memo: str) -> EntryDraft:
    """Operator credits a suspended deposit: suspense:gateway ↓ (debit), wallet ↑ (credit)."""
    return EntryDraft("suspense_credited", memo).transfer(SUSPENSE, wallet_code, fen)


def suspense_refunded(fen: int, memo: str) -> EntryDraft:
    """Operator refunds suspended money through the gateway: suspense ↓, custody:cash ↓."""
    return EntryDraft("suspense_refunded", memo).transfer(SUSPENSE, CUSTODY, fen)


def suspended_withdrawal_settled(
    role: str, user_id: int, ordered_fen: int, paid_fen: int, memo: str
) -> EntryDraft:
    """Operator settles a withdrawal paid with another amount: frozen ↓ by the ordered amount,
    suspense:gateway ↑ by the paid amount, and the difference back to (or, if the gateway paid
    more, out of) the user's available wallet."""
    draft = EntryDraft("suspended_withdrawal_settled", memo)
    draft.debit(frozen(role, user_id), ordered_fen).credit(SUSPENSE, paid_fen)
    difference = ordered_fen - paid_fen
    if difference:
        draft.credit(available(role, user_id), difference)
    return draft


def custody_adjusted(counter: str, delta_fen: int, kind: str, memo: str) -> EntryDraft:
    """Bring custody:cash in line with the gateway by `delta_fen` (signed) against `counter`
    (a wallet or suspense:gateway): delta > 0 debits custody and credits the counter account;
    delta < 0 does the reverse."""
    draft = EntryDraft(kind, memo)
    if delta_fen > 0:
        return draft.transfer(CUSTODY, counter, delta_fen)
    return draft.transfer(counter, CUSTODY, -delta_fen)


def custody_swept(delta_fen: int, memo: str) -> EntryDraft:
    """Separate the platform's money from custody: delta > 0 means custody holds more than
    users are owed, so the excess goes to platform:cash; delta < 0 means the platform tops up
    custody from its own cash."""
    draft = EntryDraft("custody_swept", memo)
    if delta_fen > 0:
        return draft.transfer(PLATFORM_CASH, CUSTODY, delta_fen)
    return draft.transfer(CUSTODY, PLATFORM_CASH, -delta_fen)


# --- exceptions an operator resolves ----------------------------------------------------------
class ExceptionKind(StrEnum):
    CALLBACK_AMOUNT = "callback_amount_mismatch"  # a callback's amount differs from its order
    MISSING_IN_LEDGER = "missing_in_ledger"  # on the statement, not in the ledger
    MISSING_AT_GATEWAY = "missing_at_gateway"  # in the ledger, not on the statement
    AMOUNT_MISMATCH = "amount_mismatch"  # both, with different amounts
    CUSTODY_MISMATCH = "custody_mismatch"  # custody:cash ≠ wallets + suspense


#: How each kind may be resolved; every action posts through the ledger.
RESOLUTIONS = MappingProxyType({
    ExceptionKind.CALLBACK_AMOUNT: frozenset({"credit_wallet", "refund", "settle"}),
    ExceptionKind.MISSING_IN_LEDGER: frozenset({"apply"}),
    ExceptionKind.MISSING_AT_GATEWAY: frozenset({"reverse"}),
    ExceptionKind.AMOUNT_MISMATCH: frozenset({"adjust"}),
    ExceptionKind.CUSTODY_MISMATCH: frozenset({"sweep"}),
})


def check_resolution(kind: str, action: str, reason: str) -> str:
    allowed = RESOLUTIONS[ExceptionKind(kind)]
    if not isinstance(action, str) or action not in allowed:
        raise InvalidInput(
            f"a {kind} exception is resolved by {' or '.join(sorted(allowed))}", field="action"
        )
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) < 4:
        raise InvalidInput("say why: a reason of at least 4 characters is required",
                           field="reason")
    return reason[:500]
