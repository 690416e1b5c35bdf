"""Collections (催收) within the rules of conduct: reminders before due dates and notices after
them (queued by close of business, sent in the allowed hours), contacts made by collectors,
and the log of every attempt — refusals included, with the rule they broke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from biaodi.adapters.clock import CST
from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.servicing_tables import (
    BorrowerContact,
    CollectionContact,
    CollectionNotice,
)
from biaodi.adapters.db.tables import Listing
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.domain.accounts.identity import mask_mobile, parse_mobile
from biaodi.domain.servicing.conduct import (
    NOTICE_DAYS_PAST_DUE,
    Channel,
    ConductRules,
    Contact,
    ContactRefused,
    check_contact,
)
from biaodi.domain.shared.errors import Forbidden, InvalidInput, NotFound
from biaodi.services.accounts.users import roles_of
from biaodi.services.servicing.delinquency import late
from biaodi.services.shared import audit
from biaodi.services.shared.sqlkit import Sql, run


def queue_notices(uow: UnitOfWork, day: date, lo: int, hi: int, reminder_days: int) -> int:
    """Reminders for instalments due `reminder_days` after `day`; notices for loans that are
    1, 3, 7, 15, 30, 60 or 90 days past due. Sent from the next day; one per key. A reminder's
    amount is the next instalment's, as the loan keeps it (`next_principal_fen`,
    `next_interest_fen`): no read of the instalments."""
    sql = Sql.of(uow)
    send_on, due_on = day + timedelta(days=1), day + timedelta(days=reminder_days)
    queued = run(uow, f"""
        INSERT INTO collection_notices (key, listing_id, borrower_id, kind, send_on, due_date,
                                        amount_fen, days_past_due, status)
        SELECT 'reminder:' || s.listing_id || ':' || s.next_seq, s.listing_id, l.applicant_id,
               'reminder', {sql.date("send_on")}, s.next_due_date,
               s.next_principal_fen + s.next_interest_fen, 0, 'queued'
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.listing_id BETWEEN :lo AND :hi AND s.next_due_date = {sql.date("due_on")}
          AND s.status <> 'closed'
          AND NOT EXISTS (SELECT 1 FROM collection_notices n
                          WHERE n.key = 'reminder:' || s.listing_id || ':' || s.next_seq)""",
        lo=lo, hi=hi, send_on=send_on, due_on=due_on)
    days = ", ".join(str(n) for n in NOTICE_DAYS_PAST_DUE)
    key = "'overdue:' || s.listing_id || ':' || s.oldest_due_date || ':' || s.days_past_due"
    queued += run(uow, f"""
        INSERT INTO collection_notices (key, listing_id, borrower_id, kind, send_on, due_date,
                                        amount_fen, days_past_due, status)
        SELECT {key}, s.listing_id, l.applicant_id, 'overdue_notice', {sql.date("send_on")},
               s.oldest_due_date, s.due_principal_fen + s.due_interest_fen + s.penalty_fen,
               s.days_past_due, 'queued'
        FROM loan_servicing s JOIN listings l ON l.id = s.listing_id
        WHERE s.listing_id BETWEEN :lo AND :hi AND {late()} AND s.days_past_due IN ({days})
          AND s.status NOT IN ('closed', 'written_off')
          AND NOT EXISTS (SELECT 1 FROM collection_notices n WHERE n.key = {key})""",
        lo=lo, hi=hi, send_on=send_on)
    return queued


def _made_today(uow: UnitOfWork, borrower_id: int, local_day: date) -> int:
    return int(uow.s.execute(select(func.count(CollectionContact.id)).where(
        CollectionContact.borrower_id == borrower_id, CollectionContact.local_date == local_day,
        CollectionContact.outcome == "made")).scalar() or 0)


@dataclass(frozen=True)
class RecordContact:
    borrower_id: int
    channel: str
    listing_id: int | None = None
    contact_id: int | None = None  # None: the borrower in person
    collector_id: int | None = None
    note: str = ""


def record_contact(uow: UnitOfWork, cmd: RecordContact, rules: ConductRules,
                   notice_id: int | None = None) -> CollectionContact:
    """Check a contact against the rules of conduct and log it, made or refused (a refusal
    names its rule in `rule_id`; the caller decides how to answer)."""
    try:
        channel = Channel(cmd.channel)
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        raise InvalidInput(f"channel must be one of {names}", field="channel") from None
    if "borrower" not in roles_of(uow, cmd.borrower_id) and \
            "originator" not in roles_of(uow, cmd.borrower_id):
        raise NotFound(f"user {cmd.borrower_id} is not a borrower", field="borrower_id")
    if cmd.listing_id is not None:
        listing = uow.s.get(Listing, cmd.listing_id)
        if listing is None or listing.applicant_id != cmd.borrower_id:
            raise InvalidInput(f"listing {cmd.listing_id} is not this borrower's",
                               field="listing_id")
    authorised = False
    if cmd.contact_id is not None:
        person = uow.s.get(BorrowerContact, cmd.contact_id)
        if person is None or person.borrower_id != cmd.borrower_id:
            raise NotFound(f"the borrower has no contact {cmd.contact_id}", field="contact_id")
        authorised = person.authorised
    at = uow.clock.now().astimezone(CST)
    attempt = Contact(at=at, to_borrower=cmd.contact_id is None, authorised=authorised,
                      made_today=_made_today(uow, cmd.borrower_id, at.date()))
    rule_id = None
    try:
        check_contact(attempt, rules)
    except ContactRefused as refused:
        rule_id = refused.rule_id
    row = CollectionContact(
        listing_id=cmd.listing_id, borrower_id=cmd.borrower_id, contact_id=cmd.contact_id,
        notice_id=notice_id, collector_id=cmd.collector_id, channel=channel.value,
        target="borrower" if cmd.contact_id is None else "contact", at=uow.clock.now(),
        local_date=at.date(), outcome="refused" if rule_id else "made", rule_id=rule_id,
        note=cmd.note.strip())
    uow.s.add(row)
    uow.s.flush()
    audit.note(uow, "loan.collection_contact", subjects=[("user", cmd.borrower_id)] + (
        [("loan", cmd.listing_id), ("listing", cmd.listing_id)] if cmd.listing_id else []),
        changes={"contact_id": row.id, "channel": row.channel, "target": row.target,
                 "outcome": row.outcome, "rule_id": rule_id})
    return row


def send_notices(uow: UnitOfWork, rules: ConductRules, limit: int = 1000) -> dict[str, int]:
    """Send queued notices due today through the rules of conduct: each is logged as a contact;
    one refused (outside hours, or the borrower's daily limit reached) stays queued."""
    today = uow.clock.now().astimezone(CST).date()
    queued = uow.s.scalars(select(CollectionNotice).where(
        CollectionNotice.status == "queued", CollectionNotice.send_on <= today)
        .order_by(CollectionNotice.id).limit(limit)).all()
    sent = refused = 0
    for notice in queued:
        contact = record_contact(uow, RecordContact(
            borrower_id=notice.borrower_id, channel=Channel.SMS.value,
            listing_id=notice.listing_id, note=f"{notice.kind} {notice.key}"), rules,
            notice_id=notice.id)
        if contact.outcome == "made":
            notice.status, notice.sent_at = "sent", uow.clock.now()
            sent += 1
        else:
            refused += 1
    uow.s.flush()
    return {"sent": sent, "refused": refused, "queued_left": len(queued) - sent}


def add_contact(uow: UnitOfWork, borrower_id: int, *, name: str, mobile: str, relation: str,
                authorised: bool, cipher: PersonalDataCipher) -> BorrowerContact:
    """A borrower names a contact; only `authorised` ones may ever be contacted."""
    if not {"borrower", "originator"} & set(roles_of(uow, borrower_id)):
        raise Forbidden("only borrowers name contacts", code="role_required")
    if not 1 <= len(name.strip()) <= 64:
        raise InvalidInput("name must have 1 to 64 characters", field="name")
    mobile = parse_mobile(mobile)
    if not 1 <= len(relation.strip()) <= 32:
        raise InvalidInput("relation must have 1 to 32 characters", field="relation")
    row = BorrowerContact(borrower_id=borrower_id, name=name.strip(),
                          mobile_enc=cipher.encrypt(mobile), mobile_masked=mask_mobile(mobile),
                          relation=relation.strip(), authorised=authorised,
                          created_at=uow.clock.now())
    uow.s.add(row)
    uow.s.flush()
    # that personal data was recorded, never the name or the number
    audit.note(uow, "user.contact_added", subjects=[("user", borrower_id)], changes={
        "contact_id": row.id, "authorised": authorised, "personal_data": "recorded"})
    return row


def contact_log(uow: UnitOfWork, borrower_id: int, limit: int = 200) -> list[CollectionContact]:
    return list(uow.s.scalars(select(CollectionContact).where(
        CollectionContact.borrower_id == borrower_id).order_by(CollectionContact.id.desc())
        .limit(limit)))


def local_now(uow: UnitOfWork) -> datetime:
    return uow.clock.now().astimezone(CST)
