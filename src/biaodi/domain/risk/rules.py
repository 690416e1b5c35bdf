"""Rule packs: declarative, versioned sets of risk rules and compliance limits, as data.

A pack (a TOML file under biaodi/risk_modelling/packs, read by biaodi.risk_modelling.rulepacks)
has a name, a version, `[limits]` (borrower caps, debt-to-income thresholds …), `[[cost_caps]]`
(the courts' cost cap by contract date, the same table as the compliance profile's),
`[grades.X]` (rate band, credit-limit formula, risk bump per grade), `[blacklist]` (expiry per
reason) and `[[rules]]`. Each rule tests one fact (facts.py)
with one operator against a literal `value`, a pack `limit` or another fact (`than_fact`),
optionally only `when` other facts have given values, and carries a severity (refuse / refer /
warn) and a plain-language message in zh-CN and en. docs/RISK.md lists every rule of every pack."""

from __future__ import annotations

import operator
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from biaodi.domain.risk.facts import FACTS, FactKind, display
from biaodi.domain.risk.grades import Grade, GradePolicy, parse_policies
from biaodi.domain.shared.compliance import (
    BUYBACK_COVERAGE,
    NO_TERM_SPLITTING,
    ComplianceProfile,
    CostCap,
    FeeBand,
    check_cost_caps,
    cost_cap_in,
)
from biaodi.domain.shared.compliance import RULES as COMPLIANCE_RULES
from biaodi.domain.shared.errors import InvalidInput
from biaodi.domain.shared.money import Money


class Severity(StrEnum):
    REFUSE = "refuse"
    REFER = "refer"  # to a person: a risk officer decides
    WARN = "warn"


class Outcome(StrEnum):
    APPROVED = "approved"
    REFERRED = "referred"
    REFUSED = "refused"


def _contains(a: Any, b: Any) -> bool:
    return a in b


_BINARY: Mapping[str, Callable[[Any, Any], bool]] = MappingProxyType({
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le, "in": _contains,
    "not_in": lambda a, b: not _contains(a, b),
})
_UNARY: Mapping[str, Callable[[Any], bool]] = MappingProxyType({
    "is_true": lambda a: a is True, "is_false": lambda a: a is False,
    "not_empty": lambda a: bool(a),
})
_ORDERED = {">", ">=", "<", "<="}
_NUMERIC = {FactKind.INT, FactKind.MONEY, FactKind.RATIO, FactKind.RATE}


@dataclass(frozen=True)
class Hit:
    """A rule that fired, with its message filled in from the facts."""

    rule_id: str
    severity: Severity
    message_zh: str
    message_en: str
    fact: str
    actual: str
    threshold: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"rule_id": self.rule_id, "severity": self.severity.value,
                "message_zh": self.message_zh, "message_en": self.message_en,
                "fact": self.fact, "actual": self.actual, "threshold": self.threshold}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    fact: str
    op: str
    severity: Severity
    message_zh: str
    message_en: str
    value: Any = None
    limit: str | None = None
    than_fact: str | None = None
    when: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def evaluate(self, facts: Mapping[str, Any], limits: Mapping[str, Any]) -> Hit | None:
        for name, wanted in self.when.items():
            have = facts.get(name)
            matches = have in wanted if isinstance(wanted, list) else have == wanted
            if not matches:
                return None
        actual = facts.get(self.fact)
        if actual is None:
            return None
        if self.op in _UNARY:
            fired, threshold = _UNARY[self.op](actual), None
        else:
            threshold = self._threshold(facts, limits)
            if threshold is None:
                return None
            fired = _BINARY[self.op](actual, threshold)
        if not fired:
            return None
        kind = FACTS[self.fact].kind
        shown = {name: display(FACTS[name].kind, facts.get(name)) for name in FACTS}
        shown["actual"] = display(kind, actual)
        shown["threshold"] = "" if threshold is None else _show_threshold(kind, threshold)
        return Hit(self.rule_id, self.severity, self.message_zh.format_map(shown),
                   self.message_en.format_map(shown), self.fact, shown["actual"],
                   shown["threshold"] or None)

    def _threshold(self, facts: Mapping[str, Any], limits: Mapping[str, Any]) -> Any:
        if self.limit is not None:
            return limits[self.limit]
        if self.than_fact is not None:
            return facts.get(self.than_fact)
        return self.value


