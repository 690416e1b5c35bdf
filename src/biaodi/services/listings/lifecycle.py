"""Listing use cases: apply, submit, review, record offline steps, publish, and move a listing
through its lifecycle. Type rules come from the listing's policy; nothing here branches on
the kind's name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm.util import identity_key

from biaodi.adapters.db.tables import (
    CreditLimit,
    GuarantorProfile,
    Listing,
    ListingTransition,
    OfflineStepRow,
    PledgedAssetRow,
)
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.roles import Role
from biaodi.domain.listings import ListingConfig, ListingContext, ListingTerms, policy_for
from biaodi.domain.listings.borrowing import check_credit_limit, platform_cap
from biaodi.domain.listings.cost import check_listing_cost_cap, listing_all_in_cost
from biaodi.domain.listings.lifecycle import ListingStatus, transition
from biaodi.domain.shared.compliance import BORROWING_CAPS, ComplianceProfile, profile_named
from biaodi.domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import roles_of
from biaodi.services.listings import borrowing
from biaodi.services.listings.security import SecurityInput, store_for
from biaodi.services.shared import audit
from biaodi.services.shared.rates import lpr_on, rate_to_ppm
from biaodi.services.shared.sqlkit import stamped

OFFLINE_STEPS = ("signed_contract", "notarisation", "mortgage_registration")


@dataclass(frozen=True)
class ListingRules:
    """The configuration a listing check runs under: compliance profile and tunables."""

    profile_name: str = "cn-2016"
    config: ListingConfig = field(default_factory=ListingConfig)
    #: Risk control's latest decision on an applicant (unit of work, applicant id → grade,
    #: rate band, outcome, decided_at; None when none was made), wired by the platform to
    #: `services.risk.applications.latest_decision`. Wired, approval needs an approved
    #: decision no older than `risk_decision_max_age_days` (or a recorded risk override), and
    #: the rate must lie in the grade's band from creation on. Unset (rules built by hand):
    #: approval rests on the operator's review alone.
    risk_decision: Callable[[UnitOfWork, int], Mapping[str, Any] | None] | None = None
    #: Oldest risk decision an approval may rest on, in days (BIAODI_RISK_DECISION_MAX_AGE_DAYS).
    risk_decision_max_age_days: int = 90
    #: What risk control recorded about a borrower for the borrowing caps (unit of work, user
    #: id → borrower_type "natural" | "legal", other_platforms Money, source; None when no
    #: approved application), wired to `services.risk.applications.borrower_standing`.
    #: Unset or None: a natural person owing nothing elsewhere.
    borrower_standing: Callable[[UnitOfWork, int], Mapping[str, Any] | None] | None = None

    @property
    def profile(self) -> ComplianceProfile:
        return profile_named(self.profile_name)

    def service_fee_for(self, kind: str, term: int, term_unit: str) -> Decimal:
        """The platform's yearly service fee on the principal owed, by type and term band
        (the compliance profile's `service_fees`), charged with each instalment."""
        return self.profile.service_fee_rate(kind, term, term_unit)

    def context(self, today: date, one_year_lpr_ppm: int | None = None) -> ListingContext:
        lpr = None if one_year_lpr_ppm is None else Decimal(one_year_lpr_ppm) / 1_000_000
        return ListingContext(today=today, profile=profile_named(self.profile_name),
                              config=self.config, one_year_lpr=lpr)


@dataclass(frozen=True)
class CreateListing:
    kind: str
    title: str
    amount: Money
    annual_rate: Decimal
    term: int
    term_unit: str
    repayment_method: str
    description: str = ""
    security: SecurityInput = field(default_factory=SecurityInput)


def terms_of(listing: Listing) -> ListingTerms:
    return ListingTerms(
        amount=Money(listing.amount_fen),
        annual_rate=Decimal(listing.annual_rate_ppm) / 1_000_000,
        term=listing.term,
        term_unit=listing.term_unit,
        repayment_method=listing.repayment_method,
    )


def load_security(uow: UnitOfWork, listing: Listing) -> Any:
    return store_for(policy_for(listing.kind).security_type).load(uow, listing)


def get_listing(uow: UnitOfWork, listing_id: int, *, for_update: bool = False) -> Listing:
    query = select(Listing).where(Listing.id == listing_id)
    if for_update:
        query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE: FK checks may go on
    listing = uow.s.execute(query).scalar_one_or_none()
    if listing is None:
        raise NotFound(f"no listing {listing_id}", field="listing_id")
    return listing


def _record(uow: UnitOfWork, listing: Listing, target: ListingStatus, actor_id: int | None,
            reason: str) -> None:
    policy = policy_for(listing.kind)
    move = transition(
        ListingStatus(listing.status), target, actor_id=actor_id, reason=reason,
        at=uow.clock.now(), settles_on_funding=policy.settles_on_funding,
    )
    listing.status = move.to_status.value
    listing.updated_at = move.at
    uow.s.add(ListingTransition(
        listing_id=listing.id, from_status=move.from_status.value,
        to_status=move.to_status.value, actor_id=actor_id, reason=reason, at=move.at,
    ))
    uow.s.flush()
    note_status(uow, listing.id, move.from_status.value, move.to_status.value, reason)


def note_status(uow: UnitOfWork, listing_id: int, before: str, after: str,
                reason: str) -> None:
    """The audit event of one listing's move along its lifecycle."""
    audit.note(uow, "listing.status", subjects=[("listing", listing_id)],
               changes={"status": [before, after], "reason": reason})


def create_listing(uow: UnitOfWork, cmd: CreateListing, *, applicant_id: int,
                   rules: ListingRules) -> Listing:
    """A borrower (or, for 流转标, an originator) drafts a listing; its terms and security are
    checked against the type's policy and the compliance profile at once."""
    policy = policy_for(cmd.kind)
    if policy.applicant_role not in roles_of(uow, applicant_id):
        raise Forbidden(
            f"a {cmd.kind} listing is created by a user with the role {policy.applicant_role}",
            code="role_required",
        )
    title = cmd.title.strip()
    if not 2 <= len(title) <= 120:
        raise InvalidInput("title must have 2 to 120 characters", field="title")
    store = store_for(policy.security_type)
    unexpected = cmd.security.given() - store.extra_fields
    if unexpected:
        name = sorted(unexpected)[0]
        raise InvalidInput(f"{name} does not apply to a {cmd.kind} listing", field=name)
    now = uow.clock.now()
    terms = ListingTerms(cmd.amount, cmd.annual_rate, cmd.term, cmd.term_unit,
                         cmd.repayment_method)
    listing = Listing(
        kind=policy.kind.value, status=ListingStatus.DRAFT.value, applicant_id=applicant_id,
        title=title, description=cmd.description.strip(), amount_fen=cmd.amount.fen,
        annual_rate_ppm=rate_to_ppm(cmd.annual_rate), term=cmd.term, term_unit=cmd.term_unit,
        repayment_method=cmd.repayment_method, remaining_fen=0, risk_level=0,
        security_terms={}, created_at=now, updated_at=now,
    )
    uow.s.add(listing)
    uow.s.flush()
    store.store(uow, listing, cmd.security)
    uow.s.flush()
    security = store.load(uow, listing)
    _check_terms(uow, listing, terms, security, rules)
    _check_rate_band(uow, listing, rules)
    borrowing.check_listing(uow, listing, rules)
    listing.risk_level = policy.base_risk_level(security)
    uow.s.add(ListingTransition(listing_id=listing.id, from_status="", to_status="draft",
                                actor_id=applicant_id, reason="created", at=now))
    uow.s.flush()
    audit.note(uow, "listing.created", subjects=[("listing", listing.id),
                                                 ("user", applicant_id)], changes={
        "kind": listing.kind, "amount_fen": listing.amount_fen,
        "annual_rate_ppm": listing.annual_rate_ppm, "term": listing.term,
        "term_unit": listing.term_unit, "status": listing.status})
    return listing


def submit(uow: UnitOfWork, listing_id: int, *, actor_id: int, rules: ListingRules) -> Listing:
    listing = get_listing(uow, listing_id, for_update=True)
    if listing.applicant_id != actor_id:
        raise Forbidden("only the applicant may submit this listing", code="not_applicant")
    borrowing.lock_borrower(uow, listing.applicant_id)  # credit used, caps: read under it
    _revalidate(uow, listing, rules)
    _check_rate_band(uow, listing, rules)
    borrowing.check_listing(uow, listing, rules)
    _record(uow, listing, ListingStatus.SUBMITTED, actor_id, "submitted for review")
    return listing


def approve(uow: UnitOfWork, listing_id: int, *, actor_id: int, reason: str,
            rules: ListingRules, override_reason: str | None = None) -> Listing:
    """Approve after review. With risk control wired, a borrower needs an approved risk
    decision no older than `rules.risk_decision_max_age_days`: the listing takes its grade
    and its rate must lie in the grade's rate band. A refused or still referred applicant is
    never approved; a missing or stale decision only with a risk override: an
    `override_reason` from a user holding the role `risk_override`, kept in the listing's
    history. The borrowing caps hold in every case."""
    listing = get_listing(uow, listing_id, for_update=True)
    override = _override_reason(uow, actor_id, override_reason)
    borrowing.lock_borrower(uow, listing.applicant_id)
    _revalidate(uow, listing, rules)
    note = _apply_risk_decision(uow, listing, rules, override)
    borrowing.check_listing(uow, listing, rules)
    text = reason.strip() or "approved"
    _record(uow, listing, ListingStatus.APPROVED, actor_id, f"{text}; {note}" if note else text)
    return listing


def _override_reason(uow: UnitOfWork, actor_id: int, given: str | None) -> str | None:
    if given is None:
        return None
    if Role.RISK_OVERRIDE.value not in roles_of(uow, actor_id):
        raise Forbidden("approving without a valid risk decision needs the role risk_override",
                        code="role_required")
    text = given.strip()
    if len(text) < 4:
        raise InvalidInput("a risk override needs a reason (at least 4 characters)",
                           field="override_reason")
    return text


def decision_problem(uow: UnitOfWork, decision: Mapping[str, Any] | None,
                      rules: ListingRules) -> tuple[str, str] | None:
    """Why `decision` cannot carry an approval, as (code, message); None if it can."""
    if decision is None:
        return ("risk_decision_required",
                "risk control has not decided on the applicant: approval needs an approved"
                " risk application")
    if decision["outcome"] != "approved":
        return ("risk_not_approved",
                f"risk control's latest decision on the applicant is {decision['outcome']}"
                f" (application {decision['application_id']})")
    decided = datetime.fromisoformat(decision["decided_at"])
    max_age = rules.risk_decision_max_age_days
    if uow.clock.now() - decided > timedelta(days=max_age):
        return ("risk_decision_stale",
                f"risk control's decision on the applicant (application"
                f" {decision['application_id']}, {decided.date()}) is older than {max_age}"
                f" days: a new risk application is needed")
    return None


def _check_band(decision: Mapping[str, Any], listing: Listing) -> None:
    band = decision["rate_band"]
    if band is None:
        return
    rate = Decimal(listing.annual_rate_ppm) / 10_000
    low, high = Decimal(band["min"]), Decimal(band["max"])
    if not low <= rate <= high:
        raise InvalidInput(
            f"annual_rate {rate:f} % is outside grade {decision['grade']}'s rate band"
            f" {band['min']}–{band['max']} %", field="annual_rate")


def _check_rate_band(uow: UnitOfWork, listing: Listing, rules: ListingRules) -> None:
    """At creation and submission: the rate within the band of the applicant's grade, when
    risk control holds a decision approval could rest on (so no listing waits in review for
    a rate it can never be approved at)."""
    if rules.risk_decision is None or not borrowing.has_borrower(listing):
        return
    decision = rules.risk_decision(uow, listing.applicant_id)
    if decision is not None and decision_problem(uow, decision, rules) is None:
        _check_band(decision, listing)


def _apply_risk_decision(uow: UnitOfWork, listing: Listing, rules: ListingRules,
                         override: str | None) -> str | None:
    """The grade and rate band of the applicant's decision; returns the note of a risk
    override used in its place, if one was needed."""
    if rules.risk_decision is None or not borrowing.has_borrower(listing):
        return None  # no risk capability, or an originator's 流转标 (no borrower to assess)
    decision = rules.risk_decision(uow, listing.applicant_id)
    problem = decision_problem(uow, decision, rules)
    if problem is None:
        assert decision is not None
        _check_band(decision, listing)
        listing.grade = decision["grade"]
        return None
    code, message = problem
    if override is None or code == "risk_not_approved":
        raise Conflict(message, code=code)
    return f"risk override ({message}): {override}"


def reject(uow: UnitOfWork, listing_id: int, *, actor_id: int, reason: str) -> Listing:
    listing = get_listing(uow, listing_id, for_update=True)
    _record(uow, listing, ListingStatus.REJECTED, actor_id, reason.strip())
    return listing


def publish(uow: UnitOfWork, listing_id: int, *, actor_id: int, reason: str,
            rules: ListingRules) -> Listing:
    """Open the listing for investment once every publishing condition of its type holds."""
    listing = get_listing(uow, listing_id, for_update=True)
    policy = policy_for(listing.kind)
    ctx = rules.context(uow.clock.today())
    if listing.status == ListingStatus.APPROVED.value:
        security = load_security(uow, listing)
        _check_terms(uow, listing, terms_of(listing), security, rules, publishing=True)
        listing.risk_level = policy.base_risk_level(security)
    funding = policy.funding_rules(ctx.config)
    _record(uow, listing, ListingStatus.PUBLISHED, actor_id, reason or "published")
    listing.remaining_fen = listing.amount_fen
    listing.published_at = uow.clock.now()
    listing.funding_deadline = funding.deadline(ctx.today)
    return listing


def advance(uow: UnitOfWork, listing_id: int, target: str, *, actor_id: int | None,
            reason: str) -> Listing:
    """Move a listing to `target` if its lifecycle allows it; used by funding and servicing."""
    listing = get_listing(uow, listing_id, for_update=True)
    _record(uow, listing, ListingStatus(target), actor_id, reason)
    return listing


def _revalidate(uow: UnitOfWork, listing: Listing, rules: ListingRules) -> None:
    _check_terms(uow, listing, terms_of(listing), load_security(uow, listing), rules)


def _check_terms(uow: UnitOfWork, listing: Listing, terms: ListingTerms, security: Any,
                 rules: ListingRules, *, publishing: bool = False) -> None:
    """The type's rules (and, when `publishing`, its publishing conditions) and the compliance
    profile, with the cost cap for a contract made today (the profile's dated table: a fixed
    line, or a multiple of the one-year LPR in force today from `lpr_rates`): the type's rate
    and yearly fees first, then the all-in cost (IRR of the schedule with every fee). The fee
    rates and the all-in cost are kept on the listing."""
    today = uow.clock.today()
    lpr = lpr_on(uow, today)
    policy = policy_for(listing.kind)
    check = policy.check_publishable if publishing else policy.validate_terms
    check(terms, security, rules.context(today, lpr))
    service = rules.service_fee_for(listing.kind, terms.term, terms.term_unit)
    guarantee = policy.guarantee_fee_rate(security)
    all_in = listing_all_in_cost(terms, service, guarantee, today)
    check_listing_cost_cap(all_in, rules.profile, today, lpr)
    listing.service_fee_ppm, listing.guarantee_fee_ppm = rate_to_ppm(service), rate_to_ppm(
        guarantee, field="guarantee_fee_rate")
    listing.all_in_cost_ppm = rate_to_ppm(all_in)


# --- operator records ---------------------------------------------------------------------
def _asset(uow: UnitOfWork, listing_id: int, asset_id: int) -> PledgedAssetRow:
    listing = get_listing(uow, listing_id)
    if listing.status not in ("draft", "submitted", "approved"):
        raise Conflict(f"the security of a {listing.status} listing can no longer change",
                       code="listing_not_editable")
    asset = uow.s.get(PledgedAssetRow, asset_id)
    if asset is None or asset.listing_id != listing_id:
        raise NotFound(f"listing {listing_id} has no pledged asset {asset_id}", field="asset_id")
    return asset


def record_offline_step(uow: UnitOfWork, listing_id: int, asset_id: int, *, step: str,
                        done_on: date, reference: str, operator_id: int) -> OfflineStepRow:
    """Record an O2O step for a pledged house: signed contract, notarisation, mortgage
    registration (the last with its certificate number)."""
    asset = _asset(uow, listing_id, asset_id)
    if step not in OFFLINE_STEPS:
        raise InvalidInput(f"step must be one of {', '.join(OFFLINE_STEPS)}", field="step")
    if asset.asset_class != "house":
        raise InvalidInput("offline steps are recorded for pledged houses", field="step")
    if done_on > uow.clock.today():
        raise InvalidInput("done_on cannot be in the future", field="done_on")
    if step == "mortgage_registration" and not reference.strip():
        raise InvalidInput("a mortgage registration needs its certificate number",
                           field="reference")
    existing = uow.s.execute(select(OfflineStepRow).where(
        OfflineStepRow.asset_id == asset_id, OfflineStepRow.step == step)).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"{step} is already recorded for asset {asset_id}", field="step",
                       code="already_recorded")
    row = OfflineStepRow(asset_id=asset_id, step=step, done_on=done_on,
                         reference=reference.strip(), operator_id=operator_id,
                         recorded_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "listing.offline_step", subjects=[("listing", listing_id)], changes={
        "asset_id": asset_id, "step": step, "done_on": done_on,
        "reference": reference.strip()})
    return row


