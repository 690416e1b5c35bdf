"""What operators prepare once: canned answers (常用回复) and the public FAQ (常见问题)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from biaodi.adapters.db.document_tables import CannedAnswer, FaqEntry
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.domain.support import tickets as rules
from biaodi.services.shared import audit

LANGS = ("zh", "en")


def save_canned(uow: UnitOfWork, actor_id: int, title: str, body: str,
                category: str | None = None) -> int:
    title = rules.check_text(title, "title", 120)
    body = rules.check_text(body, "body", 4000)
    if category is not None:
        rules.category(category)
    if uow.s.scalar(select(CannedAnswer.id).where(CannedAnswer.title == title)) is not None:
        raise Conflict(f"a canned answer titled {title!r} exists", field="title",
                       code="title_taken")
    row = CannedAnswer(title=title, body=body, category=category, updated_by=actor_id,
                       updated_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "support.canned_saved", changes={"canned_answer_id": row.id})
    return int(row.id)


def canned_answers(uow: UnitOfWork, category: str | None = None) -> list[dict[str, Any]]:
    query = select(CannedAnswer).order_by(CannedAnswer.title)
    if category is not None:
        query = query.where((CannedAnswer.category == category)
                            | CannedAnswer.category.is_(None))
    return [{"id": c.id, "title": c.title, "body": c.body, "category": c.category}
            for c in uow.s.scalars(query)]


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise InvalidInput(f"lang must be one of {', '.join(LANGS)}", field="lang")
    return lang


def save_faq(uow: UnitOfWork, actor_id: int, *, lang: str, question: str, answer: str,
             position: int = 0, published: bool = True, entry_id: int | None = None) -> int:
    """Add an entry, or change the one `entry_id` names (unpublish to take it down)."""
    values = {"lang": _lang(lang), "question": rules.check_text(question, "question", 200),
              "answer": rules.check_text(answer, "answer", 4000), "position": position,
              "published": published, "updated_by": actor_id,
              "updated_at": uow.clock.now()}
    if entry_id is None:
        row = FaqEntry(**values)
        uow.s.add(row)
    else:
        found = uow.s.get(FaqEntry, entry_id)
        if found is None:
            raise NotFound(f"FAQ entry {entry_id} not found", field="faq_id",
                           code="faq_entry_not_found")
        row = found
        for name, value in values.items():
            setattr(row, name, value)
    uow.s.flush()
    audit.note(uow, "support.faq_saved", changes={"entry_id": row.id, "published": published})
    return int(row.id)


def faq(uow: UnitOfWork, lang: str, *, everything: bool = False) -> list[dict[str, Any]]:
    """The published entries in one language, in order (`everything`: for operators)."""
    query = select(FaqEntry).where(FaqEntry.lang == _lang(lang))
    if not everything:
        query = query.where(FaqEntry.published.is_(True))
    return [{"id": f.id, "lang": f.lang, "question": f.question, "answer": f.answer,
             "position": f.position, "published": f.published}
            for f in uow.s.scalars(query.order_by(FaqEntry.position, FaqEntry.id))]
