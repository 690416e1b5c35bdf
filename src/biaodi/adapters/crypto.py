"""Personal data at rest and passwords.

ID numbers and mobiles are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the platform
key and looked up through a keyed digest (HMAC-SHA256), so that uniqueness, sign-in by mobile and
blacklist checks never decrypt. Old keys stay readable after a rotation (MultiFernet) until
`biaodi keys rotate` has re-encrypted every value; the digest key never rotates (see
docs/RELIABILITY.md, "Personal data"). Passwords are hashed with Argon2id, a memory-hard function.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def legacy_digest_key(key: str | bytes) -> bytes:
    """The digest key Biaodi has always derived from an encryption key: installs that never
    configured a digest key hold digests under this, computed from their first key."""
    raw = key.encode() if isinstance(key, str) else key
    return hashlib.sha256(b"biaodi-digest:" + raw).digest()


def parse_digest_key(value: str) -> bytes:
    """A configured digest key: 64 hexadecimal digits (32 bytes), as `biaodi keys new` prints."""
    try:
        raw = bytes.fromhex(value.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError("the digest key must be 64 hexadecimal digits (32 bytes)")
    return raw


class PersonalDataCipher:
    """Encrypts with the current key; decrypts with the current key or any old one (key
    rotation). Digests use a key of their own that never changes with rotation: `digest_key`
    when configured, else the legacy derivation from the oldest key configured (the last old
    key, or the current key when there is none)."""

    def __init__(self, key: str | bytes, old_keys: Sequence[str | bytes] = (),
                 digest_key: bytes | None = None):
        keys = [k.encode() if isinstance(k, str) else k for k in (key, *old_keys)]
        self._current = Fernet(keys[0])
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self.old_key_count = len(keys) - 1
        self._digest_key = digest_key or legacy_digest_key(keys[-1])

    def encrypt(self, value: str) -> str:
        return self._current.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("personal data cannot be decrypted with the keys configured") from None

    def is_current(self, token: str) -> bool:
        """Whether `token` was encrypted under the current key (rotation leaves it alone)."""
        try:
            self._current.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """`token` re-encrypted under the current key; unchanged when it already is."""
        if self.is_current(token):
            return token
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ValueError("personal data cannot be decrypted with the keys configured") from None

    def digest(self, value: str) -> str:
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()

    @property
    def digest_key_hex(self) -> str:
        return self._digest_key.hex()


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


def new_token(user_id: int | None = None,
              cipher: PersonalDataCipher | None = None) -> tuple[str, str]:
    """A bearer token and the digest stored for it (the token itself is never stored).

    Given the user and the platform's cipher, the token says whose it is, signed:
    `<user id>.<secret>.<HMAC of both>`, so that a hot path knows the caller (to count a rate
    limit) without reading the database; whether the token is still valid (revoked, expired,
    account disabled) is then checked in the same statement as the work (`auth_tokens`)."""
    secret = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    if user_id is None or cipher is None:
        token = secret
    else:
        claim = f"{user_id}.{secret}"
        token = f"{claim}.{cipher.digest('token:' + claim)[:32]}"
    return token, hashlib.sha256(token.encode()).hexdigest()


def claimed_user(token: str, cipher: PersonalDataCipher) -> int | None:
    """The user a signed token was issued to, if its signature holds; None otherwise (an
    unsigned or forged token). Says nothing of revocation or expiry."""
    claim, _, signature = token.rpartition(".")
    user, _, secret = claim.partition(".")
    if not user.isdigit() or not secret or len(user) > 18:
        return None
    expected = cipher.digest("token:" + claim)[:32]
    return int(user) if hmac.compare_digest(expected, signature) else None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
