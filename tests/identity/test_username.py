"""Usernames at sign-up (4-12 letters or digits, unique whatever the case), in
``users/me``, events and the gateway's JWT; ``users/me`` and login show the member's
phones and profile."""

import httpx

from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    RESOURCE,
    Inbox,
    api,
    inbox,
    outbox_events,
    sql,
)
from tests.identity.test_kyc import confirmed_member


async def test_username_at_sign_up(api: httpx.AsyncClient) -> None:
    seen = len(await outbox_events(api))
    created = await api.post(
        f"{IDENTITY}/users",
        json={"email": "xena@example.com", "password": PASSWORD, "username": "Xena2049"},
    )
    assert created.status_code == 201, created.text
    event = (await outbox_events(api))[seen]  # model.user.created comes first
    assert created.json()["username"] == "xena2049"
    assert (event["name"], event["record"]["username"]) == ("model.user.created", "xena2049")
    assert (await api.get(f"{RESOURCE}/users/me")).json()["username"] == "xena2049"

    signer = api._transport.app.state.authorizer.signer  # type: ignore[attr-defined]
    authorized = await api.get("/api/v2/auth/api/v2/peatio/account/balances")
    assert authorized.status_code == 200, authorized.text
    claims = signer.verify(authorized.headers["Authorization"].removeprefix("Bearer "))
    assert claims["username"] == "xena2049"

    api.cookies.clear()
    for username, code in (
        ("XENA2049", "username.taken"),
        ("xen", "username.invalid"),
        ("xena_2049", "username.invalid"),
        ("thirteen12345", "username.invalid"),
        ("", "username.invalid"),
    ):
        refused = await api.post(
            f"{IDENTITY}/users",
            json={"email": "yuri@example.com", "password": PASSWORD, "username": username},
        )
        assert refused.status_code == 422, username
        assert refused.json() == {"errors": [code]}, username
    assert [r["email"] for r in await sql(api, "SELECT email FROM users")] == ["xena@example.com"]
    without = await api.post(
        f"{IDENTITY}/users", json={"email": "yuri@example.com", "password": PASSWORD}
    )
    assert without.status_code == 201
    assert without.json()["username"] is None


async def test_full_info_shows_phones_and_profiles(
    api: httpx.AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    csrf = await confirmed_member(api, inbox[0], "zoe@example.com")
    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert (me["phones"], me["profiles"], me["data_storages"]) == ([], [], [])
    added = await api.post(
        f"{RESOURCE}/phones", json={"phone_number": "+44 7700 900456"}, headers=csrf
    )
    assert added.status_code == 201, added.text
    saved = await api.post(
        f"{RESOURCE}/profiles", json={"first_name": "Zoe", "country": "GB"}, headers=csrf
    )
    assert saved.status_code == 201, saved.text

    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert [(p["number"], p["validated_at"]) for p in me["phones"]] == [("+44********56", None)]
    assert [(p["first_name"], p["country"], p["state"]) for p in me["profiles"]] == [
        ("Zoe", "GB", "drafted")
    ]
    assert "7700900456" not in repr(me)
    login = await api.post(
        f"{IDENTITY}/sessions", json={"email": "zoe@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert [p["number"] for p in login.json()["phones"]] == ["+44********56"]
    assert [p["first_name"] for p in login.json()["profiles"]] == ["Zoe"]
