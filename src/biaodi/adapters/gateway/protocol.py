"""The gateway's wire protocol, shared by the platform and the sandbox gateway.

Every message either way is signed: `X-Gateway-Signature: sha256=<hex>` is HMAC-SHA256, keyed
with the merchant's secret, over `<X-Gateway-Timestamp> + "." + <raw body>`; the timestamp is
Unix seconds. A receiver compares in constant time and refuses a timestamp more than the
tolerance away from its own clock in either direction. Amounts travel as decimal strings of
yuan ("100.00"), never as JSON numbers. See docs/PAYMENTS.md.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from biaodi.adapters.clock import CST
from biaodi.domain.payments.orders import GatewayStatus, TxnType
from biaodi.domain.shared.errors import InvalidInput, Unauthorized
from biaodi.domain.shared.money import Money

TIMESTAMP_HEADER = "X-Gateway-Timestamp"
SIGNATURE_HEADER = "X-Gateway-Signature"
MERCHANT_HEADER = "X-Gateway-Merchant"
DEFAULT_TOLERANCE_SECONDS = 300
STATEMENT_COLUMNS = ("txn_id", "order_no", "type", "amount", "channel", "completed_at")


class BadSignature(Unauthorized):
    code = "bad_signature"


class StaleTimestamp(Unauthorized):
    code = "stale_timestamp"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(merchant_id: str, secret: str, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        MERCHANT_HEADER: merchant_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime, tolerance_s: int
) -> int:
    """Check a message's signature, then its freshness; returns its timestamp."""
    raw_ts = (headers.get(TIMESTAMP_HEADER) or "").strip()
    signature = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise BadSignature(f"{TIMESTAMP_HEADER} must be Unix seconds", field=TIMESTAMP_HEADER)
    timestamp = int(raw_ts)
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode()):
        raise BadSignature("the signature does not match the body", field=SIGNATURE_HEADER)
    skew = now.timestamp() - timestamp
    if abs(skew) > tolerance_s:
        raise StaleTimestamp(
            f"timestamp is {abs(int(skew))} s {'old' if skew > 0 else 'in the future'}; "
            f"at most {tolerance_s} s is accepted",
            field=TIMESTAMP_HEADER,
        )
    return timestamp


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _aware(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be an ISO 8601 time", field=field) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{field} must carry a time zone", field=field)
    return moment


def _text(data: Mapping[str, Any], field: str, *, max_length: int = 64) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(f"{field} must be a non-empty string of at most {max_length} "
                           "characters", field=field)
    return value.strip()


@dataclass(frozen=True)
class GatewayEvent:
    """A callback: the gateway's final word on one order, identified by its transaction id."""

    merchant_id: str
    txn_id: str
    order_no: str
    type: TxnType
    status: GatewayStatus
    amount: Money
    channel: str
    completed_at: datetime
    reason: str = ""

    @property
    def gateway_date(self) -> date:
        """The business day of the transaction, in China Standard Time (as on statements)."""
        return self.completed_at.astimezone(CST).date()

    def to_json(self) -> bytes:
        return canonical_json({
            "merchant_id": self.merchant_id, "txn_id": self.txn_id, "order_no": self.order_no,
            "type": self.type.value, "status": self.status.value, "amount": str(self.amount),
            "channel": self.channel, "completed_at": self.completed_at.isoformat(),
            "reason": self.reason,
        })

    @classmethod
    def parse(cls, body: bytes) -> GatewayEvent:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput("the callback body must be a JSON object", field="body") from None
        if not isinstance(data, dict):
            raise InvalidInput("the callback body must be a JSON object", field="body")
        try:
            type_ = TxnType(data.get("type"))
        except ValueError:
            raise InvalidInput("type must be deposit, payout or refund", field="type") from None
        try:
            status = GatewayStatus(data.get("status"))
        except ValueError:
            raise InvalidInput("status must be succeeded or failed", field="status") from None
        reason = data.get("reason", "")
        return cls(
            merchant_id=_text(data, "merchant_id"),
            txn_id=_text(data, "txn_id"),
            order_no=_text(data, "order_no"),
            type=type_,
            status=status,
            amount=Money.parse(data.get("amount"), field="amount", ceiling_fen=None),
            channel=_text(data, "channel", max_length=16),
            completed_at=_aware(data.get("completed_at"), "completed_at"),
            reason=reason[:500] if isinstance(reason, str) else "",
        )


@dataclass(frozen=True)
class StatementLine:
    """One money movement on the gateway's daily statement."""

    txn_id: str
    order_no: str
    type: TxnType
    amount: Money
    channel: str
    completed_at: datetime

    @property
    def custody_fen(self) -> int:
        """Signed effect on the custody account: money in positive, out negative."""
        return self.type.custody_effect(self.amount.fen)

    def as_event(self, merchant_id: str) -> GatewayEvent:
        """The callback this line stands for (statements list only successful movements)."""
        return GatewayEvent(
            merchant_id=merchant_id, txn_id=self.txn_id, order_no=self.order_no, type=self.type,
            status=GatewayStatus.SUCCEEDED, amount=self.amount, channel=self.channel,
            completed_at=self.completed_at, reason="applied from the gateway's statement",
        )

    def as_row(self) -> dict[str, str]:
        return {"txn_id": self.txn_id, "order_no": self.order_no, "type": self.type.value,
                "amount": str(self.amount), "channel": self.channel,
                "completed_at": self.completed_at.isoformat()}


def write_statement(lines: list[StatementLine]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=STATEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(line.as_row())
    return out.getvalue()


def parse_statement(text: str) -> list[StatementLine]:
    """Read a statement CSV; a malformed line is refused with its line number."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != STATEMENT_COLUMNS:
        raise InvalidInput(f"a statement's header must be {','.join(STATEMENT_COLUMNS)}",
                           field="statement")
    lines = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        try:
            line = StatementLine(
                txn_id=_text(row, "txn_id"), order_no=_text(row, "order_no"),
                type=TxnType(row["type"]),
                amount=Money.parse(row["amount"], field="amount", ceiling_fen=None),
                channel=_text(row, "channel", max_length=16),
                completed_at=_aware(row["completed_at"], "completed_at"),
            )
        except (InvalidInput, ValueError) as exc:
            raise InvalidInput(f"statement line {number}: {exc}", field="statement") from None
        if line.txn_id in seen:
            raise InvalidInput(f"statement line {number}: transaction {line.txn_id} twice",
                               field="statement")
        seen.add(line.txn_id)
        lines.append(line)
    return lines
