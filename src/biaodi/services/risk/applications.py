"""Risk control use cases: a borrower applies, the platform checks, scores and decides.

`apply` runs, in one transaction: input validation; data-consistency checks (ID checksum and
age, region code and province, bank card, credit code); the blacklist; phones, cards and
devices shared with other identities; the bureau (four elements, outstanding and defaults on
other platforms); the borrower's outstanding on Biaodi against the pack's caps; the champion
scorecard (and the challenger in shadow); grade, rate band under the cost cap, debt-to-income;
then every rule of the active pack. The decision records the rules that fired and the top
reasons; an approval sets the borrower's 信用标 credit limit (source "risk"). A referral waits
for a risk officer (`review`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, event, exists, func, insert, or_, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from biaodi.adapters.bureau import (
    BureauError,
    CreditBureau,
    CreditReport,
    FourElements,
    Verification,
    VerificationResult,
)
from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.risk_tables import (
    PsiSnapshot,
    RiskApplication,
    RiskDecision,
    RiskModelRow,
)
from biaodi.adapters.db.tables import User, UserRole
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.identity import parse_mobile
from biaodi.domain.accounts.roles import Role
from biaodi.domain.listings import ListingKind
from biaodi.domain.listings.borrowing import platform_cap
from biaodi.domain.risk import consistency
from biaodi.domain.risk.blacklist import ListKind
from biaodi.domain.risk.grades import GradePolicy, credit_limit
from biaodi.domain.risk.rules import Outcome, RulePack, decide
from biaodi.domain.shared.compliance import profile_named
from biaodi.domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.risk_modelling.features import APPLICATION_INPUTS
from biaodi.risk_modelling.model import ModelError, RiskModel, ScoreResult
from biaodi.services.listings import borrowing
from biaodi.services.listings import lifecycle as listings
from biaodi.services.risk import blacklist
from biaodi.services.shared import audit
from biaodi.services.shared.rates import percent_text, rate_to_ppm

BORROWER_TYPES = ("natural", "legal")
HOUSING = ("own", "rent", "family", "private", "other")
MARITAL = ("married", "single", "separated", "divorced", "widow")
EMPLOYMENT = ("permanent", "self_employed", "part_time", "other")
PURPOSES = ("consumption", "business", "education", "medical", "car", "home_improvement",
            "debt_consolidation", "other")
CHANNELS = ("app", "web", "wechat", "partner", "offline")
MAX_TERM_MONTHS = 60
PPM = 1_000_000


@dataclass(frozen=True)
class Application:
    """What a borrower declares: identity, contact, income, employment, housing, debts,
    purpose, the loan asked for, the listing type and its security, device and channel."""

    real_name: str
    id_number: str
    declared_age: int
    province: str  # province of household registration (户籍)
    mobile: str
    bank_card: str
    monthly_income: Money
    employment_type: str
    employment_years: int
    housing: str
    marital_status: str
    monthly_expenses: Money
    assets: Money
    debts: Money  # total owed now, anywhere
    monthly_debt_payments: Money
    purpose: str
    amount: Money
    term_months: int
    listing_kind: str = "credit"
    security_value: Money | None = None  # appraised collateral or purchase price, if any
    has_arrears_record: bool = False
    employer: str = ""
    email: str = ""
    address: str = ""
    device_id: str | None = None
    channel: str = "app"
    borrower_type: str = "natural"
    company_name: str = ""
    credit_code: str = ""
    listing_id: int | None = None
    #: What the borrower owes now on other online lending platforms (part of `debts`); with
    #: the bureau's figure, the larger counts toward the all-platforms borrowing cap.
    other_platform_borrowings: Money = field(default_factory=Money.zero)


@dataclass
class RiskEnv:
    """What a decision needs besides the database: the rule pack, the model, the bureau, the
    cipher for digests and the one-year LPR for the cost cap."""

    pack: RulePack
    model_loader: Callable[[], RiskModel]
    bureau: CreditBureau
    cipher: PersonalDataCipher
    one_year_lpr: Decimal
    shadow_challenger: bool = True
    #: The compliance profile whose borrowing caps bound the credit limits set here.
    profile_name: str = "cn-2016"
    _model: RiskModel | None = field(default=None, repr=False)

    @property
    def model(self) -> RiskModel:
        if self._model is None:
            model = self.model_loader()
            missing = sorted(set(model.raw_inputs) - set(APPLICATION_INPUTS))
            if missing:
                raise ModelError(f"model {model.version} needs inputs an application does not"
                                 f" collect: {', '.join(missing)}")
            self._model = model
        return self._model


# --- validation ---------------------------------------------------------------------------
def _choice(value: str, allowed: tuple[str, ...], field_name: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{field_name} must be one of {', '.join(allowed)}", field=field_name)
    return value


def _whole(value: int, low: int, high: int, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field_name} must be a whole number from {low} to {high}",
                           field=field_name)
    return value


def _validate(cmd: Application) -> None:
    _choice(cmd.borrower_type, BORROWER_TYPES, "borrower_type")
    _choice(cmd.housing, HOUSING, "housing")
    _choice(cmd.marital_status, MARITAL, "marital_status")
    _choice(cmd.employment_type, EMPLOYMENT, "employment_type")
    _choice(cmd.purpose, PURPOSES, "purpose")
    _choice(cmd.channel, CHANNELS, "channel")
    if cmd.listing_kind not in {k.value for k in ListingKind}:
        known = ", ".join(k.value for k in ListingKind)
        raise InvalidInput(f"listing_kind must be one of {known}", field="listing_kind")
    _whole(cmd.declared_age, 0, 120, "declared_age")
    _whole(cmd.employment_years, 0, 70, "employment_years")
    _whole(cmd.term_months, 1, MAX_TERM_MONTHS, "term_months")
    if not cmd.real_name.strip():
        raise InvalidInput("real_name is required", field="real_name")
    for name in ("monthly_income", "monthly_expenses", "assets", "debts",
                 "monthly_debt_payments", "other_platform_borrowings"):
        if getattr(cmd, name).fen < 0:
            raise InvalidInput(f"{name} cannot be negative", field=name)
    if cmd.amount.fen <= 0:
        raise InvalidInput("amount must be greater than zero", field="amount")
    if cmd.listing_kind == ListingKind.COLLATERAL and not cmd.security_value:
        raise InvalidInput("a collateral listing needs the security's appraised value",
                           field="security_value")
    if cmd.borrower_type == "legal" and not (cmd.credit_code.strip()
                                             and cmd.company_name.strip()):
        raise InvalidInput("a legal person applies with company_name and credit_code",
                           field="credit_code")
    if cmd.device_id is not None and not 6 <= len(cmd.device_id.strip()) <= 128:
        raise InvalidInput("device_id must have 6 to 128 characters", field="device_id")


# --- facts that need the database or the bureau --------------------------------------------
def _distinct_identities_where(condition: Any) -> Any:
    return func.count(func.distinct(case((condition, RiskApplication.id_digest))))


#: Built once: other identities that applied with the same phone, card or device.
_SHARED = select(
    _distinct_identities_where(RiskApplication.mobile_digest == bindparam("mobile"))
    .label("phone_shared"),
    _distinct_identities_where(RiskApplication.card_digest == bindparam("card"))
    .label("card_shared"),
    _distinct_identities_where(RiskApplication.device_digest == bindparam("device"))
    .label("device_shared"),
).where(RiskApplication.id_digest != bindparam("own"),
        or_(RiskApplication.mobile_digest == bindparam("mobile"),
            RiskApplication.card_digest == bindparam("card"),
            RiskApplication.device_digest == bindparam("device")))


def platform_outstanding(uow: UnitOfWork, user_id: int, *,
                         excluding_listing: int | None = None) -> Money:
    """The borrower's outstanding on Biaodi: every listing of theirs from submission until it
    is repaid or written off (until servicing tracks repaid principal, the full amount); the
    same figure the listings' borrowing caps count."""
    return borrowing.platform_outstanding(uow, user_id, excluding_listing=excluding_listing)


