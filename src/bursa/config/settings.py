"""Bursa's settings: one validated class read from ``BURSA_*`` environment variables.

Leaving ``BURSA_DATABASE_URL`` unset selects the embedded default (a real PostgreSQL in
``BURSA_DATA_DIR``); leaving ``BURSA_AMQP_URL`` unset selects the in-process event bus.
"""

import importlib
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
SmsProvider = Literal["file", "twilio"]
VaultAuth = Literal["token", "approle"]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
_AMQP_SCHEMES = ("amqp://", "amqps://")
_TITLE = re.compile(r"[a-z0-9_-]{1,64}")
# Barong's own entities: never the title of a member's data storage.
_FORBIDDEN_STORAGE_TITLES = frozenset({"document", "label", "profile", "phone", "user"})
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_DEMO_FUND = re.compile(r"([a-z][a-z0-9]{0,9}):([0-9]{1,30}(?:\.[0-9]{1,30})?)")
# What ``bursa up`` lets each member claim once on the embedded default with the demo
# seeds (their currencies), unless BURSA_DEMO_FUNDS says otherwise.
DEFAULT_DEMO_FUNDS = {
    "usdt": Decimal("10000"),
    "btc": Decimal("1"),
    "eth": Decimal("10"),
    "usd": Decimal("10000"),
}


