"""Malformed payment inputs (channel, wallet role, an exception's resolution) and contact
windows are refused naming the field, never a crash."""

from __future__ import annotations

from datetime import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.payments.orders import (
    Channel,
    ExceptionKind,
    OrderKind,
    check_resolution,
    parse_channel,
    wallet_role,
)
from biaodi.domain.servicing.conduct import ConductRules
from fuzz_support import anything, outcome, texts

FUZZ = settings(max_examples=120, deadline=None)
words = st.one_of(anything, texts, st.sampled_from([*(c.value for c in Channel), "investor",
                                                    "borrower", "admin", "credit_wallet"]))


@FUZZ
@given(words, st.sampled_from(list(OrderKind)))
@example(["pos"], OrderKind.DEPOSIT)
def test_channel_known_or_refused(value, kind):
    channel, refusal = outcome(lambda: parse_channel(value, kind))
    if refusal is not None:
        assert refusal.field == "channel"
    else:
        assert isinstance(channel, Channel)


@FUZZ
@given(st.lists(st.sampled_from(["investor", "borrower", "admin", "guarantor"]), max_size=3),
       st.one_of(st.none(), words))
@example(["investor"], ["investor"])
@example([], 10**4301)
def test_wallet_role_held_or_refused(roles, requested):
    role, refusal = outcome(lambda: wallet_role(roles, requested))
    if refusal is not None:
        assert refusal.field == "role"
    else:
        assert role in roles


@FUZZ
@given(st.sampled_from(list(ExceptionKind)), words, st.one_of(anything, texts))
@example(ExceptionKind.MISSING_AT_GATEWAY, ["reverse"], "the bank says so")
@example(ExceptionKind.MISSING_AT_GATEWAY, "reverse", None)
def test_resolution_allowed_with_a_reason_or_refused(kind, action, reason):
    kept, refusal = outcome(lambda: check_resolution(kind, action, reason))
    if refusal is not None:
        assert refusal.field in {"action", "reason"}
    else:
        assert 4 <= len(kept) <= 500


@FUZZ
@given(st.one_of(anything, texts, st.text(alphabet="0123456789:- ０", max_size=14)))
@example(None)
@example("08:00-21:00-22:00")
def test_contact_window_ordered_or_refused(text):
    window, refusal = outcome(lambda: ConductRules.parse_window(text))
    if refusal is not None:
        assert refusal.field == "contact_window"
    else:
        start, end = window
        assert isinstance(start, time) and start < end
