"""Reason codes in plain language (zh-CN and en).

A scorecard decision is explained by the inputs that cost the applicant the most points
against the average applicant; each input has a human label and a way to show its value.
Inputs without a label (a model trained on some other CSV) fall back to their column name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Label:
    zh: str
    en: str
    unit: str = ""  # "yuan", "ratio", "years", "months", "count" or ""


_LABELS: dict[str, Label] = {
    # Biaodi application fields (the default model's inputs)
    "monthly_income": Label("月收入", "monthly income", "yuan"),
    "monthly_expenses": Label("月支出", "monthly expenses", "yuan"),
    "assets": Label("资产", "assets", "yuan"),
    "debts": Label("现有负债", "existing debts", "yuan"),
    "amount": Label("借款金额", "amount requested", "yuan"),
    "purchase_price": Label("购置物或抵押物价值", "value of the purchase or security", "yuan"),
    "term_months": Label("借款期限", "term", "months"),
    "age": Label("年龄", "age", "years"),
    "employment_years": Label("现单位工作年限", "years with the current employer", "years"),
    "employment_type": Label("就业类型", "type of employment"),
    "housing": Label("住房情况", "housing"),
    "marital_status": Label("婚姻状况", "marital status"),
    "has_arrears_record": Label("历史逾期记录", "record of past arrears"),
    # derived from them
    # an unsecured loan counts as 100 % (services.risk.model_row)
    "loan_to_value": Label("借款金额占购置物或抵押物价值的比例", "loan-to-value", "ratio"),
    "instalment_to_income": Label("月供收入比", "instalment-to-income", "ratio"),
    "expenses_to_income": Label("支出收入比", "expenses-to-income", "ratio"),
    "free_income_ratio": Label("可支配收入占比", "share of income left after costs", "ratio"),
    "debts_to_income": Label("负债收入比", "debts-to-monthly-income", "ratio"),
    "assets_to_amount": Label("资产与借款金额之比", "assets-to-amount", "ratio"),
    "net_assets": Label("净资产", "net assets", "yuan"),
    "amount_to_income": Label("借款金额与月收入之比", "amount-to-monthly-income", "ratio"),
    "tenure_share": Label("工作年限占成年时间比例", "share of adult life in the current job",
                          "ratio"),
    # credit_data (modeldata) columns as published
    "Seniority": Label("现单位工作年限", "years with the current employer", "years"),
    "Home": Label("住房情况", "housing"),
    "Time": Label("借款期限", "term", "months"),
    "Age": Label("年龄", "age", "years"),
    "Marital": Label("婚姻状况", "marital status"),
    "Records": Label("历史逾期记录", "record of past arrears"),
    "Job": Label("就业类型", "type of employment"),
    "Expenses": Label("月支出", "monthly expenses"),
    "Income": Label("月收入", "monthly income"),
    "Assets": Label("资产", "assets"),
    "Debt": Label("现有负债", "existing debts"),
    "Amount": Label("借款金额", "amount requested"),
    "Price": Label("购置物价值", "price of the purchase"),
    # Lending Club (modeldata lending_club) columns
    "funded_amnt": Label("借款金额", "amount funded"),
    "term": Label("借款期限", "term"),
    "addr_state": Label("所在州", "state of residence"),
    "verification_status": Label("收入核验状态", "income verification"),
    "annual_inc": Label("年收入", "annual income"),
    "emp_length": Label("工作年限", "length of employment"),
    "delinq_2yrs": Label("近两年逾期次数", "delinquencies in the last 2 years", "count"),
    "inq_last_6mths": Label("近6个月查询次数", "credit inquiries in the last 6 months", "count"),
    "revol_util": Label("循环额度使用率", "revolving utilisation"),
    "acc_now_delinq": Label("当前逾期账户数", "accounts now delinquent", "count"),
    "open_il_6m": Label("分期账户数", "open instalment accounts", "count"),
    "open_il_12m": Label("近12个月新开分期账户", "instalment accounts opened in 12 months",
                         "count"),
    "open_il_24m": Label("近24个月新开分期账户", "instalment accounts opened in 24 months",
                         "count"),
    "total_bal_il": Label("分期账户余额", "instalment balances"),
    "all_util": Label("总额度使用率", "utilisation of all credit"),
    "inq_fi": Label("个人理财查询次数", "personal finance inquiries", "count"),
    "inq_last_12m": Label("近12个月查询次数", "credit inquiries in the last 12 months", "count"),
    "delinq_amnt": Label("逾期金额", "amount past due"),
    "num_il_tl": Label("分期账户总数", "instalment accounts", "count"),
    "total_il_high_credit_limit": Label("分期账户总额度", "instalment credit limits"),
    "loan_to_income": Label("借款金额与年收入之比", "loan-to-income", "ratio"),
    "payment_to_income": Label("月供收入比", "payment-to-income", "ratio"),
    "il_utilisation": Label("分期额度使用率", "instalment utilisation", "ratio"),
    "il_balance_to_income": Label("分期余额与年收入之比", "instalment balance-to-income", "ratio"),
    "emp_years": Label("工作年限", "years employed", "years"),
}


#: Plain words for the categories of the application form, (zh, en).
_VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "housing": {"own": ("自有住房", "own home"), "rent": ("租房", "renting"),
                "family": ("与家人同住", "living with family"),
                "private": ("单位或私人提供住房", "housing from an employer or private"),
                "other": ("其他", "other housing"), "unknown": ("未说明", "not stated")},
    "employment_type": {"permanent": ("固定工作", "permanent job"),
                        "self_employed": ("自雇", "self-employed"),
                        "part_time": ("兼职", "part-time"), "other": ("其他", "other")},
    "marital_status": {"married": ("已婚", "married"), "single": ("未婚", "single"),
                       "separated": ("分居", "separated"), "divorced": ("离异", "divorced"),
                       "widow": ("丧偶", "widowed")},
    "has_arrears_record": {"yes": ("有", "yes"), "no": ("无", "none")},
}


def label_for(feature: str) -> Label:
    """The plain-language label of an input; unknown columns get their own name."""
    known = _LABELS.get(feature)
    if known is not None:
        return known
    words = feature.replace("_", " ").strip()
    return Label(f"字段“{words}”", words)


def show(value: Any, unit: str, feature: str = "") -> tuple[str, str]:
    """A value as text, (zh, en)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "未填写", "not given"
    if isinstance(value, str):
        return _VALUES.get(feature, {}).get(value, (value, value))
    number = float(value)
    if unit == "ratio":
        text = f"{number * 100:.0f}%"
        return text, text
    if unit == "yuan":
        return f"{number:,.0f} 元", f"{number:,.0f} yuan"
    if unit == "years":
        return f"{number:g} 年", f"{number:g} years"
    if unit == "months":
        return f"{number:g} 个月", f"{number:g} months"
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text, text


@dataclass(frozen=True)
class Reason:
    """One input that lowered the score: by how many points, in plain words."""

    feature: str
    points: int  # negative: points below the average applicant's for this input
    text_zh: str
    text_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.feature, "points": self.points, "text_zh": self.text_zh,
                "text_en": self.text_en}


def reason(feature: str, value: Any, points_below_average: float) -> Reason:
    label = label_for(feature)
    zh_value, en_value = show(value, label.unit, feature)
    lost = max(1, round(-points_below_average))
    points = "point" if lost == 1 else "points"
    return Reason(
        feature=feature,
        points=-lost,
        text_zh=f"{label.zh}（{zh_value}）使评分比平均水平低 {lost} 分",
        text_en=f"{label.en} ({en_value}) puts the score {lost} {points} below average",
    )
