"""Errors the domain and services raise; the edges translate them (HTTP status, CLI exit code).

Each error carries a stable machine code, a plain message and, where one input is to blame,
the name of the field.
"""

from __future__ import annotations


class BiaodiError(Exception):
    """Base of every business error."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidInput(BiaodiError):
    """Bad input: the named field breaks the stated rule (HTTP 422)."""

    code = "invalid_input"
    status = 422


class NotFound(BiaodiError):
    code = "not_found"
    status = 404


class Conflict(BiaodiError):
    """The request is well formed but the current state forbids it (HTTP 409)."""

    code = "conflict"
    status = 409


class Unauthorized(BiaodiError):
    code = "unauthorized"
    status = 401


class Forbidden(BiaodiError):
    code = "forbidden"
    status = 403


class InsufficientBalance(Conflict):
    code = "insufficient_balance"


class UnbalancedEntry(BiaodiError):
    """A journal entry whose postings do not sum to zero: a programming error, never stored."""

    code = "unbalanced_entry"
    status = 500


class IdempotencyConflict(BiaodiError):
    """The same idempotency key was used with a different request (HTTP 422)."""

    code = "idempotency_key_reused"
    status = 422


class TooManyRequests(BiaodiError):
    """A rate limit is reached (HTTP 429 with Retry-After): try again after `retry_after`
    seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after
