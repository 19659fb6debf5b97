"""The event mailer end to end: signed envelopes through real RabbitMQ exchanges, mail
into a real SMTP server, delivery records in a real PostgreSQL."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import aio_pika
import orjson
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.db.session import create_engine
from bursa.events.bus import Event, InProcessBus
from bursa.identity.mail import SmtpMailer
from bursa.identity.tables import users
from bursa.mailer import config as mailer_config
from bursa.mailer.amqp import AmqpMailer
from bursa.mailer.inprocess import InProcessMailer
from bursa.mailer.postmaster import Outcome, Postmaster
from bursa.signing import multisig
from tests.identity.test_identity_api import Inbox, free_port
from tests.signing.keys import rsa_pem, signer, verifier

RETRY_S = 0.3


class Recorder(Postmaster):
    """The real postmaster, noting what became of each event (by exchange/key/jti)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled: list[tuple[str, list[Outcome] | str]] = []

    async def handle(self, exchange: str, routing_key: str, body: bytes | str) -> list[Outcome]:
        jti = _jti(body)
        try:
            outcomes = await super().handle(exchange, routing_key, body)
        except Exception as exc:
            self.handled.append((jti, type(exc).__name__))
            raise
        self.handled.append((jti, outcomes))
        return outcomes

    def of(self, jti: str) -> list[list[Outcome] | str]:
        return [outcome for j, outcome in self.handled if j == jti]


def _jti(body: bytes | str) -> str:
    try:
        payload = orjson.loads(body)["payload"]
        return str(orjson.loads(multisig._unb64(payload)).get("jti"))
    except Exception:
        return "?"


