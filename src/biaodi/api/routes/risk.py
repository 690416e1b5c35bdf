"""Risk control: applications and decisions, referrals, the blacklist, monitoring, rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from biaodi.api.deps import CurrentUser, PlatformDep, require_role
from biaodi.api.params import NonBlank, Reason, RequestBody, one_of, query_one_of
from biaodi.bootstrap import Platform
from biaodi.domain.accounts.roles import STAFF_ROLES, Role
from biaodi.domain.risk.blacklist import ListKind, ListReason
from biaodi.domain.risk.rules import Outcome
from biaodi.domain.shared.bounds import Count, PageNo, PageSize, RowId
from biaodi.domain.shared.money import Money
from biaodi.services.accounts.users import UserView
from biaodi.services.risk import applications as risk_service
from biaodi.services.risk import blacklist
from biaodi.services.risk.applications import RiskEnv
from biaodi.services.shared.tx import in_transaction

router = APIRouter(tags=["risk"])
#: checked by `psi_report` (1 to 3650), said here
PsiDays = Annotated[Count, Query(json_schema_extra={"minimum": 1, "maximum": 3650})]

RiskStaff = Annotated[UserView, Depends(require_role(Role.RISK_OFFICER, Role.OPERATOR))]
RiskOfficer = Annotated[UserView, Depends(require_role(Role.RISK_OFFICER))]


def app_env(app: Any, platform: Platform) -> RiskEnv:
    """One risk environment per app (rule pack, lazily loaded model, bureau), built on first
    use."""
    env: RiskEnv | None = getattr(app.state, "risk_env", None)
    if env is None:
        env = risk_service.build_env(platform.settings, platform.cipher)
        app.state.risk_env = env
    return env


def warm_up(platform: Platform) -> None:
    """Load the model, and the challenger's trees with their library, before the first
    decision needs them (0.4 s here); a model that cannot be loaded is reported by the
    decisions, as without this."""
    from biaodi.risk_modelling.model import ModelError, load_model

    settings = platform.settings
    try:
        model = load_model(settings.risk_model_dir)
        if settings.risk_shadow_challenger and model.challenger is not None:
            model.challenger.booster  # noqa: B018 - loads it
    except (ModelError, OSError):
        pass


async def get_env(request: Request, platform: PlatformDep) -> RiskEnv:
    """The app's risk environment: a coroutine, so that FastAPI does not hand this attribute
    read to a worker thread on every request; the first build (it reads the rule pack) runs
    in one."""
    env: RiskEnv | None = getattr(request.app.state, "risk_env", None)
    if env is None:
        env = await run_in_threadpool(app_env, request.app, platform)
    return env


Env = Annotated[RiskEnv, Depends(get_env)]


class ApplicationRequest(RequestBody):
    """A loan application. Amounts are yuan as decimal strings."""

    real_name: str = Field(examples=["张三"])
    id_number: str = Field(description="18-character resident ID number (GB 11643)")
    declared_age: Count = Field(description="age in whole years, as the applicant states it")
    province: str = Field(description="province of household registration, e.g. 北京 or 11")
    mobile: str = Field(examples=["13812345678"])
    bank_card: str = Field(description="the card repayments come from, 12–19 digits")
    email: str = ""
    address: str = ""
    monthly_income: str = Field(examples=["12000.00"])
    employment_type: str = Field(description="permanent, self_employed, part_time or other")
    employment_years: Count = Field(description="years with the current employer")
    employer: str = ""
    housing: str = Field(description="own, rent, family, private or other")
    marital_status: str = Field(description="married, single, separated, divorced or widow")
    monthly_expenses: str = "0"
    assets: str = "0"
    debts: str = Field(default="0", description="total owed now, anywhere")
    monthly_debt_payments: str = Field(default="0", description="what those debts cost a month")
    other_platform_borrowings: str = Field(
        default="0", description="owed now on other online lending platforms (part of debts);"
        " counts toward the all-platforms borrowing cap")
    has_arrears_record: bool = False
    purpose: str = Field(description="consumption, business, education, medical, car,"
                                     " home_improvement, debt_consolidation or other")
    amount: str = Field(examples=["50000.00"])
    term_months: Count = Field(examples=[12])
    listing_kind: str = Field(default="credit",
                              description="credit, collateral, guarantee, transfer or instant")
    security_value: str | None = Field(
        default=None, description="appraised value of the collateral or price of the purchase")
    listing_id: RowId | None = None
    device_id: str | None = Field(default=None, description="device fingerprint of the app")
    channel: str = Field(default="app", description="app, web, wechat, partner or offline")
    borrower_type: str = Field(default="natural", description="natural or legal (person)")
    company_name: str = ""
    credit_code: str = Field(default="", description="统一社会信用代码 (legal persons)")


class ReviewRequest(RequestBody):
    approve: bool
    reason: Reason


class BlacklistRequest(RequestBody):
    kind: Annotated[str, one_of(*ListKind)] = Field(
        description="id_number, mobile, bank_card or device")
    value: str
    reason: Annotated[str, one_of(*ListReason)] = Field(default="manual",
                                                       description="manual or fraud")
    note: str
    expires_in_days: Count | None = Field(
        default=None, description="0: until removed; unset: the rule pack's term")


class RemovalRequest(RequestBody):
    reason: Reason


class FraudRequest(RequestBody):
    user_id: RowId
    note: NonBlank


def _money(platform: Platform, value: str, field: str, *, allow_zero: bool = True) -> Money:
    return Money.parse(value, field=field, allow_zero=allow_zero,
                       ceiling_fen=platform.settings.money_ceiling_fen)


def _command(platform: Platform, body: ApplicationRequest) -> risk_service.Application:
    data = body.model_dump()
    for name in ("monthly_income", "monthly_expenses", "assets", "debts",
                 "monthly_debt_payments", "other_platform_borrowings"):
        data[name] = _money(platform, data[name], name)
    data["amount"] = _money(platform, body.amount, "amount", allow_zero=False)
    data["security_value"] = (_money(platform, body.security_value, "security_value",
                                     allow_zero=False) if body.security_value else None)
    return risk_service.Application(**data)


def _staff(user: UserView) -> bool:
    return bool(STAFF_ROLES.intersection(user.roles))


@router.post("/risk/applications", status_code=201)
def submit_application(body: ApplicationRequest, platform: PlatformDep, user: CurrentUser,
                       env: Env) -> dict[str, Any]:
    """A borrower applies: the decision comes back at once with the outcome, score, grade,
    rate band, credit limit, the reasons and every rule that fired."""
    cmd = _command(platform, body)
    decision = in_transaction(platform.uow, lambda uow: risk_service.apply(
        uow, cmd, applicant_id=user.id, env=env))
    # plain JSON already (strings, integers, lists): sent as is, without FastAPI's encoder
    return JSONResponse(decision, status_code=201)  # type: ignore[return-value]


@router.get("/risk/applications")
def list_applications(platform: PlatformDep, user: CurrentUser,
                      outcome: Annotated[str | None, query_one_of(*Outcome)] = None,
                      page: PageNo = 1, page_size: PageSize = 20) -> dict[str, Any]:
    """Staff see every decision (e.g. `outcome=referred`: the review queue); a borrower sees
    their own."""
    with platform.uow() as uow:
        return risk_service.browse(uow, user_id=None if _staff(user) else user.id,
                                   outcome=outcome, page=page, page_size=page_size)


@router.get("/risk/applications/{application_id}")
def get_application(application_id: RowId, platform: PlatformDep,
                    user: CurrentUser) -> dict[str, Any]:
    with platform.uow() as uow:
        return risk_service.get_application(uow, application_id, viewer_id=user.id,
                                            staff=_staff(user))


@router.post("/risk/applications/{application_id}/review")
def review_application(application_id: RowId, body: ReviewRequest, platform: PlatformDep,
                       officer: RiskOfficer) -> dict[str, Any]:
    """A risk officer approves or refuses a referred application, with a reason."""
    return in_transaction(platform.uow, lambda uow: risk_service.review(
        uow, application_id, officer_id=officer.id, approve=body.approve, reason=body.reason,
        cipher=platform.cipher, profile_name=platform.settings.compliance_profile))


@router.post("/risk/blacklist", status_code=201)
def add_to_blacklist(body: BlacklistRequest, platform: PlatformDep, staff: RiskStaff,
                     env: Env) -> dict[str, Any]:
    cmd = blacklist.AddEntry(**body.model_dump())

    def act(uow):  # type: ignore[no-untyped-def]
        entry = blacklist.add(uow, cmd, cipher=platform.cipher, pack=env.pack,
                              actor_id=staff.id)
        return blacklist.get(uow, entry.id)

    return in_transaction(platform.uow, act)


@router.get("/risk/blacklist")
def list_blacklist(platform: PlatformDep, _staff_user: RiskStaff,
                   kind: Annotated[str | None, query_one_of(*ListKind)] = None,
                   active: bool = True, user_id: RowId | None = None, page: PageNo = 1,
                   page_size: PageSize = 50) -> dict[str, Any]:
    with platform.uow() as uow:
        return blacklist.browse(uow, kind=kind, active_only=active, user_id=user_id,
                                page=page, page_size=page_size)


@router.get("/risk/blacklist/{entry_id}")
def blacklist_entry(entry_id: RowId, platform: PlatformDep,
                    _staff_user: RiskStaff) -> dict[str, Any]:
    """One entry with its audit trail."""
    with platform.uow() as uow:
        return blacklist.get(uow, entry_id)


@router.post("/risk/blacklist/{entry_id}/remove")
def remove_from_blacklist(entry_id: RowId, body: RemovalRequest, platform: PlatformDep,
                          staff: RiskStaff) -> dict[str, Any]:
    """Remove an entry; the reason is required and audited."""
    def act(uow):  # type: ignore[no-untyped-def]
        blacklist.remove(uow, entry_id, actor_id=staff.id, reason=body.reason)
        return blacklist.get(uow, entry_id)

    return in_transaction(platform.uow, act)


@router.post("/risk/fraud", status_code=201)
def confirm_fraud(body: FraudRequest, platform: PlatformDep, officer: RiskOfficer,
                  env: Env) -> dict[str, Any]:
    """A confirmed fraud lists the identity, its phone, cards and devices, and links the
    identities that share them."""
    def act(uow):  # type: ignore[no-untyped-def]
        entries = blacklist.on_confirmed_fraud(uow, body.user_id, note=body.note,
                                               actor_id=officer.id, cipher=platform.cipher,
                                               pack=env.pack)
        return {"entries": [blacklist.get(uow, e.id) for e in entries]}

    return in_transaction(platform.uow, act)


@router.get("/risk/monitoring/psi")
def population_stability(platform: PlatformDep, _staff_user: RiskStaff, env: Env,
                         days: PsiDays = 30) -> dict[str, Any]:
    """PSI of the score and each input, recent applications against the training baseline
    (< 0.10 stable, 0.10–0.25 watch, > 0.25 act)."""
    with platform.uow() as uow:
        return risk_service.psi_report(uow, env.model, days=days)


@router.get("/risk/model")
def model_card(_staff_user: RiskStaff, env: Env) -> dict[str, Any]:
    """The active model's card: data, metrics, grades with expected default rates."""
    card = dict(env.model.card)
    card.pop("psi_baseline", None)
    return card


@router.get("/risk/rules")
def rule_pack(_user: CurrentUser, env: Env) -> dict[str, Any]:
    """The active rule pack: limits, grade policies and every rule in plain language."""
    pack = env.pack
    return {
        "name": pack.name, "version": pack.version, "description": pack.description,
        "sources": list(pack.sources),
        "limits": {k: str(v) if not isinstance(v, bool | int) else v
                   for k, v in pack.limits.items()},
        "grades": {g.value: {"rate_min": f"{p.rate_band.low * 100:.2f}",
                             "rate_max": f"{p.rate_band.high * 100:.2f}",
                             "income_multiple": p.income_multiple,
                             "limit_cap": str(p.limit_cap), "risk_bump": p.risk_bump}
                   for g, p in pack.grades.items()},
        "rules": [{"id": r.rule_id, "severity": r.severity.value, "fact": r.fact,
                   "message_zh": r.message_zh, "message_en": r.message_en,
                   "source": r.source} for r in pack.rules],
    }
