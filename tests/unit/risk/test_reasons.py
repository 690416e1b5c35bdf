"""Reason codes in plain language."""

from __future__ import annotations

from biaodi.domain.risk.reasons import label_for, reason, show


def test_known_inputs_have_zh_and_en_labels() -> None:
    label = label_for("monthly_income")
    assert (label.zh, label.en, label.unit) == ("月收入", "monthly income", "yuan")
    assert label_for("Income").zh == "月收入"  # credit_data as published
    assert label_for("revol_util").en == "revolving utilisation"  # Lending Club


def test_unknown_columns_fall_back_to_their_name() -> None:
    label = label_for("months_since_last_holiday")
    assert label.en == "months since last holiday"
    assert label.zh == "字段“months since last holiday”"


def test_values_are_shown_in_their_unit_and_categories_in_words() -> None:
    assert show(12345.6, "yuan") == ("12,346 元", "12,346 yuan")
    assert show(0.456, "ratio") == ("46%", "46%")
    assert show(3.0, "years") == ("3 年", "3 years")
    assert show(None, "yuan") == ("未填写", "not given")
    assert show(float("nan"), "") == ("未填写", "not given")
    assert show("part_time", "", "employment_type") == ("兼职", "part-time")
    assert show("yes", "", "has_arrears_record") == ("有", "yes")
    assert show("zebra", "", "housing") == ("zebra", "zebra")


def test_a_reason_reads_as_a_sentence() -> None:
    r = reason("has_arrears_record", "yes", -34.6)
    assert r.points == -35
    assert r.text_en == "record of past arrears (yes) puts the score 35 points below average"
    assert r.text_zh == "历史逾期记录（有）使评分比平均水平低 35 分"
    assert reason("age", 30.0, -1.2).text_en.endswith("1 point below average")
    assert r.as_dict() == {"code": "has_arrears_record", "points": -35,
                           "text_zh": r.text_zh, "text_en": r.text_en}