def record_vehicle_registration(uow: UnitOfWork, listing_id: int, asset_id: int, *,
                                plate_number: str, certificate_no: str) -> PledgedAssetRow:
    asset = _asset(uow, listing_id, asset_id)
    if asset.asset_class != "car":
        raise InvalidInput("a vehicle registration belongs to a pledged car",
                           field="plate_number")
    if not 5 <= len(plate_number.strip()) <= 10:
        raise InvalidInput("plate_number must have 5 to 10 characters", field="plate_number")
    if not certificate_no.strip():
        raise InvalidInput("the registration certificate number is required",
                           field="registration_certificate_no")
    asset.plate_number = plate_number.strip().upper()
    asset.registration_certificate_no = certificate_no.strip()
    uow.s.flush()
    audit.note(uow, "listing.vehicle_registration", subjects=[("listing", listing_id)],
               changes={"asset_id": asset_id, "registration": "recorded"})
    return asset


_BORROWER = text("SELECT 1 FROM user_roles WHERE user_id = :user AND role = 'borrower'")
_SET_LIMIT = stamped(
    "INSERT INTO credit_limits (user_id, limit_fen, source, set_by, reason, set_at) "
    "VALUES (:user, :limit, :source, :by, :reason, :now) ON CONFLICT (user_id) DO UPDATE SET "
    "limit_fen = excluded.limit_fen, source = excluded.source, set_by = excluded.set_by, "
    "reason = excluded.reason, set_at = excluded.set_at")


