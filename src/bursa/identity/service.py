"""Sign-up, email confirmation, login, sessions and activities.

Every failure is an ``IdentityError`` carrying Barong's error code and HTTP status; the API
turns it into ``{"errors": [code]}``. Every login, failure and sensitive change is recorded
as an activity (time, IP, user agent, result).
"""

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bursa.clock import SYSTEM_CLOCK, Clock
from bursa.db.hot import HotReads
from bursa.errors import BursaError, Refusal
from bursa.events import outbox
from bursa.events.outbox import DomainEvent
from bursa.formats import iso
from bursa.identity import extras, passwords, totp
from bursa.identity.captcha import CaptchaGate
from bursa.identity.code_mail import CONFIRMATION, RESET, MailLinks, code_mail
from bursa.identity.confirmation_tokens import InvalidToken, MailTokens, TokenClaims
from bursa.identity.limits import LOGIN_FAILURES_PER_IP, InProcessLimiter, Limiter
from bursa.identity.mail import Mailer
from bursa.identity.rules import ROLES, level_for, outranks, state_for
from bursa.identity.tables import (
    activities,
    api_keys,
    labels,
    one_time_codes,
    user_sessions,
    users,
)
from bursa.plain_input import is_digits
from bursa.secrets.keystore import KeyStore

OTP_KEY = "bursa-totp"  # key store key that seals TOTP seeds
CODE_TTL = timedelta(minutes=15)
CODE_ATTEMPTS = 5
CODE_RESEND_INTERVAL = timedelta(seconds=60)
CODES_PER_HOUR = 5
LOGIN_ATTEMPTS = 5  # wrong passwords, or wrong second factors, in a row
LOCK_PERIOD = timedelta(minutes=15)
RANK_TOO_LOW = "admin.user.rank_too_low"
LOGIN_STATES = ("active", "pending")
UID_PREFIX = "ID"
USERNAME = re.compile(r"[A-Za-z0-9]{4,12}")
# Refusals of a mailed token: forged, expired or for another purpose; used or replaced.
INVALID_TOKEN = "identity.user.invalid_token"  # noqa: S105 - an error code
UTILIZED_TOKEN = "identity.user.utilized_token"  # noqa: S105 - an error code

# Verifying against this when the email is unknown keeps both answers equally slow.
_DUMMY_HASH = passwords.hash_password(secrets.token_urlsafe(16))


