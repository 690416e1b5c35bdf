"""Rendering pages: the Jinja2 environment with our filters, the language and the current user
of a request, sessions in an HTTP-only cookie, CSRF tokens, and the role checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Unauthorized
from biaodi.services.accounts import users
from biaodi.services.accounts.users import UserView
from biaodi.services.shared import audit
from biaodi.web import i18n

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "biaodi_session"
#: A random value per browser session; the CSRF token in forms is derived from it.
CSRF_COOKIE = "biaodi_csrf"
CSRF_FIELD = "csrf_token"

env = Environment(loader=FileSystemLoader(HERE / "templates"),
                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
env.filters["money"] = i18n.money
env.filters["day"] = i18n.day
env.filters["moment"] = i18n.moment

#: The navigation: (label key, path, roles that see it; empty: everyone).
NAV: list[tuple[str, str, tuple[str, ...]]] = [
    ("nav.marketplace", "/listings", ()),
    ("market.nav", "/market", ()),
    ("cf.title", "/crowdfunding", ()),
    ("disc.nav", "/disclosure", ()),
    ("nav.operator", "/operator", ("operator", "risk_officer", "auditor")),
    ("investor.nav", "/me", ("investor",)),
    ("nav.borrow", "/borrow", ("borrower", "originator")),
    ("docs.nav", "/me/documents", ("investor", "borrower", "guarantor", "originator")),
    ("support.nav", "/support", ()),
    ("notify.nav", "/me/inbox", ("investor", "borrower", "originator", "guarantor", "operator",
                                 "risk_officer", "auditor")),
]


class PageError(Exception):
    """Stops a page and renders an error page (403, 404) in the visitor's language."""

    def __init__(self, status: int, title_key: str, text_key: str, **values: Any):
        super().__init__(title_key)
        self.status, self.title_key, self.text_key = status, title_key, text_key
        self.values = values


class LoginRequired(Exception):
    """Not signed in: the page sends the visitor to /login and back."""


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def current_user(request: Request) -> UserView | None:
    """The signed-in user, or None. Looked up once per request."""
    if not hasattr(request.state, "user"):
        token = request.cookies.get(SESSION_COOKIE)
        user = None
        if token:
            try:
                with platform_of(request).reader() as uow:
                    user = users.user_for_token(uow, token)
            except Unauthorized:
                user = None
        if user is not None:
            audit.signed_in(user.id)  # the actor of the audit records this request writes
        request.state.user = user
    found: UserView | None = request.state.user
    return found


def _csrf_seed(request: Request) -> str:
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_seed", None)
    if not seed:
        seed = request.state.new_csrf_seed = secrets.token_urlsafe(32)
    return seed


def csrf_token(request: Request) -> str:
    return hmac.new(_csrf_seed(request).encode(), b"biaodi-form", hashlib.sha256).hexdigest()


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure(request), path="/")


def render(request: Request, template: str, context: Mapping[str, Any] | None = None,
           status: int = 200) -> HTMLResponse:
    lang = i18n.language_of(request)
    user = current_user(request)
    roles = set(user.roles) if user else set()

    def t(key: str, **values: Any) -> str:
        return i18n.translate(lang, key, **values)

    nav = [(t(label), path) for label, path, wanted in NAV
           if not wanted or roles.intersection(wanted)]
    html = env.get_template(template).render(
        request=request, lang=lang, zh=lang == "zh-CN", t=t, user=user, nav=nav,
        csrf_field=CSRF_FIELD, csrf_token=csrf_token(request), path=request.url.path,
        here=quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
                   safe="/?=&"),
        **(context or {}),
    )
    response = HTMLResponse(html, status)
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        set_cookie(request, response, CSRF_COOKIE, seed)
    return response


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never another host (no '//' or scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


async def checked_form(request: Request) -> FormData:
    """The posted form, refused (403) unless it carries this browser session's CSRF token, and
    refused (422, naming the field) when a field holds a NUL character, which PostgreSQL text
    cannot store: every form is checked here, before any page reads it."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise PageError(403, "error.csrf.title", "error.csrf.text")
    for name, value in form.multi_items():
        if isinstance(value, str) and ("\x00" in value or "\x00" in name):
            raise PageError(422, "error.nul.title", "error.nul.text",
                            field=name.replace("\x00", "") or "?")
    return form


Form = Annotated[FormData, Depends(checked_form)]


def form_values(form: FormData) -> dict[str, str]:
    """A posted form's fields as trimmed text, without the CSRF token (to show them again)."""
    return {k: str(v).strip() for k, v in form.items() if k != CSRF_FIELD}


def signed_in(request: Request) -> UserView:
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    return user


def require_role(*roles: str) -> Callable[[Request], UserView]:
    def check(request: Request) -> UserView:
        user = signed_in(request)
        if not set(roles).intersection(user.roles):
            lang = i18n.language_of(request)
            names = "、".join(i18n.translate(lang, f"role.{r}") for r in roles)
            raise PageError(403, "error.forbidden.title", "error.forbidden.text", roles=names)
        return user

    return check


SignedIn = Annotated[UserView, Depends(signed_in)]
OperatorUser = Annotated[UserView, Depends(require_role("operator"))]
