"""Order entry's dependencies in one step: what placing or cancelling an order needs.

These are the API's hottest requests, and FastAPI's cost is per dependency (each one
solved, its parameters read, its result cached): the chain ``TradingMember`` (the
authorization step, then the gate), ``body_of`` (and its context), ``OrderEntry``,
``Runner`` and ``Reads`` cost more than the engine. ``order_entry`` does the same work in
one dependency, in the same order and with the same answers:

1. the caller authorized and admitted (``trading_member``), or refused;
2. the parameters read (query string, then a JSON or form body) and checked as ``model``
   against ``context`` — unless ``ready`` says a header was refused, as FastAPI's own
   header check answers that alone (the route declares the header, and FastAPI reports
   it once this dependency has run);
3. the order-entry limit counted (``rate_limit``: refused with 429, its window on the
   answer; a refusal of the handler's shows it through ``Entry.show_window``).

The body's model is documented and its fields taken from the query string exactly as
``body_of``'s (``bursa.api.bodies``, ``bursa.api.parameters``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from fastapi import Depends, Request, Response

from bursa.api.bodies import READS_QUERY, Model, read_parameters, validate
from bursa.api.deps import EngineView
from bursa.api.errors import BODY_MODEL
from bursa.api.peatio.auth import Member, trading_member
from bursa.api.peatio.market.rate_limit import Charge, key_id_of, limits_of, rate_headers
from bursa.db.hot import HotReads
from bursa.errors import BursaError


@dataclass(frozen=True, slots=True)
class Entry(Generic[Model]):
    """One order-entry request, admitted and counted: who, what, and what to call.
    ``body`` is None only when a header was refused (the handler never runs then)."""

    member: Member
    body: Model | None
    charge: Charge
    runner: EngineView
    reads: HotReads

    def show_window(self, refusal: BursaError) -> None:
        """The handler's refusal shows the window too, as every order-entry answer does
        (the handler calls it rather than a generator dependency: FastAPI's exit stacks
        cost more per request than the rest of this module)."""
        if self.charge.quota is not None:
            refusal.headers = rate_headers(self.charge.quota) | (refusal.headers or {})


def _always(_: Request) -> bool:
    return True


def order_entry(
    model: type[Model],
    *,
    context: Callable[[EngineView], Any] | None = None,
    ready: Callable[[Request], bool] = _always,
) -> Any:
    """A dependency (``entry: Annotated[Entry[Model], order_entry(Model)]``) for a route
    costing 1 in the order-entry limit; ``context`` gives what ``model``'s validators
    consult (from the engine), ``ready`` whether the body is read at all."""

    async def entry(request: Request, response: Response) -> Entry[Model]:
        member = await trading_member(request)
        state = request.app.state
        runner: EngineView = state.runner
        body = None
        if ready(request):
            known = context(runner) if context is not None else None
            body = validate(model, await read_parameters(request), known)
        charge = Charge(limits_of(request.app), member, key_id_of(request), response)
        await charge.take(1)
        return Entry(member, body, charge, runner, state.identity.reads)

    setattr(entry, BODY_MODEL, model)  # documented, and its fields are query parameters
    setattr(entry, READS_QUERY, True)
    return Depends(entry)