class IdentityError(BursaError):
    """An identity refusal (one code, an operator's ``message``). With ``keep`` the
    transaction still commits what it recorded (a failed login's count and activity, a
    wrong code's attempt) before the error reaches the caller."""

    def __init__(
        self,
        kind: Refusal,
        code: str,
        message: str = "",
        *,
        keep: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(kind, code, message=message, keep=keep, retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Client:
    """Who is calling, as recorded in activities and bound to sessions."""

    ip: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A one-time code just made: the row its mailed token names, and the code itself."""

    id: int
    code: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A new session: ``token`` goes to the cookie, its digest to the database."""

    token: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: dict[str, Any]
    csrf_token: str
    session_digest: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_network(login_ip: str, ip: str) -> bool:
    """Barong's rule: a session stays within its login address's /16 (IPv4) or /96 (IPv6)."""
    try:
        first, now = ipaddress.ip_address(login_ip), ipaddress.ip_address(ip)
    except ValueError:
        return login_ip == ip
    if first.version != now.version:
        return False
    prefix = 16 if first.version == 4 else 96
    return now in ipaddress.ip_network(f"{first}/{prefix}", strict=False)


def new_uid() -> str:
    return UID_PREFIX + secrets.token_hex(5).upper()


def normalize_email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise IdentityError(Refusal.INVALID, "identity.user.invalid_email", str(exc)) from exc


def normalize_username(username: str) -> str:
    """Barong's rule: 4 to 12 letters or digits; kept lower-case, so unique whatever the case."""
    if not USERNAME.fullmatch(username):
        raise IdentityError(Refusal.INVALID, "username.invalid", "4 to 12 letters or digits")
    return username.lower()


class Identity:
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """``engine.begin()``, except that an ``IdentityError`` with ``keep`` commits."""
        async with self.engine.connect() as conn:
            transaction = await conn.begin()
            try:
                yield conn
            except IdentityError as exc:
                if exc.keep:
                    await transaction.commit()
                else:
                    await transaction.rollback()
                raise
            except BaseException:
                await transaction.rollback()
                raise
            else:
                await transaction.commit()

    def __init__(
        self,
        engine: AsyncEngine,
        mailer: Mailer,
        keystore: KeyStore,
        *,
        session_ttl: timedelta,
        app_name: str,
        clock: Clock = SYSTEM_CLOCK,
        mail_links: MailLinks | None = None,
        captcha: CaptchaGate | None = None,
    ) -> None:
        self.engine = engine
        # Every rule that depends on the time (expiry, lock-outs, TOTP steps, resend
        # intervals) reads this clock; tests hand in a ``ManualClock`` and move it.
        self.clock = clock
        # Per-request reads (API-key authentication): one round trip each, no transaction.
        self.reads = HotReads.of(engine)
        self.mailer = mailer
        self.keystore = keystore
        self.session_ttl = session_ttl
        self.app_name = app_name
        # Counts wrong second factors per address (``LOGIN_FAILURES_PER_IP``, the login's
        # block); ``create_app`` hands it the API's own limiter, so both count together.
        self.limiter: Limiter = InProcessLimiter()
        # Code mails carry a link with a signed token too (Barong's form); where it points.
        self.mail_links = mail_links or MailLinks()
        self.mail_tokens = MailTokens(engine, keystore)
        # Captcha on sign-up, login and the code mails: off unless a provider is configured.
        self.captcha = captcha or CaptchaGate()

    async def close(self) -> None:
        """Close the per-request reads' connections (``engine`` is its owner's to dispose)."""
        await self.reads.close()

    # ---------------------------------------------------------------- sign-up

    async def sign_up(
        self,
        email: str,
        password: str,
        referral_uid: str | None,
        client: Client,
        username: str | None = None,
    ) -> tuple[dict[str, Any], OpenSession]:
        address = normalize_email(email)
        name = normalize_username(username) if username is not None else None
        self._check_new_password(password, address)
        async with self.engine.begin() as conn:
            if referral_uid is not None:
                referrer = await conn.scalar(select(users.c.id).where(users.c.uid == referral_uid))
                if referrer is None:
                    raise IdentityError(Refusal.INVALID, "identity.user.referral_doesnt_exist")
            user_id = await self._insert_user(
                conn, address, password, referral_uid=referral_uid, username=name
            )
            code = await self.new_code_row(conn, user_id, CONFIRMATION)
            session = await self._open_session(conn, user_id, client)
            await self.record(conn, user_id, client, "account", "signup", "succeed")
            user = await self.load_user(conn, user_id)
            await self.emit(conn, "model.user.created", user)
            await self.emit(conn, "system.user.email.confirmation.token", user)
            await self.emit(conn, "system.session.create", user, client)
        await self._mail_code(user, code, CONFIRMATION)
        return user, session

    async def resend_confirmation(self, email: str) -> None:
        """Send a new code to a pending user; silent for unknown or confirmed addresses
        (no account enumeration) and beyond the resend limit."""
        address = normalize_email(email)
        async with self.engine.begin() as conn:
            row = (
                (await conn.execute(select(users).where(users.c.email == address)))
                .mappings()
                .first()
            )
            if (
                row is None
                or row["state"] != "pending"
                or await self._has_label(conn, row["id"], "email", "verified")
            ):
                return
            if not await self.may_send_code(conn, row["id"], CONFIRMATION):
                return
            code = await self.new_code_row(conn, row["id"], CONFIRMATION)
            user = await self.load_user(conn, row["id"])
            await self.emit(conn, "system.user.email.confirmation.token", user)
        await self._mail_code(user, code, CONFIRMATION)

    async def confirm_email(
        self, email: str, code: str, client: Client
    ) -> tuple[dict[str, Any], OpenSession]:
        address = normalize_email(email)
        async with self.transaction() as conn:
            user_id = await conn.scalar(select(users.c.id).where(users.c.email == address))
            if user_id is None:
                raise IdentityError(Refusal.INVALID, "identity.user.invalid_code")
            await self.use_code(conn, user_id, CONFIRMATION, code)
            return await self._email_confirmed(conn, user_id, client)

    async def confirm_email_token(
        self, token: str, client: Client, email: str | None = None
    ) -> tuple[dict[str, Any], OpenSession]:
        """Confirm with the mailed link's token alone (Barong's form); it spends the code
        mailed with it. With ``email``, the token must be that address's."""
        claims = await self._read_token(token, CONFIRMATION, email)
        async with self.transaction() as conn:
            user_id = await self._spend_token(conn, claims)
            return await self._email_confirmed(conn, user_id, client)

    async def _email_confirmed(
        self, conn: AsyncConnection, user_id: int, client: Client
    ) -> tuple[dict[str, Any], OpenSession]:
        await self.set_label(conn, user_id, "email", "verified", "private")
        session = await self._open_session(conn, user_id, client)
        await self.record(conn, user_id, client, "account", "email confirmation", "succeed")
        user = await self.load_user(conn, user_id)
        await self.emit(conn, "system.user.email.confirmed", user)
        await self.emit(conn, "system.session.create", user, client)
        return user, session

    # ---------------------------------------------------------------- passwords

    async def request_password_reset(self, email: str, client: Client) -> None:
        """Mail a reset code; silent for unknown addresses and beyond the send limit."""
        address = normalize_email(email)
        async with self.engine.begin() as conn:
            user_id = await conn.scalar(select(users.c.id).where(users.c.email == address))
            if user_id is None or not await self.may_send_code(conn, user_id, RESET):
                return
            code = await self.new_code_row(conn, user_id, RESET)
            await self.record(conn, user_id, client, "password", "reset requested", "succeed")
            user = await self.load_user(conn, user_id)
            await self.emit(conn, "system.user.password.reset.token", user)
        await self._mail_code(user, code, RESET)

    async def reset_password(self, email: str, code: str, password: str, client: Client) -> None:
        """Set a new password with a mailed code; ends every session and the lock-out."""
        address = normalize_email(email)
        self._check_new_password(password, address)
        async with self.transaction() as conn:
            user_id = await conn.scalar(select(users.c.id).where(users.c.email == address))
            if user_id is None:
                raise IdentityError(Refusal.INVALID, "identity.user.invalid_code")
            await self.use_code(conn, user_id, RESET, code)
            await self._password_reset(conn, user_id, password, client)

    async def reset_password_with_token(
        self, token: str, password: str, client: Client, email: str | None = None
    ) -> None:
        """Set a new password with the reset link's token alone (Barong's form); it spends
        the code mailed with it, ends every session and the lock-out."""
        claims = await self._read_token(token, RESET, email)
        self._check_new_password(password, claims.email)
        async with self.transaction() as conn:
            user_id = await self._spend_token(conn, claims)
            await self._password_reset(conn, user_id, password, client)

    async def _password_reset(
        self, conn: AsyncConnection, user_id: int, password: str, client: Client
    ) -> None:
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                password_hash=passwords.hash_password(password),
                failed_logins=0,
                locked_until=None,
                updated_at=func.now(),
            )
        )
        await conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))
        await self.record(conn, user_id, client, "password", "reset", "succeed")
        user = await self.load_user(conn, user_id)
        await self.emit(conn, "system.user.password.reset", user)

    async def _read_token(self, token: str, purpose: str, email: str | None) -> TokenClaims:
        """A mailed token's claims, or 422 ``identity.user.invalid_token`` (forged, expired,
        made for the other purpose, or for another address than ``email``)."""
        try:
            claims = await self.mail_tokens.read(token, purpose, self.clock.now())
        except InvalidToken as exc:
            raise IdentityError(Refusal.INVALID, INVALID_TOKEN, str(exc)) from None
        if email is not None and normalize_email(email) != claims.email:
            raise IdentityError(Refusal.INVALID, INVALID_TOKEN, "another address's token")
        return claims

    async def _spend_token(self, conn: AsyncConnection, claims: TokenClaims) -> int:
        """Spend the code a verified token stands for; its user's id. A code already used
        (by its link or by typing it) or replaced by a newer mail is 422
        ``identity.user.utilized_token``; one past its expiry, or of a user whose address
        changed since, ``identity.user.invalid_token``. Wrong typed guesses do not count
        against the link: it cannot be guessed."""
        user_id = await conn.scalar(
            select(users.c.id).where(users.c.uid == claims.uid, users.c.email == claims.email)
        )
        row = (
            (
                await conn.execute(
                    select(one_time_codes.c.used_at, one_time_codes.c.expires_at)
                    .where(
                        one_time_codes.c.id == claims.code_id,
                        one_time_codes.c.user_id == user_id,
                        one_time_codes.c.purpose == claims.purpose,
                    )
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if user_id is None or row is None:
            raise IdentityError(Refusal.INVALID, INVALID_TOKEN, "no such code")
        if row["used_at"] is not None:
            raise IdentityError(Refusal.INVALID, UTILIZED_TOKEN, "used, or replaced by a newer")
        now = self.clock.now()
        if row["expires_at"] <= now:
            raise IdentityError(Refusal.INVALID, INVALID_TOKEN, "expired")
        await conn.execute(
            update(one_time_codes).where(one_time_codes.c.id == claims.code_id).values(used_at=now)
        )
        return int(user_id)

    async def change_password(
        self,
        session: "Authenticated",
        old: str,
        new: str,
        client: Client,
        otp_code: str | None = None,
    ) -> None:
        """Change the password of the signed-in user; other sessions end, this one stays."""
        user = session.user
        async with self.transaction() as conn:
            stored = await conn.scalar(
                select(users.c.password_hash).where(users.c.id == user["id"]).with_for_update()
            )
            assert stored is not None
            if not passwords.verify_password(stored, old):
                await self.record(conn, user["id"], client, "password", "change", "failed")
                raise IdentityError(
                    Refusal.INVALID, "resource.password.prev_pass_not_correct", keep=True
                )
            if old == new:
                raise IdentityError(Refusal.INVALID, "resource.password.no_change_provided")
            await self.require_otp(conn, user["id"], otp_code, client, "resource.password")
            self._check_new_password(new, user["email"])
            await conn.execute(
                update(users)
                .where(users.c.id == user["id"])
                .values(password_hash=passwords.hash_password(new), updated_at=func.now())
            )
            await conn.execute(
                delete(user_sessions).where(
                    user_sessions.c.user_id == user["id"],
                    user_sessions.c.id_digest != session.session_digest,
                )
            )
            await self.record(conn, user["id"], client, "password", "change", "succeed")
            await self.emit(conn, "system.user.password.change", user)

    # ---------------------------------------------------------------- two-factor

    async def generate_otp(self, session: "Authenticated") -> tuple[str, str]:
        """A new seed for the user (replacing an unconfirmed one): its otpauth URL and QR
        code as base64 PNG. Shown once; stored only encrypted."""
        user = session.user
        if user["otp"]:
            raise IdentityError(Refusal.MALFORMED, "resource.otp.already_enabled")
        secret = totp.new_secret()
        sealed = await self.keystore.encrypt(OTP_KEY, secret.encode())
        async with self.engine.begin() as conn:
            await conn.execute(
                update(users)
                .where(users.c.id == user["id"], users.c.otp.is_(False))
                .values(otp_secret=sealed, otp_last_step=None)
            )
        url = totp.provisioning_url(secret, user["email"], self.app_name)
        return url, totp.qr_png_base64(url)

    async def enable_otp(self, session: "Authenticated", code: str, client: Client) -> None:
        """Turn 2FA on with a first valid code; every other session ends."""
        user = session.user
        async with self.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        select(users).where(users.c.id == user["id"]).with_for_update()
                    )
                )
                .mappings()
                .one()
            )
            if row["otp"]:
                raise IdentityError(Refusal.MALFORMED, "resource.otp.already_enabled")
            if row["otp_secret"] is None:
                raise IdentityError(
                    Refusal.INVALID, "resource.otp.not_generated", "call generate_qrcode first"
                )
            step = await self._otp_step(row, code)
            if step is None:
                await self.record(conn, user["id"], client, "otp", "enable", "failed")
                raise IdentityError(Refusal.INVALID, "resource.otp.invalid", keep=True)
            await conn.execute(
                update(users)
                .where(users.c.id == user["id"])
                .values(otp=True, otp_last_step=step, failed_otps=0, otp_locked_until=None)
            )
            await self.set_label(conn, user["id"], "otp", "enabled", "private")
            await conn.execute(
                delete(user_sessions).where(
                    user_sessions.c.user_id == user["id"],
                    user_sessions.c.id_digest != session.session_digest,
                )
            )
            await self.record(conn, user["id"], client, "otp", "enable", "succeed")

    async def disable_otp(self, session: "Authenticated", code: str, client: Client) -> None:
        user = session.user
        async with self.transaction() as conn:
            await self.require_otp(conn, user["id"], code, client, "resource.otp")
            await self._turn_otp_off(conn, user["id"])
            await self.record(conn, user["id"], client, "otp", "disable", "succeed")

    async def reset_otp(self, admin: dict[str, Any], uid: str, client: Client) -> dict[str, Any]:
        """Support turns a member's 2FA off (lost phone), after checking who they are out of
        band; recorded on the admin's activities and the member's. Only for a user ranked
        below the admin (``subordinate``)."""
        async with self.transaction() as conn:
            user_id = await self.subordinate(conn, admin, uid)
            if not await conn.scalar(select(users.c.otp).where(users.c.id == user_id)):
                raise IdentityError(Refusal.INVALID, "admin.user.otp_not_enabled")
            await self._turn_otp_off(conn, user_id)
            await self.record(conn, user_id, client, "otp", "disabled by support", "succeed")
            await self.record(conn, admin["id"], client, "admin", "2fa disabled", "succeed", uid)
            return await self.load_user(conn, user_id)

    async def _turn_otp_off(self, conn: AsyncConnection, user_id: int) -> None:
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                otp=False, otp_secret=None, otp_last_step=None, failed_otps=0, otp_locked_until=None
            )
        )
        await self.set_label(conn, user_id, "otp", "disabled", "private")
        # Without 2FA no API key may be used (as Barong): every key is switched off.
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.user_id == user_id)
            .values(state="inactive", updated_at=func.now())
        )

    async def require_otp(
        self,
        conn: AsyncConnection,
        user_id: int,
        code: str | None,
        client: Client,
        scope: str,
        *,
        per_address: bool = True,
    ) -> None:
        """For a user with 2FA: ``code`` must be a fresh valid code (then it is used up).

        A wrong code, or one that is not six ASCII digits, counts as a wrong password does
        at login: ``LOGIN_ATTEMPTS`` in a row refuse every code, and the login, for
        ``LOCK_PERIOD`` (``{scope}.otp_locked``); and each counts against the caller's
        address (``LOGIN_FAILURES_PER_IP``, shared with failed logins), which then may
        neither log in nor give a code (``{scope}.too_many_failures``). ``per_address`` is
        off for a server relaying its users' codes (the Management API's ``otp/sign``)."""
        row = (
            (await conn.execute(select(users).where(users.c.id == user_id).with_for_update()))
            .mappings()
            .one()
        )
        if not row["otp"]:
            if scope == "resource.otp":
                raise IdentityError(Refusal.MALFORMED, "resource.otp.not_enabled")
            return
        if row["otp_locked_until"] is not None and row["otp_locked_until"] > self.clock.now():
            await self.record(conn, user_id, client, "otp", "verify", "denied", scope)
            raise IdentityError(
                Refusal.FORBIDDEN, f"{scope}.otp_locked", "too many wrong codes", keep=True
            )
        if per_address:
            wait = await self.limiter.over(LOGIN_FAILURES_PER_IP, client.ip)
            if wait:
                raise IdentityError(
                    Refusal.TOO_MANY, f"{scope}.too_many_failures", retry_after=wait
                )
        if not code:
            raise IdentityError(Refusal.INVALID, f"{scope}.missing_otp")
        step = await self._otp_step(row, code)
        if step is None:
            await self._wrong_second_factor(conn, row, client, ("otp", "verify", scope))
            if per_address:
                await self.limiter.allow(LOGIN_FAILURES_PER_IP, client.ip)
            raise IdentityError(Refusal.INVALID, f"{scope}.invalid_otp", keep=True)
        await conn.execute(
            update(users).where(users.c.id == user_id).values(otp_last_step=step, failed_otps=0)
        )

    async def unreadable_code(self, user_id: int, client: Client, scope: str) -> None:
        """A code the route could not even read (a sign, a space, another script's digits):
        a wrong second factor all the same, counted as ``require_otp`` counts one (unless
        codes are locked already, or the user has no 2FA to guess)."""
        async with self.engine.begin() as conn:
            row = (
                (await conn.execute(select(users).where(users.c.id == user_id).with_for_update()))
                .mappings()
                .first()  # None for a service account's member id: nothing to count
            )
            if row is None or not row["otp"]:
                return
            if row["otp_locked_until"] is not None and row["otp_locked_until"] > self.clock.now():
                return
            await self._wrong_second_factor(conn, row, client, ("otp", "verify", scope))
        await self.limiter.allow(LOGIN_FAILURES_PER_IP, client.ip)

    async def _wrong_second_factor(
        self, conn: AsyncConnection, row: Any, client: Client, activity: tuple[str, str, str]
    ) -> None:
        """Count a wrong code for user ``row`` (read ``FOR UPDATE``), locking codes and login at
        ``LOGIN_ATTEMPTS`` in a row, and record the failed activity (topic, action, data)."""
        failures = row["failed_otps"] + 1
        locked_until = self.clock.now() + LOCK_PERIOD if failures >= LOGIN_ATTEMPTS else None
        await conn.execute(
            update(users)
            .where(users.c.id == row["id"])
            .values(failed_otps=0 if locked_until else failures, otp_locked_until=locked_until)
        )
        topic, action, data = activity
        await self.record(conn, row["id"], client, topic, action, "failed", data)

    async def _otp_step(self, row: Any, code: str) -> int | None:
        if not is_digits(code):  # never a code: no need to open the seed
            return None
        secret = (await self.keystore.decrypt(OTP_KEY, row["otp_secret"])).decode()
        return totp.matching_step(secret, code, row["otp_last_step"], self.clock.time())

    @staticmethod
    def _check_new_password(password: str, email: str) -> None:
        verdict = passwords.check_strength(password, email)
        if not verdict.ok:
            assert verdict.code is not None
            raise IdentityError(Refusal.INVALID, verdict.code, verdict.message)

    # ---------------------------------------------------------------- sessions

    async def log_in(
        self,
        email: str,
        password: str,
        client: Client,
        previous_token: str | None,
        otp_code: str | None = None,
    ) -> tuple[dict[str, Any], OpenSession]:
        try:
            address = normalize_email(email)
        except IdentityError as exc:
            raise IdentityError(Refusal.UNAUTHENTICATED, "identity.session.invalid_params") from exc
        async with self.transaction() as conn:
            row = (
                (
                    await conn.execute(
                        select(users).where(users.c.email == address).with_for_update()
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                passwords.verify_password(_DUMMY_HASH, password)
                await self.record(conn, None, client, "session", "login", "failed", address)
                raise IdentityError(
                    Refusal.UNAUTHENTICATED, "identity.session.invalid_params", keep=True
                )
            user_id = row["id"]
            now = self.clock.now()
            if row["locked_until"] is not None and row["locked_until"] > now:
                await self.record(conn, user_id, client, "session", "login", "denied", "locked")
                raise IdentityError(
                    Refusal.UNAUTHENTICATED,
                    "identity.session.locked",
                    "too many failed logins; try again later or reset the password",
                    keep=True,
                )
            if not passwords.verify_password(row["password_hash"], password):
                failures = row["failed_logins"] + 1
                locked_until = now + LOCK_PERIOD if failures >= LOGIN_ATTEMPTS else None
                await conn.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(
                        failed_logins=0 if locked_until else failures,
                        locked_until=locked_until,
                    )
                )
                await self.record(conn, user_id, client, "session", "login", "failed")
                raise IdentityError(
                    Refusal.UNAUTHENTICATED, "identity.session.invalid_params", keep=True
                )
            state = row["state"]
            if state not in LOGIN_STATES:
                await self.record(conn, user_id, client, "session", "login", "denied", state)
                code = {"banned": "banned", "deleted": "deleted"}.get(state, "not_active")
                raise IdentityError(Refusal.UNAUTHENTICATED, f"identity.session.{code}", keep=True)
            values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
            if row["otp"]:
                # Wrong codes lock like wrong passwords (``require_otp``), checked only once
                # the password is right, so that the lock tells a guesser nothing.
                if row["otp_locked_until"] is not None and row["otp_locked_until"] > now:
                    await self.record(conn, user_id, client, "session", "login", "denied", "otp")
                    raise IdentityError(
                        Refusal.UNAUTHENTICATED,
                        "identity.session.locked",
                        "too many wrong codes",
                        keep=True,
                    )
                if not otp_code:
                    await self.record(conn, user_id, client, "session", "login", "failed", "otp")
                    raise IdentityError(
                        Refusal.UNAUTHENTICATED, "identity.session.missing_otp", keep=True
                    )
                step = await self._otp_step(row, otp_code)
                if step is None:
                    await self._wrong_second_factor(conn, row, client, ("session", "login", "otp"))
                    # Barong's 403 for a wrong code; 422 for one that is not digits at all.
                    kind = Refusal.FORBIDDEN if is_digits(otp_code) else Refusal.INVALID
                    raise IdentityError(kind, "identity.session.invalid_otp", keep=True)
                values |= {"otp_last_step": step, "failed_otps": 0}
            if passwords.needs_rehash(row["password_hash"]):
                values["password_hash"] = passwords.hash_password(password)
            await conn.execute(update(users).where(users.c.id == user_id).values(**values))
            if previous_token:
                await conn.execute(
                    delete(user_sessions).where(
                        user_sessions.c.id_digest == _digest(previous_token)
                    )
                )
            session = await self._open_session(conn, user_id, client)
            await self.record(conn, user_id, client, "session", "login", "succeed")
            user = await self.load_user(conn, user_id, full=True)
            await self.emit(conn, "system.session.create", user, client)
        return user, session

    async def authenticate(self, token: str, client: Client) -> Authenticated:
        """The user behind a session cookie; extends the session (sliding expiry)."""
        digest = _digest(token)
        async with self.transaction() as conn:
            session = (
                (
                    await conn.execute(
                        select(user_sessions).where(user_sessions.c.id_digest == digest)
                    )
                )
                .mappings()
                .first()
            )
            if session is None:
                raise IdentityError(Refusal.UNAUTHENTICATED, "authz.invalid_session")
            now = self.clock.now()
            if (
                session["expires_at"] <= now
                or session["user_agent"] != client.user_agent
                or not same_network(session["user_ip"], client.ip)
            ):
                await conn.execute(delete(user_sessions).where(user_sessions.c.id_digest == digest))
                raise IdentityError(
                    Refusal.UNAUTHENTICATED, "authz.client_session_mismatch", keep=True
                )
            user = await self.load_user(conn, session["user_id"])
            if user["state"] not in LOGIN_STATES:
                raise IdentityError(Refusal.UNAUTHENTICATED, "authz.user_not_active")
            await conn.execute(
                update(user_sessions)
                .where(user_sessions.c.id_digest == digest)
                .values(expires_at=now + self.session_ttl)
            )
        return Authenticated(user, session["csrf_token"], digest)

    async def log_out(self, session_digest: str, user_id: int, client: Client) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(user_sessions).where(user_sessions.c.id_digest == session_digest)
            )
            await self.record(conn, user_id, client, "session", "logout", "succeed")

    # ---------------------------------------------------------------- administration

    async def create_user(self, email: str, password: str, role: str) -> dict[str, Any]:
        """A confirmed, active user (the first admin); the password policy still applies."""
        if role not in ROLES:
            raise IdentityError(
                Refusal.INVALID, "admin.user.invalid_role", f"roles: {', '.join(ROLES)}"
            )
        address = normalize_email(email)
        self._check_new_password(password, address)
        async with self.engine.begin() as conn:
            user_id = await self._insert_user(conn, address, password, role=role)
            await self.emit(conn, "model.user.created", await self.load_user(conn, user_id))
            await self.set_label(conn, user_id, "email", "verified", "private")
            user = await self.load_user(conn, user_id)
        return user

    async def subordinate(self, conn: AsyncConnection, actor: Mapping[str, Any], uid: str) -> int:
        """The id of user ``uid`` if ``actor`` outranks them (``rules.RANKS``: nobody acts
        on a peer, a superior or themselves), else 403 ``admin.user.rank_too_low``. The row
        stays locked until the transaction ends, so the role checked is the role kept."""
        row = (
            await conn.execute(
                select(users.c.id, users.c.role).where(users.c.uid == uid).with_for_update()
            )
        ).first()
        if row is None:
            raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
        if not outranks(str(actor["role"]), row.role):
            raise IdentityError(Refusal.FORBIDDEN, RANK_TOO_LOW)
        return int(row.id)

    async def set_label(
        self, conn: AsyncConnection, user_id: int, key: str, value: str, scope: str
    ) -> None:
        """Set a label; a private one recomputes the user's state and level. Emits
        ``model.label.created`` or ``updated`` (nothing when the value is unchanged), and
        ``model.user.updated`` when the state or level changed."""
        written: Any = await conn.execute(
            pg_insert(labels)
            .values(user_id=user_id, key=key, value=value, scope=scope)
            .on_conflict_do_update(
                constraint="uq_labels_user_id_key_scope",
                set_={"value": value, "updated_at": func.now()},
                where=labels.c.value != value,
            )
            .returning(literal_column("xmax = 0").label("created"))
        )
        created = written.scalar()
        if created is None:  # the label already had this value
            return
        name = "model.label.created" if created else "model.label.updated"
        await self._label_changed(conn, user_id, name, (key, value, scope))

    async def remove_label(self, conn: AsyncConnection, user_id: int, key: str, scope: str) -> bool:
        """Remove a label (whether it existed); a private one recomputes state and level."""
        gone = await conn.execute(
            delete(labels)
            .where(labels.c.user_id == user_id, labels.c.key == key, labels.c.scope == scope)
            .returning(labels.c.value)
        )
        value = gone.scalar()
        if value is None:
            return False
        await self._label_changed(conn, user_id, "model.label.deleted", (key, value, scope))
        return True

    async def _label_changed(
        self, conn: AsyncConnection, user_id: int, name: str, label: tuple[str, str, str]
    ) -> None:
        changes = await self._recompute(conn, user_id) if label[2] == "private" else {}
        user = dict(
            (await conn.execute(select(users).where(users.c.id == user_id))).mappings().one()
        )
        await self.emit(conn, name, user, label=label)
        if changes:
            await self.emit(conn, "model.user.updated", user, changes=changes)

    async def _recompute(self, conn: AsyncConnection, user_id: int) -> dict[str, Any]:
        """State and level follow the private labels (Barong's rules, ``rules.py``); the
        previous values of those that changed."""
        rows = await conn.execute(
            select(labels.c.key, labels.c.value).where(
                labels.c.user_id == user_id, labels.c.scope == "private"
            )
        )
        private = [(r.key, r.value) for r in rows]
        state, level = state_for(private), level_for(private)
        before = (
            await conn.execute(
                select(users.c.state, users.c.level).where(users.c.id == user_id).with_for_update()
            )
        ).one()
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(state=state, level=level, updated_at=func.now())
        )
        changes: dict[str, Any] = {}
        if before.state != state:
            changes["state"] = before.state
        if before.level != level:
            changes["level"] = before.level
        return changes

    # ---------------------------------------------------------------- internals

    async def emit(
        self,
        conn: AsyncConnection,
        name: str,
        user: dict[str, Any],
        client: Client | None = None,
        label: tuple[str, str, str] | None = None,
        changes: dict[str, Any] | None = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        """Add a Barong event to the outbox in ``conn``'s transaction (so it is published
        if and only if the change commits). One-time codes and tokens are never in events:
        Bursa mails them itself, so no consumer needs them, and every consumer sees events."""
        public_user = {
            "uid": user["uid"],
            "email": user["email"],
            "username": user["username"],
            "role": user["role"],
            "level": user["level"],
            "otp": bool(user["otp"]),
            "state": user["state"],
            "referral_uid": user["referral_uid"],
            "created_at": iso(user["created_at"]),
            "updated_at": iso(user["updated_at"]),
        }
        body: dict[str, Any]
        if record is not None:
            body = {"user": public_user, **record}
        elif name.startswith("model.user."):
            body = public_user
        elif label is not None:
            key, value, scope = label
            body = {"key": key, "value": value, "scope": scope, "user": public_user}
        else:
            body = {"user": public_user, "domain": self.app_name}
            if client is not None:
                body |= {"user_ip": client.ip, "user_agent": client.user_agent}
        await outbox.enqueue(conn, [DomainEvent("barong", name, body, changes)])

    async def _insert_user(
        self, conn: AsyncConnection, address: str, password: str, **values: Any
    ) -> int:
        """A new user row; an address or username already taken is ``email.taken`` or
        ``username.taken``."""
        try:
            async with conn.begin_nested():
                user_id = await conn.scalar(
                    insert(users)
                    .values(
                        uid=new_uid(),
                        email=address,
                        password_hash=passwords.hash_password(password),
                        **values,
                    )
                    .returning(users.c.id)
                )
        except IntegrityError as exc:
            if "uq_users_username" in str(exc.orig):
                raise IdentityError(Refusal.INVALID, "username.taken") from exc
            raise IdentityError(Refusal.INVALID, "email.taken") from exc
        assert user_id is not None
        return int(user_id)

    async def load_user(
        self, conn: AsyncConnection, user_id: int, *, full: bool = False
    ) -> dict[str, Any]:
        """The user row with its labels; ``full`` adds what ``UserWithFullInfo`` shows
        (phones, profiles, data storages), which a request's authentication never needs."""
        row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().one()
        user = dict(row)
        found = await conn.execute(
            select(labels).where(labels.c.user_id == user_id).order_by(labels.c.id)
        )
        user["labels"] = [dict(r) for r in found.mappings()]
        if full:
            user |= await extras.of_user(conn, self.keystore, user_id)
        return user

    async def _has_label(self, conn: AsyncConnection, user_id: int, key: str, value: str) -> bool:
        found = await conn.scalar(
            select(func.count())
            .select_from(labels)
            .where(
                labels.c.user_id == user_id,
                labels.c.key == key,
                labels.c.value == value,
                labels.c.scope == "private",
            )
        )
        return bool(found)

    async def _open_session(
        self, conn: AsyncConnection, user_id: int, client: Client
    ) -> OpenSession:
        token = secrets.token_urlsafe(32)
        csrf_token = secrets.token_hex(20)
        await conn.execute(
            insert(user_sessions).values(
                id_digest=_digest(token),
                user_id=user_id,
                csrf_token=csrf_token,
                user_ip=client.ip,
                user_agent=client.user_agent,
                expires_at=self.clock.now() + self.session_ttl,
            )
        )
        return OpenSession(token, csrf_token)

    async def may_send_code(self, conn: AsyncConnection, user_id: int, purpose: str) -> bool:
        now = self.clock.now()
        recent = await conn.execute(
            select(one_time_codes.c.created_at).where(
                one_time_codes.c.user_id == user_id,
                one_time_codes.c.purpose == purpose,
                one_time_codes.c.created_at > now - timedelta(hours=1),
            )
        )
        sent = [r.created_at for r in recent]
        if len(sent) >= CODES_PER_HOUR:
            return False
        return not any(at > now - CODE_RESEND_INTERVAL for at in sent)

    async def new_code(self, conn: AsyncConnection, user_id: int, purpose: str) -> str:
        """A fresh 6-digit code; earlier unused codes of the same purpose stop working."""
        return (await self.new_code_row(conn, user_id, purpose)).code

    async def new_code_row(self, conn: AsyncConnection, user_id: int, purpose: str) -> IssuedCode:
        """``new_code``, with what a token for it names (its row, its expiry)."""
        code = f"{secrets.randbelow(10**6):06d}"
        now = self.clock.now()
        await conn.execute(
            update(one_time_codes)
            .where(
                one_time_codes.c.user_id == user_id,
                one_time_codes.c.purpose == purpose,
                one_time_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        code_id = await conn.scalar(
            insert(one_time_codes)
            .values(
                user_id=user_id,
                purpose=purpose,
                code_digest=_digest(f"{user_id}:{purpose}:{code}"),
                created_at=now,  # the resend interval is measured on the same clock
                expires_at=now + CODE_TTL,
            )
            .returning(one_time_codes.c.id)
        )
        assert code_id is not None
        return IssuedCode(int(code_id), code, now, now + CODE_TTL)

    async def cancel_code(
        self, conn: AsyncConnection, user_id: int, purpose: str, code: str, *, counted: bool
    ) -> None:
        """``code`` could not be delivered: it stops working. ``counted`` keeps its row, so
        it still counts against the send limits; otherwise it is forgotten entirely."""
        match = (
            one_time_codes.c.user_id == user_id,
            one_time_codes.c.purpose == purpose,
            one_time_codes.c.code_digest == _digest(f"{user_id}:{purpose}:{code}"),
        )
        if counted:
            await conn.execute(
                update(one_time_codes)
                .where(*match, one_time_codes.c.used_at.is_(None))
                .values(used_at=self.clock.now())
            )
        else:
            await conn.execute(delete(one_time_codes).where(*match))

    async def use_code(self, conn: AsyncConnection, user_id: int, purpose: str, code: str) -> None:
        row = (
            (
                await conn.execute(
                    select(one_time_codes)
                    .where(
                        one_time_codes.c.user_id == user_id,
                        one_time_codes.c.purpose == purpose,
                        one_time_codes.c.used_at.is_(None),
                    )
                    .order_by(one_time_codes.c.id.desc())
                    .limit(1)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["expires_at"] <= self.clock.now() or row["attempts"] >= CODE_ATTEMPTS:
            raise IdentityError(Refusal.INVALID, "identity.user.code_expired", "ask for a new code")
        expected = row["code_digest"]
        if not hmac.compare_digest(expected, _digest(f"{user_id}:{purpose}:{code}")):
            await conn.execute(
                update(one_time_codes)
                .where(one_time_codes.c.id == row["id"])
                .values(attempts=one_time_codes.c.attempts + 1)
            )
            raise IdentityError(Refusal.INVALID, "identity.user.invalid_code", keep=True)
        await conn.execute(
            update(one_time_codes)
            .where(one_time_codes.c.id == row["id"])
            .values(used_at=self.clock.now())
        )

    async def _mail_code(self, user: Mapping[str, Any], code: IssuedCode, purpose: str) -> None:
        """Mail ``code`` and a link with a token for it (``code_mail``); either works once."""
        token = await self.mail_tokens.issue(
            purpose, user["uid"], user["email"], code.id, code.issued_at, code.expires_at
        )
        link = self.mail_links.link(purpose, token)
        await self.mailer.send(
            code_mail(self.app_name, user["email"], purpose, code.code, link, CODE_TTL)
        )

    async def record(
        self,
        conn: AsyncConnection,
        user_id: int | None,
        client: Client,
        topic: str,
        action: str,
        result: str,
        data: str | None = None,
    ) -> None:
        await conn.execute(
            insert(activities).values(
                user_id=user_id,
                user_ip=client.ip,
                user_agent=client.user_agent[:1000],
                topic=topic,
                action=action,
                result=result,
                data=data,
            )
        )
