"""The monthly operating report (平台运营信息) as of a month-end: computed from the bucket
history of that day and the dated tables, published once and never changed.

Every figure of `domain/disclosure/rules.FIGURES` is computed here in SQL both databases run;
its formula is stored with it, so the published report prints each figure beside the way it
was computed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from biaodi.adapters.clock import CST
from biaodi.adapters.db.disclosure_tables import DisclosureReport
from biaodi.domain.analytics.tiers import rate
from biaodi.domain.disclosure.rules import (
    FIGURES,
    GUIDELINE,
    MONTHLY_RULE,
    due_on,
    month_of,
    parse_month,
    report_late,
)
from biaodi.domain.shared.calendar import CN_CALENDAR, WorkingDayCalendar
from biaodi.domain.shared.errors import Conflict, NotFound
from biaodi.services.analytics.common import Sql, UnitOfWork, fetch
from biaodi.services.shared import audit


def figures(uow: UnitOfWork, as_of: date) -> dict[str, int | str | None]:
    """Every figure of the report as of the close of `as_of` (fen and counts as integers,
    rates as 6-place decimal strings or None with nothing to divide by)."""
    sql = Sql.of(uow)
    d = sql.date("d")
    live = f"FROM bucket_history h WHERE h.business_date = {d}"
    # a borrower counts as a related party when related on the report's day (both ends kept)
    related = (f"EXISTS (SELECT 1 FROM related_parties rp WHERE rp.user_id = l.applicant_id"
               f" AND rp.since <= {d} AND (rp.until IS NULL OR rp.until >= {d}))")
    r = fetch(uow, f"""
        SELECT
          (SELECT COALESCE(SUM(l.funded_fen), 0) FROM loan_servicing s
           JOIN listings l ON l.id = s.listing_id WHERE s.onboarded_on <= {d}) AS cum_fen,
          (SELECT COUNT(*) FROM loan_servicing s WHERE s.onboarded_on <= {d}) AS cum_n,
          (SELECT COALESCE(SUM(h.outstanding_principal_fen), 0) {live}) AS out_fen,
          (SELECT COUNT(*) {live}) AS out_n,
          (SELECT COALESCE(SUM(h.outstanding_interest_fen), 0) {live}) AS out_int,
          (SELECT COUNT(*) FROM (
             SELECT i.investor_id AS who FROM investments i
             JOIN loan_servicing s ON s.listing_id = i.listing_id
             WHERE s.onboarded_on <= {d} AND i.status <> 'refunded'
             UNION
             SELECT p.buyer_id FROM secondary_purchases p WHERE p.business_date <= {d}) x
          ) AS cum_lenders,
          (SELECT COUNT(DISTINCT l.applicant_id) FROM loan_servicing s
           JOIN listings l ON l.id = s.listing_id WHERE s.onboarded_on <= {d}) AS cum_borrowers,
          (SELECT COUNT(*) FROM (
             SELECT i.investor_id AS who FROM investments i
             JOIN bucket_history h ON h.listing_id = i.listing_id
             WHERE h.business_date = {d} AND i.status <> 'refunded'
             UNION
             SELECT p.buyer_id FROM secondary_purchases p
             JOIN bucket_history h ON h.listing_id = p.listing_id
             WHERE h.business_date = {d} AND p.business_date <= {d}) x) AS cur_lenders,
          (SELECT COUNT(DISTINCT l.applicant_id) FROM bucket_history h
           JOIN listings l ON l.id = h.listing_id WHERE h.business_date = {d}) AS cur_borrowers,
          (SELECT COALESCE(SUM(h.outstanding_principal_fen), 0) FROM bucket_history h
           JOIN listings l ON l.id = h.listing_id
           WHERE h.business_date = {d} AND {related}) AS rel_fen,
          (SELECT COUNT(*) FROM bucket_history h JOIN listings l ON l.id = h.listing_id
           WHERE h.business_date = {d} AND {related}) AS rel_n,
          (SELECT COALESCE(SUM(h.overdue_fen), 0) {live} AND h.bucket <> 'current') AS od_fen,
          (SELECT COALESCE(SUM(h.outstanding_principal_fen), 0) {live}
             AND h.bucket <> 'current') AS od_principal,
          (SELECT COUNT(*) {live} AND h.bucket <> 'current') AS od_n,
          (SELECT COALESCE(SUM(h.overdue_fen), 0) {live} AND h.bucket = 'M3+') AS od90_fen,
          (SELECT COUNT(*) {live} AND h.bucket = 'M3+') AS od90_n,
          (SELECT COALESCE(SUM(r.amount_fen), 0) FROM repayments r
           WHERE r.source = 'guarantor' AND r.business_date <= {d}) AS comp_fen,
          (SELECT COUNT(*) FROM repayments r
           WHERE r.source = 'guarantor' AND r.business_date <= {d}) AS comp_n""", d=as_of)[0]
    owed = [int(x.fen) for x in fetch(uow, f"""
        SELECT SUM(h.outstanding_principal_fen) AS fen FROM bucket_history h
        JOIN listings l ON l.id = h.listing_id WHERE h.business_date = {d}
        GROUP BY l.applicant_id ORDER BY SUM(h.outstanding_principal_fen) DESC""", d=as_of)]
    total = int(r.out_fen)

    def share(fen: int) -> str | None:
        found = rate(fen, total)
        return None if found is None else str(found)

    def ratio(a: int, b: int) -> str | None:
        found = rate(a, b)
        return None if found is None else str(found)

    values: dict[str, int | str | None] = {
        "cumulative_volume": int(r.cum_fen), "cumulative_loans": int(r.cum_n),
        "outstanding_principal": total, "outstanding_loans": int(r.out_n),
        "outstanding_interest": int(r.out_int),
        "cumulative_lenders": int(r.cum_lenders), "cumulative_borrowers": int(r.cum_borrowers),
        "current_lenders": int(r.cur_lenders), "current_borrowers": int(r.cur_borrowers),
        "top10_share": share(sum(owed[:10])), "largest_share": share(owed[0] if owed else 0),
        "related_party_balance": int(r.rel_fen), "related_party_loans": int(r.rel_n),
        "overdue_amount": int(r.od_fen), "overdue_loans": int(r.od_n),
        "overdue_90_amount": int(r.od90_fen), "overdue_90_loans": int(r.od90_n),
        "compensation_amount": int(r.comp_fen), "compensation_count": int(r.comp_n),
        "amount_overdue_rate": share(int(r.od_principal)),
        "count_overdue_rate": ratio(int(r.od_n), int(r.out_n)),
    }
    assert tuple(values) == tuple(f.key for f in FIGURES)
    return values


def _history_on(uow: UnitOfWork, day: date) -> bool:
    """Whether close of business has closed `day` (the bucket history is written then)."""
    sql = Sql.of(uow)
    return bool(fetch(uow, f"""SELECT 1 AS x FROM close_day_runs
        WHERE business_date = {sql.date('d')} AND status = 'done'""", d=day))


def compute(uow: UnitOfWork, month: str, fee_schedule: list[dict[str, Any]]
            ) -> dict[str, Any]:
    """The report on `month` as it would be published: its figures (each with its labels and
    formula), the fee schedule in force, and the rule it answers to. Refused (409
    `month_not_closed`) until close of business has closed the month's last day."""
    _, last = parse_month(month)
    if not _history_on(uow, last):
        raise Conflict(f"{month} is not closed yet: its last day {last.isoformat()} has not "
                       "been through close of business", field="month", code="month_not_closed")
    return _content(uow, month, last, fee_schedule)


