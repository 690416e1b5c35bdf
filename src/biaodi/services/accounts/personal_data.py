"""Personal data at rest: which keys its values are under, and re-encryption after a rotation.

Every encrypted personal value lives in one of `ENCRYPTED`'s columns. After the key is rotated
(the new key configured as `secret_key`, the previous one in `old_secret_keys`) the values stay
readable; `rotate` then rewrites each value under the current key, a chunk of rows per
transaction, leaving values already under it untouched — so running it again, or after it was
interrupted, changes nothing that is done. Digests are never recomputed: the digest key does
not rotate (docs/RELIABILITY.md, "Personal data").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from biaodi.adapters.crypto import PersonalDataCipher
from biaodi.adapters.db.servicing_tables import BorrowerContact
from biaodi.adapters.db.tables import User
from biaodi.adapters.db.uow import UnitOfWork
from biaodi.services.shared import audit

#: The encrypted personal values: a table's model and its encrypted columns.
ENCRYPTED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (User, ("id_number_enc", "mobile_enc")),
    (BorrowerContact, ("mobile_enc",)),
)


@dataclass(frozen=True)
class KeyStatus:
    """Values per column: under the current key, under an old one, readable by none."""

    column: str
    current: int
    old: int
    unreadable: int


@dataclass(frozen=True)
class Rotation:
    rewritten: int
    unchanged: int


def _under(cipher: PersonalDataCipher, token: str) -> str:
    if cipher.is_current(token):
        return "current"
    try:
        cipher.decrypt(token)
    except ValueError:
        return "unreadable"
    return "old"


def rows_to_rotate(uow: UnitOfWork) -> int:
    return sum(uow.s.scalar(select(func.count()).select_from(model)) or 0
               for model, _ in ENCRYPTED)


def key_status(uow: UnitOfWork, cipher: PersonalDataCipher) -> list[KeyStatus]:
    """How many values of each encrypted column are under which key."""
    out = []
    for model, columns in ENCRYPTED:
        for column in columns:
            counts = {"current": 0, "old": 0, "unreadable": 0}
            for token in uow.s.scalars(select(getattr(model, column))):
                counts[_under(cipher, token)] += 1
            out.append(KeyStatus(f"{model.__tablename__}.{column}", **counts))
    return out


def digests_match(uow: UnitOfWork, cipher: PersonalDataCipher, sample: int = 20) -> bool | None:
    """Whether the configured digest key is the one the stored digests were made with (checked
    on up to `sample` users whose ID number decrypts); None when there is no user to check."""
    users = uow.s.scalars(select(User).order_by(User.id).limit(sample)).all()
    checked = False
    for user in users:
        try:
            number = cipher.decrypt(user.id_number_enc)
        except ValueError:
            continue
        checked = True
        if cipher.digest(number) != user.id_number_digest:
            return False
    return True if checked else None


def rotate(new_uow: Callable[[], UnitOfWork], cipher: PersonalDataCipher, *,
           chunk_size: int = 500, progress: Callable[[int], None] | None = None) -> Rotation:
    """Re-encrypt every personal value under the current key, `chunk_size` rows per transaction;
    `progress` hears the rows done after each chunk. A value no key decrypts stops the run
    (ValueError) with the chunks before it committed."""
    rewritten = unchanged = 0
    for model, columns in ENCRYPTED:
        last = 0
        while True:
            with new_uow() as uow:
                rows = uow.s.scalars(select(model).where(model.id > last)
                                     .order_by(model.id).limit(chunk_size)).all()
                if not rows:
                    break
                for row in rows:
                    for column in columns:
                        token = getattr(row, column)
                        fresh = cipher.rotate(token)
                        if fresh == token:
                            unchanged += 1
                        else:
                            setattr(row, column, fresh)
                            rewritten += 1
                last = rows[-1].id
                changed = [row.id for row in rows if row in uow.s.dirty]
                if changed:  # that it was re-encrypted, never the values
                    audit.note(uow, "personal_data.re_encrypted", subjects=[
                        ("user", i) for i in changed] if model is User else [],
                        changes={"table": model.__tablename__, "rows": len(changed)})
                uow.commit()
            if progress is not None:
                progress(len(rows))
    return Rotation(rewritten=rewritten, unchanged=unchanged)
