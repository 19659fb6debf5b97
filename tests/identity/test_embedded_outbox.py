"""The embedded default's mail and SMS: each a file only its owner reads (mail in a
Maildir); the log says where it went, never the code it carries."""

import logging
import mailbox
import stat
from pathlib import Path

import pytest

from bursa.cli.users import build_identity
from bursa.config.settings import Settings
from bursa.db.session import create_engine
from bursa.identity.mail import Mail, MaildirMailer
from bursa.identity.sms import FileSmsSender


async def test_a_mail_is_a_private_file_and_its_code_stays_out_of_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = MaildirMailer(tmp_path / "mail", "Bursa <no-reply@localhost>")
    code = "493021"
    with caplog.at_level(logging.DEBUG):
        await mailer.send(Mail("ann@example.com", "Confirm your email", f"Your code: {code}"))

    (saved,) = (tmp_path / "mail" / "new").iterdir()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700
    (message,) = mailbox.Maildir(tmp_path / "mail", create=False)
    assert (message["To"], message["Subject"]) == ("ann@example.com", "Confirm your email")
    assert code in message.get_payload()
    assert str(saved) in caplog.text
    assert code not in caplog.text


async def test_the_embedded_default_keeps_mail_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, smtp_url=None)
    engine = create_engine("postgresql://nobody@127.0.0.1:1/none")  # never connected
    identity = build_identity(settings, engine)
    try:
        assert isinstance(identity.mailer, MaildirMailer)
        assert identity.mailer.path == tmp_path / "mail"
    finally:
        await identity.close()
        await engine.dispose()


async def test_an_sms_is_a_private_file_and_its_code_stays_out_of_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sender = FileSmsSender(tmp_path / "sms")
    with caplog.at_level(logging.DEBUG):
        await sender.send("447700900123", "Your Bursa code: 120934")
        await sender.send("447700900123", "Your Bursa code: 555111")

    saved = sorted((tmp_path / "sms").iterdir())
    assert len(saved) == 2
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in saved)
    assert stat.S_IMODE((tmp_path / "sms").stat().st_mode) == 0o700
    texts = {f.read_text() for f in saved}
    assert "To: +447700900123\n\nYour Bursa code: 120934\n" in texts
    assert "120934" not in caplog.text and "555111" not in caplog.text