class Settings(BaseSettings):
    """Everything an operator may configure; invalid values stop the process at start."""

    # Errors never echo what was given: it may be a token or a URL with a password.
    model_config = SettingsConfigDict(
        env_prefix="BURSA_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset runs the embedded PostgreSQL"
    )
    data_dir: Path = Field(
        default=Path(".bursa"), description="where the embedded PostgreSQL keeps its data"
    )
    amqp_url: str | None = Field(default=None, description="RabbitMQ URL; unset = in-process")
    host: str = Field(default="127.0.0.1", min_length=1, description="API listen address")
    port: int = Field(default=8000, ge=1, le=65535, description="API listen port")
    metrics_host: str = Field(
        default="127.0.0.1", min_length=1, description="a worker's /metrics and health address"
    )
    metrics_public: bool = Field(
        default=False,
        description="show the API's /metrics to every client, not only non-global addresses",
    )
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="a worker's /metrics and health port; 0 = off"
    )
    log_level: LogLevel = "info"
    engine_max_batch: int = Field(
        default=5000, ge=1, le=1_000_000, description="most commands in one engine commit"
    )
    engine_batch_wait_ms: float = Field(
        default=1.0, ge=0, le=1000, description="how long the engine lets a batch gather"
    )
    engine_queue: str = Field(
        default="bursa.engine.commands",
        min_length=1,
        description="RabbitMQ queue the engine takes commands from (with BURSA_AMQP_URL)",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db shared by API replicas (rate limits); unset: in process",
    )
    vault_url: str | None = Field(
        default=None,
        description="Vault/OpenBao address whose transit engine seals secrets; unset: key file",
    )
    vault_token: SecretStr | None = Field(default=None, description="token for BURSA_VAULT_URL")
    vault_transit_mount: str = Field(default="transit", min_length=1)
    vault_auth: VaultAuth = Field(
        default="token",
        description="how to log in to BURSA_VAULT_URL: token (development: a static"
        " BURSA_VAULT_TOKEN) or approle (production: a renewed token, deploy/openbao)",
    )
    vault_approle_mount: str = Field(default="approle", min_length=1)
    vault_role_id: str | None = Field(default=None, description="AppRole role id")
    vault_role_id_file: Path | None = Field(default=None, description="file holding it")
    vault_secret_id: SecretStr | None = Field(
        default=None, description="AppRole secret id; prefer BURSA_VAULT_SECRET_ID_FILE"
    )
    vault_secret_id_file: Path | None = Field(
        default=None, description="file holding the secret id, read again at every login"
    )
    key_file: Path | None = Field(
        default=None,
        description="local key store key (embedded default): BURSA_DATA_DIR/keys/master.key",
    )
    jwt_private_key: SecretStr | None = Field(
        default=None,
        description="PEM RSA key that signs the JWTs of /api/v2/auth; unset: a key file",
    )
    jwt_ttl_s: int = Field(default=300, ge=10, le=86_400, description="lifetime of those JWTs")
    country_header: str | None = Field(
        default=None,
        description="request header a trusted gateway sets to the client's country (ISO 3166)",
    )
    storage_dir: Path | None = Field(
        default=None, description="uploaded KYC documents; unset: BURSA_DATA_DIR/storage"
    )
    user_storage_titles: Annotated[list[str], NoDecode] = Field(
        default=["personal", "company"],
        description="comma list of titles members may file data storages under",
    )
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:port for outgoing mail; unset: the embedded default"
        " keeps mail in the Maildir <data dir>/mail",
    )
    mail_from: str = Field(default="Bursa <no-reply@localhost>", description="sender of mail")
    app_name: str = Field(default="Bursa", min_length=1, description="name in mails")
    session_ttl_s: int = Field(
        default=1800, ge=60, le=7 * 86_400, description="idle time before a session ends"
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="mark cookies Secure (HTTPS only); unset: on unless the embedded default",
    )
    public_url: str | None = Field(
        default=None,
        description="https://... address members use; the OAuth issuer. Unset: http://host:port",
    )
    confirmation_path: str = Field(
        default="/accounts/confirmation?confirmation_token=",
        max_length=200,
        description="the front end's email confirmation page: the link in confirmation mails"
        " is BURSA_PUBLIC_URL + this + the token",
    )
    password_reset_path: str = Field(
        default="/accounts/password_reset?reset_token=",
        max_length=200,
        description="the front end's password reset page: the link in reset mails is"
        " BURSA_PUBLIC_URL + this + the token",
    )
    captcha_provider: str | None = Field(
        default=None,
        description="package.module:factory making a captcha provider for sign-up, login and"
        " the code mails; unset: no captcha (none ships with Bursa)",
    )
    sms_provider: SmsProvider | None = Field(
        default=None,
        description="file (embedded default only: <data dir>/sms) or twilio; unset: file on"
        " the embedded default, otherwise no SMS (phone verification answers 503)",
    )
    twilio_account_sid: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9]+$", max_length=64, description="Twilio account"
    )
    twilio_auth_token: SecretStr | None = Field(default=None, description="Twilio auth token")
    twilio_url: str = Field(
        default="https://api.twilio.com",
        description="base URL of Twilio's API or of a Twilio-compatible gateway",
    )
    sms_from: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="sender of SMS: a number in E.164 form or an alphanumeric sender ID",
    )
    sms_timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="how long to wait for the SMS provider"
    )
    management_peatio_config: Path | None = Field(
        default=None,
        description="Peatio Management API policy (keychain, scopes); unset: refuse all",
    )
    management_barong_config: Path | None = Field(
        default=None,
        description="Barong Management API policy (keychain, scopes); unset: refuse all",
    )
    applogic_config: Path | None = Field(
        default=None,
        description="AppLogic (withdrawal approvals) YAML; unset: AppLogic is off",
    )
    barong_management_key: SecretStr | None = Field(
        default=None,
        description="PEM RSA private key (kid barong, RS256) that otp/sign co-signs"
        " management requests with; unset: a key file in BURSA_DATA_DIR/keys",
    )
    kycaid_api_token: SecretStr | None = Field(
        default=None,
        description="KYCAID API token: KYC callbacks (POST /api/v2/barong/public/kyc) are"
        " accepted only signed with it (x-data-integrity); unset: the callback answers 404",
    )
    mailer_config: Path | None = Field(
        default=None,
        description="event mailer configuration (keychain, events, templates); unset: built-in",
    )
    event_api_peatio_private_key: SecretStr | None = Field(
        default=None,
        description="PEM RSA key signing Peatio's events (kid peatio); unset: a key file",
    )
    event_api_barong_private_key: SecretStr | None = Field(
        default=None,
        description="PEM RSA key signing Barong's events (kid barong); unset: a key file",
    )
    event_api_peatio_public_key: str | None = Field(
        default=None,
        description="public key listeners verify Peatio's events with; unset: this one's",
    )
    event_api_barong_public_key: str | None = Field(
        default=None,
        description="public key listeners verify Barong's events with; unset: this one's",
    )
    event_api_ttl_s: int = Field(
        default=3600,
        ge=10,
        le=7 * 86_400,
        description="lifetime of a signed event (exp - iat), from its publication",
    )
    event_outbox_keep_hours: int = Field(
        default=24, ge=0, le=24 * 365, description="how long published outbox rows are kept"
    )
    event_listener_retries: int = Field(
        default=5, ge=1, le=1000, description="handler failures before an event is dead-lettered"
    )
    min_deposit_level: int = Field(
        default=1, ge=0, le=10, description="KYC level a member needs to see deposits"
    )
    min_withdraw_level: int = Field(
        default=3,
        ge=0,
        le=10,
        description="KYC level a member needs for withdrawals (unset on the embedded demo: 1)",
    )
    platform_currency: str = Field(
        default="usdt",
        pattern=r"^[a-z][a-z0-9]{0,9}$",
        description="currency the KYC-level withdrawal limits are valued in",
    )
    min_trading_level: int = Field(
        default=1, ge=0, le=10, description="KYC level a member needs to trade (1: email)"
    )
    idempotency_window_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="how long a command key is remembered"
    )
    ranger_outbox: int = Field(
        default=256, ge=1, le=100_000, description="websocket messages queued per client"
    )
    ranger_max_streams: int = Field(
        default=100, ge=1, le=10_000, description="streams one websocket connection may hold"
    )
    ranger_max_connections_per_ip: int = Field(
        default=50, ge=1, le=100_000, description="websocket connections from one address"
    )
    order_rate_limit: int = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="order-entry requests (a bulk: its items) per window, per API key (per"
        " member without one); 0: no limit",
    )
    order_rate_limit_window_s: int = Field(
        default=1, ge=1, le=3600, description="the order-entry limit's window, in seconds"
    )
    demo_funds: Annotated[dict[str, Decimal] | None, NoDecode] = Field(
        default=None,
        description="balances each member may claim once on a demo exchange, e.g."
        " usdt:10000,btc:1 (off: none); unset: usdt:10000,btc:1,eth:10,usd:10000 with"
        " `bursa up` on the embedded default with its demo seeds, otherwise none",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_POSTGRES_SCHEMES):
            raise ValueError("must be a postgresql:// (or postgresql+asyncpg://) URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// (or http:// for one machine) URL")
        return value.rstrip("/") if value else value

    @field_validator("confirmation_path", "password_reset_path")
    @classmethod
    def _front_end_path(cls, value: str) -> str:
        if not value.startswith("/") or not value.isprintable() or " " in value:
            raise ValueError("must be a path starting with / (no spaces), e.g. /confirm?token=")
        return value

    @field_validator("captcha_provider")
    @classmethod
    def _captcha_provider(cls, value: str | None) -> str | None:
        """Switching the captcha on with a name that does not load stops the process at
        start (``bursa.identity.captcha.load_provider`` then checks what it makes)."""
        if value is None:
            return None
        module_name, _, attribute = value.partition(":")
        if not module_name or not attribute:
            raise ValueError("must be package.module:factory")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"does not load: {type(exc).__name__}") from None
        if not callable(factory):
            raise ValueError("does not name a callable factory")
        return value

    @field_validator("user_storage_titles", mode="before")
    @classmethod
    def _storage_titles(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for title in value:
                if not isinstance(title, str) or not _TITLE.fullmatch(title):
                    raise ValueError(f"{title!r}: titles are 1-64 of a-z 0-9 _ -")
                if title in _FORBIDDEN_STORAGE_TITLES:
                    raise ValueError(f"{title!r} is reserved by Barong")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("must be an smtp:// or smtps:// URL")
        return value

    @field_validator("twilio_url")
    @classmethod
    def _twilio_url(cls, value: str) -> str:
        """The auth token travels with every request: plain HTTP only to this machine."""
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and parts.hostname in _LOOPBACK:
            return value
        raise ValueError("must be an https:// URL (http:// only to 127.0.0.1 or localhost)")

    @field_validator("demo_funds", mode="before")
    @classmethod
    def _demo_funds(cls, value: object) -> object:
        """``currency:amount`` pairs, comma-separated; ``off`` (or nothing) for none."""
        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        if text in ("", "off"):
            return {}
        funds: dict[str, Decimal] = {}
        for part in text.split(","):
            found = _DEMO_FUND.fullmatch(part.strip())
            if found is None:
                raise ValueError(
                    f"{part.strip()!r}: expected currency:amount, e.g. usdt:10000,btc:1 (or off)"
                )
            code, amount = found.group(1), Decimal(found.group(2))
            if code in funds:
                raise ValueError(f"{code} is given twice")
            if amount <= 0:
                raise ValueError(f"{code}: the amount must be positive")
            funds[code] = amount
        return funds

    @model_validator(mode="after")
    def _vault_needs_token(self) -> "Settings":
        if self.vault_url is None:
            return self
        if self.vault_auth == "token" and self.vault_token is None:
            raise ValueError("BURSA_VAULT_URL is set but BURSA_VAULT_TOKEN is not")
        if self.vault_auth == "approle":
            if (self.vault_role_id is None) == (self.vault_role_id_file is None):
                raise ValueError(
                    "BURSA_VAULT_AUTH=approle needs BURSA_VAULT_ROLE_ID or BURSA_VAULT_ROLE_ID_FILE"
                    " (one of them)"
                )
            if (self.vault_secret_id is None) == (self.vault_secret_id_file is None):
                raise ValueError(
                    "BURSA_VAULT_AUTH=approle needs BURSA_VAULT_SECRET_ID_FILE (or"
                    " BURSA_VAULT_SECRET_ID; one of them)"
                )
        return self

    @model_validator(mode="after")
    def _sms_provider_is_complete(self) -> "Settings":
        if self.sms_provider == "file" and self.database_url is not None:
            raise ValueError(
                "BURSA_SMS_PROVIDER=file keeps verification codes in files and is only"
                " allowed on the embedded default (BURSA_DATABASE_URL unset);"
                " set BURSA_SMS_PROVIDER=twilio with its credentials, or unset it"
            )
        if self.sms_provider == "twilio":
            needed = {
                "BURSA_TWILIO_ACCOUNT_SID": self.twilio_account_sid,
                "BURSA_TWILIO_AUTH_TOKEN": self.twilio_auth_token,
                "BURSA_SMS_FROM": self.sms_from,
            }
            missing = [name for name, value in needed.items() if value is None]
            if missing:
                raise ValueError(f"BURSA_SMS_PROVIDER=twilio also needs {', '.join(missing)}")
        return self

    @property
    def storage(self) -> Path:
        """Where uploaded KYC documents are kept."""
        return self.storage_dir or self.data_dir / "storage"

    @property
    def sms(self) -> SmsProvider | None:
        """The SMS provider in effect: files only on the embedded default, and nothing
        (phone verification refused) when a real deployment configured none."""
        if self.sms_provider is not None:
            return self.sms_provider
        return "file" if self.database_url is None else None

    def withdraw_level_in_effect(self, demo_seeds: bool) -> int:
        """The KYC level withdrawals need: as set, else 1 on the embedded default running
        ``demo_seeds`` (a one-machine demo with demo funds, where a newcomer tries the whole
        path; 2FA and activated beneficiaries are still required), else the default 3."""
        if "min_withdraw_level" in self.model_fields_set:
            return self.min_withdraw_level
        return 1 if demo_seeds and self.database_url is None else self.min_withdraw_level

    def demo_funds_in_effect(self, demo_seeds: bool) -> dict[str, Decimal]:
        """What each member may claim once (empty: the faucet is off): as set, else the
        default on the embedded default running ``demo_seeds``, else nothing."""
        if self.demo_funds is not None:
            return dict(self.demo_funds)
        return dict(DEFAULT_DEMO_FUNDS) if demo_seeds and self.database_url is None else {}

    @property
    def jwt_key_file(self) -> Path:
        return self.data_dir / "keys" / "jwt-rs256.pem"

    def event_key_file(self, app: str) -> Path:
        return self.data_dir / "keys" / f"event-{app}-rs256.pem"

    @property
    def barong_management_key_file(self) -> Path:
        return self.data_dir / "keys" / "barong-management-rs256.pem"

    @property
    def local_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keys" / "master.key"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are HTTPS-only except on the embedded default (one machine, plain HTTP)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.database_url is not None

    @field_validator("amqp_url")
    @classmethod
    def _amqp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_AMQP_SCHEMES):
            raise ValueError("must be an amqp:// or amqps:// URL")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()


def _split_scheme(url: str) -> str:
    """The URL without its PostgreSQL scheme; refuses anything that is not PostgreSQL."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return url[len(scheme) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('://')[0]}://...")


def sqlalchemy_url(url: str) -> str:
    """The ``postgresql+asyncpg://`` form SQLAlchemy's async engine needs."""
    return "postgresql+asyncpg://" + _split_scheme(url)


def asyncpg_url(url: str) -> str:
    """The plain ``postgresql://`` form ``asyncpg.connect`` accepts."""
    return "postgresql://" + _split_scheme(url)
