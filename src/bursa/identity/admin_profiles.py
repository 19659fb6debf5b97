"""An admin enters a member's KYC profile (Barong's admin ``POST profiles``): it is saved
submitted, as if the member had confirmed it, with the admin as its author, so that another
admin verifies it (``ProfileReview``: ``admin.profiles.second_admin_approval``).

Staff act only below their rank (``Identity.subordinate``); a profile already submitted or
verified is not replaced (``admin.profiles.already_submitted``). The saving itself is
``Kyc.save_profile``'s: personal fields sealed, the event, the member's activity.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bursa.errors import Refusal
from bursa.identity.kyc import EDITABLE_PROFILE_STATES, Kyc
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import profiles
from bursa.identity.user_admin import ADMIN_TOPIC


class AdminProfiles:
    def __init__(self, identity: Identity, kyc: Kyc) -> None:
        self.identity = identity
        self.kyc = kyc

    async def create(
        self, admin: Mapping[str, Any], uid: str, fields: dict[str, Any], client: Client
    ) -> dict[str, Any]:
        """The member's profile, submitted for review, with ``uid``."""
        identity = self.identity
        async with identity.transaction() as conn:
            user_id = await identity.subordinate(conn, admin, uid)
            state = await conn.scalar(select(profiles.c.state).where(profiles.c.user_id == user_id))
            if state is not None and state not in EDITABLE_PROFILE_STATES:
                raise IdentityError(Refusal.INVALID, "admin.profiles.already_submitted")
            member = await identity.load_user(conn, user_id)
        saved = await self.kyc.save_profile(
            member, fields, True, client, author_uid=str(admin["uid"])
        )
        async with identity.transaction() as conn:
            await identity.record(
                conn, admin["id"], client, ADMIN_TOPIC, "profile created", "succeed", uid
            )
        return saved | {"uid": uid}
