"""Schemathesis over Biaodi's own OpenAPI spec, in process, on both databases.

Every operation of /openapi.json is called with requests generated from the spec itself:
schema-valid ones as its natural caller (the first of investor, borrower, operator, risk
officer, auditor, originator, guarantor that the access matrix lets in; anonymous where
everyone may call), schema-invalid ones as the same caller, and a couple as anonymous. Each
answer must

- not be a 5xx (`not_a_server_error`),
- have a status code the spec documents for the operation (`status_code_conformance`),
- have the documented content type and match the documented schema
  (`content_type_conformance`, `response_schema_conformance`): every error is
  `{"error": {"code", "message", "field"}}` (`api/errors.ErrorBody`),
- when it is a 422, name the field to blame,
- and take a schema-valid request (`positive_data_acceptance`: not 400 or 422), except where
  a rule JSON Schema cannot state refuses it with 422 (`RULES_BEYOND_THE_SPEC`, each with the
  rule).

The world is the access matrix's (tests/api/meta/test_access_matrix.py): a caller of every
role with a token, a funded loan with holdings, an open listing, a sale, a payment order, a
rule, a blacklist entry and a risk application, so that lists are not empty and their items
are checked too. It is built afresh for each database, so the random changes made here never
reach another test. The generation is deterministic: the seed is printed and can be changed
with BIAODI_SPEC_FUZZ_SEED, the number of examples with BIAODI_SPEC_FUZZ_EXAMPLES.
Every problem found is collected and reported at once, with a curl command to replay it.
"""

from __future__ import annotations

import importlib.util
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from biaodi.services.analytics import catalog

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, positive_data_acceptance]
#: Operations whose schema-valid requests a rule may still refuse with 422 because JSON Schema
#: cannot say it (a check digit, the clock, who the caller is, one field depending on another).
#: Every other operation must take a schema-valid request: anything but 400 and 422.
RULES_BEYOND_THE_SPEC: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/users"): "the ID number's check digit (GB 11643), an adult's birth date",
    ("POST", "/api/v1/operator/staff"): "the ID number's check digit",
    ("POST", "/api/v1/risk/applications"): "the ID number's check digit, the bank card's",
    ("POST", "/api/v1/listings"): "what each listing kind needs (pledged assets, a guarantor, a "
                                  "claim) and its policy's limits of amount, rate and term",
    ("POST", "/api/v1/operator/close-day"): "a business date after today (the clock)",
    ("POST", "/api/v1/payments/deposits"): "a wallet `role` the caller does not hold",
    ("POST", "/api/v1/payments/withdrawals"): "a wallet `role` the caller does not hold",
    ("POST", "/api/v1/risk/blacklist"): "the value's form depends on its kind",
    ("POST", "/api/v1/listings/{listing_id}/investments"): "the type's minimum ticket and "
        "step and the per-investor cap (a share of the listing, rounded to the step)",
    ("POST", "/api/v1/me/auto-invest/rules"): "the best grade no worse than the worst, the "
                                              "amount at least a minimum ticket",
    ("PUT", "/api/v1/me/auto-invest/rules/{rule_id}"): "the best grade no worse than the "
                                                        "worst, the amount at least a minimum "
                                                        "ticket",
    ("POST", "/api/v1/me/risk-assessment"): "every question must be answered",
    ("POST", "/api/v1/operator/disclosure/listings/{listing_id}/updates"): "period_end the "
        "end of a 3-month period since the loan was funded, already passed",
    ("POST", "/api/v1/operator/disclosure/events"): "occurred_at no later than now (the "
                                                    "clock)",
    ("POST", "/api/v1/operator/incentives/campaigns"): "the end date not before the start",
    ("POST", "/api/v1/operator/disclosure/related-parties"): "since no later than today (the "
        "clock), until not before since",
    ("POST", "/api/v1/operator/disclosure/related-parties/{party_id}/end"): "until not before "
        "the relation's since",
    ("POST", "/api/v1/operator/incentives/campaigns/{campaign_id}/templates"): "what each "
        "coupon kind needs (an amount, a rate and days, a boost's maximum investment), the "
        "maximum not below the minimum, a cash coupon worth no more than its minimum",
    **{("GET", f"/api/v1/me/statements{fmt}"): "a period that has begun (the clock)"
       for fmt in ("", "/pdf", "/xlsx")},
    ("POST", "/api/v1/support/tickets/{ticket_id}/messages"): "a body, or a canned answer "
    "(staff only) when the body is empty",
    ("POST", "/api/v1/operator/support/tickets/{ticket_id}/triage"): "the assignee must hold "
    "the operator role",
    ("POST", "/api/v1/crowdfunding/projects"): "each tier's estimated ship date after today "
                                               "(the clock)",
    ("POST", "/api/v1/operator/crowdfunding/projects/{project_id}/review"): "a rejection needs "
                                                                             "a note",
    ("POST", "/api/v1/crowdfunding/projects/{project_id}/pledges"): "a tier or an amount, not "
                                                                     "both and not neither",
    ("POST", "/api/v1/me/advice/adoption"): "the per-listing amount at most 1/20 of the budget, "
                                            "a mix that is not all cash",
    ("POST", "/api/v1/operator/campaigns"): "the name printable text (no control or format "
                                            "characters, which Unicode lists by category)",
    ("POST", "/api/v1/auth/password-reset/confirm"): "the code must be the one sent (a "
                                                     "secret the schema cannot know)",
    ("POST", "/api/v1/me/mobile-verification/confirm"): "the code must be the one sent",
    ("POST", "/api/v1/me/password"): "the current password must be the caller's",
    **{("GET", f"/api/v1/operator/analytics/{name}"): "the period's start no later than its "
       "end" for name, metric in catalog.METRICS.items() if set(metric.takes) & {"period",
                                                                                "period?"}},
}
SEED = int(os.environ.get("BIAODI_SPEC_FUZZ_SEED", "20261201"))
#: schema-valid examples per operation as its natural caller; half as many schema-invalid
EXAMPLES = int(os.environ.get("BIAODI_SPEC_FUZZ_EXAMPLES", "10"))
ANONYMOUS_EXAMPLES = 2
NATURAL = ("investor", "borrower", "operator", "risk_officer", "auditor", "originator",
           "guarantor")


