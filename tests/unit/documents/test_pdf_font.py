"""The PDF font: common text is set in the cached subset (fast to load), text with a character
outside it in the whole font, and both embed the font."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from biaodi.adapters.pdf import DEFAULT_FONT, FontMissing, PdfRenderer
from biaodi.domain.documents.contracts import ContractText

pytestmark = pytest.mark.skipif(not DEFAULT_FONT.is_file(), reason="fonts-wqy-zenhei missing")
NOW = datetime(2026, 11, 28, 2, tzinfo=UTC)


def test_common_text_uses_the_subset_and_a_rare_name_the_whole_font() -> None:
    renderer = PdfRenderer()
    assert renderer._font_for("借款协议 张三 ¥1,000.00（年利率）") != DEFAULT_FONT
    assert renderer._font_for("张䶮") == DEFAULT_FONT  # U+4DAE is not in GB 2312
    for name in ("张三", "张䶮"):
        pdf = renderer.contract(ContractText("借款协议", "LA-1", [("当事人", [name])]), NOW)
        assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf


def test_without_the_font_no_pdf(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FontMissing, match="fonts-wqy-zenhei"):
        PdfRenderer(tmp_path / "none.ttf").contract(ContractText("x", "y"), NOW)
