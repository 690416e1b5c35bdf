"""Compliance profiles: every regulatory number and per-type rule in one place, as data.

`cn-2016` (the default) follows the CBRC/MIIT/MPS/CAC 2016 Interim Measures for online lending
information intermediaries (网络借贷信息中介机构业务活动管理暂行办法, 银监会令2016年第1号) and the
courts' cap on a borrower's cost, which depends on the contract date: the 24 % / 36 % lines of
法释〔2015〕18号 for contracts made before 2020-08-20, 4 × the one-year LPR of 法释〔2020〕17号 from
that day on (`COST_CAPS`, a dated table); it holds a 流转标 originator's buy-back reserve to the
leverage cap of financing guarantors (融资担保公司监督管理条例 2017). `permissive` is for
sandboxes and non-PRC deployments: it allows 秒标 only as a capped, red-flagged listing, and
term splitting only with a red flag. The risk rule packs carry the same numbers as data files;
keep every field a plain value. docs/COMPLIANCE.md lists every rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType

from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money


@dataclass(frozen=True)
class ComplianceRule:
    """One rule a refusal can cite: a stable id, its source and a one-line summary."""

    rule_id: str
    source: str
    summary_zh: str
    summary_en: str


INSTANT_LISTING_BAN = ComplianceRule(
    "cn2016.instant_listing_ban",
    "网络借贷信息中介机构业务活动管理暂行办法 第十条（一）（十）",
    "禁止为自身或变相为自身融资、虚构融资项目：秒标不得发布",
    "no self-financing and no fictitious listings: instant (秒标) listings are banned",
)
BORROWING_CAPS = ComplianceRule(
    "cn2016.borrowing_caps",
    "网络借贷信息中介机构业务活动管理暂行办法 第十七条",
    "同一借款人在同一平台及不同平台的借款余额上限",
    "caps on one borrower's outstanding balance on one platform and across platforms",
)
RATE_CAP_2015 = ComplianceRule(
    "cn2015.rate_cap_24_36",
    "最高人民法院关于审理民间借贷案件适用法律若干问题的规定（法释〔2015〕18号）第二十六条、第三十条",
    "借贷双方约定的年利率未超过24%的受法律保护；超过36%的，超过部分的利息约定无效",
    "an agreed annual rate up to 24 % is protected by the courts; above 36 % the excess is void",
)
COST_CAP = ComplianceRule(
    "cn2020.cost_cap_4x_lpr",
    "最高人民法院关于审理民间借贷案件适用法律若干问题的规定（法释〔2020〕17号）第二十五条",
    "借款综合年化成本不得超过合同成立时一年期贷款市场报价利率（LPR）的四倍",
    "a borrower's all-in annual cost may not exceed four times the one-year LPR",
)
INSTANT_AMOUNT_CAP = ComplianceRule(
    "permissive.instant_amount_cap",
    "platform policy (permissive profile)",
    "秒标金额上限，并计入平台诚信指标",
    "instant listings are capped in amount and counted in platform integrity metrics",
)
NO_TERM_SPLITTING = ComplianceRule(
    "cn2016.no_term_splitting",
    "网络借贷信息中介机构业务活动管理暂行办法 第十条（七）",
    "不得将融资项目的期限进行拆分：流转标不得短于其底层债权的剩余期限",
    "no splitting of a financing's term: a transfer listing may not be shorter than the"
    " remaining term of the claim it sells",
)
BUYBACK_COVERAGE = ComplianceRule(
    "cn2017.buyback_coverage",
    "融资担保公司监督管理条例（国务院令第683号）第十五条，比照适用于原债权人的回购承诺",
    "回购准备金不得低于原债权人全部流转标回购责任余额的规定比例（担保责任余额不超过净资产10倍）",
    "an originator's buy-back reserve must cover at least a set share of its whole outstanding"
    " buy-back obligation (a guarantor's obligations may not exceed 10 × its net assets)",
)
RULES = MappingProxyType(
    {r.rule_id: r for r in (INSTANT_LISTING_BAN, BORROWING_CAPS, RATE_CAP_2015, COST_CAP,
                            INSTANT_AMOUNT_CAP, NO_TERM_SPLITTING, BUYBACK_COVERAGE)}
)


def percent(rate: Decimal) -> str:
    """Decimal("0.24") -> "24%", Decimal("0.138") -> "13.8%"."""
    return f"{(rate * 100).normalize():f}%"


@dataclass(frozen=True)
class CostCap:
    """One line of the dated cost-cap table: the rule that sets it, the contract dates it covers
    (`start` to `end`, both inclusive; `end` None while in force) and its formula — a fixed
    annual rate, or a multiple of the one-year LPR in force on the contract date. `void_rate`
    records where a court voids the excess (above the cap, below it: not protected)."""

    rule: ComplianceRule
    start: date
    end: date | None = None
    fixed_rate: Decimal | None = None
    lpr_multiple: int | None = None
    void_rate: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.fixed_rate is None) == (self.lpr_multiple is None):
            raise ValueError(f"cost cap {self.rule.rule_id}: give a fixed rate or an LPR"
                             " multiple, not both or neither")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"cost cap {self.rule.rule_id} ends before it starts")

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def rate(self, one_year_lpr: Decimal | None) -> Decimal | None:
        """The highest all-in annual rate under this line; None when it rests on an LPR that
        is not known for the date."""
        if self.fixed_rate is not None:
            return self.fixed_rate
        if one_year_lpr is None or self.lpr_multiple is None:
            return None
        return one_year_lpr * self.lpr_multiple

    def rate_ppm(self, one_year_lpr_ppm: int | None) -> int | None:
        """`rate` in whole parts per million, the LPR given in ppm."""
        if self.fixed_rate is not None:
            return int(self.fixed_rate * 1_000_000)
        if one_year_lpr_ppm is None or self.lpr_multiple is None:
            return None
        return one_year_lpr_ppm * self.lpr_multiple

    def describe(self) -> str:
        """The formula in words: "4× the one-year LPR", "24% a year, above 36% void"."""
        if self.fixed_rate is None:
            return f"{self.lpr_multiple}× the one-year LPR"
        void = f", above {percent(self.void_rate)} void" if self.void_rate is not None else ""
        return f"{percent(self.fixed_rate)} a year{void}"


#: The courts' cost cap by contract date. 法释〔2015〕18号 took effect on 2015-09-01 and governs
#: contracts made until 2020-08-19 (法释〔2020〕17号 art. 31: the new cap governs contracts
#: made from 2020-08-20). A date before the table's first line takes that first line: a cap
#: never lapses for want of history.
LPR_CAP_FROM = date(2020, 8, 20)
COST_CAPS: tuple[CostCap, ...] = (
    CostCap(RATE_CAP_2015, start=date(2015, 9, 1), end=LPR_CAP_FROM - timedelta(days=1),
            fixed_rate=Decimal("0.24"), void_rate=Decimal("0.36")),
    CostCap(COST_CAP, start=LPR_CAP_FROM, lpr_multiple=4),
)


def check_cost_caps(caps: tuple[CostCap, ...]) -> None:
    """A dated table is ordered, without gaps or overlaps, and only its last line is open."""
    for earlier, later in pairwise(caps):
        if earlier.end is None or earlier.end + timedelta(days=1) != later.start:
            raise ValueError(f"cost caps {earlier.rule.rule_id} and {later.rule.rule_id} must"
                             " follow each other without a gap or an overlap")


def cost_cap_in(caps: tuple[CostCap, ...], day: date) -> CostCap | None:
    """The line of a dated table for a contract made on `day`; a day before the first line
    takes the first line; None when the table is empty or ended before `day`."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise InvalidInput("the contract date must be a calendar date", field="contract_date")
    for cap in caps:
        if cap.covers(day):
            return cap
    if caps and day < caps[0].start:
        return caps[0]
    return None


