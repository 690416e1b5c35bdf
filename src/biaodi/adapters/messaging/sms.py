"""SMS through Biaodi's own sandbox gateway: each message is accepted as one file named by its
message id in the gateway's spool folder, so a second copy of a message is dropped there as a
real gateway drops it by id. A production SMS provider implements the same `send`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from biaodi.adapters.messaging.base import DeliveryFailed, OutgoingMessage

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class SandboxSmsGateway:
    def __init__(self, spool: Path):
        self.spool = spool

    def _path(self, message_id: str) -> Path:
        return self.spool / f"{_SAFE.sub('_', message_id)}.json"

    def send(self, message: OutgoingMessage) -> None:
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            target = self._path(message.message_id)
            if target.exists():
                return  # already accepted: the gateway de-duplicates by message id
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps({"message_id": message.message_id, "to": message.to,
                                       "text": f"【Biaodi】{message.subject}：{message.body}"},
                                      ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, target)
        except OSError as error:
            raise DeliveryFailed(f"SMS sandbox {self.spool}: {error}") from error

    def received(self) -> list[dict[str, str]]:
        """What the sandbox accepted, oldest first (tests and the demo read it)."""
        if not self.spool.is_dir():
            return []
        files = sorted(self.spool.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        return [json.loads(p.read_text(encoding="utf-8")) for p in files]
