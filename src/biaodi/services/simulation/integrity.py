"""The books after every simulated day: `ledger verify` holds, custody holds exactly what the
users' wallets say, and all money in the system is what came in through the gateway less what
went out, with the platform's income (the fees it took out of custody) accounted for:

    Δ custody:cash + Δ platform:cash = Σ deposits − Σ withdrawals + Σ disposal proceeds

(all since the run began; a pledged asset's sale brings the buyer's money into custody, its
proceeds less the sale's costs), where the deposits and withdrawals are both those the
simulator made and those the payment orders table records as settled; the two must agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.db.payment_tables import PaymentOrder
from biaodi.adapters.db.servicing_tables import CollateralDisposal
from biaodi.adapters.db.tables import Account
from biaodi.services.ledger import posting as ledger
from biaodi.services.simulation.ports import Market as Platform

WALLET_OWNERS = ("investor", "borrower", "originator", "guarantor")


@dataclass(frozen=True)
class Baseline:
    """The money figures when the run began (a live book's copy starts with its own)."""

    custody: int
    platform_cash: int
    deposits: int
    withdrawals: int
    disposals: int

    @classmethod
    def take(cls, platform: Platform) -> Baseline:
        with platform.reader() as uow:
            return cls(ledger.balance(uow, "custody:cash"), ledger.balance(uow, "platform:cash"),
                       *_settled(uow), _disposals(uow))


def _settled(uow: Any) -> tuple[int, int]:
    rows = dict(uow.s.execute(
        select(PaymentOrder.kind, func.coalesce(func.sum(PaymentOrder.settled_fen), 0))
        .where(PaymentOrder.status == "succeeded").group_by(PaymentOrder.kind)).all())
    return int(rows.get("deposit", 0)), int(rows.get("withdrawal", 0))


def _disposals(uow: Any) -> int:
    return int(uow.s.execute(select(func.coalesce(func.sum(
        CollateralDisposal.proceeds_fen - CollateralDisposal.costs_fen), 0)).where(
        CollateralDisposal.status == "settled")).scalar())


class Violation(Exception):
    """The books broke on a simulated day: the run stops there."""

    def __init__(self, day: date, problems: list[str], figures: Any = None):
        super().__init__(f"{day}: " + "; ".join(problems))
        self.day, self.problems, self.figures = day, problems, figures


def check(platform: Platform, base: Baseline, payments: Any) -> list[str]:
    problems: list[str] = []
    with platform.reader() as uow:
        verified = ledger.verify(uow)
        problems += [f"ledger verify: {p}" for p in verified.problems]
        custody = ledger.balance(uow, "custody:cash")
        platform_cash = ledger.balance(uow, "platform:cash")
        wallets = int(uow.s.execute(select(func.coalesce(func.sum(Account.balance), 0)).where(
            Account.owner_kind.in_(WALLET_OWNERS), Account.purpose != "subrogation")).scalar())
        deposits, withdrawals = _settled(uow)
        sold = _disposals(uow) - base.disposals
    if custody != wallets:
        problems.append(f"custody:cash holds {custody} fen but the users' wallets {wallets} fen")
    booked_in, booked_out = deposits - base.deposits, withdrawals - base.withdrawals
    if (booked_in, booked_out) != (payments.deposited, payments.withdrawn):
        problems.append(f"the gateway settled {payments.deposited} fen in and "
                        f"{payments.withdrawn} fen out, the payment orders say {booked_in} and "
                        f"{booked_out}")
    held = (custody - base.custody) + (platform_cash - base.platform_cash)
    if held != booked_in - booked_out + sold:
        problems.append(f"money not conserved: custody and platform cash moved by {held} fen, "
                        f"deposits less withdrawals are {booked_in - booked_out} fen and "
                        f"collateral sales brought in {sold} fen")
    return problems