def _content(uow: UnitOfWork, month: str, last: date, fee_schedule: list[dict[str, Any]]
             ) -> dict[str, Any]:
    values = figures(uow, last)
    return {
        "month": month, "as_of": last.isoformat(),
        "figures": [{"key": f.key, "label_zh": f.zh, "label_en": f.en, "unit": f.unit,
                     "value": values[f.key], "formula_zh": f.formula_zh,
                     "formula_en": f.formula_en} for f in FIGURES],
        "fee_schedule": fee_schedule,
        "source": GUIDELINE, "rule": MONTHLY_RULE,
    }


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Published:
    month: str
    as_of: date
    due_on: date
    published_on: date
    late: bool
    published_by: str
    content: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "as_of": self.as_of.isoformat(),
                "due_on": self.due_on.isoformat(), "published_on": self.published_on.isoformat(),
                "late": self.late, "published_by": self.published_by, **{
                    k: v for k, v in self.content.items() if k not in ("month", "as_of")}}


def publish(uow: UnitOfWork, month: str, fee_schedule: list[dict[str, Any]], *,
            by: str, calendar: WorkingDayCalendar = CN_CALENDAR) -> Published:
    """Compute and store the report on `month`, published today (the business date); late
    when today is after its due date. A month is published once: a second time is refused
    (409 `already_published`) and the stored report stays as it was."""
    if uow.s.get(DisclosureReport, month) is not None:
        raise Conflict(f"the report on {month} is already published and cannot change",
                       field="month", code="already_published")
    return _store(uow, month, compute(uow, month, fee_schedule), by=by, calendar=calendar)


