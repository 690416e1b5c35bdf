"""The operator console (operators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.services.listings import queries as listing_queries
from biaodi.web.pages import OperatorUser, platform_of, render

router = APIRouter(prefix="/operator")


@router.get("")
def console(request: Request, _op: OperatorUser) -> Response:
    platform = platform_of(request)
    f = listing_queries.ListingFilter(statuses=("submitted",), sort="published_at",
                                      page_size=50)
    with platform.reader() as uow:
        queue = listing_queries.browse(uow, f, platform.listing_rules)
    return render(request, "operator/console.html", {"queue": queue})
