"""What a KYC provider's verdict changes (``POST /public/kyc``), whichever provider sent it
(``bursa.identity.kyc_providers``).

A verdict on a member does what an admin's review does: the record awaiting review (a
submitted profile, pending documents, pending address proofs) takes the state, the private
label ``profile``, ``document`` or ``address`` is set to ``verified`` or ``rejected`` (which
recomputes state and level), and a document's verdict goes out as
``system.document.verified|rejected``. The label is set even with no local record waiting:
the member may have given the provider their papers directly. Everything, and the
callback's id, is written in one transaction: a callback delivered twice (a replay, or the
provider's retry) finds its id taken and changes nothing.
"""

from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bursa.errors import Refusal
from bursa.identity.documents import ADDRESS_PROOF
from bursa.identity.kyc_providers import KycVerdict
from bursa.identity.service import Client, Identity, IdentityError
from bursa.identity.tables import documents, kyc_callbacks, profiles, users

Outcome = Literal["applied", "acknowledged", "duplicate"]


class KycCallbacks:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def apply(self, verdict: KycVerdict, client: Client) -> Outcome:
        """Apply an authentic callback's verdict once: ``applied`` (a member's checks
        changed), ``acknowledged`` (nothing to change) or ``duplicate`` (seen before). An
        unknown member is ``public.kyc.unknown_applicant`` and nothing is kept."""
        async with self.identity.transaction() as conn:
            user_id = None
            if verdict.uid is not None:
                user_id = await conn.scalar(
                    select(users.c.id).where(users.c.uid == verdict.uid).with_for_update()
                )
                if user_id is None:
                    raise IdentityError(Refusal.INVALID, "public.kyc.unknown_applicant")
            taken = await conn.scalar(
                pg_insert(kyc_callbacks)
                .values(
                    provider=verdict.provider,
                    callback_id=verdict.callback_id,
                    kind=verdict.kind[:64],
                    user_id=user_id,
                    reference=verdict.reference,
                )
                .on_conflict_do_nothing(constraint="uq_kyc_callbacks_provider_callback_id")
                .returning(kyc_callbacks.c.id)
            )
            if taken is None:
                return "duplicate"
            if user_id is None or not verdict.checks:
                return "acknowledged"
            for check, passed in verdict.checks.items():
                state = "verified" if passed else "rejected"
                await self._decide(conn, user_id, check, state, verdict.reason)
                await self.identity.record(
                    conn,
                    user_id,
                    client,
                    "account",
                    f"kyc {check} {state}",
                    "succeed",
                    f"{verdict.provider}:{verdict.reference or verdict.callback_id}",
                )
            return "applied"

    async def _decide(
        self, conn: AsyncConnection, user_id: int, check: str, state: str, reason: str | None
    ) -> None:
        reason = reason if state == "rejected" else None
        if check == "profile":
            await conn.execute(
                update(profiles)
                .where(profiles.c.user_id == user_id, profiles.c.state == "submitted")
                .values(state=state, reason=reason, updated_at=func.now())
            )
        else:
            kind = (
                documents.c.doc_type == ADDRESS_PROOF
                if check == ADDRESS_PROOF
                else documents.c.doc_type != ADDRESS_PROOF
            )
            await conn.execute(
                update(documents)
                .where(documents.c.user_id == user_id, documents.c.state == "pending", kind)
                .values(state=state, reason=reason, updated_at=func.now())
            )
        await self.identity.set_label(conn, user_id, check, state, "private")
        if check == "document":
            owner: dict[str, Any] = dict(
                (await conn.execute(select(users).where(users.c.id == user_id))).mappings().one()
            )
            await self.identity.emit(
                conn, f"system.document.{state}", owner, label=(check, state, "private")
            )