def _store(uow: UnitOfWork, month: str, content: dict[str, Any], *, by: str,
           calendar: WorkingDayCalendar) -> Published:
    # the day it became public: the wall clock's date in Beijing (during a catch-up close of
    # business `today()` is the business date being closed, which may be long past)
    today = uow.clock.now().astimezone(CST).date()
    due = due_on(month, calendar)
    text = canonical(content)
    row = DisclosureReport(month=month, as_of=parse_month(month)[1], due_on=due,
                           published_on=today, published_at=uow.clock.now(),
                           late=report_late(today, due), published_by=by, content=text,
                           digest=hashlib.sha256(text.encode()).hexdigest())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "disclosure.report_published", changes={
        "month": month, "late": row.late, "digest": row.digest})
    return _view(row)


def _view(row: DisclosureReport) -> Published:
    if hashlib.sha256(row.content.encode()).hexdigest() != row.digest:
        raise Conflict(f"the stored report on {row.month} does not match its digest",
                       code="report_tampered")
    return Published(row.month, row.as_of, row.due_on, row.published_on, row.late,
                     row.published_by, json.loads(row.content))


def get(uow: UnitOfWork, month: str) -> Published:
    parse_month(month)
    row = uow.s.get(DisclosureReport, month)
    if row is None:
        raise NotFound(f"no report on {month} has been published", field="month")
    return _view(row)


def published(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every published report, newest first: month, due and publication dates, lateness."""
    rows = uow.s.scalars(select(DisclosureReport).order_by(DisclosureReport.month.desc()))
    return [{"month": r.month, "as_of": r.as_of.isoformat(), "due_on": r.due_on.isoformat(),
             "published_on": r.published_on.isoformat(), "late": r.late} for r in rows]


def publish_at_month_end(fee_schedule: list[dict[str, Any]],
                         calendar: WorkingDayCalendar = CN_CALENDAR
                         ) -> Callable[[UnitOfWork, date], int]:
    """The close-of-business step: on a month's last day — after the `bucket_history` step
    has written that day's history — publish the month's report, once."""
    def step(uow: UnitOfWork, day: date) -> int:
        if (day + timedelta(days=1)).month == day.month:
            return 0  # not the month's last day
        month = month_of(day)
        if uow.s.get(DisclosureReport, month) is not None:
            return 0
        _store(uow, month, _content(uow, month, day, fee_schedule), by="close-of-business",
               calendar=calendar)
        return 1
    return step
