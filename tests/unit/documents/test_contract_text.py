"""The contract text: the reader in full, every other person masked."""

from __future__ import annotations

from datetime import UTC, date, datetime

from biaodi.domain.documents.contracts import (
    Instalment,
    LoanTerms,
    Person,
    Share,
    loan_agreement,
    mask_name,
    ppm_percent,
)
from biaodi.domain.shared.money import Money

BORROWER = Person(1, "张三丰", "1101**********1234")
LENDERS = [Share(Person(2, "李四", "1102**********2345"), Money(600_000)),
           Share(Person(3, "王五", "1103**********3456"), Money(400_000))]
TERMS = LoanTerms(9, "credit", "周转", Money(1_000_000), 120_000, 2, "month",
                  "equal_installment", 10_000, 0, 131_234,
                  datetime(2026, 11, 28, 2, tzinfo=UTC),
                  (Instalment(1, date(2026, 12, 28), Money(497_500), Money(10_000)),
                   Instalment(2, date(2027, 1, 28), Money(502_500), Money(5_025))))


def _text(reader: int) -> str:
    doc = loan_agreement(TERMS, BORROWER, LENDERS, reader)
    return "\n".join(line for _, lines in doc.blocks for line in lines)


def test_each_reader_sees_itself_and_only_masks_of_the_others() -> None:
    lender = _text(2)
    assert "李四" in lender and "张三丰" not in lender and "张**" in lender
    assert "王五" not in lender and "王*" in lender
    assert "出借本金 Principal lent: ¥6,000.00" in lender and "60 %" in lender
    borrower = _text(1)
    assert "张三丰" in borrower and "李四" not in borrower and "李*" in borrower
    assert "This lender's share" not in borrower


def test_terms_carry_rate_fees_and_all_in_cost() -> None:
    text = _text(1)
    assert "年利率 Annual rate: 12 %" in text
    assert "1 %" in text and "13.1234 %" in text
    table = loan_agreement(TERMS, BORROWER, LENDERS, 1).tables[0]
    assert table[2][-1][:4] == ["合计 total", "", "10,000.00", "150.25"]
    assert mask_name("李") == "李" and ppm_percent(None) == "—"
