"""The mailer's metrics: a mail the SMTP server took counts under its configured mail, a
send the server refused counts as a failure (and is retried by the consumer)."""

from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.db.session import create_engine
from bursa.identity.mail import SmtpMailer
from bursa.mailer import config as mailer_config
from bursa.mailer.postmaster import Outcome, Postmaster, SendFailed
from tests.mailer.test_mailer import (
    Smtp,
    add_user,
    envelope,
    smtp,  # noqa: F401 - the fixture
)
from tests.signing.keys import verifier

EXCHANGE, KEY = "peatio.events.model", "withdraw.updated"


@pytest.fixture
async def database(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url, pool_size=2)
    yield engine
    await engine.dispose()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_mails_sent_and_failed_are_counted(database: AsyncEngine, smtp: Smtp) -> None:
    config = mailer_config.load().with_keys({"peatio": verifier("peatio")})
    ((_, rule),) = config.rules_for(EXCHANGE, KEY)
    postmaster = Postmaster(
        config,
        database,
        SmtpMailer(f"smtp://127.0.0.1:{smtp.port}", "Bursa <no-reply@bursa.test>"),
        app_name="Bursa",
    )
    uid = await add_user(database, "ann@bursa.test")
    record = {
        "user": {"uid": uid, "email": "ann@bursa.test"},
        "currency": "usdt",
        "amount": "10.5",
        "state": "succeed",
        "blockchain_txid": "0xabc",
    }
    sent, failed = (
        sample("bursa_mails_sent_total", template=rule.name),
        sample("bursa_mail_failures_total"),
    )

    _, body = envelope("peatio", "model.withdraw.updated", record, {"state": "processing"})
    assert await postmaster.handle(EXCHANGE, KEY, body) == [Outcome.SENT]
    assert sample("bursa_mails_sent_total", template=rule.name) == sent + 1
    assert len(smtp.messages) == 1

    smtp.stop()  # the mail server goes away
    _, body = envelope("peatio", "model.withdraw.updated", record, {"state": "processing"})
    with pytest.raises(SendFailed):
        await postmaster.handle(EXCHANGE, KEY, body)
    assert sample("bursa_mail_failures_total") == failed + 1
    assert sample("bursa_mails_sent_total", template=rule.name) == sent + 1
