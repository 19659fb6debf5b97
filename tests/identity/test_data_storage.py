"""Data storages: a JSON object of at most 5 KB under an allowed title, once per title,
shown in ``users/me``; anything else is refused with its own code and stores nothing."""

import json

import httpx
import pytest

from bursa.config.settings import Settings
from bursa.identity.data_storage import allowed_titles
from tests.identity.test_authz import logged_in
from tests.identity.test_identity_api import (  # noqa: F401 - fixtures
    RESOURCE,
    api,
    inbox,
    sign_up,
    sql,
)

URL = f"{RESOURCE}/data_storage"


def object_of_size(size: int) -> str:
    text = json.dumps({"note": "x" * (size - len('{"note": ""}'))})
    assert len(text.encode()) == size
    return text


async def test_data_storage(api: httpx.AsyncClient) -> None:
    csrf = {"X-CSRF-Token": (await sign_up(api, "vera@example.com"))["csrf_token"]}
    personal = json.dumps({"occupation": "engineer", "income": "50-100k"})

    for body, code in (
        ({"title": "user", "data": personal}, "resource.data_storage.invalid_title"),
        ({"title": "profile", "data": personal}, "resource.data_storage.invalid_title"),
        ({"title": "diary", "data": personal}, "resource.data_storage.invalid_title"),
        ({"title": "personal", "data": "not json"}, "resource.data_storage.invalid_data"),
        ({"title": "personal", "data": "[1, 2]"}, "resource.data_storage.invalid_data"),
        (
            {"title": "personal", "data": object_of_size(5121)},
            "resource.data_storage.data_too_long",
        ),
    ):
        refused = await api.post(URL, json=body, headers=csrf)
        assert refused.status_code == 422, body
        assert refused.json() == {"errors": [code]}, body
    missing = await api.post(URL, json={"title": "personal"}, headers=csrf)
    assert missing.status_code == 422
    no_csrf = await api.post(URL, json={"title": "personal", "data": personal})
    assert no_csrf.json() == {"errors": ["authz.missing_csrf_token"]}
    assert await sql(api, "SELECT 1 FROM data_storages") == []

    created = await api.post(URL, json={"title": "Personal", "data": personal}, headers=csrf)
    assert created.status_code == 201, created.text
    assert (created.json()["title"], created.json()["data"]) == ("personal", personal)
    twice = await api.post(URL, json={"title": "personal", "data": "{}"}, headers=csrf)
    assert twice.status_code == 409
    assert twice.json() == {"errors": ["resource.data_storage.already_exists"]}
    largest = object_of_size(5120)
    company = await api.post(URL, json={"title": "company", "data": largest}, headers=csrf)
    assert company.status_code == 201, company.text

    me = (await api.get(f"{RESOURCE}/users/me")).json()
    assert [(s["title"], s["data"]) for s in me["data_storages"]] == [
        ("personal", personal),
        ("company", largest),
    ]
    assert {"created_at", "updated_at"} <= me["data_storages"][0].keys()


def test_titles_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BURSA_USER_STORAGE_TITLES", "Personal, source_of_funds")
    assert Settings().user_storage_titles == ["personal", "source_of_funds"]
    monkeypatch.setenv("BURSA_USER_STORAGE_TITLES", "personal,phone")
    with pytest.raises(ValueError, match="'phone' is reserved"):
        Settings()
    monkeypatch.delenv("BURSA_USER_STORAGE_TITLES")
    assert Settings().user_storage_titles == ["personal", "company"]
    with pytest.raises(ValueError, match="forbidden titles: label"):
        allowed_titles(["label", "company"])


async def test_admin_deletes_a_data_storage_so_the_member_can_file_it_again(
    api: httpx.AsyncClient,
) -> None:
    member = await sign_up(api, "walt@example.com")
    csrf = {"X-CSRF-Token": member["csrf_token"]}
    filed = await api.post(URL, json={"title": "personal", "data": "{}"}, headers=csrf)
    assert filed.status_code == 201
    admin, admin_csrf = await logged_in(api, "admin", "boss@example.com")
    supporter, support_csrf = await logged_in(api, "support", "help@example.com")
    try:
        target = {"uid": member["uid"], "title": "personal"}
        refused = await supporter.delete(
            "/api/v2/barong/admin/users/data_storage",
            params=target,
            headers={"X-CSRF-Token": support_csrf},
        )
        assert refused.json() == {"errors": ["authz.invalid_permission"]}  # staff read only
        unknown = await admin.delete(
            "/api/v2/barong/admin/users/data_storage",
            params=target | {"title": "company"},
            headers={"X-CSRF-Token": admin_csrf},
        )
        assert unknown.status_code == 404
        assert unknown.json() == {"errors": ["admin.data_storage.doesnt_exist"]}
        deleted = await admin.delete(
            "/api/v2/barong/admin/users/data_storage",
            params=target,
            headers={"X-CSRF-Token": admin_csrf},
        )
        assert deleted.status_code == 204
        again = await api.post(URL, json={"title": "personal", "data": '{"a": 1}'}, headers=csrf)
        assert again.status_code == 201
    finally:
        await admin.aclose()
        await supporter.aclose()
