"""The HTTP side of idempotency keys: run a money-moving request once per (scope, key) and
answer it — or replay the stored answer with `Idempotent-Replayed: true`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.bootstrap import Platform
from biaodi.services.shared.idempotency import Answer, Keyed, run_idempotent, run_keyed


def idempotent_response(platform: Platform, *, scope: str, key: str, payload: Any,
                        fn: Callable[[UnitOfWork], Answer]) -> JSONResponse:
    return _response(run_idempotent(platform.uow, scope=scope, key=key, payload=payload,
                                    fn=fn))


def keyed_response(platform: Platform, *, scope: str, key: str, payload: Any,
                   fn: Callable[[UnitOfWork, Keyed], Answer]) -> JSONResponse:
    """`idempotent_response` for a use case that writes its answer itself (`run_keyed`)."""
    return _response(run_keyed(platform.uow, scope=scope, key=key, payload=payload, fn=fn))


def _response(answer: Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, answer.status_code, headers)
