"""AppLogic's Event API listener, declared as the ``bursa.event_listeners`` entry point
``applogic_withdrawals``: what it is bound to and the handler of the decoded event.

The handler builds its service from the settings on first use (``BURSA_DATABASE_URL``,
``BURSA_APPLOGIC_CONFIG``), so the listener process needs nothing else."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bursa.applogic.approvals import WithdrawalApprovals
from bursa.applogic.config import AppLogicConfig
from bursa.applogic.management import PeatioManagement
from bursa.config.settings import Settings
from bursa.db.session import create_engine, create_session_factory


@dataclass(frozen=True, slots=True)
class EventListener:
    """(exchange, routing key) pairs to consume, and the handler of each event object."""

    bindings: tuple[tuple[str, str], ...]
    on_event: Callable[[dict[str, Any]], Awaitable[None]]


_service: list[WithdrawalApprovals] = []


def _from_settings() -> WithdrawalApprovals:
    if not _service:
        settings = Settings()
        if settings.database_url is None or settings.applogic_config is None:
            raise RuntimeError("AppLogic needs BURSA_DATABASE_URL and BURSA_APPLOGIC_CONFIG")
        config = AppLogicConfig.from_file(settings.applogic_config)
        sessions = create_session_factory(create_engine(settings.database_url, pool_size=2))
        peatio = PeatioManagement(
            config.peatio_management_url, config.key, timeout_s=config.timeout_s
        )
        _service.append(WithdrawalApprovals(sessions, config, peatio))
    return _service[0]


async def on_event(event: dict[str, Any]) -> None:
    """A ``model.withdraw.created`` event object (``{"name": ..., "record": {...}}``)."""
    await _from_settings().on_event(event)


withdrawal_approvals = EventListener(
    bindings=(("peatio.events.model", "withdraw.created"),), on_event=on_event
)
