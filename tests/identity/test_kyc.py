"""KYC over HTTP: phone verification by SMS code (level 2) and the profile for review."""

import re
from typing import Any

import httpx
import pytest

from bursa.identity.kyc import country_of, normalize_number
from bursa.identity.service import IdentityError
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    RESOURCE,
    Inbox,
    api,
    inbox,
    sign_up,
    sql,
)


async def confirmed_member(client: httpx.AsyncClient, mails: Inbox, email: str) -> dict[str, str]:
    await sign_up(client, email)
    (code,) = await mails.wait_for(email)
    confirmed = await client.post(
        f"{IDENTITY}/users/email/confirm_code", json={"email": email, "token": code}
    )
    assert confirmed.json()["level"] == 1
    return {"X-CSRF-Token": confirmed.json()["csrf_token"]}


async def test_phone_verification_raises_the_level(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    csrf = await confirmed_member(api, inbox[0], "uma@example.com")
    texts: Any = api._transport.app.state.kyc.sms  # type: ignore[attr-defined]
    invalid = await api.post(f"{RESOURCE}/phones", json={"phone_number": "12ab"}, headers=csrf)
    assert invalid.json() == {"errors": ["resource.phone.invalid_num"]}
    added = await api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+44 7700 900123"}, headers=csrf
    )
    assert added.status_code == 201, added.text
    assert added.json() == {"number": "+44********23"}
    ((number, text),) = texts.sent
    assert number == "447700900123"
    code = re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]
    stored = (await sql(api, "SELECT number, masked FROM phones"))[0]
    assert "7700900123" not in stored["number"]

    wrong = f"{(int(code) + 1) % 10**6:06d}"
    bad = await api.post(
        f"{RESOURCE}/phones/verify",
        json={"phone_number": "+447700900123", "verification_code": wrong},
        headers=csrf,
    )
    assert bad.json() == {"errors": ["identity.user.invalid_code"]}
    other = await api.post(
        f"{RESOURCE}/phones/verify",
        json={"phone_number": "+15550001111", "verification_code": code},
        headers=csrf,
    )
    assert other.json() == {"errors": ["resource.phone.doesnt_exist"]}
    good = await api.post(
        f"{RESOURCE}/phones/verify",
        json={"phone_number": "0044 7700 900123", "verification_code": code},
        headers=csrf,
    )
    assert good.status_code == 201, good.text
    assert good.json()["level"] == 2
    phones = (await api.get(f"{RESOURCE}/phones")).json()
    assert phones[0]["number"] == "+44********23"
    assert phones[0]["country"] == "GB"
    assert phones[0]["validated_at"] is not None


async def test_profile_draft_then_submit(api: httpx.AsyncClient, inbox: tuple[Inbox, int]) -> None:
    csrf = await confirmed_member(api, inbox[0], "vic@example.com")
    assert (await api.get(f"{RESOURCE}/profiles/me")).status_code == 404
    draft = await api.post(
        f"{RESOURCE}/profiles",
        json={"first_name": "Vic", "last_name": "Stone", "country": "de"},
        headers=csrf,
    )
    assert draft.status_code == 201, draft.text
    assert (draft.json()["state"], draft.json()["country"]) == ("drafted", "DE")
    future = await api.put(f"{RESOURCE}/profiles", json={"dob": "2999-01-01"}, headers=csrf)
    assert future.json() == {"errors": ["resource.profile.invalid_dob"]}
    country = await api.put(f"{RESOURCE}/profiles", json={"country": "D1"}, headers=csrf)
    assert country.json() == {"errors": ["resource.profile.invalid_country"]}
    submitted = await api.put(
        f"{RESOURCE}/profiles",
        json={
            "first_name": "Vic",
            "last_name": "Stone",
            "dob": "1990-05-17",
            "address": "1 Main St",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DEU",
            "confirm": True,
        },
        headers=csrf,
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert ("profile", "submitted") in {(label["key"], label["value"]) for label in me["labels"]}
    locked = await api.put(f"{RESOURCE}/profiles", json={"city": "Bonn"}, headers=csrf)
    assert locked.json() == {"errors": ["resource.profile.already_submitted"]}
    assert (await api.get(f"{RESOURCE}/profiles/me")).json()["city"] == "Berlin"


def test_numbers_are_normalized_by_libphonenumber() -> None:
    assert normalize_number("0049 151 1234 5678") == "4915112345678"
    assert normalize_number("+1 (202) 555-0143") == "12025550143"
    assert country_of("4915112345678") == "DE"
    assert country_of("12025550143") == "US"
    for bad in ("+123", "+44 12", "call me", "+" + "9" * 20):
        with pytest.raises(IdentityError) as refused:
            normalize_number(bad)
        assert refused.value.code == "resource.phone.invalid_num"