def _bureau(env: RiskEnv, elements: FourElements) -> tuple[VerificationResult, CreditReport]:
    try:
        verified = env.bureau.verify(elements)
    except BureauError:
        verified = VerificationResult(Verification.UNAVAILABLE)
    try:
        report = env.bureau.report(elements.id_number)
    except BureauError:
        report = CreditReport(available=False)
    return verified, report


def _other_platforms(cmd: Application, report: CreditReport) -> Money | None:
    """What the borrower owes on other lending platforms: the larger of the bureau's figure and
    their own declaration (None when neither says anything)."""
    declared = cmd.other_platform_borrowings
    if report.available:
        return max(report.outstanding, declared)
    return declared if declared else None


def _yuan(money: Money) -> float:
    return float(money.decimal)


def model_row(cmd: Application, age: int | None, arrears: bool) -> dict[str, Any]:
    """The application in the default model's inputs (Biaodi names, amounts in yuan)."""
    return {
        "employment_years": float(cmd.employment_years), "housing": cmd.housing,
        "term_months": float(cmd.term_months),
        "age": float(age if age is not None else cmd.declared_age),
        "marital_status": cmd.marital_status, "has_arrears_record": "yes" if arrears else "no",
        "employment_type": cmd.employment_type,
        "monthly_expenses": _yuan(cmd.monthly_expenses),
        "monthly_income": _yuan(cmd.monthly_income), "assets": _yuan(cmd.assets),
        "debts": _yuan(cmd.debts), "amount": _yuan(cmd.amount),
        "purchase_price": _yuan(cmd.security_value or cmd.amount),
    }


