"""Access control as a matrix: every route of the JSON API (from the OpenAPI spec) and every GET
page, called by every kind of caller. Who may call what is written down once, in `API` and
`PAGES` below; a route without a row (or a row without a route) fails the test.

A caller the row does not name must be refused: 401 when anonymous (pages send a visitor to
sign-in), 403 or 404 when signed in, never 2xx, never 5xx. A caller the row names must get
past the door: anything but 401/403 and 5xx (the minimal arguments may well earn a 404, 409 or
422; what matters here is who gets in). "investor" and "borrower" own the fixture's objects
(holdings, sale, payment order, auto-invest rule, loan, listing, risk application);
"other_investor" and "other_borrower" hold the same roles and own none of them, so a row that
names the owner but not the other caller is an ownership check. API refusals for want of a
sign-in or a role are logged (logger "biaodi.access") and the test checks that too.

The world is built once per database and every cell runs inside one test: the report lists
every cell that broke its row.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.api.app import create_app
from biaodi.api.routes.payments import get_gateway
from biaodi.bootstrap import Platform
from biaodi.services.accounts import users
from biaodi.services.investing import suitability
from biaodi.services.shared.tx import in_transaction
from documents_support import issued_document
from factories import identity
from investing_support import AGGRESSIVE, deposit, published_listing
from payment_support import FakeGateway
from risk_support import application_body
from servicing_support import due_dates, funded_loan, pay_in, run_close, set_day
from test_support import login
from web_support import post_form

CALLERS = ("anonymous", "investor", "other_investor", "borrower", "other_borrower", "guarantor",
           "originator", "operator", "risk_officer", "auditor")
EVERYONE = frozenset(CALLERS)
SIGNED_IN = EVERYONE - {"anonymous"}
INVESTORS = frozenset({"investor", "other_investor"})
BORROWERS = frozenset({"borrower", "other_borrower"})
OPERATOR = frozenset({"operator"})
OPERATOR_AUDITOR = frozenset({"operator", "auditor"})
RISK_STAFF = frozenset({"operator", "risk_officer"})
STAFF = frozenset({"operator", "risk_officer", "auditor"})
#: The gateway's callback is not for users at all: it is authenticated by its HMAC signature,
#: so an unsigned call is refused whoever sends it (any 4xx).
SIGNED_BY_GATEWAY = frozenset({"signature"})

#: (method, path) -> the callers allowed. One row per route of the OpenAPI spec.
API: dict[tuple[str, str], frozenset[str]] = {
    # accounts
    ("POST", "/api/v1/users"): EVERYONE,
    ("POST", "/api/v1/auth/token"): EVERYONE,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/me/wallet"): SIGNED_IN,
    ("POST", "/api/v1/operator/staff"): OPERATOR,
    ("POST", "/api/v1/operator/bonuses"): OPERATOR,
    # notifications
    ("GET", "/api/v1/me/notifications"): SIGNED_IN,
    ("POST", "/api/v1/me/notifications/{message_id}/read"): SIGNED_IN,
    ("POST", "/api/v1/me/notifications/read-all"): SIGNED_IN,
    ("GET", "/api/v1/me/notification-settings"): SIGNED_IN,
    ("PUT", "/api/v1/me/notification-settings"): SIGNED_IN,
    # account security
    ("POST", "/api/v1/auth/password-reset"): EVERYONE,
    ("POST", "/api/v1/auth/password-reset/confirm"): EVERYONE,
    ("POST", "/api/v1/me/password"): SIGNED_IN,
    ("POST", "/api/v1/me/mobile-verification"): SIGNED_IN,
    ("POST", "/api/v1/me/mobile-verification/confirm"): SIGNED_IN,
    ("GET", "/api/v1/me/security"): SIGNED_IN,
    ("GET", "/api/v1/me/sessions"): SIGNED_IN,
    ("POST", "/api/v1/me/sessions/{session_id}/revoke"): SIGNED_IN,
    # listings
    # a credit listing (the cell's body) is drafted by a borrower; a transfer one by an originator
    ("POST", "/api/v1/listings"): BORROWERS,
    ("GET", "/api/v1/listings"): EVERYONE,
    ("GET", "/api/v1/listings/{listing_id}"): EVERYONE,
    ("POST", "/api/v1/listings/{listing_id}/submit"): frozenset({"borrower"}),
    ("POST", "/api/v1/listings/{listing_id}/approve"): OPERATOR,
    ("POST", "/api/v1/listings/{listing_id}/reject"): OPERATOR,
    ("POST", "/api/v1/listings/{listing_id}/publish"): OPERATOR,
    ("POST", "/api/v1/listings/{listing_id}/assets/{asset_id}/offline-steps"): OPERATOR,
    ("PUT", "/api/v1/listings/{listing_id}/assets/{asset_id}/vehicle-registration"): OPERATOR,
    ("GET", "/api/v1/me/listings"): SIGNED_IN,
    ("GET", "/api/v1/operator/listings"): OPERATOR,
    ("PUT", "/api/v1/operator/borrowers/{user_id}/credit-limit"): OPERATOR,
    ("PUT", "/api/v1/operator/guarantors/{user_id}"): OPERATOR,
    # another role has no reserve: 404 "not an originator"
    ("POST", "/api/v1/me/buyback-reserve"): frozenset({"originator"}),
    # investing
    ("POST", "/api/v1/listings/{listing_id}/investments"): INVESTORS,
    ("GET", "/api/v1/me/investments"): SIGNED_IN,
    ("GET", "/api/v1/me/holdings"): SIGNED_IN,
    ("GET", "/api/v1/risk-assessment/questions"): EVERYONE,
    ("GET", "/api/v1/me/risk-assessment"): SIGNED_IN,
    ("POST", "/api/v1/me/risk-assessment"): INVESTORS,
    ("GET", "/api/v1/me/auto-invest/rules"): SIGNED_IN,
    ("POST", "/api/v1/me/auto-invest/rules"): INVESTORS,
    ("PUT", "/api/v1/me/auto-invest/rules/{rule_id}"): frozenset({"investor"}),
    ("DELETE", "/api/v1/me/auto-invest/rules/{rule_id}"): frozenset({"investor"}),
    ("GET", "/api/v1/me/auto-invest/allocations"): SIGNED_IN,
    ("POST", "/api/v1/operator/funding/close-expired"): OPERATOR,
    # payments
    # staff have no wallet: their deposits and withdrawals are refused with 422
    ("POST", "/api/v1/payments/deposits"): SIGNED_IN,
    ("POST", "/api/v1/payments/withdrawals"): SIGNED_IN,
    ("GET", "/api/v1/payments/limits"): SIGNED_IN,
    ("GET", "/api/v1/payments/orders"): SIGNED_IN,
    ("GET", "/api/v1/payments/orders/{order_no}"): frozenset({"investor"}),
    ("POST", "/api/v1/payments/callbacks"): SIGNED_BY_GATEWAY,
    ("GET", "/api/v1/operator/payments/orders"): OPERATOR_AUDITOR,
    ("GET", "/api/v1/operator/payments/callbacks"): OPERATOR_AUDITOR,
    ("GET", "/api/v1/operator/payments/channels"): OPERATOR_AUDITOR,
    ("GET", "/api/v1/operator/payments/exceptions"): OPERATOR_AUDITOR,
    ("POST", "/api/v1/operator/payments/exceptions/{exception_id}/resolve"): OPERATOR,
    # risk
    ("POST", "/api/v1/risk/applications"): BORROWERS,
    ("GET", "/api/v1/risk/applications"): SIGNED_IN,
    ("GET", "/api/v1/risk/applications/{application_id}"): frozenset({"borrower"}) | STAFF,
    ("POST", "/api/v1/risk/applications/{application_id}/review"): frozenset({"risk_officer"}),
    ("POST", "/api/v1/risk/blacklist"): RISK_STAFF,
    ("GET", "/api/v1/risk/blacklist"): RISK_STAFF,
    ("GET", "/api/v1/risk/blacklist/{entry_id}"): RISK_STAFF,
    ("POST", "/api/v1/risk/blacklist/{entry_id}/remove"): RISK_STAFF,
    ("POST", "/api/v1/risk/fraud"): frozenset({"risk_officer"}),
    ("GET", "/api/v1/risk/monitoring/psi"): RISK_STAFF,
    ("GET", "/api/v1/risk/model"): RISK_STAFF,
    ("GET", "/api/v1/risk/rules"): SIGNED_IN,
    # servicing
    ("POST", "/api/v1/operator/close-day"): OPERATOR,
    ("GET", "/api/v1/operator/close-day/{business_date}"): OPERATOR,
    ("GET", "/api/v1/operator/loans"): OPERATOR,
    ("GET", "/api/v1/loans/{listing_id}/servicing"): frozenset({"borrower"}) | STAFF,
    ("GET", "/api/v1/me/holdings/servicing"): SIGNED_IN,
    ("POST", "/api/v1/loans/{listing_id}/repayments"): frozenset({"borrower"}),
    ("POST", "/api/v1/loans/{listing_id}/early-repayment"): frozenset({"borrower"}),
    ("POST", "/api/v1/operator/loans/{listing_id}/disposal"): OPERATOR,
    ("POST", "/api/v1/operator/loans/{listing_id}/recoveries"): OPERATOR,
    ("PUT", "/api/v1/operator/servicing/products/{kind}"): OPERATOR,
    ("PUT", "/api/v1/operator/lpr/{effective_on}"): OPERATOR,
    ("GET", "/api/v1/lpr"): EVERYONE,
    ("GET", "/api/v1/me/contacts"): SIGNED_IN,
    ("POST", "/api/v1/me/contacts"): BORROWERS | {"originator"},
    ("POST", "/api/v1/operator/collections/contacts"): OPERATOR,
    ("GET", "/api/v1/operator/collections/log"): OPERATOR,
    ("POST", "/api/v1/operator/collections/send-notices"): OPERATOR,
    # secondary market
    ("POST", "/api/v1/secondary/sales"): frozenset({"investor"}),  # the holding's holder
    ("GET", "/api/v1/secondary/sales"): EVERYONE,
    ("GET", "/api/v1/secondary/sales/{sale_id}"): EVERYONE,
    ("POST", "/api/v1/secondary/sales/{sale_id}/purchases"): INVESTORS,
    ("POST", "/api/v1/secondary/sales/{sale_id}/cancel"): frozenset({"investor"}),
    ("GET", "/api/v1/me/secondary/sales"): SIGNED_IN,
    ("GET", "/api/v1/me/secondary/purchases"): SIGNED_IN,
    # analytics: operators record campaigns; operators and auditors read the metrics
    ("POST", "/api/v1/operator/campaigns"): OPERATOR,
    ("GET", "/api/v1/operator/analytics"): OPERATOR_AUDITOR,
    **{("GET", f"/api/v1/operator/analytics/{name}"): OPERATOR_AUDITOR for name in (
        "funnel", "active-investors", "cohort-retention", "average-ticket",
        "investors-by-tier", "borrowers-by-grade", "cost-per-investor", "volume",
        "volume-by-vertical", "weighted-rates", "funding-time", "auto-invest-share",
        "secondary-market",
        "outstanding-principal", "overdue-by-bucket", "bad-debt-rate", "vintage-curves",
        "roll-rates", "grade-calibration", "losses-and-recoveries", "guarantors",
        "buyback-coverage", "collateral-ltv",
        "payments-by-channel", "platform-income",
        "custody-against-wallets")},
    # disclosure: public reads; operators record events and related parties, publish
    ("GET", "/api/v1/disclosure"): EVERYONE,
    ("GET", "/api/v1/disclosure/reports/{month}"): EVERYONE,
    ("GET", "/api/v1/disclosure/events"): EVERYONE,
    ("POST", "/api/v1/operator/disclosure/events"): OPERATOR,
    ("POST", "/api/v1/operator/disclosure/related-parties"): OPERATOR,
    ("GET", "/api/v1/operator/disclosure/related-parties"): OPERATOR_AUDITOR,
    ("POST", "/api/v1/operator/disclosure/related-parties/{party_id}/end"): OPERATOR,
    ("POST", "/api/v1/operator/disclosure/reports/{month}"): OPERATOR,
    ("GET", "/api/v1/disclosure/listings/{listing_id}"): EVERYONE,
    ("POST", "/api/v1/operator/disclosure/listings/{listing_id}/updates"): OPERATOR,
    # audit trail: read by operators and auditors
    ("GET", "/api/v1/operator/audit"): OPERATOR_AUDITOR,
    # incentives: public rules; an investor's coupons, trials, referrer; operators' campaigns
    ("GET", "/api/v1/incentive-campaigns"): EVERYONE,
    ("GET", "/api/v1/me/coupons"): INVESTORS,
    ("POST", "/api/v1/me/trials"): INVESTORS,
    ("POST", "/api/v1/me/referrer"): INVESTORS,
    ("GET", "/api/v1/operator/incentives/campaigns"): OPERATOR_AUDITOR,
    ("POST", "/api/v1/operator/incentives/campaigns"): OPERATOR,
    ("POST", "/api/v1/operator/incentives/campaigns/{campaign_id}/templates"): OPERATOR,
    ("POST", "/api/v1/operator/incentives/templates/{template_id}/issue"): OPERATOR,
    # documents: a party reads its own copies (the list is each caller's own)
    ("GET", "/api/v1/me/documents"): SIGNED_IN,
    ("GET", "/api/v1/me/documents/{document_id}"): frozenset({"investor"}),
    ("GET", "/api/v1/me/statements"): INVESTORS,
    ("GET", "/api/v1/me/statements/pdf"): INVESTORS,
    ("GET", "/api/v1/me/statements/xlsx"): INVESTORS,
    # support: a user's own tickets; operators answer, triage and keep the FAQ
    ("POST", "/api/v1/support/tickets"): SIGNED_IN,
    ("GET", "/api/v1/support/tickets"): SIGNED_IN,
    ("GET", "/api/v1/support/tickets/{ticket_id}"): frozenset({"investor", "operator"}),
    ("POST", "/api/v1/support/tickets/{ticket_id}/messages"): frozenset({"investor",
                                                                         "operator"}),
    ("GET", "/api/v1/operator/support/tickets"): OPERATOR,
    ("POST", "/api/v1/operator/support/tickets/{ticket_id}/triage"): OPERATOR,
    ("POST", "/api/v1/operator/support/tickets/{ticket_id}/resolve"): OPERATOR,
    ("GET", "/api/v1/operator/support/canned-answers"): OPERATOR,
    ("POST", "/api/v1/operator/support/canned-answers"): OPERATOR,
    ("GET", "/api/v1/support/faq"): EVERYONE,
    ("POST", "/api/v1/operator/support/faq"): OPERATOR,
    ("PUT", "/api/v1/operator/support/faq/{faq_id}"): OPERATOR,
    ("GET", "/api/v1/support/complaints"): EVERYONE,
    # cash wallet: the fund is public; an investor's own wallet; staff read the breaks
    ("GET", "/api/v1/cash-wallet/fund"): EVERYONE,
    ("GET", "/api/v1/me/cash-wallet"): INVESTORS,
    ("POST", "/api/v1/me/cash-wallet/subscriptions"): INVESTORS,
    ("POST", "/api/v1/me/cash-wallet/redemptions"): INVESTORS,
    ("GET", "/api/v1/operator/cash-wallet/breaks/{business_date}"): OPERATOR_AUDITOR,
    ("GET", "/api/v1/operator/cash-wallet/breaks"): OPERATOR_AUDITOR,
    ("POST", "/api/v1/operator/cash-wallet/breaks/{break_id}/resolution"): OPERATOR,
    # crowdfunding: anyone signed in may start a project; investors back it; owners ship
    ("GET", "/api/v1/crowdfunding/projects"): EVERYONE,
    ("GET", "/api/v1/crowdfunding/projects/{project_id}"): EVERYONE,
    ("POST", "/api/v1/crowdfunding/projects"): SIGNED_IN,
    ("POST", "/api/v1/operator/crowdfunding/projects/{project_id}/review"): OPERATOR,
    ("GET", "/api/v1/operator/crowdfunding/complaints"): STAFF,
    ("POST", "/api/v1/operator/crowdfunding/projects/{project_id}/complaints/settlement"):
        OPERATOR,
    ("POST", "/api/v1/crowdfunding/projects/{project_id}/pledges"): INVESTORS,
    ("GET", "/api/v1/me/crowdfunding"): SIGNED_IN,
    ("POST", "/api/v1/crowdfunding/pledges/{pledge_id}/shipment"): SIGNED_IN,
    ("POST", "/api/v1/crowdfunding/pledges/{pledge_id}/confirmation"): INVESTORS,
    ("POST", "/api/v1/crowdfunding/pledges/{pledge_id}/complaint"): INVESTORS,
    # advisory: an investor's own advice and its adoption as auto-invest rules
    ("GET", "/api/v1/me/advice"): INVESTORS,
    ("POST", "/api/v1/me/advice/adoption"): INVESTORS,
    # meta
    ("GET", "/healthz"): EVERYONE,
}

#: GET page path -> the callers allowed (pages outside the OpenAPI spec).
PAGES: dict[str, frozenset[str]] = {
    "/me/inbox": SIGNED_IN,
    "/me/security": SIGNED_IN,
    "/password-reset": EVERYONE,
    "/password-reset/confirm": EVERYONE,
    "/": EVERYONE,
    "/listings": EVERYONE,
    "/listings/{listing_id}": EVERYONE,
    "/disclosure": EVERYONE,
    "/disclosure/reports/{month}": EVERYONE,
    "/disclosure/events": EVERYONE,
    "/operator/disclosure": OPERATOR,
    "/operator/disclosure/related": OPERATOR,
    "/operator/disclosure/updates": OPERATOR,
    "/listings/{listing_id}/progress.json": EVERYONE,
    "/login": EVERYONE,
    "/signup": EVERYONE,
    "/lang/{code}": EVERYONE,
    # the console: staff read (risk officers and auditors read only), operators act
    "/operator": STAFF,
    "/operator/close-day": OPERATOR_AUDITOR,
    "/operator/loans": STAFF,
    "/operator/loans/{listing_id}": STAFF,
    "/operator/collections/{borrower_id}": STAFF,
    "/operator/payments/exceptions": OPERATOR_AUDITOR,
    "/operator/risk/blacklist": STAFF,
    "/operator/listings/{listing_id}": STAFF,
    "/operator/defaults": STAFF,
    "/operator/guarantors": STAFF,
    "/operator/audit": OPERATOR_AUDITOR,
    "/operator/analytics": STAFF,
    # an originator uses the borrower's pages for its transfer listings
    "/borrow": BORROWERS | {"originator"},
    "/borrow/apply": BORROWERS,
    "/borrow/applications/{application_id}": frozenset({"borrower"}),
    "/borrow/listings/new": BORROWERS | {"originator"},
    "/borrow/listings/{listing_id}": frozenset({"borrower"}),
    "/borrow/loans/{listing_id}": frozenset({"borrower"}),
    "/me": INVESTORS,
    "/me/assessment": INVESTORS,
    "/listings/{listing_id}/invest": INVESTORS,
    "/me/deposit": INVESTORS,
    "/me/withdraw": INVESTORS,
    "/me/statement.csv": INVESTORS,
    "/me/statement.xlsx": INVESTORS,
    "/me/auto-invest": INVESTORS,
    "/me/auto-invest/new": INVESTORS,
    "/me/auto-invest/{rule_id}/edit": frozenset({"investor"}),
    "/market": EVERYONE,
    "/market/sales/{sale_id}": EVERYONE,
    "/market/sales/{sale_id}/buy": INVESTORS,
    "/me/holdings/{holding_id}/sell": frozenset({"investor"}),
    "/me/market": INVESTORS,
    # documents and customer service
    "/me/documents": SIGNED_IN,
    "/me/documents/{document_id}.pdf": frozenset({"investor"}),
    "/me/statements.pdf": INVESTORS,
    "/me/statements.xlsx": INVESTORS,
    "/support": EVERYONE,
    "/support/tickets/{ticket_id}": frozenset({"investor"}),
    "/operator/support": OPERATOR,
    "/operator/support/tickets/{ticket_id}": OPERATOR,
    "/me/coupons": INVESTORS,
    "/operator/incentives": OPERATOR_AUDITOR,
    "/me/cash-wallet": INVESTORS,
    "/operator/cash-wallet": OPERATOR_AUDITOR,
    "/crowdfunding": EVERYONE,
    "/crowdfunding/{project_id}": EVERYONE,
    "/crowdfunding/new": SIGNED_IN,
    "/operator/crowdfunding": STAFF,
    "/me/crowdfunding": SIGNED_IN,
    "/me/advice": INVESTORS,
}


# --- enumerating the app's routes --------------------------------------------------------
def spec_routes(app: Any) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in app.openapi()["paths"].items()
            for method in ops}


def _walk(routes: Any, prefix: str = "") -> Any:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "methods") and route.methods:
            yield route, prefix + route.path


def page_routes(app: Any) -> set[str]:
    """GET routes outside the spec and outside /api, the docs and the static files."""
    in_spec = {path for _, path in spec_routes(app)}
    return {path for route, path in _walk(app.routes)
            if "GET" in route.methods and path not in in_spec
            and not path.startswith(("/api/", "/docs", "/openapi", "/static"))}


# --- minimal arguments -------------------------------------------------------------------
def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _value(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    schema = _resolve(spec, schema)
    if "anyOf" in schema:
        return _value(spec, next(s for s in schema["anyOf"] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: _value(spec, sub) for name, sub in schema.get("properties", {}).items()
                if name in schema.get("required", ())}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return "2026-11-28"
    return "1"


def minimal_body(spec: dict[str, Any], method: str, path: str) -> Any:
    content = spec["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _value(spec, content["application/json"]["schema"])


class World:
    """The objects every cell points at, and a signed-in caller of every kind."""

    def __init__(self, client: TestClient, platform: Platform, clock: FixedClock) -> None:
        self.client, self.platform = client, platform
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.ids: dict[str, int] = {}
        self.data: dict[str, dict[str, str]] = {}
        self.cookies: dict[str, dict[str, str]] = {"anonymous": {}}
        for name, roles in (("investor", ("investor",)), ("other_investor", ("investor",)),
                            ("borrower", ("borrower",)), ("other_borrower", ("borrower",)),
                            ("guarantor", ("guarantor",)), ("originator", ("originator",))):
            self._person(name, roles, users.register)
        for name in ("operator", "risk_officer", "auditor"):
            self._person(name, (name,), users.create_staff)
        for name in ("investor", "other_investor"):
            deposit(platform, self.ids[name], 20_000)
            in_transaction(platform.uow, lambda uow, n=name: suitability.assess(
                uow, self.ids[n], AGGRESSIVE))
        loan = funded_loan(platform, "credit", applicant=self.ids["borrower"],
                           people=[self.ids["investor"], self.ids["other_investor"]],
                           tickets=(5_000, 5_000))
        self.loan_id, self.holding_id = loan.listing_id, loan.holdings[0]
        # a holding may be offered for sale 30 days after it was bought: to the day after the
        # first instalment (paid), then everyone signs in (tokens last hours, not a month)
        pay_in(platform, loan.payer, 5_000_000)
        set_day(clock, due_dates(platform, loan.listing_id)[0] + timedelta(days=1))
        run_close(platform, clock.today())
        for name in CALLERS[1:]:
            self._sign_in(name)
        self.document_id = issued_document(platform, self.ids["investor"])
        self.ticket_id = self._made("/api/v1/support/tickets", self.headers["investor"], {
            "category": "repayment", "subject": "matrix", "body": "x"})["id"]
        self.open_listing_id = published_listing(platform, platform.investing_rules,
                                                 borrower=self.ids["borrower"], amount=50_000)
        inv = self.headers["investor"]
        self.sale_id = self._made("/api/v1/secondary/sales", inv, {
            "holding_id": self.holding_id, "premium": "0", "principal": "1000"})["id"]
        self.order_no = self._made("/api/v1/payments/deposits", inv, {"amount": "10.00"}
                                   )["order_no"]
        self.rule_id = self._made("/api/v1/me/auto-invest/rules", inv, {
            "amount_per_listing": "300", "kinds": ["credit"], "min_rate": "8",
            "max_term_months": 24})["id"]
        self.entry_id = self._made("/api/v1/risk/blacklist", self.headers["operator"], {
            "kind": "mobile", "value": "13900000001", "note": "access matrix",
            "expires_in_days": 0})["id"]
        self.application_id = self._made("/api/v1/risk/applications", self.headers["borrower"],
                                         application_body(self.data["borrower"])
                                         )["application_id"]

    def _person(self, name: str, roles: tuple[str, ...], create: Any) -> None:
        data = identity()
        cmd = users.Register(**data, roles=roles)
        self.ids[name] = in_transaction(self.platform.uow, lambda uow: create(
            uow, cmd, self.platform.cipher)).id
        self.data[name] = data

    def _sign_in(self, name: str) -> None:
        """A token for the API and a session cookie for the pages."""
        data = self.data[name]
        self.headers[name] = login(self.client, data["username"])
        self.client.cookies.clear()
        response = post_form(self.client, "/login", {
            "username": data["username"], "password": data["password"], "next": "/"})
        assert response.status_code == 303, response.text
        self.cookies[name] = dict(self.client.cookies)
        self.client.cookies.clear()

    def _made(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=headers | {
            "Idempotency-Key": f"setup-{uuid.uuid4().hex}"})
        assert response.status_code == 201, (path, response.text)
        return response.json()

    def path_values(self, path: str) -> dict[str, object]:
        listing = self.open_listing_id if ("investments" in path or "invest" in path.split("/")
                                           ) else self.loan_id
        return {  # one path parameter a line
            "listing_id": listing,
            "asset_id": 999_999,
            "user_id": self.ids["other_borrower"],
            "rule_id": self.rule_id,
            "order_no": self.order_no,
            "exception_id": 999_999,
            "application_id": self.application_id,
            "entry_id": self.entry_id,
            "business_date": "2026-11-27",
            "kind": "credit",
            "effective_on": "2099-01-01",
            "sale_id": self.sale_id,
            "holding_id": self.holding_id,
            "borrower_id": self.ids["borrower"],
            "code": "en",
            "campaign_id": 999_999,
            "template_id": 999_999,
            "document_id": self.document_id,
            "ticket_id": self.ticket_id,
            "faq_id": 999_999,
            "message_id": 999_999,
            "session_id": "0123456789abcdef",
            "month": "2026-10",
            "project_id": 999_999,
            "pledge_id": 999_999,
            "party_id": 999_999,
            "break_id": 999_999,
        }

    def body(self, spec: dict[str, Any], method: str, path: str) -> Any:
        """Valid-looking arguments, chosen so that an allowed caller changes nothing that
        matters to the next cell (tiny amounts, or objects that refuse with 404/409/422)."""
        special: dict[str, Any] = {
            "/api/v1/users": self.data["investor"] | {"roles": ["investor"]},  # taken: 409
            "/api/v1/operator/staff": self.data["operator"] | {"role": "auditor"},  # taken
            "/api/v1/operator/bonuses": {"user_id": 999_999, "amount": "0.01", "reason": "x"},
            "/api/v1/operator/disclosure/related-parties": {"user_id": 999_999,
                                                            "relation": "x"},
            "/api/v1/listings": {"kind": "credit", "title": "matrix", "amount": "0.01",
                                 "annual_rate": "10", "term": 1,
                                 "repayment_method": "equal_installment"},
            "/api/v1/listings/{listing_id}/investments": {"amount": "0.01"},
            "/api/v1/me/buyback-reserve": {"amount": "0.01"},
            "/api/v1/payments/deposits": {"amount": "0.01"},
            "/api/v1/payments/withdrawals": {"amount": "0.01"},
            "/api/v1/operator/close-day": {"business_date": "2099-01-01"},
            "/api/v1/risk/applications": application_body(self.data["other_borrower"]),
            "/api/v1/risk/blacklist": {"kind": "mobile", "value": "1", "note": "x"},
            "/api/v1/risk/fraud": {"user_id": 999_999, "note": "x"},
            "/api/v1/secondary/sales": {"holding_id": self.holding_id, "premium": "0",
                                        "principal": "0.01"},
            "/api/v1/secondary/sales/{sale_id}/purchases": {"principal": "0.01"},
            "/api/v1/loans/{listing_id}/repayments": {"amount": "0.01"},
            # a budget too small for any grade of the mix: refused, no rule made
            "/api/v1/me/advice/adoption": {"budget": "0.01", "per_listing": "0.01"},
            # more than is owed (refused): a repayment would also close the sale on offer
            "/api/v1/loans/{listing_id}/early-repayment": {"principal": "90000"},
        }
        if path in special:
            return special[path]
        return minimal_body(spec, method, path)


def allowed_answer(status: int) -> bool:
    return status not in (401, 403) and status < 500


def refused_answer(caller: str, status: int, *, page: bool = False) -> bool:
    if caller == "anonymous":
        return status == 401 or (page and status in (302, 303, 307))
    return status in (403, 404)


@pytest.fixture
def world(platform: Platform, clock: FixedClock) -> Any:
    with TestClient(create_app(platform), follow_redirects=False) as client:
        fake = FakeGateway()
        client.app.dependency_overrides[get_gateway] = lambda: fake  # type: ignore[attr-defined]
        yield World(client, platform, clock)


def test_the_table_has_a_row_for_every_route_and_no_other(platform: Platform) -> None:
    app = create_app(platform)
    spec = spec_routes(app)
    assert not spec - API.keys(), f"API routes without a row in API: {sorted(spec - API.keys())}"
    assert not API.keys() - spec, f"rows without a route: {sorted(API.keys() - spec)}"
    pages = page_routes(app)
    assert not pages - PAGES.keys(), f"pages without a row in PAGES: {sorted(pages - PAGES.keys())}"
    assert not PAGES.keys() - pages, f"rows without a page: {sorted(PAGES.keys() - pages)}"


def test_every_route_answers_every_caller_as_its_row_says(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    client = world.client
    spec = client.app.openapi()  # type: ignore[attr-defined]
    problems: list[str] = []
    expected_log: list[str] = []  # one line per 401/403 of the API and 403 page
    caplog.set_level(logging.WARNING, logger="biaodi.access")
    for (method, template), allowed in API.items():
        url = template.format(**world.path_values(template))
        body = world.body(spec, method, template)
        # the refused first: an allowed caller may change the object (cancel the sale, ...)
        for caller in sorted(CALLERS, key=lambda c: c in allowed):
            headers = world.headers[caller] | {"Idempotency-Key": f"m-{uuid.uuid4().hex}"}
            if template == "/api/v1/auth/token":
                who = world.data["investor"]
                response = client.post(url, data={"username": who["username"],
                                                  "password": who["password"]}, headers=headers)
            else:
                response = client.request(method, url, json=body, headers=headers)
            status = response.status_code
            if allowed is SIGNED_BY_GATEWAY:
                ok = 400 <= status < 500
            elif caller in allowed:
                ok = allowed_answer(status)
            else:
                ok = refused_answer(caller, status)
            if not ok:
                problems.append(f"{method} {url} as {caller}: {status}, "
                                f"{'allowed' if caller in allowed else 'refused'} expected; "
                                f"{response.text[:160]}")
            if status in (401, 403):
                user = ("-" if caller == "anonymous" or allowed is SIGNED_BY_GATEWAY
                        else world.ids[caller])
                expected_log.append(f"access refused: {method} {url} user={user} "
                                    f"status={status} code={response.json()['error']['code']}")
    for template, allowed in PAGES.items():
        url = template.format(**world.path_values(template))
        for caller in sorted(CALLERS, key=lambda c: c in allowed):
            client.cookies.clear()
            client.cookies.update(world.cookies[caller])
            status = client.get(url).status_code
            ok = (allowed_answer(status) if caller in allowed
                  else refused_answer(caller, status, page=True))
            if status == 403:  # the 403 page is logged too (a sign-in redirect is not)
                expected_log.append(f"access refused: GET {url.split('?')[0]} "
                                    f"user={world.ids[caller]} status=403 code=forbidden")
            if not ok:
                problems.append(f"page {url} as {caller}: {status}, "
                                f"{'allowed' if caller in allowed else 'refused'} expected")
    client.cookies.clear()
    problems += leaks(world)
    assert not problems, f"{len(problems)} cells break their row:\n" + "\n".join(problems)

    logged = [r for r in caplog.records if r.name == "biaodi.access"]
    assert sorted(r.getMessage() for r in logged) == sorted(expected_log)
    assert {r.levelno for r in logged} == {logging.WARNING}
    personal = [v for name in CALLERS[1:] for k, v in world.data[name].items() if k != "password"]
    personal += [h["Authorization"].split()[1] for h in world.headers.values() if h]
    assert not [r for r in logged for v in personal if v in r.getMessage()]


def leaks(world: World) -> list[str]:
    """The other investor's own lists never show the investor's wallet, holding, order, rule
    or sale (they are all answered 2xx above, so look at what they hold)."""
    get = world.client.get
    other = world.headers["other_investor"]
    found = []
    wallet = get("/api/v1/me/wallet", headers=other).json()
    if wallet["user_id"] != world.ids["other_investor"]:
        found.append(f"/me/wallet of other_investor is user {wallet['user_id']}'s")
    for path, key, value in (
            ("/api/v1/me/holdings", "id", world.holding_id),
            ("/api/v1/payments/orders", "order_no", world.order_no),
            ("/api/v1/me/auto-invest/rules", "id", world.rule_id),
            ("/api/v1/me/secondary/sales", "id", world.sale_id)):
        items = get(path, headers=other).json()["items"]
        if any(item.get(key) == value for item in items):
            found.append(f"{path} of other_investor shows the investor's {key}={value}")
        mine = get(path, headers=world.headers["investor"]).json()["items"]
        if not any(item.get(key) == value for item in mine):  # the check looks at the right key
            found.append(f"{path} of the investor does not show its own {key}={value}")
    return found
