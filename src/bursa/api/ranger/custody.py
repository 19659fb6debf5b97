"""Ranger's private ``deposit`` and ``withdraw`` streams (Bursa's additions to Rango's
``order``, ``trade`` and ``balance``): a member's deposits and withdrawals as they change.

They follow the Event API, not the engine's bus: deposits and withdrawals change in the
scanners, the sender and the API, possibly in other processes, and every change is an
outbox event (``model.deposit.*``, ``model.withdraw.*``). The listener gets the verified
events (in process through the bus, or from RabbitMQ), finds the member by uid and sends
the record, without the ``user`` part, to their connections that subscribed.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api.ranger.hub import RangerHub
from bursa.events.listener import EventListener, Meta
from bursa.identity import directory

DEPOSIT, WITHDRAW = "deposit", "withdraw"
BINDINGS = tuple(
    ("peatio.events.model", f"{kind}.{change}")
    for kind in (DEPOSIT, WITHDRAW)
    for change in ("created", "updated")
)


def custody_streams(hub: RangerHub, sessions: async_sessionmaker[AsyncSession]) -> EventListener:
    """The Event API listener feeding ``hub``'s ``deposit`` and ``withdraw`` streams."""

    async def handle(event: dict[str, Any], meta: Meta) -> None:
        kind = str(event["name"]).split(".")[1]  # model.<kind>.<change>
        record = dict(event["record"])
        uid = record.pop("user", {}).get("uid") or record.get("uid")
        if not isinstance(uid, str):
            return
        async with sessions() as session:
            member_id = await directory.member_id(session, uid=uid)
        if member_id is not None:
            hub.tell(member_id, kind, record)
            hub.write_staged()

    return EventListener("ranger_custody_streams", BINDINGS, handle)