_REGISTERED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _register_model(uow: UnitOfWork, model: RiskModel) -> None:
    """Record the model version (and card) the first time it decides on this database."""
    known = _REGISTERED.setdefault(uow.engine, set())
    if model.version in known:
        return
    if uow.s.get(RiskModelRow, model.version) is not None:
        known.add(model.version)
        return
    try:
        with uow.s.begin_nested():
            uow.s.add(RiskModelRow(version=model.version, name=str(model.card.get("name", "")),
                                   card=model.card, registered_at=uow.clock.now()))
    except IntegrityError:  # registered by a concurrent first decision
        pass
    # remembered only once committed: a rolled-back first decision registers it again
    event.listen(uow.s, "after_commit", lambda _s: known.add(model.version), once=True)


# --- the use case -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Evidence:
    """What the platform finds out about an application before scoring it."""

    id_number: str
    mobile: str
    card: str
    province: str
    ident: consistency.IdFacts
    id_age: int | None
    digests: tuple[str, str, str, str | None]  # ID, phone, card, device
    listed: tuple[str, ...]
    verified: VerificationResult
    report: CreditReport
    on_platform: Money
    shared: tuple[int, int, int]  # phone, card, device


#: Everything `apply` reads, in one statement: the applicant and whether they hold the
#: borrower role; which of the application's values are actively blacklisted; the other
#: identities that applied with its phone, card or device (and, when the phone is not the
#: account's own, the other accounts registered with it); the borrower's outstanding on
#: Biaodi. Parameters: `user_id`, `excluded`, `now`, and the digests — `own` and `id_number`
#: (the ID number), `mobile`, `card` and `bank_card` (the card), `device` ("" for none).
_OTHER_USER = aliased(User)
_SHARED_SQ = _SHARED.subquery("shared")
_EVIDENCE = select(
    User.id, User.real_name, User.mobile_digest, User.id_number_digest,
    exists().where(UserRole.user_id == User.id,
                   UserRole.role == Role.BORROWER.value).label("borrower"),
    *blacklist.listed_columns(),
    *_SHARED_SQ.c,
    case((User.mobile_digest == bindparam("mobile"), 0), else_=select(func.count()).where(
        _OTHER_USER.mobile_digest == bindparam("mobile"),
        _OTHER_USER.id_number_digest != bindparam("own")).scalar_subquery(),
    ).label("phone_accounts"),
    borrowing.outstanding_query(User.id).scalar_subquery().label("on_platform"),
).select_from(User).join(_SHARED_SQ, true()).where(User.id == bindparam("user_id"))


@dataclass(frozen=True)
class _Declared:
    """The application's identifying values, normalised, and their digests."""

    id_number: str
    mobile: str
    card: str
    province: str
    ident: consistency.IdFacts
    digests: tuple[str, str, str, str | None]  # ID, phone, card, device


def _normalise(cmd: Application, env: RiskEnv, today: date) -> _Declared:
    id_number = cmd.id_number.strip().upper()
    mobile = parse_mobile(cmd.mobile)
    card = consistency.normalise_card(cmd.bank_card)
    province = consistency.province_code(cmd.province)
    digest = env.cipher.digest
    return _Declared(
        id_number=id_number, mobile=mobile, card=card, province=province,
        ident=consistency.id_facts(id_number, today),
        digests=(digest(id_number), digest(mobile), digest(card),
                 digest(cmd.device_id.strip()) if cmd.device_id else None))


