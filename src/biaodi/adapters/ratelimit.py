"""Rate limits on sign-in, sign-up, investing and payments, counted in a moving window by the
`limits` library: in this process's memory by default, or in Redis shared by several workers
(`BIAODI_RATE_LIMIT_STORAGE=redis://…`)."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, parse, storage, strategies

from biaodi.domain.shared.errors import TooManyRequests

#: What each limit covers, for the refusal's sentence.
COVERS = {"login": "sign-in attempts", "signup": "registrations", "invest": "investments",
          "payment": "deposits and withdrawals"}


def address_key(client: Any) -> str:
    """The key of a caller's address (a request's `client`: uvicorn puts a trusted proxy's
    X-Forwarded-For there)."""
    host = getattr(client, "host", None)
    return f"addr:{host or 'unknown'}"


class RateLimiter:
    def __init__(self, rules: Mapping[str, str], storage_uri: str = "memory://",
                 enabled: bool = True) -> None:
        self.rules: dict[str, RateLimitItem] = {kind: parse(text) for kind, text in rules.items()}
        self.enabled = enabled
        self._window = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def hit(self, kind: str, *keys: str) -> None:
        """Count one `kind` request for each key (an address, a user); refuse (429) when any
        key is over its limit. Nothing is counted for a key after the first refusal."""
        if not self.enabled:
            return
        rule = self.rules[kind]
        for key in keys:
            if not self._window.hit(rule, kind, key):
                reset = self._window.get_window_stats(rule, kind, key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise TooManyRequests(
                    f"too many {COVERS.get(kind, kind)}: at most {rule.amount} per "
                    f"{rule.get_expiry()} s; try again in {wait} s", retry_after=wait)
