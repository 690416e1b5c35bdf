"""Secondary market (债权转让): offer a holding, browse and quote open sales, buy all or part,
cancel an offer, and an investor's own sales and purchases with realised gain or loss."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.adapters.db.uow import UnitOfWork
from biaodi.api.deps import CurrentUser, PlatformDep
from biaodi.api.idempotent import idempotent_response, keyed_response
from biaodi.api.params import YUAN_PATTERN, RequestBody, SignedPercent, Yuan, query_pattern
from biaodi.bootstrap import Platform
from biaodi.domain.shared.bounds import PageNo, PageSize, RowId
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.services.secondary import purchases, queries, sales
from biaodi.services.shared.idempotency import Answer, Keyed, check_key
from biaodi.services.shared.rates import parse_signed_percent
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["secondary market"])

MAX_PAGE_SIZE = 100


class OfferRequest(RequestBody):
    holding_id: RowId
    premium: SignedPercent = Field(default="0", examples=["1.5", "-2"],
                         description="percent above fair value; negative: a discount")
    principal: Yuan | None = Field(default=None, description="default: all outstanding")


class BuyRequest(RequestBody):
    principal: Yuan | None = Field(default=None, description="default: all that remains")
    max_price: Yuan | None = Field(default=None, description="refuse above this price")


def _money(value: str | None, field: str, platform: Platform) -> Money | None:
    if value is None:
        return None
    return Money.parse(value, field=field, ceiling_fen=platform.settings.money_ceiling_fen)


def _page(page: PageNo, page_size: PageSize) -> None:
    if page < 1:
        raise InvalidInput("page must be 1 or more", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be from 1 to {MAX_PAGE_SIZE}", field="page_size")


@router.post("/secondary/sales", status_code=201)
def offer(body: OfferRequest, platform: PlatformDep, user: CurrentUser,
          idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Offer all or part of a holding at a premium (or discount) to fair value. 409
    `holding_period`, `loan_overdue`, `repayment_day`, `not_transferable`, `already_offered`,
    `negative_yield`; 422 names the field (`premium` beyond the guardrails, `principal`)."""
    key = check_key(idempotency_key)

    def act(uow):  # type: ignore[no-untyped-def]
        cmd = sales.Offer(body.holding_id, user.id,
                          parse_signed_percent(body.premium, field="premium"),
                          _money(body.principal, "principal", platform))
        sale = sales.offer(uow, cmd, platform.secondary_rules)
        return Answer(201, queries.sale_view(sale))

    return idempotent_response(platform, scope=f"user:{user.id}:POST /secondary/sales",
                               key=key, payload=body.model_dump(), fn=act)


@router.get("/secondary/sales")
def browse(platform: PlatformDep, listing_id: RowId | None = None, page: PageNo = 1,
           page_size: PageSize = 20) -> dict[str, Any]:
    """Open sales, newest first, with today's price, fair value and the buyer's yield."""
    _page(page, page_size)
    with platform.reader() as uow:
        return queries.browse(uow, uow.clock.today(), platform.secondary_rules,
                              listing_id=listing_id, page=page, page_size=page_size)


@router.get("/secondary/sales/{sale_id}")
def sale_detail(sale_id: RowId, platform: PlatformDep,
                principal: Annotated[str | None, query_pattern(YUAN_PATTERN)] = None
                ) -> dict[str, Any]:
    """One sale; `today` quotes `principal` of it (default: all that remains)."""
    part = _money(principal or None, "principal", platform)  # empty: not given
    with platform.reader() as uow:
        return queries.detail(uow, sale_id, uow.clock.today(), platform.secondary_rules,
                              part.fen if part else None)


@router.post("/secondary/sales/{sale_id}/purchases", status_code=201)
def buy(sale_id: RowId, body: BuyRequest, platform: PlatformDep, user: CurrentUser,
        idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Buy all or part of an open sale at today's price. `Idempotency-Key` is required; a
    replay returns the first answer. 409 `sale_sold_out`, `sale_closed`, `own_sale`,
    `price_above_limit`, `insufficient_balance`, `loan_overdue`, `repayment_day`; 429 past the
    per-investor rate limit on investing."""
    key = check_key(idempotency_key)
    platform.rate_limiter.hit("invest", f"user:{user.id}")

    def view(made: purchases.Bought) -> Answer:
        return Answer(201, {"id": made.purchase_id, "sale_id": sale_id,
                            "holding_id": made.holding_id, **queries.quote_view(made.quote),
                            "sale_remaining": str(made.sale_remaining),
                            "sale_status": made.sale_status})

    def act(uow: UnitOfWork, keyed: Keyed) -> Answer:
        cmd = purchases.Buy(sale_id, user.id, _money(body.principal, "principal", platform),
                            _money(body.max_price, "max_price", platform))
        return purchases.buy_answering(uow, cmd, platform.secondary_rules, keyed, view)

    return keyed_response(platform, scope=f"user:{user.id}:POST /secondary/sales/"
                          f"{sale_id}/purchases", key=key, payload=body.model_dump(), fn=act)


@router.post("/secondary/sales/{sale_id}/cancel")
def cancel(sale_id: RowId, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """The seller withdraws what is not yet bought."""
    sale = in_transaction(platform.uow, lambda uow: sales.cancel(uow, sale_id, user.id))
    return queries.sale_view(sale)


@router.get("/me/secondary/sales")
def my_sales(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """My offers with each purchase: proceeds, interest realised, gain or loss."""
    with platform.reader() as uow:
        return queries.my_sales(uow, user.id)


@router.get("/me/secondary/purchases")
def my_purchases(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """What I bought: price, premium paid, cash received since, and the gain or loss once
    the holding is no longer held."""
    with platform.reader() as uow:
        return queries.my_purchases(uow, user.id)
