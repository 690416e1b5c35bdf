from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.shared.tx import in_transaction
from factories import identity
from test_support import login


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


@pytest.fixture
def operator_headers(client: TestClient, platform: Platform) -> dict[str, str]:
    """An operator who also holds `risk_override`, so that set-up (`walk_to`) can approve
    listings whose applicant has no risk decision; the decision rule itself is tested with
    plain operators."""
    data = identity()
    cmd = users.Register(**data, roles=("operator", "risk_override"))
    in_transaction(platform.uow, lambda uow: users.create_staff(uow, cmd, platform.cipher))
    return login(client, data["username"])
