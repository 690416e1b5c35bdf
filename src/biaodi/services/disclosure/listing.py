"""Per listing (项目信息): the borrower's items the guideline lists, shown before an investor
commits, and the post-loan updates after funding.

The borrower's declared figures come from the risk application the listing was priced on —
the applicant's latest application decided at or before the listing was created; a listing
approved without one (an operator's override) says so instead of inventing figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from biaodi.adapters.clock import CST
from biaodi.adapters.db.disclosure_tables import PostLoanUpdate
from biaodi.adapters.db.risk_tables import RiskApplication, RiskDecision
from biaodi.adapters.db.servicing_tables import LoanServicing
from biaodi.adapters.db.tables import GuarantorProfile, Listing, PledgedAssetRow, User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.disclosure.postloan import ITEMS, period_ends, update_due
from biaodi.domain.disclosure.rules import mask_name
from biaodi.domain.shared.calendar import CN_CALENDAR, WorkingDayCalendar
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.shared import audit

#: Statuses in which a listing is open to investors or already funded: what is disclosed.
SHOWN = ("published", "funded", "repaying", "overdue", "settled", "defaulted", "recovered",
         "written_off")
ITEM_MAX = 2_000

#: Where repayment comes from and what stands behind it, by listing type.
REPAYMENT_SOURCE = {
    "credit": "borrower's income",
    "collateral": "borrower's income; the pledged assets' sale if it defaults",
    "guarantee": "borrower's income; the guarantor pays if it defaults",
    "transfer": "the originator's buy-back at maturity (its reserve)",
    "instant": "repaid at once after funding",
}


def _money(value: Any) -> str | None:
    return None if value in (None, "") else str(Money.parse(str(value), field="amount",
                                                                allow_zero=True))


def _decision(uow: UnitOfWork, listing: Listing) -> tuple[RiskDecision, RiskApplication] | None:
    row = uow.s.execute(select(RiskDecision, RiskApplication).join(
        RiskApplication, RiskApplication.id == RiskDecision.application_id).where(
        RiskDecision.user_id == listing.applicant_id,
        RiskDecision.decided_at <= listing.created_at).order_by(
        RiskDecision.decided_at.desc(), RiskDecision.id.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


def _safeguards(uow: UnitOfWork, listing: Listing) -> dict[str, Any]:
    if listing.kind == "collateral":
        assets = uow.s.scalars(select(PledgedAssetRow).where(
            PledgedAssetRow.listing_id == listing.id).order_by(PledgedAssetRow.id)).all()
        return {"pledged_assets": [{"asset_class": a.asset_class,
                                    "appraisal_value": str(Money(a.appraisal_value_fen)),
                                    "appraiser": a.appraiser} for a in assets]}
    if listing.kind == "guarantee" and listing.guarantor_id is not None:
        profile = uow.s.get(GuarantorProfile, listing.guarantor_id)
        return {"guarantor": profile.name if profile else None}
    if listing.kind == "transfer":
        return {"buyback": "the originator buys the claim back at maturity"}
    return {}


def borrower_items(uow: UnitOfWork, listing_id: int) -> dict[str, Any]:
    """The guideline's items on a listing open to investors or funded: masked identity,
    type, occupation, income and debts, credit-report overdues, borrowings elsewhere, purpose,
    amount, term, repayment method, rate, interest start, repayment source and safeguards,
    risk assessment. A listing not yet published is not disclosed (404)."""
    listing = uow.s.get(Listing, listing_id)
    if listing is None or listing.status not in SHOWN:
        raise NotFound(f"no disclosed listing {listing_id}", field="listing_id")
    user = uow.s.get(User, listing.applicant_id)
    assert user is not None
    found = _decision(uow, listing)
    servicing = uow.s.get(LoanServicing, listing_id)
    items: dict[str, Any] = {
        "listing_id": listing.id, "kind": listing.kind,
        "name": mask_name(user.real_name), "id_number": user.id_number_masked,
        "amount": str(Money(listing.amount_fen)), "term": listing.term,
        "term_unit": listing.term_unit, "repayment_method": listing.repayment_method,
        "annual_rate": f"{Decimal(listing.annual_rate_ppm) / 10_000:f}%",
        "interest_start": (servicing.onboarded_on.isoformat() if servicing else None),
        "interest_start_rule": ("the day the loan is funded" if listing.kind != "transfer"
                                else "the day each share is subscribed"),
        "repayment_source": REPAYMENT_SOURCE.get(listing.kind, ""),
        "safeguards": _safeguards(uow, listing),
        "risk_level": listing.risk_level, "grade": listing.grade,
        "assessed": found is not None,
    }
    if found is None:
        return items | {"borrower_type": None, "occupation": None, "monthly_income": None,
                        "debts": None, "monthly_debt_payments": None,
                        "credit_report_overdues_6m": None, "other_platform_borrowings": None,
                        "purpose": None, "risk_assessment": None}
    decision, application = found
    data = application.data or {}
    inputs = decision.inputs or {}
    bureau_defaults = inputs.get("other_platform_defaults")
    return items | {
        "borrower_type": application.borrower_type,
        "company": data.get("company_name") or None,
        "occupation": data.get("employment_type"),
        "monthly_income": str(Money(application.monthly_income_fen)),
        "debts": _money(data.get("debts")),
        "monthly_debt_payments": _money(data.get("monthly_debt_payments")),
        "credit_report_overdues_6m": {
            "declared_arrears": bool(data.get("has_arrears_record", False)),
            "bureau_defaults": bureau_defaults if isinstance(bureau_defaults, int) else None},
        "other_platform_borrowings": {
            "declared": _money(data.get("other_platform_borrowings")),
            "bureau": _money(data.get("bureau_other_platforms"))},
        "purpose": application.purpose,
        "risk_assessment": {"grade": decision.grade, "score": decision.score,
                            "probability_of_default": f"{Decimal(decision.pd_ppm) / 10**6:f}",
                            "decided_at": decision.decided_at.date().isoformat()},
    }


@dataclass(frozen=True)
class RecordUpdate:
    listing_id: int
    period_end: date
    items: dict[str, str]


def record_update(uow: UnitOfWork, cmd: RecordUpdate, *, actor_id: int,
                  calendar: WorkingDayCalendar = CN_CALENDAR) -> dict[str, Any]:
    """Record the post-loan update for one period of a funded loan (once per period); late
    when recorded after the 5th working day from the period's end."""
    servicing = uow.s.get(LoanServicing, cmd.listing_id)
    if servicing is None:
        raise NotFound(f"listing {cmd.listing_id} has no funded loan", field="listing_id")
    today = uow.clock.now().astimezone(CST).date()
    ends = period_ends(servicing.onboarded_on, today)
    if cmd.period_end not in ends:
        shown = ", ".join(e.isoformat() for e in ends) or "none yet"
        raise InvalidInput(f"period_end must end a 3-month period since funding that has "
                           f"passed ({shown})", field="period_end")
    missing = [k for k in ITEMS if not str(cmd.items.get(k, "")).strip()]
    unknown = sorted(set(cmd.items) - set(ITEMS))
    if unknown:
        raise InvalidInput(f"unknown item {unknown[0]!r}", field=f"items.{unknown[0]}")
    if missing:
        raise InvalidInput(f"item {missing[0]} is required", field=f"items.{missing[0]}")
    too_long = [k for k in ITEMS if len(cmd.items[k]) > ITEM_MAX]
    if too_long:
        raise InvalidInput(f"item {too_long[0]} is over {ITEM_MAX} characters",
                           field=f"items.{too_long[0]}")
    if uow.s.scalars(select(PostLoanUpdate).where(
            PostLoanUpdate.listing_id == cmd.listing_id,
            PostLoanUpdate.period_end == cmd.period_end)).first():
        raise Conflict(f"the update for the period ending {cmd.period_end} is already recorded",
                       field="period_end", code="already_recorded")
    row = PostLoanUpdate(listing_id=cmd.listing_id, period_end=cmd.period_end,
                         items={k: cmd.items[k].strip() for k in ITEMS}, recorded_on=today,
                         late=today > update_due(cmd.period_end, calendar),
                         recorded_by=actor_id, recorded_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "disclosure.post_loan_update", subjects=[("listing", cmd.listing_id)],
               changes={"period_end": cmd.period_end, "late": row.late})
    return _update_view(row, calendar)