async def until(check: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


class Smtp:
    """A real SMTP server on a port of its own, which a test may take down."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def names() -> dict[str, str]:
    """Exchange names of this test only (so parallel runs never see each other's events)."""
    run = uuid.uuid4().hex[:10]
    return {
        "prefix": f"test.{run}.mailer",
        "peatio": f"test.{run}.peatio.events.model",
        "barong_model": f"test.{run}.barong.events.model",
        "barong_system": f"test.{run}.barong.events.system",
    }


def write_config(tmp_path: Path, names: dict[str, str], attempts: int = 5) -> Path:
    """A file with the keychain and exchange names; events and templates are built in."""
    _, peatio_public = rsa_pem("peatio")
    _, barong_public = rsa_pem("barong")
    path = tmp_path / "mailer.yml"
    path.write_text(
        orjson.dumps(
            {
                "keychain": {
                    "peatio": {"algorithm": "RS256", "value": peatio_public},
                    "barong": {"algorithm": "RS256", "value": barong_public},
                },
                "exchanges": {
                    "peatio_model": {"name": names["peatio"], "signer": "peatio"},
                    "barong_model": {"name": names["barong_model"], "signer": "barong"},
                    "barong_system": {"name": names["barong_system"], "signer": "barong"},
                },
                "retry": {"delay_s": RETRY_S, "attempts": attempts},
            }
        ).decode()  # JSON is YAML
    )
    return path


@pytest.fixture
async def database(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database_url)
    yield engine
    await engine.dispose()


async def add_user(database: AsyncEngine, email: str, data: str = "") -> str:
    uid = "ID" + uuid.uuid4().hex[:10].upper()
    async with database.begin() as conn:
        await conn.execute(
            insert(users).values(uid=uid, email=email, password_hash="x", state="active", data=data)
        )
    return uid


def envelope(
    app: str,
    name: str,
    record: dict[str, Any],
    changes: dict[str, Any] | None = None,
    *,
    jti: str | None = None,
    ttl: int = 60,
    key: multisig.SignKey | None = None,
) -> tuple[str, bytes]:
    """(event id, body) as the wire contract writes them."""
    now = int(time.time())
    event: dict[str, Any] = {"name": name, "record": record}
    if changes is not None:
        event["changes"] = changes
    jti = jti or str(uuid.uuid4())
    claims = {"iss": app, "jti": jti, "iat": now - 5, "exp": now + ttl, "event": event}
    return jti, orjson.dumps(multisig.sign(claims, key or signer(app)))


class Rabbit:
    def __init__(self, channel: aio_pika.abc.AbstractChannel) -> None:
        self.channel = channel
        self.declared: set[str] = set()

    async def publish(self, exchange: str, routing_key: str, jti: str, body: bytes) -> None:
        ex = await self.channel.declare_exchange(
            exchange, aio_pika.ExchangeType.DIRECT, durable=True
        )
        self.declared.add(exchange)
        await ex.publish(aio_pika.Message(body, message_id=jti), routing_key=routing_key)


@pytest.fixture
async def rabbit(amqp_url: str, names: dict[str, str]) -> AsyncIterator[Rabbit]:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    yield Rabbit(channel)
    channel = await connection.channel()
    for queue in ("main", "retry"):
        await channel.queue_delete(f"{names['prefix']}.{queue}")
    for exchange in ("main.exchange", "retry.exchange"):
        await channel.exchange_delete(f"{names['prefix']}.{exchange}")
    for key in ("peatio", "barong_model", "barong_system"):
        await channel.exchange_delete(names[key])
    await connection.close()


async def start_mailer(
    amqp_url: str,
    database: AsyncEngine,
    smtp_port: int,
    config_path: Path,
    prefix: str,
) -> tuple[AmqpMailer, Recorder]:
    postmaster = Recorder(
        mailer_config.load(config_path),
        database,
        SmtpMailer(f"smtp://127.0.0.1:{smtp_port}", "Bursa <no-reply@bursa.test>"),
        app_name="Bursa",
    )
    consumer = AmqpMailer(amqp_url, postmaster, prefix=prefix)
    await consumer.start()
    return consumer, postmaster


def deposit(uid: str, email: str, state: str = "accepted") -> dict[str, Any]:
    return {
        "tid": "TID" + uuid.uuid4().hex[:8],
        "user": {"uid": uid, "email": email},
        "uid": uid,
        "currency": "btc",
        "amount": "0.25",
        "state": state,
        "blockchain_txid": "0xfeed",
    }


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body_of(message: Message) -> str:
    part = message.get_payload(decode=True)
    assert isinstance(part, bytes)
    return part.decode(message.get_content_charset() or "utf-8")


async def test_mail_goes_to_the_member_in_their_language(
    amqp_url: str,
    database: AsyncEngine,
    smtp: Smtp,
    rabbit: Rabbit,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    english = await add_user(database, "ann@bursa.test")
    russian = await add_user(database, "ivan@bursa.test", '{"language": "ru"}')
    consumer, _ = await start_mailer(
        amqp_url, database, smtp.port, write_config(tmp_path, names), names["prefix"]
    )
    try:
        for uid, email in ((english, "ann@bursa.test"), (russian, "ivan@bursa.test")):
            jti, body = envelope(
                "peatio", "model.deposit.updated", deposit(uid, email), {"state": "submitted"}
            )
            await rabbit.publish(names["peatio"], "deposit.updated", jti, body)
        # A Barong system event: the record's user carries the address.
        jti, body = envelope(
            "barong",
            "system.session.create",
            {"user": {"uid": russian, "email": "ivan@bursa.test"}, "user_ip": "203.0.113.9"},
        )
        await rabbit.publish(names["barong_system"], "session.create", jti, body)
        await until(lambda: len(smtp.messages) == 3)
    finally:
        await consumer.stop()
    by_subject = {(m["To"], subject(m)): body_of(m) for m in smtp.messages}
    english_body = by_subject[("ann@bursa.test", "Bursa: deposit of 0.25 BTC accepted")]
    assert "has been accepted and credited" in english_body
    assert "Transaction: 0xfeed" in english_body
    russian_body = by_subject[("ivan@bursa.test", "Bursa: депозит 0.25 BTC зачислен")]
    assert "Ваш депозит 0.25 BTC принят" in russian_body
    login = by_subject[("ivan@bursa.test", "Bursa: новый вход в аккаунт")]
    assert "203.0.113.9" in login


async def test_forged_expired_and_unconfigured_events_send_nothing(
    amqp_url: str,
    database: AsyncEngine,
    smtp: Smtp,
    rabbit: Rabbit,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    uid = await add_user(database, "ann@bursa.test")
    consumer, postmaster = await start_mailer(
        amqp_url, database, smtp.port, write_config(tmp_path, names), names["prefix"]
    )
    record = deposit(uid, "ann@bursa.test")
    forger = multisig.sign_key("peatio", "RS256", rsa_pem("forger")[0])
    try:
        forged, body = envelope(
            "peatio", "model.deposit.updated", record, {"state": "submitted"}, key=forger
        )
        await rabbit.publish(names["peatio"], "deposit.updated", forged, body)
        expired, body = envelope(
            "peatio", "model.deposit.updated", record, {"state": "submitted"}, ttl=-10
        )
        await rabbit.publish(names["peatio"], "deposit.updated", expired, body)
        # Barong's key on Peatio's exchange: a valid signature, but not by the exchange's signer.
        wrong_signer, body = envelope(
            "barong", "model.deposit.updated", record, {"state": "submitted"}
        )
        await rabbit.publish(names["peatio"], "deposit.updated", wrong_signer, body)
        # Configured event, but its filter says no (still submitted, not accepted).
        filtered, body = envelope(
            "peatio", "model.deposit.updated", deposit(uid, "ann@bursa.test", "submitted")
        )
        await rabbit.publish(names["peatio"], "deposit.updated", filtered, body)
        # Not configured at all: the queue is not even bound to it.
        unbound, body = envelope("peatio", "model.deposit.created", record)
        await rabbit.publish(names["peatio"], "deposit.created", unbound, body)
        await until(lambda: len(postmaster.handled) == 4)
        await asyncio.sleep(0.3)
    finally:
        await consumer.stop()
    assert postmaster.of(forged) == [[Outcome.DROPPED]]
    assert postmaster.of(expired) == [[Outcome.DROPPED]]
    assert postmaster.of(wrong_signer) == [[Outcome.DROPPED]]
    assert postmaster.of(filtered) == [[Outcome.IGNORED]]
    assert postmaster.of(unbound) == []
    assert smtp.messages == []
    async with database.connect() as conn:
        assert (await conn.scalar(text("SELECT count(*) FROM mailer_deliveries"))) == 0


async def test_a_redelivered_event_is_mailed_once(
    amqp_url: str,
    database: AsyncEngine,
    smtp: Smtp,
    rabbit: Rabbit,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    uid = await add_user(database, "ann@bursa.test")
    config_path = write_config(tmp_path, names)
    consumer, postmaster = await start_mailer(
        amqp_url, database, smtp.port, config_path, names["prefix"]
    )
    jti, body = envelope(
        "barong", "system.user.password.change", {"user": {"uid": uid, "email": "ann@bursa.test"}}
    )
    try:
        await rabbit.publish(names["barong_system"], "user.password.change", jti, body)
        await until(lambda: len(postmaster.of(jti)) == 1)
    finally:
        await consumer.stop()
    # A restarted mailer gets the same event again (the relay republished it).
    consumer, postmaster = await start_mailer(
        amqp_url, database, smtp.port, config_path, names["prefix"]
    )
    try:
        await rabbit.publish(names["barong_system"], "user.password.change", jti, body)
        await until(lambda: len(postmaster.of(jti)) == 1)
    finally:
        await consumer.stop()
    assert postmaster.of(jti) == [[Outcome.DUPLICATE]]
    assert [subject(m) for m in smtp.messages] == ["Bursa: your password was changed"]


async def test_smtp_down_retries_through_the_retry_queue_then_delivers(
    amqp_url: str,
    database: AsyncEngine,
    smtp: Smtp,
    rabbit: Rabbit,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    uid = await add_user(database, "ann@bursa.test")
    smtp.stop()
    consumer, postmaster = await start_mailer(
        amqp_url, database, smtp.port, write_config(tmp_path, names), names["prefix"]
    )
    jti, body = envelope(
        "barong",
        "model.label.updated",
        {"id": 7, "key": "document", "value": "verified", "user": {"uid": uid}},
        {"value": "pending"},
    )
    try:
        await rabbit.publish(names["barong_model"], "label.updated", jti, body)
        await until(lambda: len(postmaster.of(jti)) >= 2)  # failed, came back, failed again
        smtp.start()
        await until(lambda: len(smtp.messages) == 1)
    finally:
        await consumer.stop()
    outcomes = postmaster.of(jti)
    assert outcomes[-1] == [Outcome.SENT]
    assert set(map(str, outcomes[:-1])) == {"SendFailed"}
    (message,) = smtp.messages
    assert message["To"] == "ann@bursa.test"  # looked up by uid: the record had none
    assert subject(message) == "Bursa: your document verification"
    assert "Your document has been verified." in body_of(message)


async def test_retries_are_bounded(
    amqp_url: str,
    database: AsyncEngine,
    smtp: Smtp,
    rabbit: Rabbit,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    uid = await add_user(database, "ann@bursa.test")
    smtp.stop()
    consumer, postmaster = await start_mailer(
        amqp_url, database, smtp.port, write_config(tmp_path, names, attempts=2), names["prefix"]
    )
    jti, body = envelope("barong", "system.user.account.deleted", {"user": {"uid": uid}})
    try:
        await rabbit.publish(names["barong_system"], "user.account.deleted", jti, body)
        await until(lambda: len(postmaster.of(jti)) == 3)  # the first try and two retries
        await asyncio.sleep(RETRY_S * 3)
        queue = await rabbit.channel.declare_queue(f"{names['prefix']}.retry", passive=True)
        assert queue.declaration_result.message_count == 0
    finally:
        await consumer.stop()
    assert len(postmaster.of(jti)) == 3


async def test_in_process_mailer_mails_from_the_bus(database: AsyncEngine, smtp: Smtp) -> None:
    uid = await add_user(database, "ann@bursa.test", '{"language": "RU"}')
    # Built-in events with the keys of the deployment's relay (as ``bursa up`` does): even
    # on the process's own bus an envelope is verified.
    config = mailer_config.load().with_keys({"peatio": verifier("peatio")})
    bus = InProcessBus()
    postmaster = Recorder(
        config,
        database,
        SmtpMailer(f"smtp://127.0.0.1:{smtp.port}", "Bursa <no-reply@bursa.test>"),
        app_name="Bursa",
    )
    mailer = InProcessMailer(bus, postmaster)
    await mailer.start()
    try:
        record = {
            "user": {"uid": uid, "email": "ann@bursa.test"},
            "currency": "usdt",
            "amount": "10.5",
            "state": "succeed",
            "blockchain_txid": "0xabc",
        }
        forged_jti, forged = envelope(
            "peatio",
            "model.withdraw.updated",
            record,
            key=multisig.SignKey("peatio", "RS256", signer("intruder").key),
        )
        jti, body = envelope("peatio", "model.withdraw.updated", record, {"state": "processing"})
        for event_id, text in ((forged_jti, forged), (jti, body)):
            data = {
                "exchange": "peatio.events.model",
                "routing_key": "withdraw.updated",
                "id": event_id,
                "body": text.decode(),
            }
            bus.publish([Event("event_api", 1, data)])
        await until(lambda: len(smtp.messages) == 1)
        await until(lambda: len(postmaster.handled) == 2)
    finally:
        await mailer.stop()
    (message,) = smtp.messages
    assert message["To"] == "ann@bursa.test"
    assert subject(message) == "Bursa: вывод 10.5 USDT"
    assert "Вывод 10.5 USDT отправлен (транзакция 0xabc)" in body_of(message)
