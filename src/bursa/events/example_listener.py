"""An example Event API listener (entry point ``log_new_users``): logs each new user.

Copy it to write your own: an ``EventListener`` with the bindings it wants and an async
handler, registered in your package's ``pyproject.toml`` under
``[project.entry-points."bursa.event_listeners"]``; ``bursa events listen`` runs it.
"""

import logging
from typing import Any

from bursa.events.listener import EventListener, Meta

log = logging.getLogger(__name__)


async def log_user(event: dict[str, Any], meta: Meta) -> None:
    record = event["record"]
    log.info("new user %s (%s), event %s", record["uid"], record["state"], meta.id)


log_new_users = EventListener(
    name="log_new_users",
    bindings=(("barong.events.model", "user.created"),),
    handler=log_user,
)
