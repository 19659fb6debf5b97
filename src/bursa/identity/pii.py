"""Profiles' personal data at rest.

Names, date of birth, address, postcode and city are sealed by the key store under
``bursa-pii`` (the key that seals phone and document numbers), all of a profile's fields
in one key store call: with a transit engine each call is a round trip. ``country`` stays
clear: country restrictions and admin filters need it, and on its own it identifies nobody.
Values are opened only to present a profile to its owner or an admin.

Rows written before migration 0012 are clear (``sealed`` false): they are read as they are
until ``seal_clear_profiles`` seals them, which ``bursa db upgrade`` and ``bursa up`` run
after migrating.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bursa.identity.tables import profiles
from bursa.secrets.keystore import KeyStore

PII_KEY = "bursa-pii"
SEALED_FIELDS = ("first_name", "last_name", "dob", "address", "postcode", "city")
SEAL_BATCH = 200  # profiles sealed per transaction (and per key store call)


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _value(name: str, text: str) -> object:
    return date.fromisoformat(text) if name == "dob" else text


async def seal(keystore: KeyStore, fields: Mapping[str, Any]) -> dict[str, str | None]:
    """The sealed columns for ``fields`` (a missing or None field stays NULL)."""
    present = [name for name in SEALED_FIELDS if fields.get(name) is not None]
    sealed = await keystore.encrypt_many(PII_KEY, [_text(fields[n]).encode() for n in present])
    return dict.fromkeys(SEALED_FIELDS) | dict(zip(present, sealed, strict=True))


async def opened(keystore: KeyStore, row: Mapping[str, Any]) -> dict[str, Any]:
    """The profile row with its personal data in the clear (``dob`` a date)."""
    present = [name for name in SEALED_FIELDS if row[name] is not None]
    if row["sealed"]:
        plain = await keystore.decrypt_many(PII_KEY, [row[name] for name in present])
        texts = [p.decode() for p in plain]
    else:
        texts = [row[name] for name in present]
    return dict(row) | {n: _value(n, t) for n, t in zip(present, texts, strict=True)}


async def has_clear_profiles(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return bool(await conn.scalar(select(exists().where(profiles.c.sealed.is_(False)))))


async def seal_clear_profiles(engine: AsyncEngine, keystore: KeyStore) -> int:
    """Seal every profile still in the clear; answers how many. Safe to run again, and
    beside the API or another run: rows are taken with ``FOR UPDATE SKIP LOCKED`` and only
    while still clear. Each batch commits, so an interrupted run keeps what it sealed."""
    total = 0
    while True:
        async with engine.begin() as conn:
            rows = (
                (
                    await conn.execute(
                        select(profiles.c.id, *(profiles.c[n] for n in SEALED_FIELDS))
                        .where(profiles.c.sealed.is_(False))
                        .order_by(profiles.c.id)
                        .limit(SEAL_BATCH)
                        .with_for_update(skip_locked=True)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return total
            cells = [(row["id"], n) for row in rows for n in SEALED_FIELDS if row[n] is not None]
            clear = {row["id"]: row for row in rows}
            sealed = await keystore.encrypt_many(
                PII_KEY, [clear[row_id][name].encode() for row_id, name in cells]
            )
            values: dict[int, dict[str, str | None]] = {
                row["id"]: dict.fromkeys(SEALED_FIELDS) for row in rows
            }
            for (row_id, name), ciphertext in zip(cells, sealed, strict=True):
                values[row_id][name] = ciphertext
            for row_id, columns in values.items():
                await conn.execute(
                    update(profiles)
                    .where(profiles.c.id == row_id, profiles.c.sealed.is_(False))
                    .values(**columns, sealed=True)
                )
            total += len(rows)