def _update_view(row: PostLoanUpdate, calendar: WorkingDayCalendar) -> dict[str, Any]:
    return {"period_end": row.period_end.isoformat(),
            "due_on": update_due(row.period_end, calendar).isoformat(),
            "recorded_on": row.recorded_on.isoformat(), "late": row.late, "items": row.items}


def post_loan(uow: UnitOfWork, listing_id: int,
              calendar: WorkingDayCalendar = CN_CALENDAR) -> dict[str, Any] | None:
    """After funding: the loan's repayment status now, every period's update (recorded, or
    missing and flagged when its due date has passed); None before funding."""
    servicing = uow.s.get(LoanServicing, listing_id)
    if servicing is None:
        return None
    today = uow.clock.now().astimezone(CST).date()
    recorded = {u.period_end: u for u in uow.s.scalars(select(PostLoanUpdate).where(
        PostLoanUpdate.listing_id == listing_id))}
    periods = []
    for end in period_ends(servicing.onboarded_on, today):
        if end in recorded:
            periods.append(_update_view(recorded[end], calendar))
        else:
            due = update_due(end, calendar)
            periods.append({"period_end": end.isoformat(), "due_on": due.isoformat(),
                            "recorded_on": None, "late": today > due, "items": None})
    return {"funded_on": servicing.onboarded_on.isoformat(), "status": servicing.status,
            "bucket": servicing.bucket, "days_past_due": servicing.days_past_due,
            "outstanding_principal": str(Money(servicing.outstanding_principal_fen)),
            "periods": periods}


