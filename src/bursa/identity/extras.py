"""What Barong's ``UserWithFullInfo`` shows beyond the user row and its labels: phones
(masked), profiles and data storages. Loaded only where a full user is presented, never
on the authentication path of every request."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.identity import pii
from bursa.identity.tables import data_storages, phones, profiles
from bursa.secrets.keystore import KeyStore

PROFILE_COLUMNS = (
    "first_name",
    "last_name",
    "dob",
    "address",
    "postcode",
    "city",
    "country",
    "metadata",
    "state",
    "created_at",
    "updated_at",
)


async def of_user(
    conn: AsyncConnection, keystore: KeyStore, user_id: int
) -> dict[str, list[dict[str, Any]]]:
    """Phones masked, profiles opened by the key store (one call per profile)."""
    found_phones = await conn.execute(
        select(phones.c.masked, phones.c.country, phones.c.validated_at)
        .where(phones.c.user_id == user_id)
        .order_by(phones.c.id)
    )
    found_profiles = await conn.execute(
        select(*(profiles.c[name] for name in PROFILE_COLUMNS), profiles.c.sealed)
        .where(profiles.c.user_id == user_id)
        .order_by(profiles.c.id)
    )
    found_storages = await conn.execute(
        select(
            data_storages.c.title,
            data_storages.c.data,
            data_storages.c.created_at,
            data_storages.c.updated_at,
        )
        .where(data_storages.c.user_id == user_id)
        .order_by(data_storages.c.id)
    )
    return {
        "phones": [
            {"country": r.country, "number": r.masked, "validated_at": r.validated_at}
            for r in found_phones
        ],
        "profiles": [
            {
                name: value
                for name, value in (await pii.opened(keystore, dict(r))).items()
                if name != "sealed"
            }
            for r in found_profiles.mappings()
        ],
        "data_storages": [dict(r) for r in found_storages.mappings()],
    }