def _applicant_and_evidence(uow: UnitOfWork, cmd: Application, applicant_id: int,
                            env: RiskEnv) -> tuple[Any, _Evidence]:
    """The applicant (only a borrower may apply) and what the platform finds out about the
    application: the database's part in one statement (`_EVIDENCE`), then the bureau."""
    today = uow.clock.today()
    try:
        declared = _normalise(cmd, env, today)
    except InvalidInput:
        _borrower(uow.s.execute(_APPLICANT, {"id": applicant_id}).first())  # Forbidden first
        raise
    id_d, mobile_d, card_d, device_d = declared.digests
    # Core statements on the session's connection: the ORM's execution path costs more
    # than these statements themselves on SQLite, and nothing is pending to flush here
    row = _borrower(uow.s.connection().execute(_EVIDENCE, {
        "user_id": applicant_id, "excluded": cmd.listing_id or 0, "now": uow.clock.now(),
        "own": id_d, "id_number": id_d, "mobile": mobile_d, "card": card_d,
        "bank_card": card_d, "device": device_d or ""}).first())
    m = row._mapping
    listed = tuple(sorted(kind.value for kind in ListKind if m[f"listed_{kind.value}"]))
    shared = [int(m[name] or 0) for name in ("phone_shared", "card_shared", "device_shared")]
    verified, report = _bureau(env, FourElements(cmd.real_name.strip(), declared.id_number,
                                                  declared.mobile, declared.card))
    return row, _Evidence(
        id_number=declared.id_number, mobile=declared.mobile, card=declared.card,
        province=declared.province, ident=declared.ident,
        id_age=declared.ident.age_on(today), digests=declared.digests, listed=listed,
        verified=verified, report=report, on_platform=Money(int(m["on_platform"] or 0)),
        shared=(shared[0] + int(m["phone_accounts"] or 0), shared[1], shared[2]),
    )


def _borrower(user: Any) -> Any:
    if user is None or not user.borrower:
        raise Forbidden("only a borrower can apply for a loan", code="role_required")
    return user


def _facts(cmd: Application, user: Any, ev: _Evidence, *, today: date, scored: ScoreResult,
           policy: GradePolicy, cap: Decimal | None, cap_rule: str | None,
           instalment: Money) -> dict[str, Any]:
    """Every fact the rule packs test (domain/risk/facts.py)."""
    band = policy.rate_band.clipped(cap)
    after = ev.on_platform + cmd.amount
    ident, report = ev.ident, ev.report
    elsewhere = _other_platforms(cmd, report)
    return {
        "borrower_type": cmd.borrower_type, "listing_kind": cmd.listing_kind,
        "requested_amount": cmd.amount, "term_months": cmd.term_months,
        "identity_matches_account": (ev.digests[0] == user.id_number_digest
                                     and cmd.real_name.strip() == user.real_name),
        "id_checksum_ok": ident.valid, "id_age": ev.id_age, "declared_age": cmd.declared_age,
        "age_difference": (abs(cmd.declared_age - ev.id_age) if ev.id_age is not None
                           else None),
        "age_at_maturity": (consistency.age_at_maturity(ident.birth_date, today,
                                                        cmd.term_months)
                            if ident.birth_date else None),
        "id_province": ident.province, "declared_province": consistency.PROVINCES[ev.province],
        "id_province_matches": (ident.province_code == ev.province
                                if ident.province_code else None),
        "credit_code_ok": (consistency.credit_code_ok(cmd.credit_code)
                           if cmd.borrower_type == "legal" else None),
        "bank_card_ok": consistency.luhn_ok(ev.card),
        "four_elements": ev.verified.status.value,
        "four_elements_mismatched": ev.verified.mismatched,
        "phone_shared_identities": ev.shared[0],
        "card_shared_identities": ev.shared[1],
        "device_shared_identities": ev.shared[2],
        "blacklist_hits": ev.listed,
        "other_platform_defaults": report.defaults if report.available else None,
        "platform_outstanding": ev.on_platform, "platform_outstanding_after": after,
        "all_platforms_outstanding_after": (None if elsewhere is None else after + elsewhere),
        "monthly_income": cmd.monthly_income, "monthly_instalment": instalment,
        "debt_to_income": consistency.debt_to_income(instalment, cmd.monthly_debt_payments,
                                                     cmd.monthly_income),
        "loan_to_value": consistency.loan_to_value(cmd.amount, cmd.security_value),
        "employment_years": cmd.employment_years,
        "score": scored.score, "grade": scored.grade.value,
        "grade_rate_min": policy.rate_band.low,
        "rate_band_min": band.low if band else None,
        "rate_band_max": band.high if band else None,
        "cost_cap_rate": cap, "cost_cap_rule": cap_rule,
        "rate_band_clipped": band is not None and band.high < policy.rate_band.high,
    }