#: Loan statuses after which no more updates fall due (paid off, or written off).
ENDED = ("closed", "written_off")


def updates_owed(uow: UnitOfWork, calendar: WorkingDayCalendar = CN_CALENDAR
                 ) -> list[dict[str, Any]]:
    """The post-loan updates the operators owe: every period of a live loan that has ended
    without an update, earliest due first, each with its due date and whether it is late
    (past the 5th working day from the period's end)."""
    today = uow.clock.now().astimezone(CST).date()
    loans = uow.s.execute(select(
        LoanServicing.listing_id, LoanServicing.onboarded_on, LoanServicing.status,
        Listing.title, Listing.kind).join(Listing, Listing.id == LoanServicing.listing_id).where(
        LoanServicing.status.not_in(ENDED)).order_by(LoanServicing.listing_id)).all()
    recorded = {(r.listing_id, r.period_end) for r in uow.s.execute(
        select(PostLoanUpdate.listing_id, PostLoanUpdate.period_end))}
    owed = []
    for loan in loans:
        for end in period_ends(loan.onboarded_on, today):
            if (loan.listing_id, end) in recorded:
                continue
            due = update_due(end, calendar)
            owed.append({"listing_id": loan.listing_id, "title": loan.title,
                         "kind": loan.kind, "status": loan.status,
                         "funded_on": loan.onboarded_on.isoformat(),
                         "period_end": end.isoformat(), "due_on": due.isoformat(),
                         "late": today > due})
    return sorted(owed, key=lambda o: (o["due_on"], o["listing_id"]))


def disclosure(uow: UnitOfWork, listing_id: int) -> dict[str, Any]:
    """A listing's borrower items and, once funded, its post-loan information."""
    return {"borrower": borrower_items(uow, listing_id),
            "post_loan": post_loan(uow, listing_id)}
