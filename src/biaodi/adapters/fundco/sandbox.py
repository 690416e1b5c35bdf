"""A sandbox money-market fund company of our own: the stand-in for the real transfer agent,
speaking the fund-sales protocol. Like the sandbox gateway it keeps its own state in memory and
applies the fund's own rules (15:00 cut-off, T+1 on the working-day calendar, income from its
published 万份收益 accrued per holder at full precision and credited rounded), so that its
statement is an independent record to reconcile against. Tests can publish 万份收益 for given
days, plant discrepancies (`adjust`), take the fund down for the next calls (`down`) or let it
take orders and lose its answers (`lose_replies`). Orders are idempotent on their order_no and
accounts on the holder's reference, as the protocol asks.

With `state_file` (setting `BIAODI_FUND_SANDBOX_STATE`) the register lives in a JSON file
instead, read and written under an exclusive file lock for each call, so that the server and
`biaodi close-day` run in other processes see one fund company."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from biaodi.adapters.clock import CST
from biaodi.adapters.fundco.protocol import (
    Ack,
    Confirmation,
    FundOrder,
    FundRefused,
    FundUnavailable,
    HoldingLine,
)
from biaodi.domain.funds.wallet import daily_income_exact, post_income, trade_dates
from biaodi.domain.shared.calendar import CN_CALENDAR, WorkingDayCalendar


@dataclass
class _Holder:
    units: int = 0
    redeeming: int = 0
    income_exact: Decimal = Decimal(0)
    income_posted: int = 0


@dataclass
class _Pending:
    order: FundOrder
    confirm_date: date


@dataclass
class SandboxFundCompany:
    fund_code: str = "SBX001"
    fund_name: str = "标的沙箱货币市场基金"
    calendar: WorkingDayCalendar = CN_CALENDAR
    #: Published 万份收益 by day; a day without one pays `default_per_10k`.
    published: dict[date, Decimal] = field(default_factory=dict)
    default_per_10k: Decimal = Decimal("0.6000")
    holders: dict[str, _Holder] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    confirmed: list[Confirmation] = field(default_factory=list)
    #: The register has been brought up to the end of this day.
    through: date | None = None
    next_no: int = 1
    #: Acknowledgements by order_no, and accounts by holder reference (idempotency).
    acks: dict[str, Ack] = field(default_factory=dict)
    accounts_by_ref: dict[str, str] = field(default_factory=dict)
    #: Testing aids: the next `down` calls fail unseen; the next `lose_replies` orders are
    #: taken but their answer is lost. Both raise FundUnavailable.
    down: int = 0
    lose_replies: int = 0
    state_file: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- state, in memory or in a locked JSON file ------------------------------------------
    @contextmanager
    def _session(self, *, write: bool = True) -> Iterator[None]:
        with self._lock:
            if self.state_file is None:
                yield
                return
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            with open(f"{self.state_file}.lock", "a+") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    self._load()
                    yield
                    if write:
                        self._save()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> None:
        assert self.state_file is not None
        if not self.state_file.exists():
            return
        raw = json.loads(self.state_file.read_text())
        self.through = date.fromisoformat(raw["through"]) if raw["through"] else None
        self.next_no = raw["next_no"]
        self.published = {date.fromisoformat(d): Decimal(r) for d, r in raw["published"].items()}
        self.holders = {no: _Holder(h[0], h[1], Decimal(h[2]), h[3])
                        for no, h in raw["holders"].items()}
        self.pending = [_Pending(_order(p["order"]), date.fromisoformat(p["confirm_date"]))
                        for p in raw["pending"]]
        self.confirmed = [Confirmation(c[0], c[1], c[2], c[3], date.fromisoformat(c[4]))
                          for c in raw["confirmed"]]
        self.acks = {no: Ack(no, date.fromisoformat(a[0]), date.fromisoformat(a[1]))
                     for no, a in raw.get("acks", {}).items()}
        self.accounts_by_ref = dict(raw.get("accounts_by_ref", {}))

    def _save(self) -> None:
        assert self.state_file is not None
        raw = {
            "through": self.through.isoformat() if self.through else None,
            "next_no": self.next_no,
            "published": {d.isoformat(): str(r) for d, r in self.published.items()},
            "holders": {no: [h.units, h.redeeming, str(h.income_exact), h.income_posted]
                        for no, h in self.holders.items()},
            "pending": [{"order": _order_raw(p.order), "confirm_date": p.confirm_date.isoformat()}
                        for p in self.pending],
            "confirmed": [[c.order_no, c.account_no, c.kind, c.units_fen,
                           c.confirmed_on.isoformat()] for c in self.confirmed],
            "acks": {no: [a.trade_date.isoformat(), a.confirm_date.isoformat()]
                     for no, a in self.acks.items()},
            "accounts_by_ref": self.accounts_by_ref,
        }
        temporary = Path(f"{self.state_file}.tmp")
        temporary.write_text(json.dumps(raw))
        os.replace(temporary, self.state_file)

    # --- the protocol -----------------------------------------------------------------------
    def _reachable(self) -> None:
        if self.down > 0:
            self.down -= 1
            raise FundUnavailable(f"{self.fund_code}: the fund company is not answering")

    def open_account(self, holder_ref: str) -> str:
        self._reachable()
        with self._session():
            if holder_ref in self.accounts_by_ref:
                return self.accounts_by_ref[holder_ref]
            account_no = f"{self.fund_code}-{self.next_no:08d}"
            self.next_no += 1
            self.holders[account_no] = _Holder()
            self.accounts_by_ref[holder_ref] = account_no
            return account_no

    def place(self, order: FundOrder) -> Ack:
        self._reachable()
        with self._session():
            ack = self.acks.get(order.order_no) or self._take(order)
            self.acks[order.order_no] = ack
        if self.lose_replies > 0:
            self.lose_replies -= 1
            raise FundUnavailable(f"{self.fund_code}: no answer to order {order.order_no}")
        return ack

    def orders_taken(self) -> list[str]:
        """Sandbox control: the order numbers the fund has taken, each once, in order."""
        with self._session(write=False):
            return list(self.acks)

    def _take(self, order: FundOrder) -> Ack:
        holder = self.holders.get(order.account_no)
        if holder is None:
            raise FundRefused(f"no fund account {order.account_no}")
        if order.amount_fen <= 0:
            raise FundRefused("an order's amount must be positive")
        if self.through is None:  # the register starts the day before its first order
            self.through = order.received_at.astimezone(CST).date() - timedelta(days=1)
        if order.kind == "subscribe":
            dates = trade_dates(order.received_at.astimezone(CST), self.calendar)
            self.pending.append(_Pending(order, dates.confirm_date))
            return Ack(order.order_no, dates.trade_date, dates.confirm_date)
        if holder.units < order.amount_fen:
            raise FundRefused(f"account {order.account_no} holds {holder.units} fen of units,"
                              f" fewer than the {order.amount_fen} to redeem")
        holder.units -= order.amount_fen
        if order.kind == "instant_redeem":
            day = order.received_at.astimezone(CST).date()
            self.confirmed.append(Confirmation(order.order_no, order.account_no, order.kind,
                                               order.amount_fen, day))
            return Ack(order.order_no, day, day)
        holder.redeeming += order.amount_fen
        dates = trade_dates(order.received_at.astimezone(CST), self.calendar)
        self.pending.append(_Pending(order, dates.confirm_date))
        return Ack(order.order_no, dates.trade_date, dates.confirm_date)

    def publish(self, day: date, per_10k: Decimal) -> None:
        with self._session():
            self.published[day] = per_10k

    def per_10k_income(self, day: date) -> Decimal:
        with self._session(write=False):
            return self._rate(day)

    def _rate(self, day: date) -> Decimal:
        return self.published.get(day, self.default_per_10k)

    def _confirm_due(self, day: date) -> None:
        for item in [p for p in self.pending if p.confirm_date <= day]:
            self.pending.remove(item)
            holder = self.holders[item.order.account_no]
            if item.order.kind == "subscribe":
                holder.units += item.order.amount_fen
            else:
                holder.redeeming -= item.order.amount_fen
            self.confirmed.append(Confirmation(item.order.order_no, item.order.account_no,
                                               item.order.kind, item.order.amount_fen, day))

    def _close(self, day: date) -> None:
        """Bring the register to the end of `day`, day by day: confirm what falls due, then
        credit the day's income on the units held."""
        current = day if self.through is None else self.through + timedelta(days=1)
        while current <= day:
            self._confirm_due(current)
            rate = self._rate(current)
            for holder in self.holders.values():
                if holder.units <= 0:
                    continue
                holder.income_exact, fen = post_income(
                    holder.income_exact, holder.income_posted,
                    daily_income_exact(holder.units, rate))
                holder.units += fen
                holder.income_posted += fen
            self.through = current
            current += timedelta(days=1)

    def confirmations(self, day: date) -> list[Confirmation]:
        """Every confirmation up to `day` (the channel takes those it has not recorded)."""
        with self._session():
            if self.through is None or self.through < day - timedelta(days=1):
                self._close(day - timedelta(days=1))
            self._confirm_due(day)
            return [c for c in self.confirmed if c.confirmed_on <= day]

    def statement(self, day: date) -> list[HoldingLine]:
        with self._session():
            if self.through is None or self.through < day:
                self._close(day)
            return [HoldingLine(no, h.units, h.redeeming, h.income_posted)
                    for no, h in sorted(self.holders.items())]

    def adjust(self, account_no: str, units_fen: int) -> None:
        """Sandbox control: change an account's units behind the channel's back."""
        with self._session():
            self.holders[account_no].units += units_fen


def _order_raw(order: FundOrder) -> dict[str, Any]:
    return {"order_no": order.order_no, "account_no": order.account_no, "kind": order.kind,
            "amount_fen": order.amount_fen, "received_at": order.received_at.isoformat()}


def _order(raw: dict[str, Any]) -> FundOrder:
    return FundOrder(raw["order_no"], raw["account_no"], raw["kind"], raw["amount_fen"],
                     datetime.fromisoformat(raw["received_at"]))