#: The applicant and whether they hold the borrower role, in one statement.
_APPLICANT = text(
    "SELECT u.id, u.real_name, u.mobile_digest, u.id_number_digest, EXISTS (SELECT 1 FROM "
    "user_roles r WHERE r.user_id = u.id AND r.role = 'borrower') AS borrower "
    "FROM users u WHERE u.id = :id")


def _insert(uow: UnitOfWork, row: Any) -> None:
    """Write a new row built as an ORM object with one Core `INSERT … RETURNING id`, no flush
    of a unit of work; the object stays out of the session with its id filled in."""
    table = type(row).__table__
    values = {column.key: getattr(row, column.key) for column in table.columns
              if column.key != "id"}
    row.id = uow.s.connection().execute(_inserting(table), values).scalar_one()


@lru_cache(maxsize=8)
def _inserting(table: Any) -> Any:
    return insert(table).returning(table.c.id)


def apply(uow: UnitOfWork, cmd: Application, *, applicant_id: int, env: RiskEnv
          ) -> dict[str, Any]:
    """Check, score and decide one application; returns the decision view. Its writes are
    Core statements: the application, the decision, and (approved) the credit limit."""
    _validate(cmd)
    user, ev = _applicant_and_evidence(uow, cmd, applicant_id, env)
    today, now = uow.clock.today(), uow.clock.now()
    report = ev.report
    arrears = cmd.has_arrears_record or (report.available and report.defaults > 0)
    scored = env.model.score(model_row(cmd, ev.id_age, arrears),
                             challenger=env.shadow_challenger)
    policy = env.pack.grades[scored.grade]
    cap_line = env.pack.cost_cap_on(today)  # the line for a contract made today
    cap = None if cap_line is None else cap_line.rate(env.one_year_lpr)
    cap_rule = None if cap_line is None else cap_line.rule.rule_id
    band = policy.rate_band.clipped(cap)
    instalment = consistency.monthly_instalment(
        cmd.amount, (band or policy.rate_band).high, cmd.term_months, today)
    hits = env.pack.evaluate(_facts(cmd, user, ev, today=today, scored=scored, policy=policy,
                                    cap=cap, cap_rule=cap_rule,
                                    instalment=instalment))
    outcome = decide(hits)
    limit = _limit(env.pack, cmd, policy, ev.on_platform, _other_platforms(cmd, report))
    borrowing_cap = platform_cap(profile_named(env.profile_name), cmd.borrower_type)
    if borrowing_cap is not None and limit > borrowing_cap:
        limit = borrowing_cap  # the compliance profile's cap, whatever the pack says

    id_d, mobile_d, card_d, device_d = ev.digests
    application = RiskApplication(
        user_id=applicant_id, borrower_type=cmd.borrower_type, listing_kind=cmd.listing_kind,
        listing_id=cmd.listing_id, amount_fen=cmd.amount.fen, term_months=cmd.term_months,
        purpose=cmd.purpose, channel=cmd.channel, monthly_income_fen=cmd.monthly_income.fen,
        id_digest=id_d, mobile_digest=mobile_d, card_digest=card_d,
        card_masked=consistency.mask_card(ev.card), device_digest=device_d,
        data=_declared(cmd) | {"bureau_other_platforms": (str(report.outstanding)
                                                          if report.available else None)},
        submitted_at=now,
    )
    _insert(uow, application)
    expected = {g["grade"]: g.get("default_rate") for g in env.model.card.get("grades", [])}
    expected_rate = expected.get(scored.grade.value)
    decision = RiskDecision(
        application_id=application.id, user_id=applicant_id, auto_outcome=outcome.value,
        outcome=outcome.value, score=scored.score, pd_ppm=round(scored.pd * PPM),
        grade=scored.grade.value,
        expected_default_ppm=round(expected_rate * PPM) if expected_rate is not None else None,
        rate_min_ppm=rate_to_ppm(band.low) if band else None,
        rate_max_ppm=rate_to_ppm(band.high) if band else None,
        limit_fen=limit.fen, limit_applied=outcome is Outcome.APPROVED,
        risk_bump=policy.risk_bump, model_version=env.model.version,
        challenger_pd_ppm=(round(scored.challenger_pd * PPM)
                           if scored.challenger_pd is not None else None),
        pack_name=env.pack.name, pack_version=env.pack.version,
        fired_rules=[h.as_dict() for h in hits],
        reasons=[r.as_dict() for r in scored.reasons],
        inputs=_jsonable(scored.inputs), decided_at=now,
    )
    _insert(uow, decision)
    audit.note(uow, "risk.decided", subjects=[("user", applicant_id)], changes={
        "application_id": application.id, "outcome": decision.outcome,
        "grade": decision.grade, "limit_fen": decision.limit_fen})
    _register_model(uow, env.model)
    if outcome is Outcome.APPROVED:
        _apply_limit(uow, decision, application, env.profile_name, actor_id=None,
                     borrower_checked=True)  # by the evidence read
    return decision_view(decision, application)


