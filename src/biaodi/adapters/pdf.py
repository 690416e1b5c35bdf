"""PDF rendering with fpdf2 and an embedded Chinese font (a subset of it, only the glyphs used).

The font is a file from the system package `fonts-wqy-zenhei` (.ci/run installs it), or the
one `BIAODI_DOCUMENT_FONT` names. Without it no PDF is made: `FontMissing` says which file and
which package, and the caller decides (contracts stay pending until the font is there; a
statement download answers with the error) — a PDF whose Chinese text came out as blanks or
boxes would be a wrong contract, not a degraded one."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from biaodi.domain.documents.contracts import ContractText

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

# fontTools reports every table it does not subset (the TTC's bitmap strikes) at warning level
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


#: What the cached subset of the font covers: Latin, general punctuation, CJK punctuation,
#: full-width forms and every character of GB 2312. Text with anything else is set in the
#: whole font (slower to load, same glyphs).
SUBSET_VERSION = "1"


def _common_characters() -> frozenset[int]:
    ranges = [(0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x3000, 0x3040),
              (0xFF00, 0xFFF0)]
    chars = {c for lo, hi in ranges for c in range(lo, hi)}
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                chars.update(map(ord, bytes((first, second)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@lru_cache(maxsize=4)
def _subset_of(font: Path) -> tuple[Path, frozenset[int]] | None:
    """The font cut down to the common characters, made once per machine (a few seconds) and
    kept in the temporary directory: loading it takes a fifth of the time of the whole font.
    None if it cannot be made (the whole font is used then)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    try:
        stat = font.stat()
        key = hashlib.sha256(f"{font}|{stat.st_size}|{stat.st_mtime_ns}|{SUBSET_VERSION}"
                             .encode()).hexdigest()[:16]
        target = Path(tempfile.gettempdir()) / "biaodi-fonts" / f"{key}.ttf"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            whole = TTFont(str(font), fontNumber=0)
            cutter = subset.Subsetter(subset.Options(notdef_outline=True, name_IDs=["*"],
                                                     recommended_glyphs=True))
            cutter.populate(unicodes=_common_characters())
            cutter.subset(whole)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            whole.save(str(partial))
            os.replace(partial, target)  # another process may have written it too: same bytes
        covered = frozenset(TTFont(str(target)).getBestCmap())
    except Exception:  # any failure just means the whole font is used
        logging.getLogger("biaodi.documents").warning("font subset of %s not made", font,
                                                       exc_info=True)
        return None
    return target, covered


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

    def _font_for(self, text: str) -> Path:
        cut = _subset_of(self.font)
        if cut is not None and {ord(c) for c in text} <= cut[1]:
            return cut[0]
        return self.font

    def _document(self, created: datetime, text: str):  # type: ignore[no-untyped-def]
        from fpdf import FPDF

        if not self.available():
            raise FontMissing(self.font)
        pdf = FPDF(format="A4")
        pdf.set_creation_date(created)
        pdf.set_creator("Biaodi")
        pdf.add_font("zh", "", str(self._font_for(text)))
        pdf.set_auto_page_break(True, margin=15)
        pdf.add_page()
        return pdf

    def contract(self, text: ContractText, created: datetime) -> bytes:
        pdf = self._document(created, _all_text(text.title, text.reference, text.blocks,
                                                text.tables))
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
        pdf = self._document(created, _all_text(title, "", blocks, tables))
        pdf.set_title(title)
        pdf.set_font("zh", size=16)
        pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT", align="C")
        for heading, lines in blocks:
            _block(pdf, heading, lines)
        for heading, columns, rows in tables:
            _table(pdf, heading, columns, rows)
        return bytes(pdf.output())


def _all_text(title: str, reference: str, blocks: list[tuple[str, list[str]]],
              tables: list[tuple[str, list[str], list[list[str]]]]) -> str:
    parts = [title, reference, "编号 No."]
    for heading, lines in blocks:
        parts += [heading, *lines]
    for heading, columns, rows in tables:
        parts += [heading, *columns, *(cell for row in rows for cell in row)]
    return "".join(parts)


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
