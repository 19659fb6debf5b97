"""Profiles' personal data is sealed at rest: the API gives it back to its owner, the
database row holds none of it, with the local key file and with OpenBao's transit engine;
rows kept in the clear before migration 0012 are sealed by ``bursa db upgrade``."""

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from sqlalchemy.engine import Connection

from bursa.db.migrate import alembic_config, upgrade
from bursa.db.session import create_engine
from bursa.identity.passwords import hash_password
from bursa.identity.pii import seal_clear_profiles
from bursa.secrets.keystore import KeyStore, LocalKeyStore, TransitKeyStore
from tests.identity.serving import identity_api
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    RESOURCE,
    Inbox,
    api,
    inbox,
    sql,
)
from tests.identity.test_kyc import confirmed_member
from tests.secrets.test_keystore import openbao  # noqa: F401 - fixture
from tests.test_cli import bursa
from tests.test_migrations import empty_database_url  # noqa: F401 - fixture

PROFILE = {
    "first_name": "Ottilie",
    "last_name": "Quarshie-Brandt",
    "dob": "1987-03-29",
    "address": "14 Rue des Lilas",
    "postcode": "75019",
    "city": "Montbéliard",
    "country": "FRA",
}
PERSONAL = ("Ottilie", "Quarshie", "Brandt", "1987-03-29", "Lilas", "75019", "Montb")


async def raw_profile(client: httpx.AsyncClient) -> dict[str, Any]:
    (row,) = await sql(client, "SELECT * FROM profiles")
    return dict(row)


def assert_no_personal_data(row: dict[str, Any]) -> None:
    text = repr(row)
    for piece in PERSONAL:
        assert piece not in text, f"{piece!r} is stored in the clear"


