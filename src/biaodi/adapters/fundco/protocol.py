"""The fund-sales protocol (基金销售): what a sales channel sends a fund company and what comes
back. The fund company's transfer agent keeps the register of units; the platform only places
orders, takes confirmations and checks its records against the fund's daily statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol

OrderKind = Literal["subscribe", "redeem", "instant_redeem"]


@dataclass(frozen=True)
class FundOrder:
    order_no: str
    account_no: str
    kind: OrderKind
    amount_fen: int  # money for a subscription, units (¥1 each) for a redemption
    received_at: datetime


@dataclass(frozen=True)
class Ack:
    """The fund took the order: it trades on `trade_date` and is confirmed on `confirm_date`
    (an instant redemption is paid at once: both are the day it came in)."""

    order_no: str
    trade_date: date
    confirm_date: date


@dataclass(frozen=True)
class Confirmation:
    order_no: str
    account_no: str
    kind: OrderKind
    units_fen: int
    confirmed_on: date


@dataclass(frozen=True)
class HoldingLine:
    """One account on the fund's statement at the end of a day."""

    account_no: str
    units_fen: int  # confirmed units, income included
    redeeming_fen: int  # units of ordinary redemptions not yet paid
    income_fen: int  # income credited so far


class FundRefused(Exception):
    """The fund company refused an order (unknown account, not enough units, …)."""


class FundUnavailable(Exception):
    """The fund company could not be reached or did not answer. The order may or may not have
    arrived: send it again with the same order_no (placing is idempotent on it)."""


class FundCompany(Protocol):
    fund_code: str
    fund_name: str

    def open_account(self, holder_ref: str) -> str:
        """The holder's account number; the same holder_ref always gets the same account."""
        ...

    def place(self, order: FundOrder) -> Ack:
        """Take an order; an order_no already taken answers its first acknowledgement again
        and changes nothing. Raises FundRefused or FundUnavailable."""
        ...

    def confirmations(self, day: date) -> list[Confirmation]: ...

    def per_10k_income(self, day: date) -> Decimal: ...

    def statement(self, day: date) -> list[HoldingLine]: ...
