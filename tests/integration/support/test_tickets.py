"""A ticket's life on both databases: opened about the user's own holding, missed its
response target (flagged overdue), answered with a canned answer, reopened by the user,
resolved; what the user sees, the queue, and the public complaints figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from biaodi.adapters.clock import FixedClock
from biaodi.api.app import create_app
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict, InvalidInput, NotFound
from biaodi.services.shared.tx import in_transaction
from biaodi.services.support import knowledge, tickets
from biaodi.services.support.tickets import OpenTicket
from investing_support import user
from servicing_support import funded_loan


def test_ticket_open_to_resolved_with_the_overdue_flag(platform: Platform,
                                                       clock: FixedClock) -> None:
    loan = funded_loan(platform, "credit", tickets=(5_000, 5_000))
    holder, stranger = loan.investors
    operator = user(platform, "operator")
    tx = platform.uow

    with pytest.raises(NotFound):  # someone else's holding
        in_transaction(tx, lambda uow: tickets.open_ticket(uow, OpenTicket(
            stranger, "investment", "x", "y", reference_kind="holding",
            reference_id=loan.holdings[0])))
    ticket_id = in_transaction(tx, lambda uow: tickets.open_ticket(uow, OpenTicket(
        holder, "repayment", "利息没到账", "第一期利息什么时候到？", priority="high",
        reference_kind="holding", reference_id=loan.holdings[0])))
    clock.advance(hours=7)
    with platform.reader() as uow:
        (fresh,) = tickets.my_tickets(uow, holder)
        assert fresh["status"] == "open" and not fresh["overdue"]  # 8 h target, 7 h gone
    clock.advance(hours=2)
    with platform.reader() as uow:
        (queued,) = tickets.queue(uow, overdue_only=True)
        assert queued["id"] == ticket_id and queued["overdue"]
        with pytest.raises(NotFound):  # the conversation is the user's and staff's only
            tickets.ticket_detail(uow, ticket_id, stranger, staff=False)

    canned = in_transaction(tx, lambda uow: knowledge.save_canned(
        uow, operator, "利息到账时间", "利息在还款日收盘后到账。", category="repayment"))
    in_transaction(tx, lambda uow: tickets.triage(uow, ticket_id, operator,
                                                  assignee_id=operator, priority="urgent"))
    with pytest.raises(InvalidInput):
        in_transaction(tx, lambda uow: tickets.triage(uow, ticket_id, operator,
                                                      assignee_id=holder))
    in_transaction(tx, lambda uow: tickets.reply(uow, ticket_id, operator, staff=True,
                                                 canned_answer_id=canned))
    in_transaction(tx, lambda uow: tickets.reply(uow, ticket_id, holder, staff=False,
                                                 body="好的，谢谢"))
    in_transaction(tx, lambda uow: tickets.resolve(uow, ticket_id, operator, "已解释到账时间"))
    with pytest.raises(Conflict):
        in_transaction(tx, lambda uow: tickets.resolve(uow, ticket_id, operator, "again"))

    with platform.reader() as uow:
        seen = tickets.ticket_detail(uow, ticket_id, holder, staff=False)
        assert tickets.queue(uow) == []
    assert seen["status"] == "resolved" and seen["priority"] == "urgent"
    assert seen["overdue"]  # answered after the 8-hour target: the flag stays
    assert seen["first_response_at"] - seen["opened_at"] == timedelta(hours=9)
    assert [(m["from_staff"], m["body"]) for m in seen["messages"]] == [
        (False, "第一期利息什么时候到？"), (True, "利息在还款日收盘后到账。"),
        (False, "好的，谢谢")]
    assert all(m["author_id"] is None for m in seen["messages"])  # staff stay anonymous


def test_complaints_figures_and_the_faq(platform: Platform, clock: FixedClock) -> None:
    person, operator = user(platform, "investor"), user(platform, "operator")
    tx = platform.uow
    ids = [in_transaction(tx, lambda uow, n=n: tickets.open_ticket(uow, OpenTicket(
        person, "complaint" if n < 2 else "account", f"投诉 {n}", "内容"))) for n in range(3)]
    clock.advance(hours=30)
    in_transaction(tx, lambda uow: tickets.resolve(uow, ids[0], operator, "已处理"))
    clock.advance(days=15)
    with platform.reader() as uow:
        figures = tickets.complaints_summary(uow)
    assert figures == {"received": 2, "resolved": 1, "open": 1,
                       "median_hours_to_resolve": 30.0, "mean_hours_to_resolve": 30.0,
                       "decided_after_15_days": 1, "response_target_missed": 2,
                       "by_reference": {"none": 2}}
    with TestClient(create_app(platform)) as client:  # the disclosure section shows them
        assert client.get("/api/v1/disclosure").json()["complaints"] == figures
        page = client.get("/disclosure").text  # zh-CN, the default
    assert "超过 15 日办结" in page and "办结用时中位数（小时）" in page

    first = in_transaction(tx, lambda uow: knowledge.save_faq(
        uow, operator, lang="zh", question="如何充值？", answer="在我的账户点充值。", position=2))
    in_transaction(tx, lambda uow: knowledge.save_faq(
        uow, operator, lang="zh", question="如何提现？", answer="在我的账户点提现。", position=1))
    in_transaction(tx, lambda uow: knowledge.save_faq(
        uow, operator, lang="zh", question="如何充值？", answer="旧", published=False,
        entry_id=first))
    with platform.reader() as uow:
        assert [f["question"] for f in knowledge.faq(uow, "zh")] == ["如何提现？"]
        assert len(knowledge.faq(uow, "zh", everything=True)) == 2
        assert knowledge.faq(uow, "en") == []
