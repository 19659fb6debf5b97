"""One event in, the configured mails out: verify, filter, pick the language, render, send.

Shared by the RabbitMQ consumer and the in-process one; they only differ in how a failed
send is retried. A mail is recorded in ``mailer_deliveries`` in the same transaction that
sends it, so a redelivered event is not mailed again, and two mailers racing on one event
wait for each other (the second sees the first's row once it commits, or sends itself if
the first failed).
"""

import enum
import html
import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.identity.mail import Mail, Mailer
from bursa.identity.tables import users
from bursa.mailer.config import EventRule, MailerConfig, MailTemplate
from bursa.mailer.tables import mailer_deliveries
from bursa.metrics.mailer import MAIL_FAILURES, MAILS_SENT
from bursa.signing import multisig

log = logging.getLogger(__name__)

# Longer than any redelivery: retries end after attempts × delay, events expire in hours.
KEEP_DELIVERIES = timedelta(days=7)
_TAG = re.compile(r"<[^>]+>")


class Outcome(enum.StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # already mailed for this event
    DROPPED = "dropped"  # refused: bad or unverifiable envelope, no address
    IGNORED = "ignored"  # no configured mail for it


class SendFailed(Exception):
    """The mail server refused or could not be reached: worth trying again later."""


class Postmaster:
    def __init__(
        self, config: MailerConfig, database: AsyncEngine, mailer: Mailer, *, app_name: str
    ) -> None:
        self.config = config
        self.database = database
        self.mailer = mailer
        self.app_name = app_name

    async def handle(self, exchange: str, routing_key: str, body: bytes | str) -> list[Outcome]:
        """Mail what ``body`` (an Event API envelope from ``exchange``/``routing_key``)
        calls for. Every envelope is verified, also one from this process's own bus: a
        signer without a key in the keychain is dropped.

        Raises ``SendFailed`` when a mail could not be sent (those already sent stay sent).
        """
        rules = self.config.rules_for(exchange, routing_key)
        if not rules:
            log.debug("no mail configured for %s %s", exchange, routing_key)
            return [Outcome.IGNORED]
        event = self._open(rules[0][1], routing_key, body)
        if event is None:
            return [Outcome.DROPPED]
        jti, record, changes = event
        outcomes: list[Outcome] = []
        for _, rule in rules:
            data = {"record": record, "changes": changes}
            if rule.expression is not None and not rule.expression.matches(data):
                outcomes.append(Outcome.IGNORED)
                continue
            outcomes.append(await self._mail(rule, jti, record, changes))
        return outcomes

    def _open(
        self, rule: EventRule, routing_key: str, body: bytes | str
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """The verified event's (jti, record, changes), or None (logged) to drop it."""
        signer = rule.exchange.signer
        key = self.config.keychain.get(signer)
        if key is None:
            log.error("dropped an event on %s: no key for signer %r", rule.exchange.name, signer)
            return None
        try:
            envelope = orjson.loads(body)
            verified = multisig.verify(envelope, {signer: key})
        except orjson.JSONDecodeError:
            log.warning("dropped an event on %s: body is not JSON", rule.exchange.name)
            return None
        except multisig.MultisigError as exc:
            log.warning("dropped an event on %s: %s", rule.exchange.name, exc.reason)
            return None
        if signer not in verified.signers:
            log.warning("dropped an event on %s: not signed by %s", rule.exchange.name, signer)
            return None
        claims = verified.claims
        event = claims.get("event")
        jti = claims.get("jti")
        if not isinstance(event, dict) or not isinstance(jti, str) or not jti:
            log.warning("dropped an event on %s: no event or jti", rule.exchange.name)
            return None
        name = event.get("name")
        if not isinstance(name, str) or name.split(".", 1)[-1] != routing_key:
            log.warning("dropped event %s: its name does not match %s", jti, routing_key)
            return None
        record = event.get("record")
        if not isinstance(record, dict):  # market events carry their fields at the top
            record = {k: v for k, v in event.items() if k != "name"}
        changes = event.get("changes")
        return jti, record, changes if isinstance(changes, dict) else {}

    async def _mail(
        self, rule: EventRule, jti: str, record: dict[str, Any], changes: dict[str, Any]
    ) -> Outcome:
        user = await self._user(record)
        email = user.get("email")
        if not isinstance(email, str) or "@" not in email:
            log.warning("event %s (%s): no address to mail", jti, rule.name)
            return Outcome.DROPPED
        language, template = self._template(rule, user)
        context = {"record": record, "changes": changes, "user": user, "app_name": self.app_name}
        try:
            mail = _render(template, email, context)
        except Exception:
            log.exception("event %s: template %s failed", jti, template.path.name)
            return Outcome.DROPPED
        rule_id = f"{rule.key}:{rule.name}"[:255]
        async with self.database.begin() as conn:
            claimed = await conn.execute(
                insert(mailer_deliveries)
                .values(event_id=jti[:255], rule=rule_id)
                .on_conflict_do_nothing()
                .returning(mailer_deliveries.c.event_id)
            )
            if claimed.first() is None:
                log.info("event %s (%s) was mailed already", jti, rule.name)
                return Outcome.DUPLICATE
            try:
                await self.mailer.send(mail)
            except Exception as exc:
                MAIL_FAILURES.inc()
                # Rolls the claim back: the next delivery sends it.
                raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        MAILS_SENT.labels(rule.name).inc()
        log.info(
            "mailed %r [%s] for event %s to member %s", rule.name, language, jti, user.get("uid")
        )
        return Outcome.SENT

    async def _user(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The member the event is about: ``record.user``, or the record itself for
        ``user.*`` events, completed (address, language) from the users table."""
        found = record.get("user")
        user = dict(found) if isinstance(found, Mapping) else {}
        if not user and "uid" in record and "email" in record:
            user = {k: record[k] for k in ("uid", "email", "username", "role") if k in record}
        uid = user.get("uid") or record.get("uid")
        if not isinstance(uid, str) or (user.get("email") and _language(user.get("data"))):
            return user
        async with self.database.connect() as conn:
            row = (
                await conn.execute(select(users.c.email, users.c.data).where(users.c.uid == uid))
            ).first()
        if row is not None:
            user.setdefault("uid", uid)
            user.setdefault("email", row.email)
            if _language(user.get("data")) is None:
                user["data"] = row.data
        return user

    def _template(self, rule: EventRule, user: Mapping[str, Any]) -> tuple[str, MailTemplate]:
        wanted = _language(user.get("data")) or self.config.default_language
        for language in (wanted, self.config.default_language, "EN"):
            if language in rule.templates:
                return language, rule.templates[language]
        language = next(iter(rule.templates))
        return language, rule.templates[language]

    async def forget_old(self) -> int:
        """Drop delivery records past any redelivery; returns how many."""
        async with self.database.begin() as conn:
            result = await conn.execute(
                delete(mailer_deliveries).where(
                    mailer_deliveries.c.sent_at < func.now() - KEEP_DELIVERIES
                )
            )
        return int(result.rowcount or 0)


def _language(data: Any) -> str | None:
    """``data.language`` of a member (Barong keeps ``data`` as a JSON string)."""
    if isinstance(data, str) and data.strip():
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
    if isinstance(data, Mapping):
        language = data.get("language")
        if isinstance(language, str) and language.strip():
            return language.strip().upper()
    return None


def _render(template: MailTemplate, to: str, context: Mapping[str, Any]) -> Mail:
    subject = " ".join(template.subject.render(context).split())  # one header line
    body = template.body.render(context)
    if template.html:
        text = html.unescape(_TAG.sub("", body))
        return Mail(to, subject, text, html=body)
    return Mail(to, subject, body)
