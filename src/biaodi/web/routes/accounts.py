"""Sign-in, sign-out, real-name sign-up and the language switch."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from biaodi.adapters.ratelimit import address_key
from biaodi.domain.accounts.attribution import CAMPAIGN_MAX, Channel
from biaodi.domain.shared.errors import Conflict, InvalidInput, Unauthorized
from biaodi.services.accounts import security, users
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, pages, refusals
from biaodi.web.pages import Form, platform_of, redirect, render, safe_next

router = APIRouter()
SIGNUP_FIELDS = ("username", "real_name", "id_number", "mobile", "role", "channel",
                 "campaign")
SIGNUP_ROLES = ("investor", "borrower")


def _start_session(request: Request, response: Response, username: str, password: str) -> None:
    """Log in through the accounts service; the token lives in an HTTP-only cookie and the
    CSRF seed is renewed, so that tokens from before the sign-in no longer work."""
    platform = platform_of(request)
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    token, _expires = security.sign_in(platform.uow, lambda uow: users.login(
        uow, username, password, ttl, platform.cipher),
        security.SecurityRules.from_settings(platform.settings))
    max_age = int(ttl.total_seconds())
    pages.set_cookie(request, response, pages.SESSION_COOKIE, token, max_age)
    pages.set_cookie(request, response, pages.CSRF_COOKIE, pages.secrets.token_urlsafe(32))


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if pages.current_user(request):
        return redirect(safe_next(next))
    return render(request, "login.html", {"next": safe_next(next), "username": "", "error": None})


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    username = str(form.get("username", ""))
    platform_of(request).rate_limiter.hit("login", address_key(request.client),
                                          f"login:{username.lower()}")
    target = safe_next(str(form.get("next", "")))
    response = redirect(target)
    try:
        _start_session(request, response, username, str(form.get("password", "")))
    except Unauthorized as exc:
        key = {"account_disabled": "login.disabled",
               "account_locked": "security.locked"}.get(exc.code, "login.failed")
        return render(request, "login.html", {"next": target, "username": username,
                                              "error": key}, 400)
    return response


@router.post("/logout")
def logout(request: Request, _form: Form) -> Response:
    token = request.cookies.get(pages.SESSION_COOKIE)
    if token:
        platform = platform_of(request)
        in_transaction(platform.uow, lambda uow: users.logout(uow, token))
    response = redirect("/")
    response.delete_cookie(pages.SESSION_COOKIE, path="/")
    response.delete_cookie(pages.CSRF_COOKIE, path="/")
    return response


@router.get("/signup")
def signup_page(request: Request, utm_source: str = "", utm_campaign: str = "") -> Response:
    """The sign-up form; a link's `utm_source` and `utm_campaign` ride along in hidden fields
    and become the registration's acquisition channel and campaign (a source that is not one
    of the channels counts as organic: a visitor cannot mend a link)."""
    values = {"role": "investor", **_attribution(utm_source, utm_campaign)}
    return render(request, "signup.html", {"values": values, "errors": {}})


def _attribution(source: str, campaign: str) -> dict[str, str]:
    """A link's channel (kept only when it is one of the channels) and campaign (printable,
    spaces collapsed, cut to the longest kept): what the hidden fields carry."""
    channel = source.strip().lower()
    text = "".join(ch for ch in " ".join(campaign.split()) if ch.isprintable())
    return {"channel": channel if channel in {c.value for c in Channel} else "",
            "campaign": text[:CAMPAIGN_MAX]}


@router.post("/signup")
def signup(request: Request, form: Form) -> Response:
    platform_of(request).rate_limiter.hit("signup", address_key(request.client))
    values = {name: str(form.get(name, "")).strip() for name in SIGNUP_FIELDS}
    values |= _attribution(values["channel"], values["campaign"])  # never a refusal here
    password = str(form.get("password", ""))
    lang = i18n.language_of(request)
    errors: dict[str, str] = {}
    if values["role"] not in SIGNUP_ROLES:
        errors["role"] = i18n.translate(lang, "signup.error.roles")
    else:
        platform = platform_of(request)
        cmd = users.Register(username=values["username"], password=password,
                             real_name=values["real_name"], id_number=values["id_number"],
                             mobile=values["mobile"], roles=(values["role"],),
                             channel=values["channel"], campaign=values["campaign"])
        try:
            rules = security.SecurityRules.from_settings(platform.settings)
            in_transaction(platform.uow,
                           lambda uow: security.register(uow, cmd, platform.cipher, rules))
        except (InvalidInput, Conflict) as exc:
            field = "role" if exc.field == "roles" else (exc.field or "username")
            if isinstance(exc, Conflict):
                label = i18n.translate(lang, f"signup.{field}")
                errors[field] = f"{label}{' ' if lang == 'en' else ''}" + i18n.translate(
                    lang, "signup.error.taken")
            else:
                key = f"signup.error.{exc.field}"
                errors[field] = (i18n.translate(lang, key) if key in i18n.MESSAGES
                                 else refusals.say(request, exc))
    if errors:
        return render(request, "signup.html", {"values": values, "errors": errors}, 422)
    response = redirect("/")
    _start_session(request, response, values["username"], password)
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the language in the `lang` cookie and go back to the page."""
    back = safe_next(next) if next else _referer_path(request)
    response = redirect(back)
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax",
                            secure=pages.secure(request), path="/")
    return response


def _referer_path(request: Request) -> str:
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
