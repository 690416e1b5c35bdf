"""Servicing API: close of business, repayments, disposals and recoveries, servicing status,
products and the LPR table, collections within the rules of conduct."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse
from pydantic import Field

from biaodi.api.deps import CurrentUser, Operator, PlatformDep
from biaodi.api.idempotent import idempotent_response
from biaodi.api.params import (
    Mobile,
    NonBlank,
    Percent,
    RequestBody,
    Yuan,
    YuanOrZero,
    documented,
    one_of,
)
from biaodi.bootstrap import Platform
from biaodi.domain.listings.policy import ListingKind
from biaodi.domain.servicing import conduct
from biaodi.domain.servicing.allocation import Component
from biaodi.domain.servicing.reamortise import Reamortise
from biaodi.domain.shared.bounds import Count, RowId
from biaodi.domain.shared.money import Money
from biaodi.services.servicing import collections, defaults, products, queries, repayments
from biaodi.services.servicing.close_day import close_day
from biaodi.services.shared.idempotency import Answer, check_key
from biaodi.services.shared.rates import parse_percent, percent_text, rate_to_ppm
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["servicing"])


def _money(value: str, field: str, platform: Platform, *, allow_zero: bool = False) -> Money:
    return Money.parse(value, field=field, allow_zero=allow_zero,
                       ceiling_fen=platform.settings.money_ceiling_fen)


# --- close of business ------------------------------------------------------------------
class CloseDayRequest(RequestBody):
    business_date: date | None = Field(default=None, description="default: today (CST)")


@router.post("/operator/close-day")
def run_close_day(body: CloseDayRequest, platform: PlatformDep, _op: Operator) -> dict[str, Any]:
    """Run close of business for a date (and any missed days before it); resumes a run that
    stopped, and changes nothing for a day already closed."""
    cmd = platform.close_day_command()
    days = close_day(cmd, body.business_date or platform.clock.today())
    return {"days": [d.as_dict() for d in days]}


@router.get("/operator/close-day/{business_date}")
def close_day_status(business_date: date, platform: PlatformDep,
                     _op: Operator) -> dict[str, Any]:
    with platform.reader() as uow:
        return queries.close_day_status(uow, business_date)


@router.get("/operator/loans")
def loans_by_bucket(platform: PlatformDep, _op: Operator,
                    bucket: str | None = None) -> dict[str, Any]:
    with platform.reader() as uow:
        return {"items": queries.loans_by_bucket(uow, bucket)}


# --- loans and holdings -----------------------------------------------------------------
@router.get("/loans/{listing_id}/servicing")
def loan_servicing(listing_id: RowId, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """Status, bucket, arrears, penalty, accrued interest, payoff and each instalment's state."""
    with platform.reader() as uow:
        queries.check_may_see(uow, listing_id, user.id, user.roles)
        return queries.loan_view(uow, listing_id, platform.clock.today())


