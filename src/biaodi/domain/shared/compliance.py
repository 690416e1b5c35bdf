"""Compliance profiles: every regulatory number and per-type rule in one place, as data.

`cn-2016` (the default) follows the CBRC/MIIT/MPS/CAC 2016 Interim Measures for online lending
information intermediaries (网络借贷信息中介机构业务活动管理暂行办法, 银监会令2016年第1号) and the
4×LPR cost cap of the Supreme People's Court (法释〔2020〕17号), and holds a 流转标 originator's
buy-back reserve to the leverage cap of financing guarantors (融资担保公司监督管理条例 2017).
`permissive` is for sandboxes and non-PRC deployments: it allows 秒标 only as a capped,
red-flagged listing, and term splitting only with a red flag. The risk-control issue
turns these into versioned rule-pack data files; keep every field a plain value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
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
    {r.rule_id: r for r in (INSTANT_LISTING_BAN, BORROWING_CAPS, COST_CAP, INSTANT_AMOUNT_CAP,
                            NO_TERM_SPLITTING, BUYBACK_COVERAGE)}
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
    # 法释〔2020〕17号 art. 25: all-in cost ≤ this multiple × one-year LPR.
    cost_cap_lpr_multiple: int | None
    instant_allowed: bool
    instant_amount_cap: Money | None
    rule_ids: tuple[str, ...]
    # Art. 10 (7) of the 2016 Interim Measures: a 流转标 may not be shorter than its claim.
    term_splitting_allowed: bool = True
    # 流转标: the originator's buy-back reserve ÷ its whole outstanding buy-back obligation
    # (this listing included) at publication, at least this fraction; None: no minimum.
    min_buyback_coverage: Decimal | None = None

    def cost_cap_rate(self, one_year_lpr: Decimal) -> Decimal | None:
        """The highest all-in annual rate allowed for a given one-year LPR, or None."""
        if self.cost_cap_lpr_multiple is None:
            return None
        return one_year_lpr * self.cost_cap_lpr_multiple

    def rules(self) -> tuple[ComplianceRule, ...]:
        return tuple(RULES[rule_id] for rule_id in self.rule_ids)


CN_2016 = ComplianceProfile(
    name="cn-2016",
    description="PRC online lending rules from 2016 (网络借贷信息中介机构业务活动管理暂行办法)",
    natural_person_platform_cap=Money.yuan(200_000),
    natural_person_all_platforms_cap=Money.yuan(1_000_000),
    legal_person_platform_cap=Money.yuan(1_000_000),
    legal_person_all_platforms_cap=Money.yuan(5_000_000),
    cost_cap_lpr_multiple=4,
    instant_allowed=False,
    instant_amount_cap=None,
    rule_ids=(INSTANT_LISTING_BAN.rule_id, BORROWING_CAPS.rule_id, COST_CAP.rule_id,
              NO_TERM_SPLITTING.rule_id, BUYBACK_COVERAGE.rule_id),
    term_splitting_allowed=False,
    min_buyback_coverage=Decimal("0.10"),
)
# Borrowing caps are lifted; the court's cost cap still decides what is enforceable. Term
# splitting is allowed but red-flagged, and the buy-back reserve has no legal minimum (the
# platform's own `ListingConfig.buyback_reserve_ratio` still applies).
PERMISSIVE = ComplianceProfile(
    name="permissive",
    description="sandbox / non-PRC: instant listings and term splitting allowed with a red flag",
    natural_person_platform_cap=None,
    natural_person_all_platforms_cap=None,
    legal_person_platform_cap=None,
    legal_person_all_platforms_cap=None,
    cost_cap_lpr_multiple=4,
    instant_allowed=True,
    instant_amount_cap=Money.yuan(50_000),
    rule_ids=(COST_CAP.rule_id, INSTANT_AMOUNT_CAP.rule_id),
    term_splitting_allowed=True,
    min_buyback_coverage=None,
)
DEFAULT_PROFILE = CN_2016
PROFILES = MappingProxyType({p.name: p for p in (CN_2016, PERMISSIVE)})


def profile_named(name: str) -> ComplianceProfile:
    """The profile called `name` (e.g. from settings); unknown names are refused."""
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
