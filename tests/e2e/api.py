"""What the browser tests do over the running server's HTTP API rather than a page: sign
members up and admins in, and fund members by an adjustment (one admin proposes, another
accepts)."""

from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.server import Mail

IDENTITY = "/api/v2/barong/identity"
ADMIN = "/api/v2/peatio/admin"
PUBLIC = "/api/v2/peatio/public"
PASSWORD = "Tr4de-Night!Owl"  # passes the sign-up policy
CONFIRMATION_CODE = r"Your confirmation code is (\d{6})"
BENEFICIARY_CODE = r"Your beneficiary activation code is (\d{6})"
# Peatio's account codes of a coin: the asset (102) and the member's main account (202).
COIN_ASSET, COIN_MAIN = 102, 202


@dataclass
class Caller:
    """A signed-in user of the API: a session cookie and its CSRF token."""

    client: httpx.Client
    uid: str
    email: str
    csrf: str

    def get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf})
        assert answer.status_code in (200, 201), f"{path}: {answer.status_code} {answer.text}"
        return answer.json()


def new_client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"User-Agent": "bursa-e2e/1.0"}, timeout=10)


def sign_in(base_url: str, email: str, password: str = PASSWORD) -> Caller:
    client = new_client(base_url)
    answer = client.post(f"{IDENTITY}/sessions", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    user = answer.json()
    return Caller(client, user["uid"], email, user["csrf_token"])


def sign_up(base_url: str, mail: Mail, email: str) -> Caller:
    """A member who signed up and typed the mailed code (which signs them in)."""
    client = new_client(base_url)
    created = client.post(f"{IDENTITY}/users", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    confirmed = client.post(
        f"{IDENTITY}/users/email/confirm_code",
        json={"email": email, "token": mail.code(email, CONFIRMATION_CODE)},
    )
    assert confirmed.status_code == 201, confirmed.text
    user = confirmed.json()
    return Caller(client, user["uid"], email, user["csrf_token"])


@dataclass
class Admins:
    """Two admins: adjustments are maker/checker, the proposer may not accept."""

    maker: Caller
    checker: Caller

    def fund(self, uid: str, currency: str, amount: str) -> None:
        proposed = self.maker.post(
            f"{ADMIN}/adjustments/new",
            {
                "reason": "Opening balance",
                "description": "Funds for the browser tests",
                "category": "investment",
                "amount": amount,
                "currency_id": currency,
                "asset_account_code": COIN_ASSET,
                "receiving_account_code": COIN_MAIN,
                "receiving_member_uid": uid,
            },
        )
        accepted = self.checker.post(
            f"{ADMIN}/adjustments/action", {"id": proposed["id"], "action": "accept"}
        )
        assert accepted["state"] == "accepted", accepted
