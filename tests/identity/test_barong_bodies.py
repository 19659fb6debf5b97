"""Barong's writes read one request model however the client sends it — JSON, a form, or
(as Grape did) the query string — except that a password is read from the body only, so it
never reaches an access log in a URL."""

import httpx

from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    IDENTITY,
    PASSWORD,
    RESOURCE,
    api,
    inbox,
    sign_up,
)


async def test_a_write_reads_json_a_form_or_the_query(api: httpx.AsyncClient) -> None:
    user = await sign_up(api, "grace@example.com")
    csrf = {"X-CSRF-Token": user["csrf_token"]}
    labels = f"{RESOURCE}/labels"
    as_json = await api.post(labels, json={"key": "colour", "value": "blue"}, headers=csrf)
    as_form = await api.post(labels, data={"key": "tier", "value": "gold"}, headers=csrf)
    in_query = await api.post(labels, params={"key": "pet", "value": "cat"}, headers=csrf)
    assert [as_json.status_code, as_form.status_code, in_query.status_code] == [201] * 3
    assert {(r.json()["key"], r.json()["value"]) for r in (as_json, as_form, in_query)} == {
        ("colour", "blue"),
        ("tier", "gold"),
        ("pet", "cat"),
    }


async def test_a_password_is_read_from_the_body_only(api: httpx.AsyncClient) -> None:
    await sign_up(api, "heidi@example.com")
    api.cookies.clear()
    sessions = f"{IDENTITY}/sessions"
    in_query = await api.post(sessions, params={"email": "heidi@example.com", "password": PASSWORD})
    assert in_query.status_code == 422
    # A write that reads only its body takes nothing from the query: each is named.
    assert in_query.json() == {
        "errors": [
            "server.request.unknown_parameter.email",
            "server.request.unknown_parameter.password",
        ]
    }
    as_form = await api.post(sessions, data={"email": "heidi@example.com", "password": PASSWORD})
    assert as_form.status_code == 200, as_form.text
    assert as_form.json()["email"] == "heidi@example.com"


async def test_a_confirmation_must_match_whatever_else_is_wrong(api: httpx.AsyncClient) -> None:
    user = await sign_up(api, "ivan@example.com")
    change = await api.put(
        f"{RESOURCE}/users/password",
        json={"old_password": PASSWORD, "new_password": "A-new-one!2027", "confirm_password": "x"},
        headers={"X-CSRF-Token": user["csrf_token"]},
    )
    assert change.json() == {"errors": ["resource.password.doesnt_match"]}
    missing = await api.put(
        f"{RESOURCE}/users/password",
        json={"old_password": PASSWORD, "new_password": "A-new-one!2027"},
        headers={"X-CSRF-Token": user["csrf_token"]},
    )
    assert missing.json() == {"errors": ["server.request.invalid_parameter"]}
