"""Key stores: encrypt and decrypt small secrets (TOTP seeds, API key secrets, wallet keys)
under a named key, without the caller ever holding the key.

* ``TransitKeyStore``: a Vault-compatible transit engine (OpenBao, Vault): keys never
  leave it; Bursa only sees ciphertext (``vault:v1:…``). In production each process logs
  in with its own AppRole, whose policy names what it may encrypt and decrypt
  (``bursa.secrets.policies``).
* ``LocalKeyStore``: the embedded default: AES-256-GCM with a 32-byte key kept in a file
  readable only by its owner (``BURSA_DATA_DIR/keys/master.key``); the key name is bound
  into each ciphertext as associated data, so a value cannot be moved between purposes.
"""

import asyncio
import base64
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import hvac
import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bursa.secrets.errors import KeyStoreError, KeyStoreRefused, VaultAuthError
from bursa.secrets.vault_auth import AppRoleCredentials, AppRoleToken, StaticToken, VaultAuth

__all__ = [
    "KeyStore",
    "KeyStoreError",
    "KeyStoreRefused",
    "LocalKeyStore",
    "TransitKeyStore",
    "VaultAuthError",
]

log = logging.getLogger(__name__)

LOCAL_PREFIX = "local:v1:"


class KeyStore(Protocol):
    async def encrypt(self, key_name: str, plaintext: bytes) -> str: ...

    async def decrypt(self, key_name: str, ciphertext: str) -> bytes: ...

    async def encrypt_many(self, key_name: str, plaintexts: Sequence[bytes]) -> list[str]:
        """Several values under one key in one call (one round trip to a transit engine)."""
        ...

    async def decrypt_many(self, key_name: str, ciphertexts: Sequence[str]) -> list[bytes]: ...


class LocalKeyStore:
    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._aead = AESGCM(self._load_or_create(key_file))

    async def encrypt(self, key_name: str, plaintext: bytes) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext, key_name.encode())
        return LOCAL_PREFIX + base64.b64encode(nonce + sealed).decode()

    async def decrypt(self, key_name: str, ciphertext: str) -> bytes:
        if not ciphertext.startswith(LOCAL_PREFIX):
            raise KeyStoreError("not a local key store ciphertext")
        raw = base64.b64decode(ciphertext[len(LOCAL_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], key_name.encode())
        except InvalidTag as exc:
            raise KeyStoreError(f"ciphertext for {key_name!r} does not verify") from exc

    async def encrypt_many(self, key_name: str, plaintexts: Sequence[bytes]) -> list[str]:
        return [await self.encrypt(key_name, plaintext) for plaintext in plaintexts]

    async def decrypt_many(self, key_name: str, ciphertexts: Sequence[str]) -> list[bytes]:
        return [await self.decrypt(key_name, ciphertext) for ciphertext in ciphertexts]

    @staticmethod
    def _load_or_create(path: Path) -> bytes:
        if path.exists():
            if path.stat().st_mode & 0o077:
                raise KeyStoreError(f"{path} is readable by others: chmod 600 it")
            key = path.read_bytes()
            if len(key) != 32:
                raise KeyStoreError(f"{path} does not hold a 32-byte key")
            return key
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key)
        return key


