"""Production secrets against a real OpenBao: AppRole logins, one policy per role, renewed
tokens, and an audit log that records each use without the secret."""

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bursa.cli.main import app
from bursa.config.settings import Settings
from bursa.secrets.configured import keystore_from_settings
from bursa.secrets.errors import KeyStoreError, KeyStoreRefused, VaultAuthError
from bursa.secrets.keystore import TransitKeyStore
from bursa.secrets.policies import ROLES, TRANSIT_KEYS, Use, may, render
from bursa.secrets.provisioning import TokenTerms, issue_credentials, provision
from bursa.secrets.vault_auth import AppRoleCredentials, AppRoleToken
from tests.secrets.bao_server import DEPLOY, Bao, running_bao

SHORT = "approle-short"  # an AppRole mount whose tokens live 2 s, renewed up to 5 s


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bao]:
    """OpenBao with the shipped audit device, set up as `bursa secrets setup` does."""
    with running_bao(tmp_path_factory.mktemp("bao"), audited=True) as server:
        done = provision(server.root())
        assert done.audit_devices == ["bursa-audit/"]
        assert sorted(done.keys_created) == sorted(TRANSIT_KEYS)
        provision(server.root(), terms=TokenTerms(ttl="2s", max_ttl="5s"), approle_mount=SHORT)
        yield server


def store_for(bao: Bao, role: str, *, mount: str = "approle") -> TransitKeyStore:
    role_id, secret_id = issue_credentials(bao.root(), role, approle_mount=mount)
    credentials = AppRoleCredentials(role_id=role_id, secret_id=secret_id)
    return TransitKeyStore.with_approle(bao.url, credentials, approle_mount=mount)


def sealed_by_root(bao: Bao, key: str, plaintext: bytes) -> str:
    answer = bao.root().secrets.transit.encrypt_data(
        name=key, plaintext=base64.b64encode(plaintext).decode()
    )
    return str(answer["data"]["ciphertext"])


async def test_each_role_may_do_exactly_what_its_policy_says(bao: Bao) -> None:
    """Every role against every transit key, both ways: the server enforces the table."""
    sealed = {key: sealed_by_root(bao, key, f"secret of {key}".encode()) for key in TRANSIT_KEYS}
    for role in ROLES:
        store = store_for(bao, role)
        try:
            for key in TRANSIT_KEYS:
                if may(role, key, Use.ENCRYPT):
                    assert (await store.encrypt(key, b"x")).startswith("vault:v1:")
                else:
                    with pytest.raises(KeyStoreRefused):
                        await store.encrypt(key, b"x")
                if may(role, key, Use.DECRYPT):
                    assert await store.decrypt(key, sealed[key]) == f"secret of {key}".encode()
                else:
                    with pytest.raises(KeyStoreRefused):
                        await store.decrypt(key, sealed[key])
        finally:
            store.close()


async def test_the_api_seals_a_wallet_key_only_the_sender_and_sweeper_can_open(bao: Bao) -> None:
    api, sender, sweeper = (store_for(bao, role) for role in ("api", "sender", "sweeper"))
    try:
        private_key = os.urandom(32)
        sealed = await api.encrypt("custody-wallet", private_key)  # a new deposit address
        with pytest.raises(KeyStoreRefused) as refused:
            await api.decrypt("custody-wallet", sealed)
        message = str(refused.value)
        assert "custody-wallet" in message and "403" in message and "policy" in message
        assert await sender.decrypt("custody-wallet", sealed) == private_key
        assert await sweeper.decrypt_many("custody-wallet", [sealed, sealed]) == [private_key] * 2
        # The API still does its own work: TOTP seeds, API key secrets.
        seed = await api.encrypt("bursa-totp", b"JBSWY3DPEHPK3PXP")
        assert await api.decrypt("bursa-totp", seed) == b"JBSWY3DPEHPK3PXP"
        with pytest.raises(KeyStoreRefused):
            await sender.decrypt("bursa-totp", seed)
    finally:
        for store in (api, sender, sweeper):
            store.close()


