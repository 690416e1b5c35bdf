"""Investor suitability (风险测评): a questionnaire maps to one of four levels, valid 360 days;
every listing has a risk level; an investor may only take listings within their level, and
each level caps one investment and the total outstanding.

Follows the investor-suitability practice of the 2016 interim measures (Art. 26: assess the
lender's risk tolerance and match them with suitable listings) and the CSRC suitability
measures' ordering of risk levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum

from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

VALIDITY = timedelta(days=360)


class InvestorLevel(IntEnum):
    CONSERVATIVE = 1  # 保守型
    STEADY = 2  # 稳健型
    GROWTH = 3  # 成长型
    AGGRESSIVE = 4  # 进取型

    @property
    def label(self) -> str:
        return self.name.lower()


NAMES_ZH = {1: "保守型", 2: "稳健型", 3: "成长型", 4: "进取型"}

#: Highest listing risk level (1–5) each investor level may take.
MAX_LISTING_RISK = {
    InvestorLevel.CONSERVATIVE: 1,
    InvestorLevel.STEADY: 2,
    InvestorLevel.GROWTH: 3,
    InvestorLevel.AGGRESSIVE: 5,
}

#: The questionnaire: each question's options score 0..n; answers are option indexes.
QUESTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("age", "您的年龄 / your age", ("65 岁以上 / over 65", "51–65", "36–50", "18–35")),
    ("income", "年收入 / yearly income (yuan)",
     ("< 50,000", "50,000–200,000", "200,000–500,000", "> 500,000")),
    ("experience", "投资经验 / investing experience",
     ("无 / none", "存款理财 / deposits and wealth products", "基金股票 / funds and shares",
      "网贷或衍生品 / online lending or derivatives")),
    ("horizon", "投资期限 / horizon", ("< 3 个月 / months", "3–12 个月", "1–3 年 / years",
                                      "> 3 年")),
    ("loss_tolerance", "可承受的最大亏损 / largest loss you can bear",
     ("不能亏损 / none", "< 10 %", "10–30 %", "> 30 %")),
    ("share_of_assets", "投资占总资产比例 / share of your assets invested",
     ("> 50 %", "30–50 %", "10–30 %", "< 10 %")),
)
MAX_SCORE = sum(len(options) - 1 for _, _, options in QUESTIONS)


@dataclass(frozen=True)
class LevelLimits:
    per_investment: Money | None
    total_outstanding: Money | None


DEFAULT_LIMITS = {
    InvestorLevel.CONSERVATIVE: LevelLimits(Money.yuan(10_000), Money.yuan(50_000)),
    InvestorLevel.STEADY: LevelLimits(Money.yuan(50_000), Money.yuan(200_000)),
    InvestorLevel.GROWTH: LevelLimits(Money.yuan(200_000), Money.yuan(1_000_000)),
    InvestorLevel.AGGRESSIVE: LevelLimits(None, None),
}


def score_answers(answers: dict[str, int]) -> int:
    """Total of the chosen options; every question must be answered with a valid option."""
    if not isinstance(answers, Mapping):
        raise InvalidInput("answers must map each question to an option", field="answers")
    total = 0
    for key, _, options in QUESTIONS:
        if key not in answers:
            raise InvalidInput(f"question {key!r} is not answered", field=f"answers.{key}")
        choice = answers[key]
        if isinstance(choice, bool) or not isinstance(choice, int) or not (
            0 <= choice < len(options)
        ):
            raise InvalidInput(
                f"answer to {key!r} must be an option from 0 to {len(options) - 1}",
                field=f"answers.{key}",
            )
        total += choice
    unknown = set(answers) - {key for key, _, _ in QUESTIONS}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"unknown question {name!r}", field=f"answers.{name}")
    return total


def level_for(score: int) -> InvestorLevel:
    """Quartiles of the 0–18 score: 0–4 conservative, 5–9 steady, 10–13 growth, 14+ aggressive."""
    if score <= 4:
        return InvestorLevel.CONSERVATIVE
    if score <= 9:
        return InvestorLevel.STEADY
    if score <= 13:
        return InvestorLevel.GROWTH
    return InvestorLevel.AGGRESSIVE


class UnsuitableInvestment(Conflict):
    code = "unsuitable"


def check_suitable(
    level: InvestorLevel | None,
    valid_until: date | None,
    today: date,
    listing_risk: int,
    amount: Money,
    outstanding: Money,
    limits: dict[InvestorLevel, LevelLimits] = DEFAULT_LIMITS,
) -> None:
    """Refuse an investment the investor's assessment does not cover, saying how to fix it."""
    retake = "take the risk assessment at POST /api/v1/me/risk-assessment"
    if level is None or valid_until is None:
        raise UnsuitableInvestment(
            f"no risk assessment on file (rule suitability.assessment_required): {retake}",
            code="assessment_required",
        )
    if valid_until < today:
        raise UnsuitableInvestment(
            f"your risk assessment expired on {valid_until} (rule suitability.assessment_valid"
            f" 360 days): {retake}",
            code="assessment_expired",
        )
    if listing_risk > MAX_LISTING_RISK[level]:
        raise UnsuitableInvestment(
            f"this listing's risk level R{listing_risk} is above what a {level.label}"
            f" ({NAMES_ZH[level]}) investor may take (up to R{MAX_LISTING_RISK[level]};"
            " rule suitability.level_match): choose a lower-risk listing or retake the"
            " assessment if your situation has changed",
            code="risk_level_too_high",
        )
    cap = limits[level]
    if cap.per_investment is not None and amount > cap.per_investment:
        raise UnsuitableInvestment(
            f"a {level.label} investor may invest at most {cap.per_investment} yuan at once"
            " (rule suitability.per_investment_limit)",
            code="over_level_limit",
            field="amount",
        )
    if cap.total_outstanding is not None and outstanding + amount > cap.total_outstanding:
        raise UnsuitableInvestment(
            f"a {level.label} investor may hold at most {cap.total_outstanding} yuan"
            f" outstanding; you hold {outstanding} (rule suitability.total_limit)",
            code="over_level_limit",
            field="amount",
        )