def _limit(pack: RulePack, cmd: Application, policy: GradePolicy, on_platform: Money,
           elsewhere: Money | None) -> Money:
    """信用标 limit: min(income × the grade's multiple, the grade's cap, what the borrower may
    still owe under the pack's per-platform and all-platform caps)."""
    prefix = "natural_person" if cmd.borrower_type == "natural" else "legal_person"
    headroom: Money | None = None
    platform_cap = pack.limits.get(f"{prefix}_platform_cap")
    if platform_cap is not None:
        headroom = platform_cap - on_platform
    all_cap = pack.limits.get(f"{prefix}_all_platforms_cap")
    if all_cap is not None and elsewhere is not None:
        room = all_cap - on_platform - elsewhere
        headroom = room if headroom is None else min(headroom, room)
    return credit_limit(policy, cmd.monthly_income, headroom)


def _apply_limit(uow: UnitOfWork, decision: RiskDecision, application: RiskApplication,
                 profile_name: str, *, actor_id: int | None,
                 borrower_checked: bool = False) -> None:
    listings.set_credit_limit(
        uow, decision.user_id, Money(decision.limit_fen),
        actor_id=actor_id,  # None: set by the engine, not a person
        reason=f"risk decision {decision.id}: grade {decision.grade}, score {decision.score}",
        source="risk", rules=listings.ListingRules(profile_name=profile_name),
        borrower_type=application.borrower_type, clip_to_cap=True,
        borrower_checked=borrower_checked,
    )
    decision.limit_applied = True  # already so for an automatic approval


def _declared(cmd: Application) -> dict[str, Any]:
    """The non-identifying declared fields, kept with the application."""
    return {
        "declared_age": cmd.declared_age, "province": cmd.province,
        "employment_type": cmd.employment_type, "employment_years": cmd.employment_years,
        "employer": cmd.employer, "housing": cmd.housing, "marital_status": cmd.marital_status,
        "monthly_expenses": str(cmd.monthly_expenses), "assets": str(cmd.assets),
        "debts": str(cmd.debts), "monthly_debt_payments": str(cmd.monthly_debt_payments),
        "has_arrears_record": cmd.has_arrears_record,
        "security_value": str(cmd.security_value) if cmd.security_value else None,
        "company_name": cmd.company_name,
        "other_platform_borrowings": str(cmd.other_platform_borrowings),
    }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        if isinstance(value, float) and value != value:  # NaN
            value = None
        out[key] = value
    return out


