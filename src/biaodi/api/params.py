"""Request bodies: a field a body does not define, or a NUL character in a text field, is
refused with 422 naming the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class RequestBody(BaseModel):
    """A request body: a field it does not define is refused, naming the field (a misspelt
    `reserve` for `cash_reserve` used to be dropped without a word)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL text cannot hold a NUL character: refuse it here, naming the field."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value
