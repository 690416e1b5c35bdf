"""Request bodies: a field a body does not define, or a NUL character in a text field, is
refused with 422 naming the field."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator


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


def documented(**schema: Any) -> Any:
    """Says in the OpenAPI document what a text field must look like, while the check itself
    stays where it is (`Money.parse`, `parse_percent`, ...), with its own message."""
    return Field(json_schema_extra=schema)


#: An amount of yuan above zero, at most two decimals (`Money.parse`): "100", "0.5", "100.50".
YUAN_PATTERN = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,7}(\.[0-9]{1,2})?)$"
#: The same, zero allowed.
YUAN_OR_ZERO_PATTERN = r"^(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?$"
#: A percentage above 0 and below 100, at most four decimals (`parse_percent`): "12", "7.5".
PERCENT_PATTERN = r"^(0\.[0-9]{0,3}[1-9]|[1-9][0-9]?(\.[0-9]{1,4})?)$"
#: A percentage from -99.9999 to 99.9999, at most four decimals (`parse_signed_percent`).
SIGNED_PERCENT_PATTERN = r"^[+-]?(0|[1-9][0-9]?)(\.[0-9]{1,4})?$"

Yuan = Annotated[str, documented(pattern=YUAN_PATTERN)]
YuanOrZero = Annotated[str, documented(pattern=YUAN_OR_ZERO_PATTERN)]
Percent = Annotated[str, documented(pattern=PERCENT_PATTERN)]
SignedPercent = Annotated[str, documented(pattern=SIGNED_PERCENT_PATTERN)]


def one_of(*values: str) -> Any:
    """A text field or query parameter that takes one of `values` (checked by the service)."""
    return documented(enum=list(values))


def query_one_of(*values: str) -> Any:
    """A query parameter that takes one of `values` (checked by the service)."""
    return Query(json_schema_extra={"enum": list(values)})


#: A password of 8 to 128 characters with letters and digits (`users.check_password`).
Password = Annotated[str, documented(minLength=8, maxLength=128, pattern=(
    r"^[^\u0000]*([A-Za-z][^\u0000]*[0-9]|[0-9][^\u0000]*[A-Za-z])[^\u0000]*$"))]
#: A person's name of 2–32 characters: Chinese characters, letters, spaces, · . ' - (not at
#: either end: the service strips them).
PersonName = Annotated[str, documented(
    pattern="^[\u4e00-\u9fff·A-Za-z.'-][\u4e00-\u9fff·A-Za-z .'-]{0,30}[\u4e00-\u9fff·A-Za-z.'-]$")]
#: A mainland mobile number: 11 digits starting 13–19 (`parse_mobile`).
Mobile = Annotated[str, documented(pattern=r"^1[3-9][0-9]{9}$")]
#: 3–32 characters: a letter, then letters, digits or _ (kept in lower case).
Username = Annotated[str, documented(pattern=r"^[A-Za-z][A-Za-z0-9_]{2,31}$")]
#: Text with something in it besides spaces (the service strips it and refuses it empty).
NonBlank = Annotated[str, documented(pattern=r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
#: A reason of at least 4 characters once stripped: two characters that are not spaces, at
#: least three apart.
Reason = Annotated[str, documented(
    pattern=r"^[^\u0000]*[^\s\u0000][^\u0000]{2,}[^\s\u0000][^\u0000]*$", minLength=4)]


def query_pattern(pattern: str) -> Any:
    """An optional query parameter of text matching `pattern` (empty: not given)."""
    return Query(json_schema_extra={"pattern": f"^$|{pattern}"})
