"""Service refusals in the page's language (web/refusals): our sentence for the code, or for
the message with its figures, the compliance rule named, and on a Chinese page a sentence
naming the field for a message we have no sentence for."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from biaodi.domain.listings.policy import FundingRules
from biaodi.domain.payments.orders import WithdrawalLimits, check_withdrawal
from biaodi.domain.shared.compliance import BORROWING_CAPS, ComplianceViolation
from biaodi.domain.shared.errors import BiaodiError, Conflict, InvalidInput
from biaodi.domain.shared.money import Money
from biaodi.web import refusals


def page(lang: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                    "headers": [(b"cookie", f"lang={lang}".encode())]})


def refused(call) -> BiaodiError:  # type: ignore[no-untyped-def]
    with pytest.raises(BiaodiError) as caught:
        call()
    return caught.value


ZH, EN = page("zh-CN"), page("en")


def test_a_money_format_refusal_reads_in_the_pages_language() -> None:
    exc = refused(lambda: Money.parse("12.345", field="amount"))
    assert isinstance(exc, InvalidInput)
    assert refusals.say(ZH, exc) == "请填写金额（元），最多两位小数，如 1000 或 1000.50"
    assert refusals.say(EN, exc).startswith("Give an amount in yuan with at most two decimals")


def test_listing_full_names_what_is_still_open() -> None:
    rules = FundingRules(min_ticket=Money.parse("100"), step=Money.parse("100"))
    exc = refused(lambda: rules.check_ticket(Money.parse("5000"), Money.parse("1234.5")))
    assert exc.code == "listing_full"
    assert refusals.say(ZH, exc) == "金额超过本标的剩余可投的 ¥1,234.50"
    assert refusals.say(EN, exc) == "The amount exceeds the ¥1,234.50 still open"
    odd = Conflict("odd", code="listing_full")
    assert refusals.say(ZH, odd) == "本标的已满标或剩余可投金额不足"


def test_withdrawal_limits_read_with_their_figures() -> None:
    limits = WithdrawalLimits(per_transaction=Money.parse("50000"), per_day=Money.parse("80000"))
    once = refused(lambda: check_withdrawal(Money.parse("60000"), Money.zero(), limits))
    assert refusals.say(ZH, once) == "单笔提现不得超过 ¥50,000.00"
    day = refused(lambda: check_withdrawal(Money.parse("40000"), Money.parse("50000"), limits))
    assert refusals.say(ZH, day) == ("本次提现后今日累计 ¥90,000.00，超过每日限额 ¥80,000.00"
                                     "（今日还可提现 ¥30,000.00）")
    assert "daily limit of ¥80,000.00 (¥30,000.00 left today)" in refusals.say(EN, day)


def test_a_compliance_refusal_names_its_rule() -> None:
    exc = ComplianceViolation(BORROWING_CAPS, "something the pages have no sentence for")
    said = refusals.say(ZH, exc)
    assert said.startswith("依据合规规则 cn2016.borrowing_caps（") and "借款余额上限" in said


def test_an_unknown_message_names_the_field_on_a_chinese_page() -> None:
    exc = InvalidInput("principal is odd in a way no sentence covers", field="principal")
    assert refusals.say(ZH, exc) == "“本金”填写不符合要求，请检查后重试。"
    assert refusals.say(EN, exc) == "principal is odd in a way no sentence covers"
    assert refusals.say(ZH, {"code": "conflict", "message": "who knows"}) == (
        "未能完成，请检查填写内容后重试。")
    made_here = InvalidInput("请填写有效日期（YYYY-MM-DD）", field="done_on")  # a page's own words
    assert refusals.say(ZH, made_here) == "请填写有效日期（YYYY-MM-DD）"
