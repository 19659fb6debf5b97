"""How a process proves itself to OpenBao/Vault: a static token (development) or an
AppRole login whose token is renewed before it expires (production).

An AppRole token is renewed at two thirds of its TTL, by a background thread and before
any call that finds it due; when renewal is refused (the token was revoked, or reached
its max TTL) the process logs in again with its role id and secret id. Neither the token
nor the secret id is ever logged or put in an error message.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import hvac
import requests

from bursa.secrets.errors import VaultAuthError

log = logging.getLogger(__name__)

RENEW_AT = 2 / 3  # of a token's TTL: early enough to survive a slow or failed renewal
RETRY_S = 5.0  # between tries while the key store cannot be reached


class VaultAuth(Protocol):
    """Keeps ``client.token`` valid."""

    def ensure(self) -> None:
        """Make sure the client's token is usable now (renew or log in if due)."""
        ...

    def still_valid(self) -> bool:
        """Whether the server still accepts the token (to tell a policy's refusal from a
        revoked token)."""
        ...

    def login_again(self) -> None:
        """Replace a token the server no longer accepts; raises if this auth cannot."""
        ...

    def close(self) -> None: ...


def _token_alive(client: hvac.Client) -> bool:
    try:
        client.auth.token.lookup_self()
    except hvac.exceptions.VaultError:
        return False
    return True


class StaticToken:
    """A token given by the operator (``BURSA_VAULT_TOKEN``): for development only, as it
    is never renewed and cannot be replaced once it expires."""

    def __init__(self, client: hvac.Client, token: str) -> None:
        self.client = client
        client.token = token

    def ensure(self) -> None:
        return None

    def still_valid(self) -> bool:
        return _token_alive(self.client)

    def login_again(self) -> None:
        raise VaultAuthError("the key store no longer accepts BURSA_VAULT_TOKEN")

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class AppRoleCredentials:
    """Where the role id and secret id come from: a value, or a file read again at each
    login (so an orchestrator may rotate the secret id without a restart)."""

    role_id: str | None = None
    role_id_file: Path | None = None
    secret_id: str | None = None
    secret_id_file: Path | None = None

    def __repr__(self) -> str:  # never the secret id, even in a traceback
        return f"AppRoleCredentials(role_id_file={self.role_id_file!r}, ...)"

    def read(self) -> tuple[str, str]:
        return (
            _value_or_file("role id", self.role_id, self.role_id_file),
            _value_or_file("secret id", self.secret_id, self.secret_id_file),
        )


def _value_or_file(what: str, value: str | None, path: Path | None) -> str:
    if value is not None:
        return value
    if path is None:
        raise VaultAuthError(f"no AppRole {what} is configured")
    try:
        found = path.read_text().strip()
    except OSError as exc:
        raise VaultAuthError(
            f"cannot read the AppRole {what} from {path}: {exc.strerror}"
        ) from None
    if not found:
        raise VaultAuthError(f"{path} (the AppRole {what}) is empty")
    return found


class AppRoleToken:
    """A token from an AppRole login, kept fresh (see the module's docstring).

    ``logins`` and ``renewals`` count what happened, for tests and metrics."""

    def __init__(
        self,
        client: hvac.Client,
        credentials: AppRoleCredentials,
        *,
        mount: str = "approle",
        clock: Callable[[], float] = time.monotonic,
        retry_s: float = RETRY_S,
    ) -> None:
        self.client = client
        self.credentials = credentials
        self.mount = mount
        self.clock = clock
        self.retry_s = retry_s
        self.logins = 0
        self.renewals = 0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._renewer: threading.Thread | None = None
        self._ttl = 0.0  # what the role grants per login or renewal
        self._expires_at = 0.0
        self._renew_at = 0.0
        self._last_renewal = False  # the max TTL is near: the next refresh logs in

    def ensure(self) -> None:
        self._refresh_if_due()
        self._start_renewer()

    def still_valid(self) -> bool:
        return _token_alive(self.client)

    def login_again(self) -> None:
        with self._lock:
            self._login(self.clock())

    def close(self) -> None:
        """Stop renewing and revoke the token (best effort: it expires anyway)."""
        self._stopping.set()
        renewer, self._renewer = self._renewer, None
        if renewer is not None and renewer is not threading.current_thread():
            renewer.join(timeout=5)
        with self._lock:
            if self.client.token:
                with contextlib.suppress(hvac.exceptions.VaultError, requests.RequestException):
                    self.client.auth.token.revoke_self()
                self.client.token = None
            self._expires_at = 0.0

    def _refresh_if_due(self) -> None:
        with self._lock:
            now = self.clock()
            if now >= self._expires_at:
                self._login(now)
            elif now >= self._renew_at:
                self._renew_or_login(now)

    def _login(self, now: float) -> None:
        role_id, secret_id = self.credentials.read()
        try:
            answer = self.client.auth.approle.login(
                role_id=role_id, secret_id=secret_id, mount_point=self.mount, use_token=True
            )
        except hvac.exceptions.VaultError as exc:
            raise VaultAuthError(
                f"AppRole login at {self.mount!r} refused ({type(exc).__name__}):"
                " check the role id and secret id"
            ) from None
        except requests.RequestException as exc:
            raise VaultAuthError(f"the key store cannot be reached: {type(exc).__name__}") from None
        auth: dict[str, Any] = answer["auth"]
        self._ttl = float(auth["lease_duration"])
        self._last_renewal = not auth.get("renewable", False)
        self._schedule(now, self._ttl)
        self.logins += 1
        log.info(
            "logged in to the key store with AppRole: token valid %d s, %s",
            self._ttl,
            "not renewable" if self._last_renewal else "renewed at 2/3 of that",
        )

    def _renew_or_login(self, now: float) -> None:
        if self._last_renewal:
            self._login(now)
            return
        try:
            answer = self.client.auth.token.renew_self()
        except hvac.exceptions.VaultError as exc:
            log.info(
                "the key store refused to renew the token (%s): logging in again",
                type(exc).__name__,
            )
            self._login(now)
            return
        except requests.RequestException as exc:
            raise VaultAuthError(f"the key store cannot be reached: {type(exc).__name__}") from None
        granted = float(answer["auth"]["lease_duration"])
        # Less than a full TTL: capped by the token's max TTL, so log in when it is due.
        self._last_renewal = granted < self._ttl
        self._schedule(now, granted)
        self.renewals += 1
        log.debug("renewed the key store token: valid %d s", granted)

    def _schedule(self, now: float, lease: float) -> None:
        self._expires_at = now + lease
        self._renew_at = now + lease * RENEW_AT

    def _start_renewer(self) -> None:
        with self._lock:
            if self._renewer is not None or self._stopping.is_set():
                return
            self._renewer = threading.Thread(
                target=self._renew_until_closed, name="bursa-vault-renewer", daemon=True
            )
            self._renewer.start()

    def _renew_until_closed(self) -> None:
        failing = False
        while True:
            with self._lock:
                wait = max(0.05, self._renew_at - self.clock())
            if self._stopping.wait(self.retry_s if failing else wait):
                return
            try:
                self._refresh_if_due()
            except VaultAuthError as exc:
                if not failing:  # one line per change of state, not one per try
                    log.warning("cannot keep the key store token fresh: %s", exc)
                failing = True
            else:
                if failing:
                    log.info("the key store token is fresh again")
                failing = False