def set_credit_limit(uow: UnitOfWork, user_id: int, limit: Money, *, actor_id: int | None,
                     reason: str, source: str = "operator", rules: ListingRules | None = None,
                     borrower_type: str | None = None, clip_to_cap: bool = False,
                     borrower_checked: bool = False) -> CreditLimit:
    """The borrower's 信用标 credit limit, never above the platform borrowing cap of their type
    (from `borrower_type`, else as risk control recorded it): refused, or with `clip_to_cap`
    (risk control's own limits) lowered to the cap, the reason saying so. Core statements (a
    risk decision sets one on every approval): the role (unless `borrower_checked`: the caller
    read it in this transaction), then one upsert."""
    if not borrower_checked and uow.s.execute(_BORROWER, {"user": user_id}).first() is None:
        raise NotFound(f"user {user_id} is not a borrower", field="user_id")
    if not reason.strip():
        raise InvalidInput("a reason is required to set a credit limit", field="reason")
    rules = rules or ListingRules()
    kind = borrower_type or borrowing.standing_of(uow, user_id, rules).borrower_type
    profile = profile_named(rules.profile_name)
    cap = platform_cap(profile, kind)
    if clip_to_cap and cap is not None and limit > cap:
        reason = (f"{reason.strip()}; lowered from {limit} to the borrowing cap {cap}"
                  f" (rule {BORROWING_CAPS.rule_id})")
        limit = cap
    check_credit_limit(profile, kind, limit)
    row = CreditLimit(user_id=user_id, limit_fen=limit.fen, source=source, set_by=actor_id,
                      reason=reason.strip(), set_at=uow.clock.now())
    uow.s.execute(_SET_LIMIT, {"user": user_id, "limit": row.limit_fen, "source": source,
                               "by": actor_id, "reason": row.reason, "now": row.set_at})
    loaded = uow.s.identity_map.get(identity_key(CreditLimit, user_id))
    if loaded is not None:  # a copy read earlier in this transaction: read it again
        uow.s.expire(loaded)
    audit.note(uow, "user.credit_limit", subjects=[("user", user_id)], changes={
        "limit_fen": limit.fen, "source": source, "reason": row.reason})
    return row


