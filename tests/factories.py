"""Test data: valid real-name identities and registered users."""

from __future__ import annotations

import itertools
from datetime import date

from biaodi.domain.accounts.identity import make_resident_id

_counter = itertools.count(1)


def identity(n: int | None = None, birth: date = date(1990, 5, 17)) -> dict[str, str]:
    n = next(_counter) if n is None else n
    return {
        "username": f"user{n:05d}",
        "password": "passw0rd-ok",
        "real_name": "张三",
        "id_number": make_resident_id("110101", birth.replace(day=1 + n % 28), n % 1000),
        "mobile": f"138{n:08d}",
    }