def _access_matrix() -> Any:
    """The access matrix's module: its table of who may call what, and its world."""
    path = Path(__file__).with_name("test_access_matrix.py")
    spec = importlib.util.spec_from_file_location("biaodi_access_matrix", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MATRIX = _access_matrix()
world = MATRIX.world  # the fixture, under its own name


def natural_caller(method: str, path: str) -> str:
    allowed = MATRIX.API[(method, path)]
    if "anonymous" in allowed or allowed is MATRIX.SIGNED_BY_GATEWAY:
        return "anonymous"
    return next(caller for caller in NATURAL if caller in allowed)


Problems = dict[tuple[str, str, str], str]


def _fuzz(operation: Any, mode: GenerationMode, examples: int, caller: str,
          headers: dict[str, str], problems: Problems) -> int:
    """Run `examples` cases of `operation` as `caller`; record the first case of each kind of
    problem. Returns the number of requests sent."""
    label = f"{operation.method.upper()} {operation.path}"
    beyond_the_spec = (operation.method.upper(), operation.path) in RULES_BEYOND_THE_SPEC
    sent = 0

    @seed(SEED)
    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal sent
        # a client sends a fresh key with each new request (one reused with another body is
        # refused, 422 idempotency_key_reused, as it should be)
        sent_headers = headers | {"Idempotency-Key": f"fuzz-{uuid.uuid4().hex}"}
        response = case.call(headers=sent_headers)
        sent += 1
        found = []
        try:
            case.validate_response(response, checks=CHECKS, headers=sent_headers)
        except FailureGroup as group:
            found += [failure.title for failure in group.exceptions
                      if not (isinstance(failure, RejectedPositiveData) and beyond_the_spec
                              and response.status_code == 422)]
        if response.status_code == 422 and not _field(response):
            found.append("422 without a field")
        for title in found:
            problems.setdefault((label, f"{caller}, {mode.value}", title),
                                f"{response.status_code} {response.text[:300]}\n    "
                                f"{case.as_curl_command(headers=headers)[:600]}")

    try:
        run()
    except Unsatisfiable:  # nothing in the operation can be made invalid (no parameters)
        assert mode is GenerationMode.NEGATIVE
    return sent


def _field(response: Any) -> str | None:
    try:
        return response.json()["error"]["field"]
    except (ValueError, KeyError, TypeError):
        return None


@pytest.mark.timeout(1800)  # ~1,000+ requests per database, more with every new operation
def test_every_operation_answers_as_the_spec_says(world: Any, backend: str) -> None:
    app = world.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    print(f"\nspec conformance on {backend}: seed {SEED} (BIAODI_SPEC_FUZZ_SEED), "
          f"{EXAMPLES} examples (BIAODI_SPEC_FUZZ_EXAMPLES)")
    problems: Problems = {}
    started, sent, operations = time.monotonic(), 0, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        caller = natural_caller(operation.method.upper(), operation.path)
        runs = [(caller, GenerationMode.POSITIVE, EXAMPLES),
                (caller, GenerationMode.NEGATIVE, max(1, EXAMPLES // 2))]
        if caller != "anonymous":
            runs.append(("anonymous", GenerationMode.POSITIVE, ANONYMOUS_EXAMPLES))
        for who, mode, examples in runs:
            sent += _fuzz(operation, mode, examples, who, world.headers[who], problems)
    print(f"{sent} requests over {operations} operations in {time.monotonic() - started:.1f} s")
    report = "\n".join(f"{op} as {who}: {title}\n    {seen}"
                       for (op, who, title), seen in sorted(problems.items()))
    assert not problems, f"{len(problems)} disagreements with the spec (seed {SEED}):\n{report}"


def test_every_rule_beyond_the_spec_names_an_operation() -> None:
    assert not RULES_BEYOND_THE_SPEC.keys() - MATRIX.API.keys()