@dataclass(frozen=True)
class FeeBand:
    """A yearly service fee on the principal owed, for terms up to `max_days` (a month counts
    as 30 days; None: any longer term)."""

    max_days: int | None
    annual_rate: Decimal


#: The platform's service fee by term. Fees count towards the all-in cost, and the cap
#: (4 × a 3 % LPR = 12 %) leaves no room for a fee at the top of the seed's art vertical
#: (14–180 days at 8–12 %): short terms carry none; longer ones a fee that still lets car and
#: consumer loans list at 9–11 %.
STANDARD_FEES: tuple[FeeBand, ...] = (
    FeeBand(180, Decimal(0)),
    FeeBand(360, Decimal("0.005")),
    FeeBand(None, Decimal("0.01")),
)


@dataclass(frozen=True)
class ComplianceProfile:
    """The numbers and switches one jurisdiction (or sandbox) imposes. `None` means no cap."""

    name: str
    description: str
    # Article 17 of the 2016 Interim Measures: outstanding-balance caps per borrower.
    natural_person_platform_cap: Money | None
    natural_person_all_platforms_cap: Money | None
    legal_person_platform_cap: Money | None
    legal_person_all_platforms_cap: Money | None
    # The cap on a borrower's all-in annual cost by contract date (`COST_CAPS`); () for none.
    cost_caps: tuple[CostCap, ...]
    instant_allowed: bool
    instant_amount_cap: Money | None
    rule_ids: tuple[str, ...]
    #: The platform's yearly service fee per listing type (kind → bands by term); a kind not
    #: named pays none. Guarantee fees are the guarantor's own yearly rate.
    service_fees: Mapping[str, tuple[FeeBand, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    # Art. 10 (7) of the 2016 Interim Measures: a 流转标 may not be shorter than its claim.
    term_splitting_allowed: bool = True
    # 流转标: the originator's buy-back reserve ÷ its whole outstanding buy-back obligation
    # (this listing included) at publication, at least this fraction; None: no minimum.
    min_buyback_coverage: Decimal | None = None

    def service_fee_rate(self, kind: str, term: int, term_unit: str) -> Decimal:
        """The yearly service fee of a `kind` listing over `term` `term_unit`s."""
        days = term if term_unit == "day" else term * 30
        for band in self.service_fees.get(kind, ()):
            if band.max_days is None or days <= band.max_days:
                return band.annual_rate
        return Decimal(0)

    def __post_init__(self) -> None:
        check_cost_caps(self.cost_caps)

    def cost_cap_on(self, day: date) -> CostCap | None:
        """The line of the cost-cap table for a contract made on `day` (`cost_cap_in`)."""
        return cost_cap_in(self.cost_caps, day)

    def cost_cap_rate(self, day: date, one_year_lpr: Decimal | None) -> Decimal | None:
        """The highest all-in annual rate for a contract made on `day` (with the one-year LPR
        in force that day), or None: no cap, or one resting on an unknown LPR."""
        cap = self.cost_cap_on(day)
        return None if cap is None else cap.rate(one_year_lpr)

    def rules(self) -> tuple[ComplianceRule, ...]:
        return tuple(RULES[rule_id] for rule_id in self.rule_ids)


CN_2016 = ComplianceProfile(
    name="cn-2016",
    description="PRC online lending rules from 2016 (网络借贷信息中介机构业务活动管理暂行办法)",
    natural_person_platform_cap=Money.yuan(200_000),
    natural_person_all_platforms_cap=Money.yuan(1_000_000),
    legal_person_platform_cap=Money.yuan(1_000_000),
    legal_person_all_platforms_cap=Money.yuan(5_000_000),
    cost_caps=COST_CAPS,
    instant_allowed=False,
    instant_amount_cap=None,
    rule_ids=(INSTANT_LISTING_BAN.rule_id, BORROWING_CAPS.rule_id, RATE_CAP_2015.rule_id,
              COST_CAP.rule_id, NO_TERM_SPLITTING.rule_id, BUYBACK_COVERAGE.rule_id),
    service_fees=MappingProxyType({kind: STANDARD_FEES for kind in
                                   ("credit", "collateral", "guarantee", "transfer")}),
    term_splitting_allowed=False,
    min_buyback_coverage=Decimal("0.10"),
)
# Borrowing caps are lifted; the courts' dated cost cap still decides what is enforceable.
# Term splitting is allowed but red-flagged, and the buy-back reserve has no legal minimum
# (the platform's own `ListingConfig.buyback_reserve_ratio` still applies).
PERMISSIVE = ComplianceProfile(
    name="permissive",
    description="sandbox / non-PRC: instant listings and term splitting allowed with a red flag",
    natural_person_platform_cap=None,
    natural_person_all_platforms_cap=None,
    legal_person_platform_cap=None,
    legal_person_all_platforms_cap=None,
    cost_caps=COST_CAPS,
    instant_allowed=True,
    instant_amount_cap=Money.yuan(50_000),
    rule_ids=(RATE_CAP_2015.rule_id, COST_CAP.rule_id, INSTANT_AMOUNT_CAP.rule_id),
    service_fees=MappingProxyType({kind: STANDARD_FEES for kind in
                                   ("credit", "collateral", "guarantee", "transfer")}),
    term_splitting_allowed=True,
    min_buyback_coverage=None,
)
DEFAULT_PROFILE = CN_2016
PROFILES = MappingProxyType({p.name: p for p in (CN_2016, PERMISSIVE)})


def profile_named(name: str) -> ComplianceProfile:
    """The profile called `name` (e.g. from settings); unknown names are refused."""
    if not isinstance(name, str):
        raise InvalidInput("compliance profile must be named by a string",
                           field="compliance_profile")
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise InvalidInput(
            f"unknown compliance profile {name!r}; known profiles: {known}",
            field="compliance_profile",
        ) from None


class ComplianceViolation(Conflict):
    """A request the active compliance profile forbids; names the rule it breaks."""

    code = "compliance_violation"

    def __init__(self, rule: ComplianceRule, detail: str, *, field: str | None = None):
        super().__init__(f"{detail} (rule {rule.rule_id}: {rule.source})", field=field)
        self.rule_id = rule.rule_id

    def as_dict(self) -> dict[str, str | None]:
        return {**super().as_dict(), "rule_id": self.rule_id}
