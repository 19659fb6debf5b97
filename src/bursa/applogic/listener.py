"""AppLogic's Event API listener, declared as the ``bursa.event_listeners`` entry point
``applogic_withdrawals``: what it is bound to and the handler of the decoded event.

The handler builds its service from the settings on first use (``BURSA_DATABASE_URL``,
``BURSA_APPLOGIC_CONFIG``), so the listener process needs nothing else."""

from typing import Any

from bursa.applogic.approvals import WithdrawalApprovals
from bursa.applogic.config import AppLogicConfig
from bursa.applogic.management import PeatioManagement
from bursa.config.settings import Settings
from bursa.db.session import create_engine, create_session_factory
from bursa.events.listener import EventListener, Meta

BINDINGS = (("peatio.events.model", "withdraw.created"),)


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


async def on_event(event: dict[str, Any], meta: Meta | None = None) -> None:
    """A verified ``model.withdraw.created`` event object (``{"name", "record"}``)."""
    await _from_settings().on_event(event)


def listener_of(approvals: WithdrawalApprovals) -> EventListener:
    """The listener of a service built by the host (``bursa up``)."""

    async def handle(event: dict[str, Any], meta: Meta) -> None:
        await approvals.on_event(event)

    return EventListener("applogic_withdrawals", BINDINGS, handle)


withdrawal_approvals = EventListener("applogic_withdrawals", BINDINGS, on_event)