class TransitKeyStore:
    """A transit secrets engine at ``url``.

    ``auth`` is a static token (development; keys are created on first use) or a
    ``VaultAuth`` such as an AppRole login (production; keys are made beforehand by
    ``bursa secrets setup``, as a role's policy may only use them). A refusal by the
    policy raises ``KeyStoreRefused``; a token the server no longer accepts is replaced
    by a new login and the call tried once more."""

    def __init__(
        self,
        url: str,
        auth: "str | VaultAuth",
        *,
        mount: str = "transit",
        create_keys: bool | None = None,
    ) -> None:
        self.client = hvac.Client(url=url, timeout=10)
        self.auth: VaultAuth = StaticToken(self.client, auth) if isinstance(auth, str) else auth
        self.mount = mount
        self.create_keys = isinstance(auth, str) if create_keys is None else create_keys
        self._known: set[str] = set()

    @classmethod
    def with_approle(
        cls,
        url: str,
        credentials: AppRoleCredentials,
        *,
        mount: str = "transit",
        approle_mount: str = "approle",
    ) -> "TransitKeyStore":
        """A store whose process logs in with AppRole (lazily, on its first use)."""
        store = cls(url, "", mount=mount, create_keys=False)
        store.auth = AppRoleToken(store.client, credentials, mount=approle_mount)
        return store

    async def encrypt(self, key_name: str, plaintext: bytes) -> str:
        return await asyncio.to_thread(self._encrypt, key_name, plaintext)

    async def decrypt(self, key_name: str, ciphertext: str) -> bytes:
        return await asyncio.to_thread(self._decrypt, key_name, ciphertext)

    async def encrypt_many(self, key_name: str, plaintexts: Sequence[bytes]) -> list[str]:
        if not plaintexts:
            return []
        return await asyncio.to_thread(self._encrypt_many, key_name, plaintexts)

    async def decrypt_many(self, key_name: str, ciphertexts: Sequence[str]) -> list[bytes]:
        if not ciphertexts:
            return []
        return await asyncio.to_thread(self._decrypt_many, key_name, ciphertexts)

    def close(self) -> None:
        """Stop renewing the token and give it back."""
        self.auth.close()

    def _encrypt_many(self, key_name: str, plaintexts: Sequence[bytes]) -> list[str]:
        self._ensure_key(key_name)
        batch = [{"plaintext": base64.b64encode(p).decode()} for p in plaintexts]
        call = self.client.secrets.transit.encrypt_data
        results = self._batch("encrypt", key_name, call, batch)
        return [str(item["ciphertext"]) for item in results]

    def _decrypt_many(self, key_name: str, ciphertexts: Sequence[str]) -> list[bytes]:
        batch = [{"ciphertext": c} for c in ciphertexts]
        call = self.client.secrets.transit.decrypt_data
        results = self._batch("decrypt", key_name, call, batch)
        return [base64.b64decode(item["plaintext"]) for item in results]

    def _batch(
        self, what: str, key_name: str, call: Any, batch: list[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """One transit request for the whole batch; any item's error fails all of it."""
        answer = self._call(
            what, key_name, lambda: call(name=key_name, batch_input=batch, mount_point=self.mount)
        )
        results: list[dict[str, Any]] = answer["data"]["batch_results"]
        if len(results) != len(batch) or any(item.get("error") for item in results):
            raise KeyStoreError(f"transit {what} with {key_name!r} failed for an item")
        return results

    def _encrypt(self, key_name: str, plaintext: bytes) -> str:
        self._ensure_key(key_name)
        encoded = base64.b64encode(plaintext).decode()
        answer = self._call(
            "encrypt",
            key_name,
            lambda: self.client.secrets.transit.encrypt_data(
                name=key_name, plaintext=encoded, mount_point=self.mount
            ),
        )
        return str(answer["data"]["ciphertext"])

    def _decrypt(self, key_name: str, ciphertext: str) -> bytes:
        answer = self._call(
            "decrypt",
            key_name,
            lambda: self.client.secrets.transit.decrypt_data(
                name=key_name, ciphertext=ciphertext, mount_point=self.mount
            ),
        )
        return base64.b64decode(answer["data"]["plaintext"])

    def _call(self, what: str, key_name: str, request: Callable[[], Any]) -> Any:
        """``request`` with a fresh token; errors as ``KeyStoreError``, without secrets."""
        self.auth.ensure()
        try:
            try:
                return request()
            except hvac.exceptions.Forbidden:
                if self.auth.still_valid():
                    raise KeyStoreRefused(
                        f"the key store refused transit {what} with {key_name!r}: this"
                        " process's policy does not allow it, or the key does not exist"
                        " (403; see deploy/openbao)"
                    ) from None
                log.info("the key store no longer accepts the token: logging in again")
                self.auth.login_again()
                return request()
        except hvac.exceptions.Forbidden:
            raise KeyStoreRefused(
                f"the key store refused transit {what} with {key_name!r} (403)"
            ) from None
        except hvac.exceptions.VaultError as exc:
            raise KeyStoreError(
                f"transit {what} with {key_name!r} failed: {type(exc).__name__}"
            ) from None
        except requests.RequestException as exc:
            raise KeyStoreError(
                f"transit {what} with {key_name!r}: the key store cannot be reached"
                f" ({type(exc).__name__})"
            ) from None

    def _ensure_key(self, key_name: str) -> None:
        if not self.create_keys or key_name in self._known:
            return
        self.auth.ensure()
        try:
            self.client.secrets.transit.read_key(name=key_name, mount_point=self.mount)
        except hvac.exceptions.InvalidPath:
            self.client.secrets.transit.create_key(name=key_name, mount_point=self.mount)
        except hvac.exceptions.VaultError as exc:
            raise KeyStoreError(f"transit key {key_name!r}: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise KeyStoreError(
                f"transit key {key_name!r}: the key store cannot be reached ({type(exc).__name__})"
            ) from None
        self._known.add(key_name)