def iso(moment: datetime) -> str:
    """ISO time, in UTC; SQLite hands back naive datetimes that were stored as UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _ratio(ppm: int | None) -> str | None:
    return None if ppm is None else f"{Decimal(ppm) / PPM:.4f}"


def decision_view(decision: RiskDecision, application: RiskApplication) -> dict[str, Any]:
    band = None
    if decision.rate_min_ppm is not None and decision.rate_max_ppm is not None:
        band = {"min": percent_text(decision.rate_min_ppm),
                "max": percent_text(decision.rate_max_ppm)}
    review = None
    if decision.reviewed_at is not None:
        review = {"by": decision.reviewed_by, "at": iso(decision.reviewed_at),
                  "reason": decision.review_reason}
    return {
        "application_id": application.id, "decision_id": decision.id,
        "user_id": decision.user_id, "outcome": decision.outcome,
        "auto_outcome": decision.auto_outcome, "decided_at": iso(decision.decided_at),
        "listing_kind": application.listing_kind, "amount": str(Money(application.amount_fen)),
        "term_months": application.term_months,
        "score": decision.score, "probability_of_default": _ratio(decision.pd_ppm),
        "grade": decision.grade, "expected_default_rate": _ratio(decision.expected_default_ppm),
        "rate_band": band, "credit_limit": str(Money(decision.limit_fen)),
        "limit_applied": decision.limit_applied, "risk_level_bump": decision.risk_bump,
        "reasons": decision.reasons, "fired_rules": decision.fired_rules,
        "rule_pack": f"{decision.pack_name}@{decision.pack_version}",
        "model_version": decision.model_version,
        "challenger_probability_of_default": _ratio(decision.challenger_pd_ppm),
        "review": review,
    }


# --- reading and reviewing --------------------------------------------------------------------
def _load(uow: UnitOfWork, application_id: int, *, for_update: bool = False
          ) -> tuple[RiskDecision, RiskApplication]:
    query = select(RiskDecision).where(RiskDecision.application_id == application_id)
    if for_update:
        query = query.with_for_update()
    decision = uow.s.execute(query).scalar_one_or_none()
    application = uow.s.get(RiskApplication, application_id)
    if decision is None or application is None:
        raise NotFound(f"no risk application {application_id}", field="application_id")
    return decision, application


def get_application(uow: UnitOfWork, application_id: int, *, viewer_id: int,
                    staff: bool) -> dict[str, Any]:
    decision, application = _load(uow, application_id)
    if not staff and application.user_id != viewer_id:
        raise NotFound(f"no risk application {application_id}", field="application_id")
    return decision_view(decision, application)


def browse(uow: UnitOfWork, *, user_id: int | None = None, outcome: str | None = None,
           page: int = 1, page_size: int = 20) -> dict[str, Any]:
    if page < 1 or not 1 <= page_size <= 100:
        raise InvalidInput("page starts at 1; page_size is 1 to 100", field="page_size")
    query = select(RiskDecision, RiskApplication).join(
        RiskApplication, RiskApplication.id == RiskDecision.application_id)
    if user_id is not None:
        query = query.where(RiskDecision.user_id == user_id)
    if outcome is not None:
        _choice(outcome, tuple(o.value for o in Outcome), "outcome")
        query = query.where(RiskDecision.outcome == outcome)
    rows = uow.s.execute(query.order_by(RiskDecision.id.desc())
                         .offset((page - 1) * page_size).limit(page_size)).all()
    return {"items": [decision_view(d, a) for d, a in rows], "page": page,
            "page_size": page_size}


def latest_decision(uow: UnitOfWork, user_id: int) -> dict[str, Any] | None:
    """The borrower's most recent decision (grade, rate band, limit) for listing pricing."""
    row = uow.s.execute(select(RiskDecision, RiskApplication).join(
        RiskApplication, RiskApplication.id == RiskDecision.application_id)
        .where(RiskDecision.user_id == user_id)
        .order_by(RiskDecision.decided_at.desc(), RiskDecision.id.desc()).limit(1)).first()
    return decision_view(*row) if row else None


def review(uow: UnitOfWork, application_id: int, *, officer_id: int, approve: bool,
           reason: str, cipher: PersonalDataCipher,
           profile_name: str = "cn-2016") -> dict[str, Any]:
    """A risk officer decides a referred application; an approval sets the credit limit
    (within the borrowing cap of `profile_name`, the platform's compliance profile)."""
    if len(reason.strip()) < 4:
        raise InvalidInput("a review needs a reason (at least 4 characters)", field="reason")
    decision, application = _load(uow, application_id, for_update=True)
    if decision.outcome != Outcome.REFERRED.value:
        raise Conflict(f"application {application_id} is {decision.outcome}, not referred",
                       code="not_referred")
    if approve:
        blacklist.check_before_disbursement(uow, decision.user_id, cipher)
    decision.outcome = (Outcome.APPROVED if approve else Outcome.REFUSED).value
    decision.reviewed_by, decision.reviewed_at = officer_id, uow.clock.now()
    decision.review_reason = reason.strip()
    if approve:
        _apply_limit(uow, decision, application, profile_name, actor_id=officer_id)
    audit.note(uow, "risk.reviewed", subjects=[("user", decision.user_id)], changes={
        "application_id": application_id, "outcome": ["referred", decision.outcome],
        "reason": decision.review_reason})
    uow.s.flush()
    return decision_view(decision, application)


