"""The API keys of a service account, managed by its owner (Barong's
``resource/service_accounts/api_keys``): the owner's session and 2FA code, as for the
owner's own keys. Someone else's service account is as unknown as a missing one, and a
disabled one gets no new key nor a key switched back on (``resource.service_account.disabled``).
"""

from typing import Any

from bursa.errors import Refusal
from bursa.identity.api_keys import ApiKeys
from bursa.identity.service import Client, IdentityError
from bursa.identity.service_accounts import ServiceAccounts

ACTIVE = "active"


class ServiceAccountKeys:
    def __init__(self, accounts: ServiceAccounts, keys: ApiKeys) -> None:
        self.accounts = accounts
        self.keys = keys

    async def list(self, owner: dict[str, Any], uid: str) -> list[dict[str, Any]]:
        account = await self.accounts.owned(owner["id"], uid)
        return await self.keys.list(owner["id"], account["id"])

    async def create(
        self,
        owner: dict[str, Any],
        uid: str,
        algorithm: str,
        scope: str,
        otp_code: str | None,
        client: Client,
    ) -> dict[str, Any]:
        account = await self._usable(owner, uid)
        return await self.keys.create(
            owner, algorithm, scope, otp_code, client, service_account_id=account["id"]
        )

    async def update(
        self,
        owner: dict[str, Any],
        uid: str,
        kid: str,
        scope: str | None,
        state: str | None,
        otp_code: str | None,
        client: Client,
    ) -> dict[str, Any]:
        if state == ACTIVE:
            account = await self._usable(owner, uid)
        else:
            account = await self.accounts.owned(owner["id"], uid)
        return await self.keys.update(
            owner, kid, scope, state, otp_code, client, service_account_id=account["id"]
        )

    async def delete(
        self, owner: dict[str, Any], uid: str, kid: str, otp_code: str | None, client: Client
    ) -> None:
        account = await self.accounts.owned(owner["id"], uid)
        await self.keys.delete(owner, kid, otp_code, client, service_account_id=account["id"])

    async def _usable(self, owner: dict[str, Any], uid: str) -> dict[str, Any]:
        account = await self.accounts.owned(owner["id"], uid)
        if account["state"] != ACTIVE:
            raise IdentityError(Refusal.INVALID, "resource.service_account.disabled")
        return account