def set_guarantor_terms(uow: UnitOfWork, user_id: int, *, name: str, capacity: Money,
                        fee_rate: Decimal, compensation_days: int,
                        actor_id: int) -> GuarantorProfile:
    if "guarantor" not in roles_of(uow, user_id):
        raise NotFound(f"user {user_id} is not a guarantor", field="user_id")
    if not 1 <= compensation_days <= 90:
        raise InvalidInput("compensation_days must be from 1 to 90", field="compensation_days")
    row = uow.s.get(GuarantorProfile, user_id)
    display = name.strip() or (row.name if row is not None else "")
    if not display:  # checked before the new row is added: a query would flush it unnamed
        raise InvalidInput("a guarantor without terms on file needs a name", field="name")
    if row is None:
        row = GuarantorProfile(user_id=user_id)
        uow.s.add(row)
    row.name, row.capacity_fen = display, capacity.fen
    row.fee_rate_ppm = rate_to_ppm(fee_rate, field="fee_rate")
    row.compensation_days, row.updated_by, row.updated_at = (
        compensation_days, actor_id, uow.clock.now())
    uow.s.flush()
    audit.note(uow, "user.guarantor_terms", subjects=[("user", user_id)], changes={
        "name": display, "capacity_fen": capacity.fen, "fee_rate_ppm": row.fee_rate_ppm,
        "compensation_days": compensation_days})
    return row
