"""Order entry's rate limit, and its state on every order-entry answer.

Counted per API key when a key signed the request (two keys of one member are two
budgets), per member otherwise (a browser session, an OAuth token), in the API's limiter:
Redis with ``BURSA_REDIS_URL`` (every replica counts together), else in process. Place,
cancel and cancel-all cost 1, a bulk request its items (never more than the whole limit).
Every answer shows the window, refusals too: ``X-RateLimit-Limit``,
``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (whole seconds until the window ends).
Over it: 429 ``market.order.rate_limit_exceeded`` with ``Retry-After``, and nothing reaches
the engine. A request refused for its own fields (422 before any counting) is not counted.

A limiter that cannot ``take`` (the bench's unlimited one), or a limit of 0, lifts the limit:
nothing is counted and no header is shown.

Routes use ``OrderEntry`` (cost 1) or ``OrderEntryLimit(cost=0)`` and then
``await charge.take(n)`` once the body tells the cost (a bulk); the websocket calls
``order_entry_quota``.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from bursa.api.errors import ApiError
from bursa.api.peatio.auth import Member, TradingMember
from bursa.config.settings import Settings
from bursa.errors import BursaError
from bursa.identity.credentials import API_KEY
from bursa.identity.limits import ORDER_ENTRY, Quota, QuotaLimiter, Rule

TOO_MANY = "market.order.rate_limit_exceeded"


class OrderEntryLimits:
    """The order-entry rule over a limiter (None, or a limiter without ``take``: no limit)."""

    def __init__(self, limiter: object, rule: Rule | None = ORDER_ENTRY) -> None:
        self.rule = rule
        self._counter = limiter if isinstance(limiter, QuotaLimiter) else None

    async def take(self, member_id: int, key_id: str | None, cost: int = 1) -> Quota | None:
        """Count ``cost`` for the key (or the member without one): the window after it,
        ``allowed`` False when it did not fit (and was not counted); None: no limit."""
        if self._counter is None or self.rule is None:
            return None
        subject = f"key:{key_id}" if key_id else f"member:{member_id}"
        return await self._counter.take(self.rule, subject, cost)


def order_rule(settings: Settings) -> Rule | None:
    """The configured rule (``BURSA_ORDER_RATE_LIMIT`` per ``…_WINDOW_S``); None when 0."""
    if settings.order_rate_limit == 0:
        return None
    return Rule(ORDER_ENTRY.name, settings.order_rate_limit, settings.order_rate_limit_window_s)


def limits_of(app: Any) -> OrderEntryLimits:
    """The app's order-entry limits (``create_app`` sets them; else the default rule over
    its limiter)."""
    state = app.state
    found = getattr(state, "order_limits", None)
    if not isinstance(found, OrderEntryLimits):
        found = state.order_limits = OrderEntryLimits(getattr(state, "limiter", None))
    return found


async def order_entry_quota(
    app: Any, member_id: int, key_id: str | None, cost: int = 1
) -> Quota | None:
    """For order entry outside HTTP (the websocket): count ``cost`` for the key, or the
    member without one, in the same budget as REST; None when no limit is in force."""
    return await limits_of(app).take(member_id, key_id, cost)


def rate_headers(quota: Quota) -> dict[str, str]:
    """The window's state as answers show it (``Retry-After`` too when refused)."""
    found = {
        "X-RateLimit-Limit": str(quota.limit),
        "X-RateLimit-Remaining": str(quota.remaining),
        "X-RateLimit-Reset": str(quota.reset_s),
    }
    if not quota.allowed:
        found["Retry-After"] = str(quota.reset_s)
    return found


class Charge:
    """One request's order-entry budget: what it took, shown on its answer."""

    def __init__(
        self, limits: OrderEntryLimits, member: Member, key_id: str | None, response: Response
    ) -> None:
        self.limits = limits
        self.member = member
        self.key_id = key_id
        self.response = response
        self.quota: Quota | None = None

    async def take(self, cost: int) -> None:
        """Count ``cost``; refused (429, nothing counted) when it does not fit."""
        quota = await self.limits.take(self.member.id, self.key_id, cost)
        if quota is None:
            return
        self.quota = quota
        headers = rate_headers(quota)
        if not quota.allowed:
            raise ApiError(429, TOO_MANY, headers=headers)
        self.response.headers.update(headers)


def key_id_of(request: Request) -> str | None:
    """The API key that signed the request (directly or through a gateway JWT), if any."""
    credential = getattr(request.state, "credential", None)
    if credential is not None and credential.method == API_KEY:
        return str(credential.ref)
    return None


def OrderEntryLimit(cost: int = 1) -> Any:
    """A dependency counting ``cost`` for the caller before the handler runs (0: the
    handler calls ``take`` itself), and adding the window's state to the answer, a refusal
    of the handler's included."""

    async def limit(
        request: Request, response: Response, member: TradingMember
    ) -> AsyncIterator[Charge]:
        charge = Charge(limits_of(request.app), member, key_id_of(request), response)
        if cost:
            await charge.take(cost)
        try:
            yield charge
        except BursaError as exc:
            if charge.quota is not None:
                exc.headers = rate_headers(charge.quota) | (exc.headers or {})
            raise

    return Depends(limit, scope="function")


OrderEntry = Annotated[Charge, OrderEntryLimit()]
