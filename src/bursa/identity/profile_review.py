"""Admin review of submitted profiles: verify or reject (with a reason the member reads).

The decision sets the private label ``profile: verified|rejected`` (which recomputes state and
level, as every private label does), is recorded on the reviewing admin's activities with
the member's uid, and goes out as ``model.label.updated`` (the event OpenDAX's mailer turns
into the member's mail). A rejected profile is editable by the member again. A profile an
admin entered for the member (``identity.admin_profiles``) is verified by another admin.
Profiles are read back through ``Kyc`` so that whatever it does with personal data applies
here too.
"""

from typing import Any

from sqlalchemy import func, select, update

from bursa.errors import Refusal
from bursa.identity.kyc import Kyc
from bursa.identity.rules import Role, outranks
from bursa.identity.service import RANK_TOO_LOW, Client, Identity, IdentityError
from bursa.identity.tables import profiles, users

REVIEW_STATES = ("verified", "rejected")
PROFILE_STATES = ("drafted", "submitted", "verified", "rejected")


class ProfileReview:
    def __init__(self, identity: Identity, kyc: Kyc) -> None:
        self.identity = identity
        self.kyc = kyc

    async def search(
        self, state: str | None, page: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Profiles (oldest first), each with its member's ``uid``."""
        query = select(profiles.c.user_id, users.c.uid).join(
            users, users.c.id == profiles.c.user_id
        )
        if state is not None:
            query = query.where(profiles.c.state == state)
        async with self.identity.engine.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            rows = list(
                await conn.execute(
                    query.order_by(profiles.c.id).limit(limit).offset((page - 1) * limit)
                )
            )
        found = []
        for row in rows:
            profile = await self.kyc.profile(row.user_id)
            if profile is not None:
                found.append(profile | {"uid": row.uid})
        return int(total or 0), found

    async def review(
        self,
        uid: str,
        state: str,
        reason: str | None,
        reviewer: dict[str, Any],
        client: Client,
    ) -> dict[str, Any]:
        """Verify or reject ``uid``'s submitted profile; a superadmin's only by a superadmin,
        nobody their own, and a staff reviewer only below their rank (``rules.RANKS``). The
        Management API (a reviewer without ``id``) reviews as the operator's service."""
        if state not in REVIEW_STATES:
            raise IdentityError(Refusal.INVALID, "admin.profiles.invalid_state")
        async with self.identity.transaction() as conn:
            member = (
                (await conn.execute(select(users).where(users.c.uid == uid).with_for_update()))
                .mappings()
                .first()
            )
            if member is None:
                raise IdentityError(Refusal.NOT_FOUND, "admin.user.doesnt_exist")
            if member["role"] == Role.SUPERADMIN and reviewer["role"] != Role.SUPERADMIN:
                raise IdentityError(Refusal.INVALID, "admin.profiles.superadmin_change")
            if member["uid"] == reviewer["uid"]:
                raise IdentityError(Refusal.INVALID, "admin.profiles.own_profile")
            if reviewer["id"] is not None and not outranks(reviewer["role"], member["role"]):
                raise IdentityError(Refusal.FORBIDDEN, RANK_TOO_LOW)
            author = await conn.scalar(
                select(profiles.c.author_uid).where(profiles.c.user_id == member["id"])
            )
            if author is not None and author == reviewer["uid"]:  # they entered it
                raise IdentityError(Refusal.INVALID, "admin.profiles.second_admin_approval")
            reviewed = await conn.scalar(
                update(profiles)
                .where(profiles.c.user_id == member["id"], profiles.c.state == "submitted")
                .values(
                    state=state,
                    reason=reason if state == "rejected" else None,
                    updated_at=func.now(),
                )
                .returning(profiles.c.id)
            )
            if reviewed is None:
                raise IdentityError(
                    Refusal.NOT_FOUND, "admin.profiles.doesnt_exist_or_not_editable"
                )
            await self.identity.set_label(conn, member["id"], "profile", state, "private")
            await self.identity.record(
                conn,
                reviewer["id"],
                client,
                "admin",
                f"profile {state}",
                "succeed",
                f"{uid}: {reason}" if reason and state == "rejected" else uid,
            )
        profile = await self.kyc.profile(member["id"])
        assert profile is not None
        return profile | {"uid": uid}
