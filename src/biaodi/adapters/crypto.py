"""Personal data at rest and passwords.

ID numbers are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the platform key and
looked up through a keyed digest (HMAC-SHA256), so that uniqueness and blacklist checks never
decrypt. Passwords are hashed with Argon2id, a memory-hard function.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PersonalDataCipher:
    def __init__(self, key: str | bytes):
        raw = key.encode() if isinstance(key, str) else key
        self._fernet = Fernet(raw)
        self._digest_key = hashlib.sha256(b"biaodi-digest:" + raw).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("personal data cannot be decrypted with this key") from None

    def digest(self, value: str) -> str:
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()


def load_or_create_key(explicit: str | None, key_file: Path) -> str:
    """The configured key, else the one in `key_file`, else a new one written there (0600)."""
    if explicit:
        Fernet(explicit.encode())  # refuse a malformed key at start-up, not at first use
        return explicit
    if key_file.exists():
        return key_file.read_text().strip()
    key = Fernet.generate_key().decode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def new_token() -> tuple[str, str]:
    """A bearer token and the digest stored for it (the token itself is never stored)."""
    token = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    return token, hashlib.sha256(token.encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
