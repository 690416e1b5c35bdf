"""How long one contract PDF takes (docs/DOCUMENTS.md, docs/BENCHMARKS.md).

A loan agreement of a 12-month loan with 10 lenders, rendered N times (a) in the whole
WenQuanYi Zen Hei font, (b) in the cached subset of it (`adapters/pdf.py`), and, as the
reference measured in the same run, (c) the same document's ASCII text in fpdf2's built-in
Helvetica (no font to load or embed): what fpdf2 itself costs. Prints the median and range of
each and the ratios to the reference.

    python benchmarks/contracts_pdf.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from fpdf import FPDF

from biaodi.adapters import pdf as pdf_module
from biaodi.adapters.pdf import PdfRenderer, _all_text, _subset_of
from biaodi.domain.documents.contracts import (
    Instalment,
    LoanTerms,
    Person,
    Share,
    loan_agreement,
    signing_block,
)
from biaodi.domain.shared.money import Money

NOW = datetime(2026, 11, 28, 2, tzinfo=UTC)


def _document():  # type: ignore[no-untyped-def]
    schedule = tuple(Instalment(n, date(2026, 12, 28) + timedelta(days=30 * (n - 1)),
                                Money(80_000), Money(10_000), Money(500))
                     for n in range(1, 13))
    terms = LoanTerms(7, "credit", "经营周转", Money(1_000_000), 120_000, 12, "month",
                      "equal_installment", 10_000, 0, 135_000, NOW, schedule)
    lenders = [Share(Person(10 + n, f"出借人{n}", "1101**********1234"), Money(100_000))
               for n in range(10)]
    text = loan_agreement(terms, Person(1, "张三丰", "1101**********4321"), lenders, 10)
    text.blocks.append(signing_block([("investor", "出借人0", NOW)] * 11))
    return text


def _helvetica(ascii_text: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(NOW)
    pdf.add_page()
    pdf.set_font("helvetica", size=9)
    pdf.multi_cell(0, 5, ascii_text)
    return bytes(pdf.output())


def _time(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    took = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        took.append((time.perf_counter() - start) * 1000)
    return took


def main(n: int = 20) -> None:
    text = _document()
    whole = PdfRenderer()
    started = time.perf_counter()
    cut = _subset_of(whole.font)
    print(f"subset ready in {(time.perf_counter() - started) * 1000:.0f} ms "
          f"(made now, or found in the temporary directory)")
    assert cut is not None
    all_text = _all_text(text.title, text.reference, text.blocks, text.tables)
    ascii_text = "".join(c if ord(c) < 128 else "?" for c in all_text)
    runs = {
        "whole font": _time(lambda: _whole(text), n),
        "subset": _time(lambda: whole.contract(text, NOW), n),
        "reference: Helvetica, ASCII": _time(lambda: _helvetica(ascii_text), n),
    }
    reference = statistics.median(runs["reference: Helvetica, ASCII"])
    for name, took in runs.items():
        mid = statistics.median(took)
        print(f"{name:30} median {mid:7.1f} ms  range {min(took):6.1f}–{max(took):6.1f} ms  "
              f"ratio {mid / reference:5.1f}")


def _whole(text) -> bytes:  # type: ignore[no-untyped-def]
    """The whole font, as the renderer uses it for text outside the subset."""
    original = pdf_module._subset_of
    pdf_module._subset_of = lambda font: None  # type: ignore[assignment]
    try:
        return PdfRenderer().contract(text, NOW)
    finally:
        pdf_module._subset_of = original


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
