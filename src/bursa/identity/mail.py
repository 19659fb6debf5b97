"""Sending mail: SMTP in production, a Maildir on disk in the embedded default (one
machine only).

A one-time code is the only secret mail carries; the Maildir mailer is there so that a
person trying Bursa on their own machine can confirm an account without a mail server. It
never accepts anything: the code still has to be typed back. The code stays in the mail
file (readable by its owner only), never in the log.
"""

import asyncio
import logging
import mailbox
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str
    html: str | None = None  # an HTML alternative to ``body`` (the event mailer's templates)


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...


def _message(sender: str, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


class SmtpMailer:
    """Sends through ``smtp://user:pass@host:port`` (``smtps://`` for implicit TLS;
    ``?starttls=1`` to upgrade a plain connection)."""

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("mail URL must look like smtp://host:port or smtps://host:port")
        self.hostname = parts.hostname
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.use_tls = parts.scheme == "smtps"
        self.start_tls = "starttls=1" in parts.query
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        await aiosmtplib.send(
            _message(self.sender, mail),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=10,
        )


class MaildirMailer:
    """The embedded default: each mail is a file in the Maildir ``path`` (``new/``, open it
    with any mail reader or a text editor); the log says where, not what."""

    def __init__(self, path: Path, sender: str = "bursa@localhost") -> None:
        self.path = path
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        saved = await asyncio.to_thread(self._save, _message(self.sender, mail))
        log.warning("mail to %s (no BURSA_SMTP_URL set) saved as %s", mail.to, saved)

    def _save(self, message: EmailMessage) -> Path:
        for folder in ("", "tmp", "new", "cur"):  # Maildir's own, private
            (self.path / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        key = mailbox.Maildir(self.path, create=False).add(message)
        saved = self.path / "new" / key
        saved.chmod(0o600)  # it carries a one-time code
        return saved


class NoMailer:
    """Outside the embedded default with no SMTP server: mail is never written to the log
    (it carries one-time codes). Tools that send no mail (``bursa user create``) use it;
    ``bursa up`` refuses to start without ``BURSA_SMTP_URL`` instead."""

    async def send(self, mail: Mail) -> None:
        raise RuntimeError("no BURSA_SMTP_URL: this process cannot send mail")
