"""Many writers moving money at random must leave the books balanced and no wallet negative."""

from __future__ import annotations

import random
import threading
from collections import Counter

from sqlalchemy import text

from biaodi.bootstrap import Platform
from biaodi.domain.ledger.rules import EntryDraft, OwnerKind, wallet
from biaodi.domain.shared.errors import InsufficientBalance
from biaodi.services.ledger import posting as ledger
from biaodi.services.shared.tx import in_transaction

INVESTORS = 24
SEED = 20261128


def test_random_concurrent_transfers_keep_the_books_balanced(
    platform: Platform, backend: str
) -> None:
    workers, per_worker = (8, 375) if backend == "sqlite" else (32, 100)  # 3,000 / 3,200 moves
    codes = []
    for n in range(1, INVESTORS + 1):
        available, frozen = wallet(OwnerKind.INVESTOR, n), wallet(OwnerKind.INVESTOR, n, "frozen")
        codes.append((available.code, frozen.code))
    in_transaction(
        platform.uow,
        lambda uow: ledger.open_accounts(
            uow,
            [
                wallet(OwnerKind.INVESTOR, n, p)
                for n in range(1, INVESTORS + 1)
                for p in ("available", "frozen")
            ],
        ),
    )

    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        rng = random.Random(SEED + worker)
        for _ in range(per_worker):
            available, frozen = rng.choice(codes)
            other, _ = rng.choice(codes)
            fen = rng.randint(1, 50_000)
            action = rng.choice(["deposit", "withdraw", "freeze", "unfreeze", "pay", "pay"])
            draft = EntryDraft(action)
            if action == "deposit":
                draft.transfer("custody:cash", available, fen)
            elif action == "withdraw":
                draft.transfer(available, "custody:cash", fen)
            elif action == "freeze":
                draft.transfer(available, frozen, fen)
            elif action == "unfreeze":
                draft.transfer(frozen, available, fen)
            else:
                if other == available:
                    continue
                draft.transfer(available, other, fen)
            try:
                in_transaction(platform.uow, lambda uow, d=draft: ledger.post(uow, d))
                result = "posted"
            except InsufficientBalance:
                result = "refused"
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            with lock:
                outcomes[result] += 1

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors, errors[:3]
    assert outcomes["posted"] > 1_000 and outcomes["refused"] > 0
    with platform.uow() as uow:
        result = ledger.verify(uow)
        custody = ledger.balance(uow, "custody:cash")
        wallets = uow.s.execute(
            text("SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE owner_kind = 'investor'")
        ).scalar()
        negative = uow.s.execute(
            text("SELECT COUNT(*) FROM accounts WHERE non_negative AND balance < 0")
        ).scalar()
    assert result.balanced, result.problems
    assert result.entries == outcomes["posted"]
    assert negative == 0
    assert custody == wallets  # custody mirrors exactly what is owed to investors