def borrower_standing(uow: UnitOfWork, user_id: int) -> dict[str, Any] | None:
    """For the listings' borrowing caps: the borrower type of the latest approved application
    and what the borrower owes on other platforms by it (the larger of the declaration and
    the bureau's figure); None when no application of theirs was approved."""
    application = uow.s.execute(select(RiskApplication).join(
        RiskDecision, RiskDecision.application_id == RiskApplication.id)
        .where(RiskDecision.user_id == user_id, RiskDecision.outcome == Outcome.APPROVED.value)
        .order_by(RiskDecision.decided_at.desc(), RiskDecision.id.desc()).limit(1)
    ).scalar_one_or_none()
    if application is None:
        return None
    data = application.data or {}
    figures = [Money.parse(str(data.get(name) or "0"), allow_zero=True, ceiling_fen=None)
               for name in ("other_platform_borrowings", "bureau_other_platforms")]
    return {"borrower_type": application.borrower_type, "other_platforms": max(figures),
            "source": f"risk application {application.id}"}


def screen_before_disbursement(uow: UnitOfWork, user_id: int,
                               cipher: PersonalDataCipher) -> None:
    """The blacklist check again, right before money goes out (raises `Blacklisted`)."""
    blacklist.check_before_disbursement(uow, user_id, cipher)


# --- monitoring ---------------------------------------------------------------------------
def psi_report(uow: UnitOfWork, model: RiskModel, *, days: int = 30,
               record: bool = False) -> dict[str, Any]:
    """PSI of the score and of each input: recent decisions by `model` against its training
    baseline. < 0.10 stable, 0.10–0.25 watch, > 0.25 act."""
    from biaodi.risk_modelling import monitoring

    if not 1 <= days <= 3650:
        raise InvalidInput("days must be from 1 to 3650", field="days")
    end: datetime = uow.clock.now()
    start = end - timedelta(days=days)
    rows = uow.s.execute(select(RiskDecision.score, RiskDecision.inputs).where(
        RiskDecision.model_version == model.version, RiskDecision.decided_at >= start,
        RiskDecision.decided_at <= end)).all()
    result = monitoring.psi(model, [r[0] for r in rows], [r[1] or {} for r in rows])
    result |= {"window_start": start.isoformat(), "window_end": end.isoformat(),
               "days": days}
    if record:
        uow.s.add(PsiSnapshot(model_version=model.version, computed_at=end, window_start=start,
                              window_end=end, applications=len(rows),
                              score_psi=result["score"]["psi"], status=result["status"],
                              result=result))
        uow.s.flush()
    return result


# --- wiring ---------------------------------------------------------------------------------
def make_bureau(settings: Any) -> CreditBureau:
    from biaodi.adapters.bureau.sandbox import SandboxBureau

    if settings.risk_bureau != "sandbox":
        raise InvalidInput(f"unknown credit bureau {settings.risk_bureau!r}; available: sandbox",
                           field="risk_bureau")
    if settings.risk_bureau_sandbox_file:
        return SandboxBureau.from_file(settings.risk_bureau_sandbox_file)
    return SandboxBureau()


def build_env(settings: Any, cipher: PersonalDataCipher, *,
              bureau: CreditBureau | None = None) -> RiskEnv:
    """The risk environment of a platform: its rule pack (named like the compliance profile
    unless set), its model (loaded on first use), its bureau."""
    from biaodi.risk_modelling.model import load_model
    from biaodi.risk_modelling.rulepacks import load_pack

    model_dir = settings.risk_model_dir
    return RiskEnv(
        pack=load_pack(settings.risk_rule_pack or settings.compliance_profile),
        model_loader=lambda: load_model(model_dir),
        bureau=bureau or make_bureau(settings),
        cipher=cipher,
        one_year_lpr=settings.risk_one_year_lpr,
        shadow_challenger=settings.risk_shadow_challenger,
        profile_name=settings.compliance_profile,
    )
