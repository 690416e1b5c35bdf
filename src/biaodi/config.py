"""Configuration, read from the environment (prefix BIAODI_) by pydantic-settings."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def biaodi_home() -> Path:
    """The folder of the default database and key file: ``$BIAODI_HOME`` when set; else the
    checkout Biaodi runs from (an editable install, as `python3 dev.py` makes: the folder with
    pyproject.toml above ``src/biaodi``), so every command finds the same database from any
    folder; else (an installed package) the current folder."""
    if home := os.environ.get("BIAODI_HOME"):
        return Path(home).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "biaodi").is_dir():
        return checkout
    return Path.cwd()


def _default_database_url() -> str:
    return f"sqlite:///{biaodi_home() / 'biaodi.db'}"


def _default_secret_key_file() -> Path:
    return biaodi_home() / ".biaodi-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BIAODI_", env_file=None, extra="ignore")

    #: SQLAlchemy URL. By default the SQLite file ``biaodi.db`` in the Biaodi home (see
    #: `biaodi_home`); PostgreSQL in production (``postgresql://user@host/db`` is taken to mean
    #: the psycopg 3 driver).
    database_url: str = Field(default_factory=_default_database_url)
    #: Key for encrypting personal data (Fernet, urlsafe base64 of 32 bytes). When unset a key is
    #: generated once into ``secret_key_file`` (default ``.biaodi-secret`` in the Biaodi home)
    #: with owner-only permissions.
    secret_key: str | None = None
    secret_key_file: Path = Field(default_factory=_default_secret_key_file)
    #: Previous keys, comma-separated, newest first: values under them stay readable until
    #: `biaodi keys rotate` has re-encrypted them under the current key (docs/RELIABILITY.md).
    old_secret_keys: str = ""
    #: Key of the digests that find ID numbers and mobiles without decrypting (64 hex digits).
    #: Unset: derived from the oldest key configured (the last of `old_secret_keys`, else the
    #: current key) — the digests of an install that never set one. It must never change.
    digest_key: str | None = None
    #: PostgreSQL connections each server process keeps (a fixed pool: with `serve --workers
    #: N` the server holds N × this many; PostgreSQL's max_connections must allow it).
    pool_size: int = Field(default=20, gt=0, le=200)
    #: Group commit (PostgreSQL): the most investments in one listing that a server process
    #: sends as one statement when they queue up (1: each alone; docs/INVESTING.md).
    invest_batch_max: int = Field(default=64, ge=1, le=1000)
    #: Compliance profile: rule pack that governs listing types and limits.
    compliance_profile: str = "cn-2016"
    #: Largest single amount accepted from outside, in fen (default 100,000,000.00 yuan).
    money_ceiling_fen: int = Field(default=100_000_000_00, gt=0)
    #: Lifetime of a login token, in minutes.
    token_ttl_minutes: int = Field(default=12 * 60, gt=0)
    #: Fixed clock for demos and tests, ISO datetime (UTC); unset means the system clock.
    fixed_now: str | None = None
    #: Where the sandbox fund company keeps its register (JSON, file-locked), so that every
    #: process of an installation sees one fund; unset: in memory, per process (tests).
    fund_sandbox_state: Path | None = None
    #: Seconds between passes of the fund-order relay beside `biaodi serve` (0: not in serve).
    fund_relay_interval_seconds: float = Field(default=10.0, ge=0)
    #: The TrueType font embedded in contracts and statements (a subset); it must cover
    #: Chinese. Default: the file of the Debian package fonts-wqy-zenhei (docs/DOCUMENTS.md).
    document_font: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    #: Issue the e-contracts at close of business (the `contracts` day step). Off: they are
    #: issued by `biaodi contracts issue`, run by the installation's own job.
    contracts_at_close: bool = True

    # payments
    #: The payment gateway's base URL (in development the sandbox: `biaodi gateway-sandbox`).
    gateway_url: str = "http://127.0.0.1:8100"
    #: This platform's merchant id at the gateway and the secret both sides sign with
    #: (HMAC-SHA256). The default secret is the sandbox's: set a real one in production.
    gateway_merchant_id: str = "biaodi"
    gateway_secret: str = Field(default="sandbox-secret", min_length=8)
    gateway_timeout_seconds: float = Field(default=10.0, gt=0)
    #: Signed messages whose timestamp is further than this from our clock are refused.
    callback_tolerance_seconds: int = Field(default=300, gt=0)
    #: Where the gateway reaches this platform: callbacks go to <this>/api/v1/payments/callbacks.
    public_base_url: str = "http://127.0.0.1:8000"
    #: Withdrawal limits per transaction and per user per business day, in fen.
    withdrawal_max_per_transaction_fen: int = Field(default=50_000_00, gt=0)
    withdrawal_max_per_day_fen: int = Field(default=200_000_00, gt=0)

    # pages
    #: How often a listing's page polls its funding progress, in milliseconds.
    web_progress_poll_ms: int = Field(default=5_000, ge=100)

    # servicing
    #: Penalty interest a day on overdue amounts, in ppm (300 = 0.03 % a day), unless a
    #: servicing product of the listing type sets its own; capped per loan by the cost cap.
    servicing_penalty_daily_ppm: int = Field(default=300, ge=0)
    #: Days past due before penalty interest starts.
    servicing_grace_days: int = Field(default=3, ge=0)
    #: The order a repayment pays what is owed (configurable per product too).
    servicing_allocation_order: str = "penalty,interest,principal"
    #: 担保标 at M3+: the guarantor pays the whole remaining principal (False: arrears only).
    servicing_guarantor_full_at_m3: bool = True
    #: Close of business works through listing ids in chunks of this size, one transaction each.
    servicing_chunk_size: int = Field(default=50_000, gt=0)
    #: Testing aid: pause this long inside each chunk's transaction (crash tests kill it there).
    servicing_chunk_pause_ms: int = Field(default=0, ge=0)
    #: Collections: contacts a day per borrower, and the local hours (China Standard Time).
    servicing_contacts_per_day: int = Field(default=3, gt=0)
    servicing_contact_window: str = "08:00-21:00"
    #: The local time the close-of-business scheduler runs the day (`biaodi close-day-scheduler`).
    servicing_close_day_at: str = "23:30"

    # secondary market (债权转让)
    #: Price limits around fair value (principal + accrued interest), as fractions.
    secondary_max_premium: Decimal = Field(default=Decimal("0.05"), ge=0, lt=1)
    secondary_max_discount: Decimal = Field(default=Decimal("0.20"), ge=0, lt=1)
    #: Days a holding must be held before it may be offered.
    secondary_holding_days: int = Field(default=30, ge=0)
    #: The transfer fee on the price, paid by the seller (platform income).
    secondary_transfer_fee: Decimal = Field(default=Decimal("0.005"), ge=0, lt=1)

    # analytics
    #: Investor tiers, lowest first: `name:minimum assets held in yuan:minimum whole months since
    #: the first investment`, comma-separated (domain/analytics/tiers.py; docs/ANALYTICS.md).
    analytics_tiers: str = "普通:0:0,白银:10000:1,黄金:100000:6,钻石:1000000:12"
    #: Information disclosure: a JSON file with the institution and custody details
    #: (domain/disclosure/institution.py; docs/DISCLOSURE.md). Unset: the sandbox's, marked so.
    disclosure_institution_file: Path | None = None

    # risk
    #: Rule pack (biaodi/risk_modelling/packs: cn-2016, permissive, or a .toml path); unset:
    #: the pack named like the compliance profile.
    risk_rule_pack: str | None = None
    #: Directory of a model trained by `biaodi risk train`; unset: the model shipped in
    #: biaodi/risk_modelling/models/default.
    risk_model_dir: str | None = None
    #: One-year loan prime rate (LPR) as a fraction, for the 4×LPR cost cap (3.0 % since
    #: May 2025).
    risk_one_year_lpr: Decimal = Field(default=Decimal("0.030"), gt=0, lt=1)
    #: Credit bureau provider; only the sandbox ships. Its per-identity answers can be loaded
    #: from a JSON file (see biaodi/adapters/bureau/sandbox.py).
    risk_bureau: str = "sandbox"
    risk_bureau_sandbox_file: Path | None = None
    #: Score every application with the challenger too (recorded, never decides).
    risk_shadow_challenger: bool = True
    #: Oldest risk decision a listing's approval may rest on, in days; older ones need a new
    #: application (or a risk override with a reason).
    risk_decision_max_age_days: int = Field(default=90, gt=0)
    #: Rate limits ("N/second|minute|hour"), counted per address (sign-in also per username,
    #: sign-up per address only) or per signed-in user (investing, payments).
    rate_limits_enabled: bool = True
    rate_limit_storage: str = "memory://"
    rate_limit_login: str = "10/minute"
    rate_limit_signup: str = "5/minute"
    rate_limit_invest: str = "300/minute"
    rate_limit_payment: str = "30/minute"

    # notifications and account security (docs/NOTIFICATIONS.md)
    #: The SMTP server e-mail goes through (tests and the demo run a local sink), and the
    #: sender address; user name and password when the server asks for them.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "Biaodi <noreply@biaodi.local>"
    #: Spool folder of the sandbox SMS gateway (unset: ``sms-sandbox`` in the Biaodi home).
    sms_sandbox_dir: Path | None = None
    #: Tries of one delivery before it is given up ("dead"); waits double from 30 s to 1 h.
    notify_max_attempts: int = Field(default=10, gt=0)
    #: Seconds between relay passes when `biaodi serve` runs the relay (0: not in serve).
    notify_relay_interval_seconds: float = Field(default=5.0, ge=0)
    #: Failed sign-ins in a row that lock an account, and for how many minutes.
    login_max_failures: int = Field(default=5, gt=0)
    login_lockout_minutes: int = Field(default=15, gt=0)
    #: One-time codes (password reset, mobile verification): minutes valid, wrong tries allowed.
    security_code_minutes: int = Field(default=10, gt=0)
    security_code_max_attempts: int = Field(default=5, gt=0)


def old_keys(settings: Settings) -> list[str]:
    """The old keys of `settings.old_secret_keys`, newest first."""
    return [k.strip() for k in settings.old_secret_keys.split(",") if k.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
