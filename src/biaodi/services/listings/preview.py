"""A listing before it exists: for each repayment method its type allows, the schedule with
its fees and the all-in yearly cost, and whether the platform would accept it — the same
checks as `lifecycle.create_listing` (type rules, cost cap, borrowing caps, credit limit, rate
band), run in a savepoint that is always rolled back, so nothing is kept."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.tables import GuarantorProfile
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.listings import ListingTerms, policy_for
from biaodi.domain.listings.cost import listing_all_in_cost
from biaodi.domain.listings.fees import fee_schedule
from biaodi.domain.listings.schedule import build_schedule
from biaodi.domain.shared.errors import BiaodiError
from biaodi.domain.shared.money import Money
from biaodi.services.listings.lifecycle import CreateListing, ListingRules, create_listing
from biaodi.services.shared.rates import percent_text, ppm_to_rate, rate_to_ppm

#: The order methods are shown in.
METHOD_ORDER = ("equal_installment", "equal_principal", "interest_first", "bullet")


def refusal(exc: BiaodiError) -> dict[str, Any]:
    """A refusal as a page shows it: the rule it breaks (if a compliance rule), the field and
    the message."""
    return {"code": exc.code, "rule_id": getattr(exc, "rule_id", None), "field": exc.field,
            "message": exc.message}


def _guarantee_rate(uow: UnitOfWork, cmd: CreateListing) -> Decimal:
    if cmd.security.guarantor_id is None:
        return Decimal(0)
    profile = uow.s.get(GuarantorProfile, cmd.security.guarantor_id)
    return ppm_to_rate(profile.fee_rate_ppm) if profile is not None else Decimal(0)


def _dry_run(uow: UnitOfWork, cmd: CreateListing, applicant_id: int,
             rules: ListingRules) -> dict[str, Any] | None:
    """What `create_listing` says about `cmd` (None: it would accept it); never kept."""
    savepoint = uow.s.begin_nested()
    try:
        create_listing(uow, cmd, applicant_id=applicant_id, rules=rules)
        return None
    except BiaodiError as exc:
        return refusal(exc)
    finally:
        savepoint.rollback()


def _option(uow: UnitOfWork, cmd: CreateListing, applicant_id: int, rules: ListingRules,
            guarantee: Decimal) -> dict[str, Any]:
    today = uow.clock.today()
    found: dict[str, Any] = {"method": cmd.repayment_method}
    try:
        schedule = build_schedule(cmd.amount, cmd.annual_rate, cmd.term, cmd.term_unit,
                                  cmd.repayment_method, today)
        service = rules.service_fee_for(cmd.kind, cmd.term, cmd.term_unit)
        fees = fee_schedule(schedule, cmd.amount, service, guarantee, cmd.term, cmd.term_unit,
                            cmd.repayment_method)
        terms = ListingTerms(cmd.amount, cmd.annual_rate, cmd.term, cmd.term_unit,
                             cmd.repayment_method)
        all_in = listing_all_in_cost(terms, service, guarantee, today)
    except BiaodiError as exc:
        return found | {"refusal": refusal(exc), "rows": [], "totals": None}
    rows = [{"seq": r.seq, "due_date": r.due_date.isoformat(), "principal": str(r.principal),
             "interest": str(r.interest), "service_fee": str(f.service),
             "guarantee_fee": str(f.guarantee), "payment_with_fees": str(r.payment + f.total),
             "balance": str(r.balance)} for r, f in zip(schedule, fees, strict=True)]
    totals = {
        "principal": str(sum((r.principal for r in schedule), Money(0))),
        "interest": str(sum((r.interest for r in schedule), Money(0))),
        "fees": str(sum((f.total for f in fees), Money(0))),
        "payment_with_fees": str(sum((r.payment + f.total for r, f in
                                      zip(schedule, fees, strict=True)), Money(0))),
    }
    return found | {
        "service_fee_rate": percent_text(rate_to_ppm(service)),
        "guarantee_fee_rate": percent_text(rate_to_ppm(guarantee)),
        "all_in_cost": percent_text(rate_to_ppm(all_in)),
        "rows": rows, "totals": totals,
        "refusal": _dry_run(uow, cmd, applicant_id, rules),
    }


def preview(uow: UnitOfWork, cmd: CreateListing, *, applicant_id: int,
            rules: ListingRules) -> list[dict[str, Any]]:
    """Each repayment method the type allows, the chosen one first: its schedule with fees,
    totals, fee rates, all-in cost and the refusal creating it would meet (None: accepted).
    Run it in a unit of work that is not committed."""
    policy = policy_for(cmd.kind)
    methods = [m for m in METHOD_ORDER if m in policy.repayment_methods]
    if cmd.repayment_method in methods:
        methods.remove(cmd.repayment_method)
        methods.insert(0, cmd.repayment_method)
    guarantee = _guarantee_rate(uow, cmd)
    return [_option(uow, replace(cmd, repayment_method=m), applicant_id, rules, guarantee)
            for m in methods]


def guarantors(uow: UnitOfWork) -> list[dict[str, Any]]:
    """The guarantors a 担保标 may name: id, name and yearly fee."""
    rows = uow.s.scalars(select(GuarantorProfile).order_by(GuarantorProfile.user_id)).all()
    return [{"id": p.user_id, "name": p.name, "fee_rate": percent_text(p.fee_rate_ppm)}
            for p in rows]
