"""Fixtures for end-to-end payment tests: the sandbox gateway runs as a real separate process
(one per test session, a fresh merchant per test); the platform is served by a real uvicorn
server on the test's database, so the sandbox calls it back over HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from biaodi.adapters.clock import FixedClock
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from payment_support import Live, SandboxControl, free_port, sandbox_process, serve


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(tmp_path_factory.mktemp("sandbox") / "sandbox.log") as url:
        yield url


@pytest.fixture
def live(platform: Platform, clock: FixedClock, sandbox_url: str) -> Iterator[Live]:
    control = SandboxControl(sandbox_url)
    control.new_merchant(clock.now())
    port = free_port()
    settings = platform.settings.model_copy(update={
        "gateway_url": sandbox_url,
        "gateway_merchant_id": control.merchant_id,
        "gateway_secret": control.secret,
        "public_base_url": f"http://127.0.0.1:{port}",
    })
    served = dataclasses.replace(platform, settings=settings)
    with serve(create_app(served), port) as base, httpx.Client(base_url=base, timeout=60) as http:
        env = Live(served, http, control, clock)
        yield env
        env.assert_balanced()  # every scenario leaves the books balanced
    control.close()
