"""Read models: a loan's servicing state with its instalments, a holder's positions with their
cash flows, loans by bucket, loans in default handling with what happened to each, a close of
business's progress, the LPR table, a borrower's contacts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from biaodi.adapters.db.servicing_tables import (
    BorrowerContact,
    CloseDayRun,
    CloseDayStep,
    CollateralDisposal,
    CollectionContact,
    LoanServicing,
    LprRate,
    Repayment,
    RepaymentShare,
    ServicingPosition,
)
from biaodi.adapters.db.tables import (
    GuarantorProfile,
    Holding,
    HoldingInstalment,
    Listing,
    ListingTransition,
    LoanInstalment,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.roles import STAFF_ROLES
from biaodi.domain.shared.errors import Forbidden, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.servicing.close_day import STEP_NAMES
from biaodi.services.servicing.repayments import quote
from biaodi.services.shared.rates import percent_text


def _money(fen: int | None) -> str | None:
    return None if fen is None else str(Money(fen))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def loan_view(uow: UnitOfWork, listing_id: int, today: date) -> dict[str, Any]:
    listing = uow.s.get(Listing, listing_id)
    loan = uow.s.get(LoanServicing, listing_id)
    if listing is None or loan is None:
        raise NotFound(f"listing {listing_id} is not a loan in servicing", field="listing_id")
    offer = quote(uow, listing_id, today)
    instalments = uow.s.scalars(select(LoanInstalment).where(
        LoanInstalment.listing_id == listing_id).order_by(LoanInstalment.seq)).all()
    return {
        "listing_id": listing_id, "kind": listing.kind, "listing_status": listing.status,
        "title": listing.title, "borrower_id": listing.applicant_id,
        "servicing_status": loan.status, "default_action": loan.default_action,
        "default_stage": loan.default_stage, "days_past_due": loan.days_past_due,
        "bucket": loan.bucket, "oldest_due_date": _iso(loan.oldest_due_date),
        "outstanding_principal": _money(loan.outstanding_principal_fen),
        "principal_due": _money(loan.due_principal_fen),
        "interest_due": _money(loan.due_interest_fen), "penalty": _money(loan.penalty_fen),
        "penalty_waived": _money(loan.penalty_waived_fen),
        "accrued_interest": _money(loan.accrued_interest_fen),
        "penalty_daily_rate_ppm": loan.penalty_daily_ppm, "cost_cap_ppm": loan.cost_cap_ppm,
        "grace_days": loan.grace_days, "next_due_date": _iso(loan.next_due_date),
        "fees_due": str(offer.fees_due), "fees_paid": _money(loan.paid_fee_fen),
        "due_now": str(offer.due_now), "payoff": str(offer.payoff),
        "instalments": [{"seq": i.seq, "due_date": i.due_date.isoformat(),
                         "principal": _money(i.principal_fen), "interest": _money(i.interest_fen),
                         "service_fee": _money(i.service_fee_fen),
                         "guarantee_fee": _money(i.guarantee_fee_fen),
                         "status": i.status} for i in instalments],
    }


def holdings_view(uow: UnitOfWork, investor_id: int) -> list[dict[str, Any]]:
    """Each holding's servicing state and the cash it received, repayment by repayment."""
    found = uow.s.execute(select(Holding, ServicingPosition).join(
        ServicingPosition, ServicingPosition.holding_id == Holding.id)
        .where(Holding.investor_id == investor_id).order_by(Holding.id)).all()
    ids = [p.id for _, p in found]
    flows: dict[int, list[dict[str, Any]]] = {}
    for share, repayment in uow.s.execute(select(RepaymentShare, Repayment).join(
            Repayment, Repayment.id == RepaymentShare.repayment_id)
            .where(RepaymentShare.position_id.in_(ids)).order_by(RepaymentShare.id)):
        flows.setdefault(share.position_id, []).append({
            "date": repayment.business_date.isoformat(), "source": repayment.source,
            "penalty": _money(share.penalty_fen), "interest": _money(share.interest_fen),
            "principal": _money(share.principal_fen),
            "total": _money(share.penalty_fen + share.interest_fen + share.principal_fen)})
    statuses: dict[int, list[dict[str, Any]]] = {}
    for row in uow.s.scalars(select(HoldingInstalment).where(
            HoldingInstalment.holding_id.in_([h.id for h, _ in found]))
            .order_by(HoldingInstalment.holding_id, HoldingInstalment.seq)):
        statuses.setdefault(row.holding_id, []).append({
            "seq": row.seq, "due_date": row.due_date.isoformat(),
            "principal": _money(row.principal_fen), "interest": _money(row.interest_fen),
            "status": row.status})
    return [{
        "holding_id": h.id, "listing_id": h.listing_id, "status": h.status,
        "days_past_due": p.days_past_due, "bucket": p.bucket,
        "outstanding_principal": _money(p.outstanding_principal_fen),
        "principal_due": _money(p.due_principal_fen), "interest_due": _money(p.due_interest_fen),
        "penalty": _money(p.penalty_fen), "received_principal": _money(p.received_principal_fen),
        "received_interest": _money(p.received_interest_fen),
        "received_penalty": _money(p.received_penalty_fen),
        "written_off": _money(p.written_off_fen),
        "instalments": statuses.get(h.id, []), "cash_flows": flows.get(p.id, []),
    } for h, p in found]


