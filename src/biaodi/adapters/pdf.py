"""PDF rendering with fpdf2 and an embedded Chinese font (a subset of it, only the glyphs used).

The font is a file from the system package `fonts-wqy-zenhei` (.ci/run installs it), or the
one `BIAODI_DOCUMENT_FONT` names. Without it no PDF is made: `FontMissing` says which file and
which package, and the caller decides (contracts stay pending until the font is there; a
statement download answers with the error) — a PDF whose Chinese text came out as blanks or
boxes would be a wrong contract, not a degraded one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from biaodi.domain.documents.contracts import ContractText

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

# fontTools reports every table it does not subset (the TTC's bitmap strikes) at warning level
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


class FontMissing(RuntimeError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"the Chinese font {path} is not installed (apt-get install "
                         "fonts-wqy-zenhei, or set BIAODI_DOCUMENT_FONT to a TrueType font): "
                         "no PDF was made")
        self.path = path


@dataclass(frozen=True)
class PdfRenderer:
    font: Path = DEFAULT_FONT

    def available(self) -> bool:
        return self.font.is_file()

    def _document(self, created: datetime):  # type: ignore[no-untyped-def]
        from fpdf import FPDF

        if not self.available():
            raise FontMissing(self.font)
        pdf = FPDF(format="A4")
        pdf.set_creation_date(created)
        pdf.set_creator("Biaodi")
        pdf.add_font("zh", "", str(self.font))
        pdf.set_auto_page_break(True, margin=15)
        pdf.add_page()
        return pdf

    def contract(self, text: ContractText, created: datetime) -> bytes:
        pdf = self._document(created)
        pdf.set_title(text.title)
        pdf.set_font("zh", size=16)
        pdf.cell(0, 10, text.title, new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_font("zh", size=9)
        pdf.cell(0, 6, f"编号 No. {text.reference}", new_x="LMARGIN", new_y="NEXT", align="C")
        for heading, lines in text.blocks[:-1] if text.tables else text.blocks:
            _block(pdf, heading, lines)
        for heading, columns, rows in text.tables:
            _table(pdf, heading, columns, rows)
        if text.tables and text.blocks:
            _block(pdf, *text.blocks[-1])
        return bytes(pdf.output())

    def table_report(self, title: str, blocks: list[tuple[str, list[str]]],
                     tables: list[tuple[str, list[str], list[list[str]]]],
                     created: datetime) -> bytes:
        pdf = self._document(created)
        pdf.set_title(title)
        pdf.set_font("zh", size=16)
        pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT", align="C")
        for heading, lines in blocks:
            _block(pdf, heading, lines)
        for heading, columns, rows in tables:
            _table(pdf, heading, columns, rows)
        return bytes(pdf.output())


def _block(pdf, heading: str, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    pdf.ln(2)
    pdf.set_font("zh", size=11)
    pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("zh", size=9)
    for line in lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")


def _table(pdf, heading: str, columns: list[str],  # type: ignore[no-untyped-def]
           rows: list[list[str]]) -> None:
    pdf.ln(2)
    pdf.set_font("zh", size=11)
    pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("zh", size=8)
    from fpdf.fonts import FontFace

    with pdf.table(col_widths=tuple(2 if i == 0 else 3 for i in range(len(columns))),
                   text_align="RIGHT", headings_style=FontFace(emphasis=None)) as table:
        table.row(columns)
        for row in rows:
            table.row(row)
