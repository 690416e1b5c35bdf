"""An investment through the API in one round trip (PostgreSQL).

`invest.invest` runs its steps as a few statements in the caller's transaction; here the same
steps run inside the database as one statement, `SELECT biaodi_invest(…)` (the function that
migration 0016 installs), in autocommit: the bearer token is checked there (revoked, expired,
account disabled), the idempotency record is looked up and written there, and a refusal comes
back with the facts it was decided on — so the error a user sees is built by the same domain
checks as on the step-by-step path (`invest.refusal`).

What Python adds around the statement: the listing's fixed terms (read once per process, then
cached), the refusal stored as the key's answer (its own short transaction, failure path only)
and, when this ticket took the last amount, the funding completed in a transaction of its own
(`funding.complete_funding`) — out of the racing statement, so that the hot row is held for
one ticket only. If that second transaction never runs (the process dies), the listing stays
published with nothing left and close of business completes it (`funding.due_for_closing`).

Tickets of one listing that queue up in this process go together as one statement,
`SELECT biaodi_invest_many(…)` (migration 0027; `group_commit.Batcher`): `ticket` builds a
ticket's parameters, the batcher sends it alone or with others, `answer` turns its result into
the request's answer — the same for either.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Engine, Integer, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from biaodi.adapters.crypto import token_digest
from biaodi.adapters.db import audit
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.investing.suitability import InvestorLevel
from biaodi.domain.shared.errors import IdempotencyConflict, NotFound, Unauthorized
from biaodi.domain.shared.money import Money
from biaodi.services.investing.funding import complete_sold_out
from biaodi.services.investing.group_commit import DEFAULT_BATCH_MAX, Batcher
from biaodi.services.investing.invest import (
    Terms,
    allowed_levels,
    cached_terms,
    placed_changes,
    refusal,
    terms_of,
)
from biaodi.services.investing.rules import InvestingRules
from biaodi.services.shared.idempotency import Answer, remember_refusal, request_hash
from biaodi.services.shared.tx import in_transaction

_CALL = text(
    "SELECT biaodi_invest(:token, :user, :listing, :amount, :key, :digest, :route, :source, "
    ":today, :now, :min_ticket, :step, :cap, :levels, :per_investment, :total, :audit, "
    ":request_id)"
).bindparams(
    bindparam("today", type_=Date), bindparam("now", type_=DateTime(timezone=True)),
    bindparam("levels", type_=ARRAY(Integer)),
    bindparam("per_investment", type_=ARRAY(BigInteger)),
    bindparam("total", type_=ARRAY(BigInteger)),
)

#: Several tickets of one listing (group commit, migration 0027): the per-ticket values as
#: arrays in arrival order, the listing's terms once.
_CALL_MANY = text(
    "SELECT biaodi_invest_many(:tokens, :listing, :amounts, :keys, :digests, :route, :sources, "
    ":todays, :nows, :min_ticket, :step, :cap, :levels, :per_investment, :total, :audits, "
    ":request_ids)"
).bindparams(
    bindparam("tokens", type_=ARRAY(Text)), bindparam("amounts", type_=ARRAY(BigInteger)),
    bindparam("keys", type_=ARRAY(Text)), bindparam("digests", type_=ARRAY(Text)),
    bindparam("sources", type_=ARRAY(Text)), bindparam("todays", type_=ARRAY(Date)),
    bindparam("nows", type_=ARRAY(DateTime(timezone=True))),
    bindparam("levels", type_=ARRAY(Integer)),
    bindparam("per_investment", type_=ARRAY(BigInteger)),
    bindparam("total", type_=ARRAY(BigInteger)),
    bindparam("audits", type_=ARRAY(Text)), bindparam("request_ids", type_=ARRAY(Text)),
)
#: The per-ticket parameters of `_CALL` and their array in `_CALL_MANY`.
_PER_TICKET = {"token": "tokens", "amount": "amounts", "key": "keys", "digest": "digests",
               "source": "sources", "today": "todays", "now": "nows", "audit": "audits",
               "request_id": "request_ids"}
_SHARED = ("listing", "route", "min_ticket", "step", "cap", "levels", "per_investment", "total")

_SAVE_ANSWER = text(
    "UPDATE idempotency_records SET response = CAST(:response AS json) "
    "WHERE scope = :scope AND key = :key")

_UNAUTHORIZED = {
    "invalid_token": "invalid or revoked token",
    "token_expired": "token expired: log in again",
    "account_disabled": "this account is disabled",
}
_RETRY_SQLSTATES = {"23505", "40001", "40P01"}  # a same-key race, serialization, deadlock


def available(engine: Engine) -> bool:
    """Whether the database behind `engine` has the function (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


def route(listing_id: int) -> str:
    """The idempotency scope's route part; the scope is `user:<id>:<route>`."""
    return f"POST /listings/{listing_id}/investments"


@dataclass(frozen=True)
class Ticket:
    """One investment ready to send: the statement's parameters and what its answer needs."""

    listing_id: int
    amount: Money
    key: str
    digest: str
    terms: Terms
    today: date
    params: dict[str, Any]
    engine: Engine


def invest(uow_factory: Callable[[], UnitOfWork], *, token: str, listing_id: int,
           amount: Money, key: str, payload: Any, rules: InvestingRules,
           source: str = "manual", batch_max: int = DEFAULT_BATCH_MAX) -> Answer | None:
    """Invest for the holder of the token; the answer (201, a replay, or a stored refusal).
    None: this listing's type settles each subscription at once (流转标) — use the
    step-by-step path. Raises Unauthorized for a bad token, IdempotencyConflict for a key
    reused with another request. Tickets for the same listing that queue up in this process
    go together, up to `batch_max` in one statement (`group_commit`; 1: each alone)."""
    made = ticket(uow_factory, token=token, listing_id=listing_id, amount=amount, key=key,
                  payload=payload, rules=rules, source=source)
    if made is None:
        return None
    if batch_max > 1:
        result = batcher(made.engine, batch_max).submit(listing_id, made.params)
    else:
        result = _call(made.engine, made.params)
    return answer(uow_factory, made, result, rules)


def ticket(uow_factory: Callable[[], UnitOfWork], *, token: str, listing_id: int,
           amount: Money, key: str, payload: Any, rules: InvestingRules,
           source: str = "manual") -> Ticket | None:
    """The investment's statement parameters (None for a 流转标: the step-by-step path)."""
    probe = uow_factory()  # not entered: its engine and clock
    clock = probe.clock
    terms = _terms(uow_factory, probe.engine, listing_id, rules)
    if terms is None:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    if terms.settles_on_subscription:
        return None
    digest = request_hash(payload)
    limits = rules.level_limits
    now = clock.now()  # the investment's time and its audit record's, the same instant
    today = clock.today()
    params = {
        "token": token_digest(token), "user": None, "listing": listing_id, "amount": amount.fen,
        "key": key, "digest": digest, "route": route(listing_id), "source": source,
        "today": today, "now": now, "min_ticket": terms.min_ticket_fen,
        "step": terms.step_fen, "cap": terms.cap_fen, "levels": allowed_levels(terms.risk),
        "per_investment": [_fen(limits[level].per_investment) for level in InvestorLevel],
        "total": [_fen(limits[level].total_outstanding) for level in InvestorLevel],
    }
    params["audit"], params["request_id"] = _audit_payload(listing_id, amount, now, today)
    return Ticket(listing_id, amount, key, digest, terms, today, params, probe.engine)


def send_together(engine: Engine, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    """Several tickets of one listing as one statement (what group commit sends), their
    results in order. No two may have the same key (`group_commit.next_batch`)."""
    keys = [made.key for made in tickets]
    if len(set(keys)) != len(keys):
        raise ValueError("two tickets with the same key in one batch")
    return _call_many(engine, [made.params for made in tickets])


def answer(uow_factory: Callable[[], UnitOfWork], made: Ticket, result: dict[str, Any],
           rules: InvestingRules) -> Answer:
    """The ticket's answer from what the statement returned."""
    listing_id, key = made.listing_id, made.key
    user_id = result.get("user_id")
    scope = f"user:{user_id}:{route(listing_id)}"
    if result.get("replayed"):
        return Answer(int(result["status_code"]), result["body"], replayed=True)
    code = result.get("refused")
    if code in _UNAUTHORIZED:
        raise Unauthorized(_UNAUTHORIZED[code], code=code)
    if code == "idempotency_conflict":
        raise IdempotencyConflict("this Idempotency-Key was already used with a different "
                                  "request", field="Idempotency-Key")
    if code == "open" and result.get("status") == "published" and not result.get("remaining"):
        # sold out but never completed (the process stopped after the last ticket): now
        in_transaction(uow_factory, lambda uow: complete_sold_out(uow, listing_id, rules))
    if code is not None:
        error = refusal(code, result, made.terms, made.amount, made.today, rules)
        return remember_refusal(uow_factory, scope=scope, key=key, digest=made.digest,
                                refusal=error)
    body = dict(result["body"])
    if int(result["remaining"]) == 0:
        body["listing_status"] = in_transaction(
            uow_factory, lambda uow: _complete(uow, listing_id, rules, scope, key, body))
    return Answer(int(result["status_code"]), body)


#: The numbers only the statement knows, left in the audit payload for it to fill in.
_PLACEHOLDERS = ("USER", "INVESTMENT", "ENTRY", "REMAINING")


def _audit_payload(listing_id: int, amount: Money, now: datetime,
                   today: date) -> tuple[str, str | None]:
    """The audit record the statement writes (`adapters/db/audit.py`'s canonical payload):
    the investor as actor, this request's id, one `investment.placed` event — the same event
    `invest.invest` notes on the step-by-step path."""
    request_id = audit.current().request_id
    event = audit.Event("investment.placed", (("listing", listing_id), ("user", "@@USER@@")),
                        placed_changes(amount, "@@INVESTMENT@@", "@@ENTRY@@", "@@REMAINING@@",
                                       "frozen"))
    payload = audit.payload_of(audit.AuditContext("user", "@@USER@@", request_id),  # type: ignore[arg-type]
                               now, today, [event])
    for name in _PLACEHOLDERS:
        payload = payload.replace(f'"@@{name}@@"', f"@@{name}@@")
    return payload, request_id


def _terms(uow_factory: Callable[[], UnitOfWork], engine: Engine, listing_id: int,
           rules: InvestingRules) -> Terms | None:
    cached = cached_terms(engine, listing_id)
    if cached is not None:
        return cached
    with uow_factory() as uow:  # a read on the first investment in a listing only
        return terms_of(uow, listing_id, rules)


_autocommit: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_batchers: weakref.WeakKeyDictionary[Engine, Batcher] = weakref.WeakKeyDictionary()


def batcher(engine: Engine, batch_max: int = DEFAULT_BATCH_MAX) -> Batcher:
    """This process's group commit for the database behind `engine`."""
    found = _batchers.get(engine)
    if found is None:
        found = _batchers.setdefault(engine, Batcher(
            lambda params: _call(engine, params),
            lambda tickets: _call_many(engine, tickets), batch_max,
            key_of=lambda params: params["key"]))
    found.batch_max = batch_max
    return found


def _call(engine: Engine, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(_execute(engine, _CALL, params))
    except _Refused as refused:
        return refused.facts


def _call_many(engine: Engine, tickets: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    params = {name: tickets[0][name] for name in _SHARED}
    params |= {array: [ticket[name] for ticket in tickets]
               for name, array in _PER_TICKET.items()}
    return [dict(one) for one in _execute(engine, _CALL_MANY, params)]


class _Refused(Exception):
    """A refusal found after the statement wrote (`biaodi <code>`, SQLSTATE P0001)."""

    def __init__(self, facts: dict[str, Any]) -> None:
        super().__init__(facts.get("refused"))
        self.facts = facts


def _execute(engine: Engine, statement: Any, params: dict[str, Any]) -> Any:
    """The statement's one value, in autocommit, retried on a same-key race, a serialization
    failure or a deadlock."""
    if engine not in _autocommit:
        _autocommit[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    engine = _autocommit[engine]
    for attempt in range(5):
        try:
            with engine.connect() as conn:
                return conn.execute(statement, params).scalar_one()
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            diag = getattr(exc.orig, "diag", None)
            message = str(getattr(diag, "message_primary", "") or "")
            if state == "P0001" and message.startswith("biaodi "):
                facts = json.loads(getattr(diag, "message_detail", None) or "{}")
                raise _Refused({"refused": message.removeprefix("biaodi ")} | facts) from None
            if state not in _RETRY_SQLSTATES or attempt == 4:
                raise
    raise AssertionError("unreachable")


def _complete(uow: UnitOfWork, listing_id: int, rules: InvestingRules, scope: str, key: str,
              body: dict[str, Any]) -> str:
    """The last ticket was taken: complete the funding (if nobody has yet) and keep the
    listing's status in the key's stored answer, as the step-by-step path answers."""
    listing = complete_sold_out(uow, listing_id, rules)
    uow.s.execute(_SAVE_ANSWER, {"response": json.dumps(body | {"listing_status":
                                                                listing.status}),
                                 "scope": scope, "key": key})
    return listing.status


def _fen(amount: Money | None) -> int | None:
    return None if amount is None else amount.fen