async def save_and_read(
    client: httpx.AsyncClient, mails: Inbox, email: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Save the profile over HTTP and check it reads back the same: the raw row and the
    member's CSRF header."""
    csrf = await confirmed_member(client, mails, email)
    saved = await client.post(f"{RESOURCE}/profiles", json=PROFILE, headers=csrf)
    assert saved.status_code == 201, saved.text
    read = await client.get(f"{RESOURCE}/profiles/me")
    assert read.status_code == 200, read.text
    for answer in (saved.json(), read.json()):
        assert {key: answer[key] for key in PROFILE} == PROFILE
        assert answer["state"] == "drafted"
    return await raw_profile(client), csrf


async def test_local_key_store_seals_the_profile(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    row, csrf = await save_and_read(api, inbox[0], "ottilie@example.com")
    assert_no_personal_data(row)
    assert row["country"] == "FRA"  # clear on purpose: restrictions and filters need it
    assert row["sealed"] is True
    for name in ("first_name", "last_name", "dob", "address", "postcode", "city"):
        assert row[name].startswith("local:v1:")

    edited = await api.put(
        f"{RESOURCE}/profiles", json=PROFILE | {"city": "Besançon", "postcode": None}, headers=csrf
    )
    assert edited.status_code == 200, edited.text
    read = (await api.get(f"{RESOURCE}/profiles/me")).json()
    assert (read["city"], read["postcode"], read["first_name"]) == ("Besançon", None, "Ottilie")
    row = await raw_profile(api)
    assert "Besan" not in repr(row)
    assert row["postcode"] is None


class CountingKeyStore:
    """Passes every call on to a real key store, counting them (each a transit round trip)."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.calls: list[str] = []

    async def encrypt(self, key_name: str, plaintext: bytes) -> str:
        self.calls.append("encrypt")
        return await self.store.encrypt(key_name, plaintext)

    async def decrypt(self, key_name: str, ciphertext: str) -> bytes:
        self.calls.append("decrypt")
        return await self.store.decrypt(key_name, ciphertext)

    async def encrypt_many(self, key_name: str, plaintexts: Sequence[bytes]) -> list[str]:
        self.calls.append("encrypt_many")
        return await self.store.encrypt_many(key_name, plaintexts)

    async def decrypt_many(self, key_name: str, ciphertexts: Sequence[str]) -> list[bytes]:
        self.calls.append("decrypt_many")
        return await self.store.decrypt_many(key_name, ciphertexts)


async def test_transit_key_store_seals_the_profile_in_one_round_trip(
    fresh_database_url: str,
    inbox: tuple[Inbox, int],
    openbao: tuple[str, str],
) -> None:
    transit = CountingKeyStore(TransitKeyStore(*openbao))
    async with identity_api(fresh_database_url, inbox[1], transit, None) as client:
        csrf = await confirmed_member(client, inbox[0], "quinn@example.com")
        transit.calls.clear()
        saved = await client.post(f"{RESOURCE}/profiles", json=PROFILE, headers=csrf)
        assert saved.status_code == 201, saved.text
        assert transit.calls == ["encrypt_many"]  # six fields, one request to OpenBao
        read = await client.get(f"{RESOURCE}/profiles/me")
        assert {key: read.json()[key] for key in PROFILE} == PROFILE
        assert transit.calls == ["encrypt_many", "decrypt_many"]
        row = await raw_profile(client)
    assert_no_personal_data(row)
    assert row["first_name"].startswith("vault:v1:")
    assert row["dob"].startswith("vault:v1:")


async def _at(url: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def legacy_database(url: str) -> None:
    """A database at 0008 with one active member whose profile is stored in the clear."""
    await upgrade(url, "0008")
    user = await _at(
        url,
        "INSERT INTO users (uid, email, password_hash, state, level)"
        " VALUES ('ID0000000001', 'rosa@example.com', $1, 'active', 1) RETURNING id",
        hash_password(PASSWORD),
    )
    await _at(
        url,
        "INSERT INTO profiles (user_id, first_name, last_name, dob, address, postcode, city,"
        " country, state) VALUES ($1, $2, $3, $4::text::date, $5, $6, $7, $8, 'drafted')",
        user[0]["id"],
        *(PROFILE[k] for k in ("first_name", "last_name", "dob", "address", "postcode", "city")),
        PROFILE["country"],
    )


@pytest.fixture
async def legacy_url(empty_database_url: str) -> str:
    await legacy_database(empty_database_url)
    return empty_database_url


async def test_clear_rows_are_read_until_sealed_then_sealed(
    legacy_url: str, inbox: tuple[Inbox, int], local_keystore: LocalKeyStore
) -> None:
    await upgrade(legacy_url)
    (row,) = await _at(legacy_url, "SELECT * FROM profiles")
    assert (row["sealed"], row["dob"], row["first_name"]) == (False, "1987-03-29", "Ottilie")

    async with identity_api(legacy_url, inbox[1], local_keystore, None) as client:
        login = await client.post(
            f"{IDENTITY}/sessions", json={"email": "rosa@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        before = (await client.get(f"{RESOURCE}/profiles/me")).json()
        engine = create_engine(legacy_url, pool_size=1)
        try:
            assert await seal_clear_profiles(engine, local_keystore) == 1
            assert await seal_clear_profiles(engine, local_keystore) == 0  # nothing left
        finally:
            await engine.dispose()
        after = (await client.get(f"{RESOURCE}/profiles/me")).json()
        row = await raw_profile(client)
    assert {key: before[key] for key in PROFILE} == PROFILE
    assert after == before
    assert row["sealed"] is True
    assert_no_personal_data(row)


async def test_downgrade_below_0012_is_refused_once_rows_are_sealed(
    legacy_url: str, local_keystore: LocalKeyStore
) -> None:
    await upgrade(legacy_url)
    config = alembic_config(legacy_url)

    def downgrade(conn: Connection) -> None:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008")

    engine = create_engine(legacy_url, pool_size=1)
    try:
        async with engine.begin() as conn:  # still clear: the way back is open
            await conn.run_sync(downgrade)
        (row,) = await _at(legacy_url, "SELECT dob FROM profiles")
        assert str(row["dob"]) == PROFILE["dob"]
        await upgrade(legacy_url)
        await seal_clear_profiles(engine, local_keystore)
        with pytest.raises(RuntimeError, match="restore a backup"):
            async with engine.begin() as conn:
                await conn.run_sync(downgrade)
    finally:
        await engine.dispose()
    (row,) = await _at(legacy_url, "SELECT sealed FROM profiles")
    assert row["sealed"] is True  # the refused downgrade changed nothing


def test_db_upgrade_seals_clear_profiles_with_the_configured_key(
    legacy_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys" / "master.key"
    env = {"BURSA_DATABASE_URL": legacy_url, "BURSA_KEY_FILE": str(key_file)}
    done = bursa("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    assert "sealed the personal data of 1 profile" in done.stdout
    again = bursa("db", "upgrade", env=env)
    assert again.returncode == 0, again.stderr
    assert "sealed" not in again.stdout
    (row,) = asyncio.run(_at(legacy_url, "SELECT * FROM profiles"))
    assert_no_personal_data(dict(row))
    opened = asyncio.run(LocalKeyStore(key_file).decrypt("bursa-pii", row["last_name"]))
    assert opened.decode() == PROFILE["last_name"]
