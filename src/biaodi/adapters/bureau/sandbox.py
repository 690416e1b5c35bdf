"""A sandbox credit bureau: answers configured per identity (ID number), defaults for the rest.

By default every identity verifies and owes nothing elsewhere. `configure` sets an identity's
answers (four-element result, outstanding on other platforms, defaults, unavailability); a JSON
file of the same shape can be loaded at start-up (`BIAODI_RISK_BUREAU_SANDBOX_FILE`):

    {"110101199001011237": {"four_elements": "mismatch", "mismatched": ["bank_card"],
                            "outstanding": "850000.00", "platforms": 3, "defaults": 1}}
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from biaodi.adapters.bureau import (
    BureauError,
    CreditReport,
    FourElements,
    Verification,
    VerificationResult,
)
from biaodi.domain.shared.money import Money


@dataclass(frozen=True)
class SandboxAnswer:
    four_elements: Verification = Verification.MATCH
    mismatched: tuple[str, ...] = ()
    outstanding: Money = field(default_factory=Money.zero)
    platforms: int = 0
    defaults: int = 0
    report_available: bool = True
    fail: bool = False  # raise BureauError, as a provider outage would

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SandboxAnswer:
        return cls(
            four_elements=Verification(raw.get("four_elements", "match")),
            mismatched=tuple(raw.get("mismatched", ())),
            outstanding=Money.parse(str(raw.get("outstanding", "0")), allow_zero=True,
                                    field="outstanding"),
            platforms=int(raw.get("platforms", 0)),
            defaults=int(raw.get("defaults", 0)),
            report_available=bool(raw.get("report_available", True)),
            fail=bool(raw.get("fail", False)),
        )


class SandboxBureau:
    def __init__(self, answers: dict[str, SandboxAnswer] | None = None):
        self._answers = dict(answers or {})
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []  # (question, ID number), for tests

    def configure(self, id_number: str, answer: SandboxAnswer | None = None,
                  **fields: Any) -> None:
        """Set the answers for one identity (an answer object, or its fields by name)."""
        with self._lock:
            self._answers[id_number.upper()] = answer or SandboxAnswer(**fields)

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self.calls.clear()

    def _answer(self, question: str, id_number: str) -> SandboxAnswer:
        with self._lock:
            self.calls.append((question, id_number))
            answer = self._answers.get(id_number.upper(), SandboxAnswer())
        if answer.fail:
            raise BureauError(f"sandbox bureau: configured outage for {id_number[:6]}…")
        return answer

    def verify(self, elements: FourElements) -> VerificationResult:
        answer = self._answer("verify", elements.id_number)
        if answer.four_elements is Verification.MISMATCH:
            return VerificationResult(Verification.MISMATCH, answer.mismatched or ("bank_card",))
        return VerificationResult(answer.four_elements)

    def report(self, id_number: str) -> CreditReport:
        answer = self._answer("report", id_number)
        if not answer.report_available:
            return CreditReport(available=False)
        return CreditReport(True, answer.outstanding, answer.platforms, answer.defaults)

    @classmethod
    def from_file(cls, path: Path) -> SandboxBureau:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls({k.upper(): SandboxAnswer.from_dict(v) for k, v in raw.items()})
