"""What the 2017 disclosure guideline asks and when: the monthly report's figures, each with
the formula printed beside it, its due date, and the lateness rules.

Source: 网络借贷信息中介机构业务活动信息披露指引 (CBRC General Office, 银监办发〔2017〕113号,
2017-08-23): operating data as of each month-end by the 5th working day of the next month;
major events within 48 hours; the borrower's items before an investor commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from biaodi.domain.shared.calendar import CN_CALENDAR, WorkingDayCalendar
from biaodi.domain.shared.errors import InvalidInput

GUIDELINE = "网络借贷信息中介机构业务活动信息披露指引（银监办发〔2017〕113号，2017-08-23）"
#: The dated rules a lateness flag names.
MONTHLY_RULE = "cn-2017-disclosure-monthly"  # by the 5th working day of the next month
EVENT_RULE = "cn-2017-disclosure-event-48h"  # major events within 48 hours
IN_FORCE_FROM = date(2017, 8, 23)
DUE_WORKING_DAY = 5
EVENT_WINDOW = timedelta(hours=48)


def parse_month(text: str, *, field: str = "month") -> tuple[date, date]:
    """'YYYY-MM' → the month's first and last day; anything else refused naming `field`."""
    try:
        year, month = (int(part) for part in text.split("-"))
        if len(text) != 7 or not 1 <= month <= 12 or year < 2000:
            raise ValueError
    except ValueError:
        raise InvalidInput(f"{field} must be a month written YYYY-MM, got {text!r}",
                           field=field) from None
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def due_on(month: str, calendar: WorkingDayCalendar = CN_CALENDAR) -> date:
    """The report on `month` is due on the 5th working day of the next month (holidays and
    make-up working days from the calendar's notices)."""
    _, last = parse_month(month)
    following = last + timedelta(days=1)
    return calendar.nth_working_day_of_month(following.year, following.month, DUE_WORKING_DAY)


def report_late(published_on: date, due: date) -> bool:
    return published_on > due


def event_late(occurred_at: datetime, recorded_at: datetime) -> bool:
    """An event recorded more than 48 hours after it happened is published late."""
    return recorded_at - occurred_at > EVENT_WINDOW


def mask_name(name: str) -> str:
    """A borrower's name as disclosed: the first character, the rest starred (张**)."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


@dataclass(frozen=True)
class Figure:
    key: str
    zh: str
    en: str
    unit: str  # fen | count | rate
    formula_zh: str
    formula_en: str


#: The monthly operating figures, in the order they are published. `d` is the month's last
#: day; "live at d" means in the bucket history of d (not closed, not written off).
FIGURES: tuple[Figure, ...] = (
    Figure("cumulative_volume", "累计借贷金额", "Cumulative amount lent", "fen",
           "Σ 截至 d 放款的借款本金", "Σ principal raised by loans funded on or before d"),
    Figure("cumulative_loans", "累计借贷笔数", "Cumulative number of loans", "count",
           "截至 d 放款的借款笔数", "loans funded on or before d"),
    Figure("outstanding_principal", "借贷余额", "Outstanding principal", "fen",
           "Σ d 日在贷借款的未还本金", "Σ principal still owed on loans live at d"),
    Figure("outstanding_loans", "借贷余额笔数", "Outstanding loans", "count",
           "d 日在贷借款笔数", "loans live at d"),
    Figure("outstanding_interest", "利息余额", "Outstanding interest", "fen",
           "Σ d 日在贷借款（合同利息 − 已还利息）",
           "Σ over loans live at d of (scheduled interest − interest repaid)"),
    Figure("cumulative_lenders", "累计出借人数量", "Cumulative lenders", "count",
           "截至 d 投资或受让过已放款借款的出借人（去重）",
           "distinct investors who invested in, or bought a claim on, a loan funded by d"),
    Figure("cumulative_borrowers", "累计借款人数量", "Cumulative borrowers", "count",
           "截至 d 有借款放款的借款人（去重）",
           "distinct borrowers with a loan funded on or before d"),
    Figure("current_lenders", "当期出借人数量", "Current lenders", "count",
           "d 日在贷借款的出借人（去重；截至 d 投资或受让）",
           "distinct investors in (or buyers of claims on, by d) loans live at d"),
    Figure("current_borrowers", "当期借款人数量", "Current borrowers", "count",
           "d 日有在贷借款的借款人（去重）", "distinct borrowers of loans live at d"),
    Figure("top10_share", "前十大借款人待还金额占比", "Top-10 borrowers' share", "rate",
           "待还本金最多的 10 名借款人待还本金之和 ÷ 借贷余额",
           "outstanding principal of the 10 borrowers owing most ÷ outstanding principal"),
    Figure("largest_share", "最大单一借款人待还金额占比", "Largest single borrower's share",
           "rate", "待还本金最多的借款人待还本金 ÷ 借贷余额",
           "outstanding principal of the borrower owing most ÷ outstanding principal"),
    Figure("related_party_balance", "关联关系借款余额", "Related-party outstanding principal",
           "fen", "Σ 借款人为已登记关联方的在贷借款未还本金",
           "Σ principal still owed on live loans of recorded related parties"),
    Figure("related_party_loans", "关联关系借款笔数", "Related-party loans", "count",
           "借款人为已登记关联方的在贷借款笔数", "live loans of recorded related parties"),
    Figure("overdue_amount", "逾期金额", "Overdue amount", "fen",
           "Σ d 日逾期借款已到期未还的本金和利息",
           "Σ principal and interest fallen due and unpaid on loans past due at d"),
    Figure("overdue_loans", "逾期笔数", "Overdue loans", "count",
           "d 日逾期（M1 及以上）借款笔数", "loans past due (M1 or worse) at d"),
    Figure("overdue_90_amount", "逾期90天（不含）以上金额", "Overdue more than 90 days", "fen",
           "Σ d 日逾期超过 90 天借款已到期未还的本金和利息",
           "Σ principal and interest fallen due and unpaid on loans over 90 days past due"),
    Figure("overdue_90_loans", "逾期90天（不含）以上笔数", "Loans more than 90 days overdue",
           "count", "d 日逾期超过 90 天（M3+）借款笔数", "loans over 90 days past due (M3+)"),
    Figure("compensation_amount", "累计代偿金额", "Cumulative compensation paid", "fen",
           "Σ 截至 d 担保方代偿的金额", "Σ paid by guarantors for borrowers on or before d"),
    Figure("compensation_count", "累计代偿笔数", "Cumulative compensations", "count",
           "截至 d 担保方代偿的次数", "guarantor payments on or before d"),
    Figure("amount_overdue_rate", "金额逾期率", "Overdue rate by amount", "rate",
           "逾期借款未还本金 ÷ 借贷余额",
           "principal still owed on loans past due ÷ outstanding principal"),
    Figure("count_overdue_rate", "项目逾期率", "Overdue rate by count", "rate",
           "逾期笔数 ÷ 借贷余额笔数", "overdue loans ÷ outstanding loans"),
)
FIGURE_KEYS = tuple(f.key for f in FIGURES)