def _show_threshold(kind: FactKind, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return display(kind, value)


@dataclass(frozen=True)
class BlacklistTerms:
    """How long an automatic blacklist entry lasts, in days (0: until removed)."""

    default_m3_days: int
    fraud_days: int
    linked_days: int
    manual_days: int


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    description: str
    sources: tuple[str, ...]
    limits: Mapping[str, Any]
    grades: Mapping[Grade, GradePolicy]
    blacklist: BlacklistTerms
    rules: tuple[Rule, ...]
    #: `[service_fees]`: the platform's yearly service fee by listing type and term band.
    service_fees: Mapping[str, tuple[FeeBand, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    cost_caps: tuple[CostCap, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def evaluate(self, facts: Mapping[str, Any]) -> list[Hit]:
        """Every rule that fires, in pack order."""
        hits = (rule.evaluate(facts, self.limits) for rule in self.rules)
        return [hit for hit in hits if hit is not None]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise KeyError(rule_id)

    def cost_cap_on(self, day: date) -> CostCap | None:
        """The line of the pack's cost-cap table for a contract made on `day`."""
        return cost_cap_in(self.cost_caps, day)

    def cost_cap_rate(self, day: date, one_year_lpr: Decimal | None) -> Decimal | None:
        """The cap on the all-in annual rate for a contract made on `day`, or None."""
        line = self.cost_cap_on(day)
        return None if line is None else line.rate(one_year_lpr)

    def compliance_profile(self) -> ComplianceProfile:
        """The pack's compliance numbers in the shape domain.compliance uses, so that listing
        checks can read them from the pack (the pack supersedes the hard-coded profile)."""
        ids = {r.rule_id for r in self.rules} | {r.source for r in self.rules}
        splitting = bool(self.limits.get("term_splitting_allowed", True))
        coverage = self.limits.get("min_buyback_coverage")
        # Listing rules a limit switches on (no rule of the pack tests them on an applicant).
        ids |= {NO_TERM_SPLITTING.rule_id} if not splitting else set()
        ids |= {BUYBACK_COVERAGE.rule_id} if coverage is not None else set()
        return ComplianceProfile(
            name=self.name,
            description=self.description,
            natural_person_platform_cap=self.limits.get("natural_person_platform_cap"),
            natural_person_all_platforms_cap=self.limits.get("natural_person_all_platforms_cap"),
            legal_person_platform_cap=self.limits.get("legal_person_platform_cap"),
            legal_person_all_platforms_cap=self.limits.get("legal_person_all_platforms_cap"),
            cost_caps=self.cost_caps,
            instant_allowed=bool(self.limits.get("instant_allowed", False)),
            instant_amount_cap=self.limits.get("instant_amount_cap"),
            rule_ids=tuple(r for r in COMPLIANCE_RULES if r in ids),
            service_fees=self.service_fees,
            term_splitting_allowed=splitting,
            min_buyback_coverage=coverage,
        )


def decide(hits: Sequence[Hit]) -> Outcome:
    """Any refusal refuses; else any referral refers; warnings never change the outcome."""
    severities = {h.severity for h in hits}
    if Severity.REFUSE in severities:
        return Outcome.REFUSED
    if Severity.REFER in severities:
        return Outcome.REFERRED
    return Outcome.APPROVED


# --- parsing --------------------------------------------------------------------------------
#: Limits whose values are amounts of money (decimal strings of yuan in the file).
MONEY_LIMITS = frozenset({
    "natural_person_platform_cap", "natural_person_all_platforms_cap",
    "legal_person_platform_cap", "legal_person_all_platforms_cap", "instant_amount_cap",
})


def _bad(message: str, where: str) -> InvalidInput:
    return InvalidInput(f"rule pack: {message}", field=where)


def _table(raw: Any, where: str) -> Mapping[str, Any]:
    """A TOML table (absent: empty); any other value is refused naming `where`."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _bad(f"{where} must be a table", where)
    return raw


def _tables(raw: Any, where: str) -> list[Mapping[str, Any]]:
    """An array of TOML tables (absent: empty); any other value is refused naming `where`."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise _bad(f"{where} must be an array of tables", where)
    return raw


def _parse_limit(name: str, raw: Any) -> Any:
    if isinstance(raw, bool):
        return raw
    if name in MONEY_LIMITS:
        return Money.parse(str(raw), field=f"limits.{name}", ceiling_fen=None)
    if isinstance(raw, int):
        return raw
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise _bad(f"limit {name} must be a number", f"limits.{name}") from None


def _typed(kind: FactKind, raw: Any, where: str) -> Any:
    """A literal from the file in the fact's own type."""
    if isinstance(raw, list):
        return [_typed(kind, item, where) for item in raw]
    try:
        if kind is FactKind.MONEY:
            return Money.parse(str(raw), field=where, positive=False, ceiling_fen=None)
        if kind in (FactKind.RATIO, FactKind.RATE):
            return Decimal(str(raw))
        if kind is FactKind.INT:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError
            return raw
        if kind is FactKind.BOOL and not isinstance(raw, bool):
            raise ValueError
    except (ValueError, InvalidOperation, InvalidInput):
        raise _bad(f"{raw!r} is not a {kind} value", where) from None
    return raw


def _check_message(text: str, where: str) -> str:
    if not text.strip():
        raise _bad("every rule needs message_zh and message_en", where)
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:  # "{", "{!0}" and the like
        raise _bad(f"message is not a valid template ({exc})", where) from None
    for _, name, _, _ in fields:
        if name is not None and name not in FACTS and name not in ("actual", "threshold"):
            raise _bad(f"message names an unknown fact {{{name}}}", where)
    return text


def _parse_rule(raw: Mapping[str, Any], limits: Mapping[str, Any], index: int) -> Rule:
    where = f"rules[{index}]"
    rule_id = str(raw.get("id", "")).strip()
    if not rule_id:
        raise _bad("every rule needs an id", where)
    where = f"rules.{rule_id}"
    for key in ("fact", "op", "severity", "limit", "than_fact"):
        if raw.get(key) is not None and not isinstance(raw.get(key), str):
            raise _bad(f"{key} must be text", where)
    fact = raw.get("fact")
    if fact not in FACTS:
        raise _bad(f"unknown fact {fact!r}", where)
    kind = FACTS[fact].kind
    op = raw.get("op")
    if op not in _BINARY and op not in _UNARY:
        raise _bad(f"unknown operator {op!r}", where)
    if op in _ORDERED and kind not in _NUMERIC:
        raise _bad(f"operator {op} needs a numeric fact, {fact} is {kind}", where)
    try:
        severity = Severity(raw.get("severity"))
    except ValueError:
        raise _bad("severity must be refuse, refer or warn", where) from None
    sources = [k for k in ("value", "limit", "than_fact") if k in raw]
    if op in _UNARY and sources:
        raise _bad(f"operator {op} takes no value", where)
    if op in _BINARY and len(sources) != 1:
        raise _bad("give exactly one of value, limit or than_fact", where)
    limit = raw.get("limit")
    if limit is not None and limit not in limits:
        raise _bad(f"limit {limit!r} is not in [limits]", where)
    than_fact = raw.get("than_fact")
    if than_fact is not None and than_fact not in FACTS:
        raise _bad(f"unknown fact {than_fact!r}", where)
    when = _table(raw.get("when"), where)
    for name in when:
        if name not in FACTS:
            raise _bad(f"`when` names an unknown fact {name!r}", where)
    value = _typed(kind, raw["value"], where) if "value" in raw else None
    if op in ("in", "not_in") and "value" in raw and not isinstance(value, list):
        raise _bad(f"operator {op} needs a list value", where)
    return Rule(
        rule_id=rule_id, fact=fact, op=op, severity=severity,
        message_zh=_check_message(str(raw.get("message_zh", "")), where),
        message_en=_check_message(str(raw.get("message_en", "")), where),
        value=value, limit=limit, than_fact=than_fact,
        when=MappingProxyType({k: _typed(FACTS[k].kind, v, where) for k, v in when.items()}),
        source=str(raw.get("source", "")),
    )


_COST_CAP_KEYS = frozenset({"rule", "from", "until", "rate", "void_rate", "lpr_multiple"})


def _percent(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(str(raw)) / 100
    except InvalidOperation:
        raise _bad(f"{raw!r} is not a rate in percent", where) from None


def _parse_cost_caps(raw: Any) -> tuple[CostCap, ...]:
    """`[[cost_caps]]`: rule (a compliance rule id), from / until (dates, until inclusive and
    left out on the line in force), and rate (percent a year, with void_rate where a court
    voids the excess) or lpr_multiple."""
    caps = []
    for index, entry in enumerate(_tables(raw, "cost_caps")):
        where = f"cost_caps[{index}]"
        unknown = sorted(set(entry) - _COST_CAP_KEYS)
        if unknown:
            raise _bad(f"unknown cost-cap key(s) {', '.join(unknown)}", where)
        rule_id = entry.get("rule")
        if not isinstance(rule_id, str) or rule_id not in COMPLIANCE_RULES:
            raise _bad(f"unknown compliance rule {rule_id!r}", where)
        start, end = entry.get("from"), entry.get("until")
        if not all(isinstance(d, date) and not isinstance(d, datetime)
                   for d in (start, *([end] if end is not None else []))):
            raise _bad("from and until must be dates (YYYY-MM-DD)", where)
        multiple = entry.get("lpr_multiple")
        if multiple is not None and (isinstance(multiple, bool) or not isinstance(multiple, int)):
            raise _bad("lpr_multiple must be a whole number", where)
        try:
            caps.append(CostCap(COMPLIANCE_RULES[rule_id], start=start, end=end,
                                fixed_rate=_percent(entry.get("rate"), where),
                                lpr_multiple=multiple,
                                void_rate=_percent(entry.get("void_rate"), where)))
        except ValueError as exc:
            raise _bad(str(exc), where) from None
    try:
        check_cost_caps(tuple(caps))
    except ValueError as exc:
        raise _bad(str(exc), "cost_caps") from None
    return tuple(caps)


def parse_pack(raw: Mapping[str, Any]) -> RulePack:
    """A rule pack from the mapping a TOML file holds; refuses any unknown name or type."""
    name = str(raw.get("name", "")).strip()
    version = str(raw.get("version", "")).strip()
    if not name or not version:
        raise _bad("a pack needs a name and a version", "name")
    limits = MappingProxyType(
        {k: _parse_limit(k, v) for k, v in _table(raw.get("limits"), "limits").items()})
    terms = _table(raw.get("blacklist"), "blacklist")
    try:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in terms.values()):
            raise TypeError("whole numbers of days")
        blacklist = BlacklistTerms(**{k: int(v) for k, v in terms.items()})
    except TypeError as exc:
        raise _bad(f"[blacklist] needs default_m3_days, fraud_days, linked_days and"
                   f" manual_days ({exc})", "blacklist") from None
    rules = tuple(_parse_rule(r, limits, i)
                  for i, r in enumerate(_tables(raw.get("rules"), "rules")))
    seen: set[str] = set()
    for rule in rules:
        if rule.rule_id in seen:
            raise _bad(f"rule id {rule.rule_id} appears twice", f"rules.{rule.rule_id}")
        seen.add(rule.rule_id)
    sources = raw.get("sources", [])
    if not isinstance(sources, list):
        raise _bad("sources must be an array", "sources")
    return RulePack(
        name=name, version=version, description=str(raw.get("description", "")),
        sources=tuple(str(s) for s in sources), limits=limits,
        grades=MappingProxyType(dict(parse_policies(_grade_tables(raw.get("grades"))))),
        blacklist=blacklist, rules=rules, cost_caps=_parse_cost_caps(raw.get("cost_caps")),
        service_fees=MappingProxyType({str(kind): _parse_fee_bands(str(kind), bands)
                                       for kind, bands in
                                       _table(raw.get("service_fees"), "service_fees").items()}),
    )


def _grade_tables(raw: Any) -> Mapping[str, Any]:
    grades = _table(raw, "grades")
    for name, table in grades.items():
        _table(table, f"grades.{name}")
    return grades


def _parse_fee_bands(kind: str, raw: Any) -> tuple[FeeBand, ...]:
    """`[[max days or "any", "percent a year"], …]` in order of term."""
    where = f"service_fees.{kind}"
    try:
        bands = tuple(FeeBand(None if days == "any" else int(days), Decimal(str(pct)) / 100)
                      for days, pct in raw)
    except (TypeError, ValueError, ArithmeticError):
        raise _bad(f"{where} needs [[max days or \"any\", \"percent a year\"], …]",
                   where) from None
    if any(not 0 <= b.annual_rate < 1 for b in bands):
        raise _bad(f"{where}: a fee rate must be from 0 % to below 100 %", where)
    return bands
