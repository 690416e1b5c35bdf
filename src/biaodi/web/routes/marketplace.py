"""The public marketplace: the listing board."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.services.listings import queries as listing_queries
from biaodi.web.pages import platform_of, render

router = APIRouter()


@router.get("/")
@router.get("/listings")
def board(request: Request) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        page = listing_queries.browse(uow, listing_queries.ListingFilter(),
                                      platform.listing_rules)
    return render(request, "marketplace/board.html", {"page": page})
