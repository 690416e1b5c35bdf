"""The public marketplace: the listing board with its filters, a listing's page, and the tiny
JSON its funding bar polls while others invest."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from biaodi.domain.shared.bounds import PageNo, RowId
from biaodi.domain.shared.errors import InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.listings import queries as listing_queries
from biaodi.web import i18n
from biaodi.web.pages import current_user, platform_of, render
from biaodi.web.routes import disclosure

router = APIRouter()
KINDS = ("credit", "collateral", "guarantee", "transfer", "instant")
ASSET_CLASSES = ("house", "car", "art", "other")
GRADES = ("A", "B", "C", "D", "E", "HR")
PAGE_SIZE = 12
FILTER_FIELDS = ("kind", "collateral_class", "min_rate", "max_rate", "term_unit", "max_term",
                 "grade", "min_remaining", "status", "sort")
SORTS = ("-published_at", "-rate", "rate", "term", "-remaining")


def _filter(params: dict[str, str], page: PageNo) -> tuple[listing_queries.ListingFilter,
                                                        dict[str, str]]:
    """The board's query string as a ListingFilter; bad values come back as errors by field
    (the filter then ignores them)."""
    errors: dict[str, str] = {}
    args: dict[str, Any] = {"page": max(page, 1), "page_size": PAGE_SIZE}
    if params.get("kind") in KINDS:
        args["kinds"] = (params["kind"],)
    if params.get("collateral_class") in ASSET_CLASSES:
        args["collateral_class"] = params["collateral_class"]
    if params.get("grade") in GRADES:
        args["grades"] = (params["grade"],)
    if params.get("term_unit") in ("month", "day"):
        args["term_unit"] = params["term_unit"]
    if params.get("status") == "all":
        args["statuses"] = listing_queries.PUBLIC_STATUSES
    if params.get("sort") in SORTS:
        args["sort"] = params["sort"]
    for name in ("min_rate", "max_rate"):
        if params.get(name):
            try:
                value = Decimal(params[name])
                if not value.is_finite() or not 0 <= value <= 100:
                    raise InvalidOperation
                args[name] = value
            except InvalidOperation:
                errors[name] = "0–100"
    if params.get("max_term"):
        if params["max_term"].isdigit() and 0 < int(params["max_term"]) <= 10_000:
            args["max_term"] = int(params["max_term"])
        else:
            errors["max_term"] = "1–10000"
    if params.get("min_remaining"):
        try:
            args["min_remaining"] = Money.parse(params["min_remaining"], field="min_remaining",
                                                allow_zero=True)
        except InvalidInput:
            errors["min_remaining"] = "0.00"
    return listing_queries.ListingFilter(**args), errors


def protection(item: dict[str, Any], lang: str) -> dict[str, str]:
    """One plain sentence on what protects the investor, by listing type."""
    facts = item.get("security_brief") or {}
    zh = lang == "zh-CN"
    kind = item["kind"]
    if kind == "collateral":
        ltv = facts.get("loan_to_value", "–")
        assets = ("、" if zh else ", ").join(
            i18n.translate(lang, f"asset.{c}") for c in item["collateral_classes"])
        text = (f"以{assets}抵押，抵押率 {ltv}；逾期可处置抵押物还款。" if zh else
                f"Secured by {assets} at a loan-to-value of {ltv}; the collateral can be sold if"
                " the loan defaults.")
        return {"tone": "ok", "text": text}
    if kind == "guarantee":
        name = facts.get("guarantor_name", "–")
        left = i18n.money(facts.get("guarantor_remaining"))
        text = (f"由{name}担保本息，担保方剩余担保额度 ¥{left}。" if zh else
                f"{name} guarantees principal and interest; it has ¥{left} of guarantee capacity"
                " left.")
        return {"tone": "ok", "text": text}
    if kind == "transfer":
        cover = facts.get("buyback_coverage", "–")
        text = (f"原债权人承诺到期回购；回购准备金覆盖其回购责任的 {cover}。" if zh else
                f"The originator promises to buy the claim back; its reserve covers {cover} of"
                " its buy-back promises.")
        return {"tone": "warn", "text": text}
    if kind == "instant":
        return {"tone": "danger", "text": i18n.translate(lang, "protection.instant")}
    return {"tone": "warn", "text": i18n.translate(lang, "protection.credit")}


@router.get("/")
@router.get("/listings")
def board(request: Request, page: PageNo = 1) -> Response:
    params = {k: request.query_params.get(k, "").strip()[:40] for k in FILTER_FIELDS}
    f, errors = _filter(params, page)
    platform = platform_of(request)
    with platform.reader() as uow:
        result = listing_queries.browse(uow, f, platform.listing_rules)
    lang = i18n.language_of(request)
    items = [item | {"protection": protection(item, lang)} for item in result.items]
    pages = max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    kept = {k: v for k, v in params.items() if v and k not in errors}

    def page_link(number: int) -> str:
        return "/listings?" + urlencode(kept | {"page": number})

    return render(request, "marketplace/board.html", {
        "items": items, "total": result.total, "page": f.page, "pages": pages,
        "page_link": page_link, "params": params, "errors": errors, "kinds": KINDS,
        "asset_classes": ASSET_CLASSES, "grades": GRADES, "sorts": SORTS,
    })


def _detail(request: Request, listing_id: RowId) -> dict[str, Any] | None:
    platform = platform_of(request)
    user = current_user(request)
    try:
        with platform.reader() as uow:
            return listing_queries.detail(
                uow, listing_id, platform.listing_rules,
                viewer_id=user.id if user else None,
                staff=bool(user and "operator" in user.roles))
    except NotFound:
        return None


@router.get("/listings/{listing_id}")
def listing_page(request: Request, listing_id: RowId) -> Response:
    listing = _detail(request, listing_id)
    if listing is None:
        return render(request, "error.html", {"title_key": "error.not_found.title",
                                              "text_key": "error.not_found.text",
                                              "values": {}}, 404)
    lang = i18n.language_of(request)
    return render(request, "marketplace/listing.html", {
        "item": listing, "protection": protection(listing, lang),
        "disclosure": disclosure.for_listing(request, listing_id),
        "poll_ms": platform_of(request).settings.web_progress_poll_ms})


@router.get("/listings/{listing_id}/progress.json")
def progress(request: Request, listing_id: RowId) -> Response:
    """What the funding bar shows, polled by the listing page every few seconds."""
    platform = platform_of(request)
    try:
        with platform.reader() as uow:
            found = listing_queries.funding_progress(uow, listing_id)
    except NotFound:
        return JSONResponse({"error": "not_found"}, 404)
    return JSONResponse(found, headers={"Cache-Control": "no-store"})