def loans_by_bucket(uow: UnitOfWork, bucket: str | None, limit: int = 200
                    ) -> list[dict[str, Any]]:
    query = select(LoanServicing, Listing.applicant_id, Listing.title, Listing.kind) \
        .join(Listing, Listing.id == LoanServicing.listing_id) \
        .where(LoanServicing.status != "closed") \
        .order_by(LoanServicing.days_past_due.desc(), LoanServicing.listing_id).limit(limit)
    if bucket:
        query = query.where(LoanServicing.bucket == bucket)
    return [{"listing_id": s.listing_id, "bucket": s.bucket, "days_past_due": s.days_past_due,
             "status": s.status, "arrears": _money(s.due_principal_fen + s.due_interest_fen),
             "penalty": _money(s.penalty_fen), "borrower_id": applicant_id, "title": title,
             "kind": kind, "default_action": s.default_action, "default_stage": s.default_stage,
             "outstanding_principal": _money(s.outstanding_principal_fen)}
            for s, applicant_id, title, kind in uow.s.execute(query)]


def check_may_see(uow: UnitOfWork, listing_id: int, user_id: int,
                  roles: Collection[str]) -> None:
    """Only the borrower and staff see a loan's servicing."""
    listing = uow.s.get(Listing, listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    if listing.applicant_id != user_id and not STAFF_ROLES.intersection(roles):
        raise Forbidden("only the borrower and staff see a loan's servicing",
                        code="not_borrower")


def close_day_status(uow: UnitOfWork, business_date: date) -> dict[str, Any]:
    run = uow.s.get(CloseDayRun, business_date)
    if run is None:
        raise NotFound(f"no close of business for {business_date}", field="business_date")
    done = uow.s.scalars(select(CloseDayStep).where(
        CloseDayStep.business_date == business_date)).all()
    return {"business_date": business_date.isoformat(), "status": run.status,
            "attempts": run.attempts, "chunk_size": run.chunk_size,
            "chunks_done": len(done), "summary": run.summary}


def recent_close_days(uow: UnitOfWork, limit: int = 30) -> list[dict[str, Any]]:
    """The latest closes of business, newest first, each with its steps' rows and times
    (a run still going shows the chunks finished so far)."""
    runs = uow.s.scalars(select(CloseDayRun).order_by(CloseDayRun.business_date.desc())
                         .limit(limit)).all()
    return [_run_view(uow, run) for run in runs]


def _run_view(uow: UnitOfWork, run: CloseDayRun) -> dict[str, Any]:
    summary = dict(run.summary or {})
    steps = dict(summary.pop("steps", {}) or {})
    step_ms = dict(summary.pop("step_ms", {}) or {})
    if run.status != "done":
        for name, rows, ms in uow.s.execute(
                select(CloseDayStep.step, func.sum(CloseDayStep.rows),
                       func.sum(CloseDayStep.elapsed_ms))
                .where(CloseDayStep.business_date == run.business_date)
                .group_by(CloseDayStep.step)):
            steps[name], step_ms[name] = int(rows or 0), int(ms or 0)
    return {"business_date": run.business_date.isoformat(), "status": run.status,
            "attempts": run.attempts, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "steps": [{"name": name, "rows": steps.get(name, 0), "ms": step_ms.get(name, 0)}
                      for name in STEP_NAMES if name in steps],
            "auto_debits": summary.get("auto_debits"),
            "auto_debited": _money(summary.get("auto_debited_fen")),
            "loans_by_bucket": summary.get("loans_by_bucket", {})}


def lpr_view(row: LprRate) -> dict[str, Any]:
    return {"effective_on": row.effective_on.isoformat(),
            "one_year": percent_text(row.one_year_ppm),
            "five_year": percent_text(row.five_year_ppm) if row.five_year_ppm else None,
            "source": row.source}


def lpr_table(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every LPR fixing on record, the latest first."""
    rows = uow.s.scalars(select(LprRate).order_by(LprRate.effective_on.desc())).all()
    return [lpr_view(r) for r in rows]


def contacts_of(uow: UnitOfWork, borrower_id: int) -> list[dict[str, Any]]:
    """The people a borrower named for collectors, in the order named."""
    rows = uow.s.scalars(select(BorrowerContact).where(
        BorrowerContact.borrower_id == borrower_id).order_by(BorrowerContact.id)).all()
    return [{"id": r.id, "name": r.name, "relation": r.relation, "authorised": r.authorised}
            for r in rows]


def contact_view(row: CollectionContact) -> dict[str, Any]:
    return {"id": row.id, "borrower_id": row.borrower_id, "listing_id": row.listing_id,
            "contact_id": row.contact_id, "channel": row.channel, "target": row.target,
            "at": row.at.isoformat(), "outcome": row.outcome, "rule_id": row.rule_id,
            "note": row.note}


# --- default handling ---------------------------------------------------------------------------
#: Repayment sources that are a default path's events (the rest are the borrower's own money).
DEFAULT_SOURCES = ("guarantor", "buyback", "disposal", "recovery")


def default_book(uow: UnitOfWork, listing_id: int | None = None, limit: int = 200
                 ) -> list[dict[str, Any]]:
    """Loans a default path has touched (accelerated, compensated by the guarantor, bought
    back, in or past collateral disposal, written off, recovered), open ones first: the
    amounts now, the disposal, and the events in order — each with the rule that set it off
    (`rule`: guarantor_deadline, guarantor_full, disposal, buyback_maturity, buyback_default,
    write_off) — and which operator actions apply (`can_dispose`, `can_recover`)."""
    touched = select(Repayment.listing_id).where(Repayment.source.in_(DEFAULT_SOURCES))
    query = (select(LoanServicing, Listing, GuarantorProfile.compensation_days)
             .join(Listing, Listing.id == LoanServicing.listing_id)
             .outerjoin(GuarantorProfile, GuarantorProfile.user_id == Listing.guarantor_id)
             .where(or_(LoanServicing.default_stage.is_not(None),
                        LoanServicing.accelerated_on.is_not(None),
                        LoanServicing.listing_id.in_(touched)))
             .order_by((LoanServicing.status == "closed"), LoanServicing.listing_id.desc())
             .limit(limit))
    if listing_id is not None:
        query = query.where(LoanServicing.listing_id == listing_id)
    found = uow.s.execute(query).all()
    ids = [loan.listing_id for loan, _, _ in found]
    if not ids:
        return []
    disposals = {d.listing_id: d for d in uow.s.scalars(
        select(CollateralDisposal).where(CollateralDisposal.listing_id.in_(ids)))}
    payments: dict[int, list[Repayment]] = {}
    for r in uow.s.scalars(select(Repayment).where(Repayment.listing_id.in_(ids))
                           .order_by(Repayment.business_date, Repayment.id)):
        payments.setdefault(r.listing_id, []).append(r)
    written = dict(uow.s.execute(  # type: ignore[arg-type]
        select(ServicingPosition.listing_id, func.sum(ServicingPosition.written_off_fen))
        .where(ServicingPosition.listing_id.in_(ids))
        .group_by(ServicingPosition.listing_id)).all())
    moves: dict[int, list[ListingTransition]] = {}
    for t in uow.s.scalars(select(ListingTransition).where(
            ListingTransition.listing_id.in_(ids),
            ListingTransition.to_status.in_(("defaulted", "written_off", "recovered")))
            .order_by(ListingTransition.id)):
        moves.setdefault(t.listing_id, []).append(t)
    return [_default_view(loan, listing, days, disposals.get(loan.listing_id),
                          payments.get(loan.listing_id, []),
                          int(written.get(loan.listing_id) or 0), moves.get(loan.listing_id, []))
            for loan, listing, days in found]


def _default_view(loan: LoanServicing, listing: Listing, compensation_days: int | None,
                  disposal: CollateralDisposal | None, paid: list[Repayment], written_off: int,
                  moves: list[ListingTransition]) -> dict[str, Any]:
    action = loan.default_action
    bought_at_maturity = action == "originator_buyback" and loan.accelerated_on is None
    path_rule = {"write_off": "write_off", "collateral_disposal": "disposal",
                 "guarantor_compensation": "guarantor_full",
                 "originator_buyback": ("buyback_maturity" if bought_at_maturity
                                        else "buyback_default")}.get(action, action)
    events: list[dict[str, Any]] = []
    if loan.accelerated_on is not None:
        events.append({"kind": "accelerated", "on": loan.accelerated_on, "amount": None,
                       "rule": path_rule, "detail": ""})
    if disposal is not None:
        events.append({"kind": "disposal_opened", "on": disposal.opened_on, "amount": None,
                       "rule": "disposal", "detail": ""})
    default_since = loan.defaulted_on or loan.accelerated_on
    for r in paid:
        if r.source == "guarantor":
            full = r.key.endswith(":full")
            events.append({"kind": "compensation", "on": r.business_date,
                           "amount": Money(r.amount_fen),
                           "rule": "guarantor_full" if full else "guarantor_deadline",
                           "detail": ""})
        elif r.source == "buyback":
            events.append({"kind": "buyback", "on": r.business_date,
                           "amount": Money(r.amount_fen), "rule": path_rule, "detail": ""})
        elif r.source == "disposal":
            assert disposal is not None
            events.append({"kind": "disposal_paid", "on": r.business_date,
                           "amount": Money(r.amount_fen), "rule": "disposal",
                           "detail": disposal.reference})
        elif r.source == "recovery":
            events.append({"kind": "recovery", "on": r.business_date,
                           "amount": Money(r.amount_fen), "rule": None,
                           "detail": r.reference or ""})
        elif default_since is not None and r.business_date >= default_since:
            events.append({"kind": "borrower_paid", "on": r.business_date,
                           "amount": Money(r.amount_fen), "rule": None, "detail": ""})
    for t in moves:
        events.append({"kind": f"status_{t.to_status}", "on": t.at.date(),
                       "amount": Money(written_off) if t.to_status == "written_off" else None,
                       "rule": path_rule if t.to_status != "recovered" else None,
                       "detail": t.reason})
    events.sort(key=lambda e: e["on"])
    owed = loan.penalty_fen + loan.due_interest_fen + loan.due_principal_fen
    recovered = sum(r.amount_fen for r in paid if r.source == "recovery")
    return {
        "listing_id": loan.listing_id, "title": listing.title, "kind": listing.kind,
        "listing_status": listing.status, "servicing_status": loan.status,
        "default_action": action, "default_stage": loan.default_stage, "rule": path_rule,
        "compensation_days": compensation_days, "borrower_id": listing.applicant_id,
        "guarantor_id": listing.guarantor_id, "days_past_due": loan.days_past_due,
        "bucket": loan.bucket, "accelerated_on": loan.accelerated_on,
        "defaulted_on": loan.defaulted_on, "amount": Money(listing.amount_fen),
        "outstanding_principal": Money(loan.outstanding_principal_fen),
        "principal_due": Money(loan.due_principal_fen),
        "interest_due": Money(loan.due_interest_fen), "penalty": Money(loan.penalty_fen),
        "owed": Money(owed), "written_off": Money(written_off),
        "compensated": Money(sum(r.amount_fen for r in paid if r.source == "guarantor")),
        "bought_back": Money(sum(r.amount_fen for r in paid if r.source == "buyback")),
        "recovered": Money(recovered),
        "disposal": None if disposal is None else {
            "status": disposal.status, "opened_on": disposal.opened_on,
            "proceeds": Money(disposal.proceeds_fen), "costs": Money(disposal.costs_fen),
            "penalty": Money(disposal.penalty_fen), "interest": Money(disposal.interest_fen),
            "principal": Money(disposal.principal_fen), "surplus": Money(disposal.surplus_fen),
            "shortfall": Money(disposal.shortfall_fen), "reference": disposal.reference,
            "recorded_at": disposal.recorded_at},
        "events": events,
        "can_dispose": disposal is not None and disposal.status == "pending",
        "can_recover": owed > 0 and loan.status != "closed" and (
            loan.default_stage is not None or loan.accelerated_on is not None)
        and not (disposal is not None and disposal.status == "pending"),
    }