async def test_the_token_renews_in_the_background_then_logs_in_again_at_its_max_ttl(
    bao: Bao, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    role_id, secret_id = issue_credentials(bao.root(), "sender", approle_mount=SHORT)
    store = TransitKeyStore.with_approle(
        bao.url, AppRoleCredentials(role_id=role_id, secret_id=secret_id), approle_mount=SHORT
    )
    auth = store.auth
    assert isinstance(auth, AppRoleToken)
    sealed = sealed_by_root(bao, "custody-wallet", b"hot wallet key")
    try:
        started = time.monotonic()
        assert await store.decrypt("custody-wallet", sealed) == b"hot wallet key"
        first_token = store.client.token
        assert auth.logins == 1
        await asyncio.sleep(max(0.0, 3.2 - (time.monotonic() - started)))  # past the 2 s TTL, idle
        assert auth.renewals >= 1 and auth.logins == 1
        assert store.client.token == first_token  # renewed, not replaced
        assert await store.decrypt("custody-wallet", sealed) == b"hot wallet key"

        await asyncio.sleep(max(0.0, 6.0 - (time.monotonic() - started)))  # past the 5 s max TTL
        assert auth.logins >= 2
        assert store.client.token != first_token
        assert await store.decrypt("custody-wallet", sealed) == b"hot wallet key"
        with pytest.raises(hvac.exceptions.Forbidden):  # the first token has expired
            bao.root().auth.token.lookup(first_token)
        tokens = (first_token, store.client.token)
    finally:
        store.close()
    logged = caplog.text
    assert "logged in to the key store with AppRole" in logged
    assert all(token and token not in logged for token in tokens)
    assert secret_id not in logged


async def test_a_revoked_token_is_replaced_by_a_new_login(bao: Bao) -> None:
    store = store_for(bao, "api")
    try:
        sealed = await store.encrypt("bursa-api-key", b"api key secret")
        assert store.client.token is not None
        bao.root().auth.token.revoke(store.client.token)
        assert await store.decrypt("bursa-api-key", sealed) == b"api key secret"
        assert isinstance(store.auth, AppRoleToken) and store.auth.logins == 2
    finally:
        store.close()


async def test_a_wrong_secret_id_or_a_missing_file_is_a_clear_error(
    bao: Bao, tmp_path: Path
) -> None:
    role_id, _ = issue_credentials(bao.root(), "api")
    wrong = "0f0e0d0c-0b0a-0908-0706-050403020100"
    store = TransitKeyStore.with_approle(bao.url, AppRoleCredentials(role_id, secret_id=wrong))
    with pytest.raises(VaultAuthError) as refused:
        await store.encrypt("bursa-pii", b"x")
    assert "AppRole login" in str(refused.value)
    assert wrong not in str(refused.value) and role_id not in str(refused.value)
    missing = tmp_path / "secret-id"
    store = TransitKeyStore.with_approle(
        bao.url, AppRoleCredentials(role_id, secret_id_file=missing)
    )
    with pytest.raises(KeyStoreError, match="secret-id"):
        await store.encrypt("bursa-pii", b"x")


async def test_the_audit_log_records_each_use_without_the_secret(bao: Bao) -> None:
    assert bao.audit_log is not None
    api, sender = store_for(bao, "api"), store_for(bao, "sender")
    private_key = b"wallet-key-" + os.urandom(12).hex().encode()
    try:
        sealed = await api.encrypt("custody-wallet", private_key)
        with pytest.raises(KeyStoreRefused):
            await api.decrypt("custody-wallet", sealed)
        assert await sender.decrypt("custody-wallet", sealed) == private_key
        tokens = [api.client.token, sender.client.token]
    finally:
        api.close()
        sender.close()
    raw = bao.audit_log.read_text()
    entries = [json.loads(line) for line in raw.splitlines()]

    def uses(path: str, policy: str) -> list[dict[str, Any]]:
        return [
            e
            for e in entries
            if e["type"] == "response"
            and e["request"]["path"] == path
            and policy in e.get("auth", {}).get("policies", [])
        ]

    assert uses("transit/encrypt/custody-wallet", "bursa-api")
    refused = uses("transit/decrypt/custody-wallet", "bursa-api")
    assert refused and all("permission denied" in str(e.get("error")) for e in refused)
    opened = uses("transit/decrypt/custody-wallet", "bursa-sender")
    assert opened and not any(e.get("error") for e in opened)
    assert any(e["request"]["path"] == "auth/approle/login" for e in entries)
    # The values are there only as HMACs: the secret, its base64, the ciphertext, the
    # tokens and the credentials never appear.
    for secret in (private_key.decode(), base64.b64encode(private_key).decode(), sealed):
        assert secret not in raw
    assert all(token and token not in raw for token in tokens)
    assert str(opened[0]["response"]["data"]["plaintext"]).startswith("hmac-sha256:")


def test_setup_refuses_a_server_without_an_audit_device(tmp_path: Path) -> None:
    with running_bao(tmp_path, audited=False) as server:
        with pytest.raises(KeyStoreError, match="no audit device"):
            provision(server.root())
        assert provision(server.root(), require_audit=False).audit_devices == []


async def test_operator_sets_up_and_hands_a_process_its_credentials(
    bao: Bao, tmp_path: Path
) -> None:
    """`bursa secrets setup` and `credentials`, then a process configured by files."""
    env = {"BURSA_VAULT_URL": bao.url, "BAO_TOKEN": bao.root_token, "COLUMNS": "200"}
    runner = CliRunner()
    setup = runner.invoke(app, ["secrets", "setup"], env=env)
    assert setup.exit_code == 0, setup.output
    assert "bursa-audit/" in setup.output and "bursa-sender" in setup.output
    out = tmp_path / "sender"
    issued = runner.invoke(app, ["secrets", "credentials", "sender", "--out", str(out)], env=env)
    assert issued.exit_code == 0, issued.output
    secret_id = (out / "secret-id").read_text().strip()
    assert secret_id not in issued.output
    assert (out / "secret-id").stat().st_mode & 0o777 == 0o600

    process_env = {
        "BURSA_VAULT_URL": bao.url,
        "BURSA_VAULT_AUTH": "approle",
        "BURSA_VAULT_ROLE_ID_FILE": str(out / "role-id"),
        "BURSA_VAULT_SECRET_ID_FILE": str(out / "secret-id"),
    }
    checked = runner.invoke(app, ["secrets", "check"], env={**process_env, "COLUMNS": "200"})
    assert checked.exit_code == 0, checked.output
    assert "policies: bursa-sender" in checked.output
    settings = Settings(
        vault_url=bao.url,
        vault_auth="approle",
        vault_role_id_file=out / "role-id",
        vault_secret_id_file=out / "secret-id",
    )
    store = keystore_from_settings(settings)
    assert isinstance(store, TransitKeyStore)
    try:
        sealed = sealed_by_root(bao, "custody-wallet", b"k")
        assert await store.decrypt("custody-wallet", sealed) == b"k"
    finally:
        store.close()


def test_approle_settings_need_a_role_id_and_a_secret_id() -> None:
    with pytest.raises(ValueError, match="BURSA_VAULT_SECRET_ID"):
        Settings(vault_url="http://127.0.0.1:8200", vault_auth="approle", vault_role_id="r")
    with pytest.raises(ValueError, match="BURSA_VAULT_ROLE_ID"):
        Settings(
            vault_url="http://127.0.0.1:8200",
            vault_auth="approle",
            vault_secret_id=SecretStr("s"),
        )


def test_the_shipped_policies_are_the_rendered_ones() -> None:
    shipped = {path.stem: path.read_text() for path in (DEPLOY / "policies").glob("*.hcl")}
    assert shipped == {role: render(role) for role in ROLES}, "run `bursa secrets policies`"


def test_the_policies_name_every_key_bursa_uses_and_wallet_keys_open_for_custody_only() -> None:
    from bursa.custody.beneficiaries import DATA_KEY_NAME
    from bursa.custody.registry import NODE_KEY_NAME, WALLET_KEY_NAME
    from bursa.identity.api_keys import API_KEY_SEAL
    from bursa.identity.confirmation_tokens import KEY_NAME
    from bursa.identity.documents import DOCUMENT_KEY
    from bursa.identity.kyc import PHONE_KEY
    from bursa.identity.pii import PII_KEY
    from bursa.identity.service import OTP_KEY

    used = {DATA_KEY_NAME, NODE_KEY_NAME, WALLET_KEY_NAME, API_KEY_SEAL, KEY_NAME}
    used |= {DOCUMENT_KEY, PHONE_KEY, PII_KEY, OTP_KEY}
    assert used == set(TRANSIT_KEYS)
    openers = {role for role in ROLES if may(role, WALLET_KEY_NAME, Use.DECRYPT)}
    assert openers == {"sender", "sweeper", "standalone"}