@router.get("/me/holdings/servicing")
def my_holdings_servicing(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """Each holding's days past due, bucket, what it is owed and the cash it received."""
    with platform.reader() as uow:
        return {"items": queries.holdings_view(uow, user.id)}


class RepayRequest(RequestBody):
    amount: Yuan = Field(examples=["1000.00"])


class EarlyRepayRequest(RequestBody):
    principal: Yuan | None = Field(default=None, description="omit to repay the whole loan")
    reamortise: Annotated[str, one_of(*Reamortise)] = Field(default="lower_instalment",
                            description="shorter_term or lower_instalment")


def _repaid(made: repayments.Repaid) -> dict[str, Any]:
    return {"repayment_id": made.repayment_id, "listing_id": made.listing_id,
            "amount": str(made.amount), "penalty": str(made.penalty),
            "interest": str(made.interest), "principal": str(made.principal),
            "fees": str(made.fees), "listing_status": made.listing_status}


@router.post("/loans/{listing_id}/repayments", status_code=201)
def repay(listing_id: RowId, body: RepayRequest, platform: PlatformDep, user: CurrentUser,
          idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Repay what is due (in full or in part) from the borrower's wallet; allocated in the
    product's order (default penalty → interest → principal). Needs `Idempotency-Key`."""
    rules, key = platform.servicing_rules, check_key(idempotency_key)

    def act(uow: Any) -> Answer:
        amount = _money(body.amount, "amount", platform)
        made = repayments.repay(uow, repayments.Repay(listing_id, user.id, amount, key), rules)
        return Answer(201, _repaid(made))

    return idempotent_response(
        platform, scope=f"user:{user.id}:POST /loans/{listing_id}/repayments",
        key=key, payload=body.model_dump(), fn=act)


@router.post("/loans/{listing_id}/early-repayment", status_code=201)
def repay_early(listing_id: RowId, body: EarlyRepayRequest, platform: PlatformDep,
                user: CurrentUser,
                idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Repay the whole loan (no `principal`), or arrears + accrued interest + `principal` with
    the rest re-amortised (`reamortise`: shorter_term or lower_instalment)."""
    rules, key = platform.servicing_rules, check_key(idempotency_key)

    def act(uow: Any) -> Answer:
        principal = (_money(body.principal, "principal", platform)
                     if body.principal is not None else None)
        made = repayments.repay_early(uow, repayments.RepayEarly(
            listing_id, user.id, key, principal, body.reamortise), rules)
        return Answer(201, _repaid(made))

    return idempotent_response(
        platform, scope=f"user:{user.id}:POST /loans/{listing_id}/early-repayment",
        key=key, payload=body.model_dump(), fn=act)


# --- disposals and recoveries -----------------------------------------------------------
class DisposalRequest(RequestBody):
    proceeds: YuanOrZero
    costs: YuanOrZero = "0"
    reference: str = ""


class RecoveryRequest(RequestBody):
    amount: Yuan
    reference: str = ""


@router.post("/operator/loans/{listing_id}/disposal", status_code=201)
def record_disposal(listing_id: RowId, body: DisposalRequest, platform: PlatformDep,
                    op: Operator,
                    idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Record the sale of a defaulted loan's collateral: costs → penalty → interest →
    principal to the holders pro rata, surplus to the borrower, shortfall written off."""
    key = check_key(idempotency_key)

    def act(uow: Any) -> Answer:
        cmd = defaults.RecordDisposal(
            listing_id, _money(body.proceeds, "proceeds", platform, allow_zero=True),
            _money(body.costs, "costs", platform, allow_zero=True), body.reference, op.id)
        row = defaults.record_disposal(uow, cmd)
        return Answer(201, {key: str(Money(getattr(row, f"{key}_fen"))) for key in (
            "proceeds", "costs", "penalty", "interest", "principal", "surplus", "shortfall")}
            | {"listing_id": listing_id, "status": row.status})

    return idempotent_response(
        platform, scope=f"user:{op.id}:POST /operator/loans/{listing_id}/disposal",
        key=key, payload=body.model_dump(), fn=act)


@router.post("/operator/loans/{listing_id}/recoveries", status_code=201)
def record_recovery(listing_id: RowId, body: RecoveryRequest, platform: PlatformDep, op: Operator,
                    idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """Money recovered outside the wallets, distributed to the loan's creditors."""
    key = check_key(idempotency_key)

    def act(uow: Any) -> Answer:
        amount = _money(body.amount, "amount", platform)
        defaults.record_recovery(uow, defaults.RecordRecovery(
            listing_id, amount, body.reference, op.id, key))
        return Answer(201, {"listing_id": listing_id, "amount": str(amount)})

    return idempotent_response(
        platform, scope=f"user:{op.id}:POST /operator/loans/{listing_id}/recoveries",
        key=key, payload=body.model_dump(), fn=act)


# --- products and the LPR ---------------------------------------------------------------
class ProductRequest(RequestBody):
    penalty_daily_rate: Percent = Field(description="percent a day, e.g. \"0.03\"")
    grace_days: Annotated[Count, documented(maximum=30)] = 3
    allocation_order: list[Annotated[str, one_of(*Component)]] = Field(
        default=["penalty", "interest", "principal"],
        json_schema_extra={"minItems": 3, "maxItems": 3, "uniqueItems": True})
    guarantor_full_at_m3: bool = True


@router.put("/operator/servicing/products/{kind}")
def set_product(kind: Annotated[str, Path(json_schema_extra={"enum": list(ListingKind)})],
                body: ProductRequest, platform: PlatformDep,
                op: Operator) -> dict[str, Any]:
    """A listing type's servicing terms; refused (409 compliance_violation) if its penalty
    alone breaks the cost cap. Loans taken over later copy them."""
    daily = parse_percent(body.penalty_daily_rate, field="penalty_daily_rate")
    cmd = products.SetProduct(kind, rate_to_ppm(daily, field="penalty_daily_rate"),
                              body.grace_days, ",".join(body.allocation_order),
                              body.guarantor_full_at_m3, op.id)
    row = in_transaction(platform.uow, lambda uow: products.set_product(
        uow, cmd, platform.servicing_rules))
    return {"kind": row.kind, "penalty_daily_rate": percent_text(row.penalty_daily_ppm),
            "grace_days": row.grace_days, "allocation_order": row.allocation_order.split(","),
            "guarantor_full_at_m3": row.guarantor_full_at_m3}


class LprRequest(RequestBody):
    one_year: Percent = Field(description="percent, e.g. \"3.00\"")
    five_year: Percent | None = None
    source: str = ""


@router.put("/operator/lpr/{effective_on}")
def set_lpr(effective_on: date, body: LprRequest, platform: PlatformDep,
            _op: Operator) -> dict[str, Any]:
    one = rate_to_ppm(parse_percent(body.one_year, field="one_year"), field="one_year")
    five = (rate_to_ppm(parse_percent(body.five_year, field="five_year"), field="five_year")
            if body.five_year else None)
    row = in_transaction(platform.uow, lambda uow: products.set_lpr(
        uow, effective_on, one, five, body.source))
    return queries.lpr_view(row)


@router.get("/lpr")
def lpr_table(platform: PlatformDep) -> dict[str, Any]:
    with platform.reader() as uow:
        return {"items": queries.lpr_table(uow)}


# --- collections ------------------------------------------------------------------------
class ContactPerson(RequestBody):
    name: Annotated[NonBlank, documented(maxLength=64)]
    mobile: Mobile
    relation: Annotated[NonBlank, documented(maxLength=32)]
    authorised: bool = True


class ContactAttempt(RequestBody):
    borrower_id: RowId
    channel: Annotated[str, one_of(*conduct.Channel)] = "call"
    listing_id: RowId | None = None
    contact_id: RowId | None = Field(default=None, description="omit to contact the borrower")
    note: str = ""


@router.post("/me/contacts", status_code=201)
def add_contact(body: ContactPerson, platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    """A borrower names a person collectors may contact (only if `authorised`)."""
    row = in_transaction(platform.uow, lambda uow: collections.add_contact(
        uow, user.id, name=body.name, mobile=body.mobile, relation=body.relation,
        authorised=body.authorised, cipher=platform.cipher))
    return {"id": row.id, "name": row.name, "relation": row.relation,
            "authorised": row.authorised}


@router.get("/me/contacts")
def my_contacts(platform: PlatformDep, user: CurrentUser) -> dict[str, Any]:
    with platform.reader() as uow:
        return {"items": queries.contacts_of(uow, user.id)}


@router.post("/operator/collections/contacts", status_code=201)
def contact(body: ContactAttempt, platform: PlatformDep, op: Operator) -> JSONResponse:
    """Log a collection contact; the rules of conduct decide. A refusal is logged too and
    answered 409 `contact_refused` with the `rule_id`."""
    rules = platform.servicing_rules.conduct
    row = in_transaction(platform.uow, lambda uow: collections.record_contact(
        uow, collections.RecordContact(body.borrower_id, body.channel, body.listing_id,
                                       body.contact_id, op.id, body.note), rules))
    if row.outcome == "refused":
        return JSONResponse({"error": {
            "code": "contact_refused", "field": "contact",
            "message": f"the rules of conduct refuse this contact ({row.rule_id})",
            "rule_id": row.rule_id}, "contact": queries.contact_view(row)}, 409)
    return JSONResponse(queries.contact_view(row), 201)


@router.get("/operator/collections/log")
def collection_log(borrower_id: RowId, platform: PlatformDep, _op: Operator) -> dict[str, Any]:
    with platform.reader() as uow:
        log = collections.contact_log(uow, borrower_id)
        return {"items": [queries.contact_view(r) for r in log]}


@router.post("/operator/collections/send-notices")
def send_notices(platform: PlatformDep, _op: Operator) -> dict[str, int]:
    """Send queued reminders and notices now, within the rules of conduct."""
    rules = platform.servicing_rules.conduct
    return in_transaction(platform.uow, lambda uow: collections.send_notices(uow, rules))

