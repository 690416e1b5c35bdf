"""The kinds of message, their templates and default channels.

A template's fields are filled from the event's parameters; money comes as integer fen and is
shown as yuan with two decimals. Collection kinds (`instalment.due_soon`,
`instalment.overdue`) are made only from collection notices that the rules of conduct let
through (`services/servicing/collections.send_notices`), so they keep those rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class Kind:
    name: str
    #: (title, body) per language; fields in braces.
    zh: tuple[str, str]
    en: tuple[str, str]
    #: Channels besides the inbox that a user who chose nothing gets.
    defaults: frozenset[Channel] = frozenset({Channel.EMAIL, Channel.SMS})
    #: Collection messages: their channels follow the conduct rules' notices.
    collection: bool = False


def _k(name: str, zh: tuple[str, str], en: tuple[str, str], *,
       defaults: frozenset[Channel] = frozenset({Channel.EMAIL, Channel.SMS}),
       collection: bool = False) -> Kind:
    return Kind(name, zh, en, defaults, collection)


_EMAIL = frozenset({Channel.EMAIL})
KINDS: dict[str, Kind] = {k.name: k for k in (
    _k("deposit.succeeded", ("充值成功", "您的充值 {amount} 元已到账（订单 {order_no}）。"),
       ("Deposit received", "Your deposit of {amount} yuan has arrived (order {order_no}).")),
    _k("deposit.failed", ("充值失败", "您的充值 {amount} 元未成功（订单 {order_no}）：{reason}"),
       ("Deposit failed", "Your deposit of {amount} yuan did not go through (order {order_no}):"
        " {reason}")),
    _k("withdrawal.succeeded", ("提现成功", "您的提现 {amount} 元已汇出（订单 {order_no}）。"),
       ("Withdrawal paid", "Your withdrawal of {amount} yuan has been paid out"
        " (order {order_no}).")),
    _k("withdrawal.failed", ("提现失败", "您的提现 {amount} 元未成功，资金已退回账户（订单"
                             " {order_no}）：{reason}"),
       ("Withdrawal failed", "Your withdrawal of {amount} yuan did not go through and the money"
        " is back in your wallet (order {order_no}): {reason}")),
    _k("investment.frozen", ("投标成功", "您已投资「{title}」{amount} 元，资金已冻结，"
                                         "满标放款后开始计息。"),
       ("Investment placed", "You invested {amount} yuan in \"{title}\"; the money is frozen"
        " until the listing is funded."), defaults=_EMAIL),
    _k("listing.funded", ("标的已满标", "您的借款「{title}」已募满 {amount} 元。"),
       ("Listing fully funded", "Your listing \"{title}\" has raised its {amount} yuan.")),
    _k("investment.refunded", ("流标退款", "「{title}」募集失败，您的投资 {amount} 元已解冻退回。"),
       ("Listing failed, money returned", "\"{title}\" did not raise its amount; your"
        " {amount} yuan is released back to your wallet.")),
    _k("loan.disbursed", ("借款已放款", "您的借款「{title}」{amount} 元已放款到账户。"),
       ("Loan disbursed", "Your loan \"{title}\" of {amount} yuan has been paid into your"
        " wallet.")),
    _k("instalment.due_soon", ("还款提醒", "您的借款「{title}」有 {amount} 元将于 {due_date} 到期，"
                               "请确保账户余额充足。"),
       ("Repayment due soon", "{amount} yuan of your loan \"{title}\" falls due on {due_date};"
        " please keep enough in your wallet."), collection=True),
    _k("repayment.paid", ("还款成功", "您的借款「{title}」已还款 {amount} 元。"),
       ("Repayment received", "We received {amount} yuan towards your loan \"{title}\".")),
    _k("instalment.overdue", ("逾期提醒", "您的借款「{title}」已逾期 {days} 天，应还 {amount} 元，"
                              "请尽快还款。"),
       ("Repayment overdue", "Your loan \"{title}\" is {days} days overdue; {amount} yuan is"
        " owed. Please repay soon."), collection=True),
    _k("loan.compensated", ("担保代偿到账", "「{title}」的担保方已代偿 {amount} 元至您的账户。"),
       ("Guarantor compensation paid", "The guarantor of \"{title}\" has paid {amount} yuan"
        " into your wallet.")),
    _k("holding.sold", ("债权转让成交", "您持有的「{title}」债权已转让本金 {amount} 元，成交价"
                        " {price} 元。"),
       ("Holding sold", "You sold {amount} yuan of principal of \"{title}\" for {price}"
        " yuan.")),
    _k("security.code", ("验证码", "您的验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"),
       ("Your verification code", "Your code is {code}; it is valid for {minutes} minutes."
        " Do not share it.")),
)}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"unknown kind of message {name!r}", field="kind") from None


def channel_of(name: str) -> Channel:
    try:
        return Channel(name)
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        raise InvalidInput(f"channel must be one of {names}", field="channel") from None


def render(kind: Kind, language: str, params: dict[str, Any]) -> tuple[str, str]:
    """The title and body of a message in `language` (zh-CN unless en)."""
    title, body = kind.en if language == "en" else kind.zh
    fields = {k: (Money(v).formatted() if k in ("amount", "price") and isinstance(v, int) else v)
              for k, v in params.items()}
    return title.format(**fields), body.format(**fields)


def backoff_seconds(attempts: int, *, base: int = 30, cap: int = 3600) -> int:
    """Wait after the `attempts`-th failed try: 30 s, 60 s, 120 s … at most an hour."""
    return min(cap, base * 2 ** max(0, attempts - 1))
