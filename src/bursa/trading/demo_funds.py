"""Demo funds: on a demo exchange, each member may claim a fixed set of balances once.

A newcomer to ``bursa up``'s embedded default signs up with nothing to trade with; the only
other way to fund them is an adjustment, proposed by one admin and accepted by another.
The faucet is off unless ``BURSA_DEMO_FUNDS`` (or ``bursa up`` on the embedded default with
the demo seeds) turns it on, and it is checked against the currencies at start.

Each credit is the engine's ``Adjust`` command (asset +amount, the member's main liability
+amount: double entry), under the key ``demo-funds:<member>:<currency>`` with the reason
``demo funds``, so the command log and the ledger's postings (reference ``adjustment``,
that key) say where the money came from. It does not go through the adjustments table:
that is the admins' maker/checker record, and a faucet that both proposed and accepted its
own rows would fake the four eyes it stands for.

The key is the whole record: it is derived from the member and the currency, so there is
nothing to record pending (step 1 of ``bursa.trading.engine_requests``) and nothing to
finish; ``submit_once`` reads the engine's command log (kept for ever) before submitting,
so a key that ran is never sent again, however late. Two claims of one member at once are
serialized by an advisory lock held in the request's transaction while the engine works:
the second reads the first one's keys in the log and is refused.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.engine.commands import Adjust
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.ledger.tables import currencies
from bursa.trading import engine_requests
from bursa.trading.engine_requests import Submit

AREA = "account.demo_funds"
DISABLED = f"{AREA}.disabled"
ALREADY_GRANTED = f"{AREA}.already_granted"
REFUSED = f"{AREA}.refused"  # the engine refused a credit (its currency is gone from it)
REASON = "demo funds"  # the Adjust's reason, in the command log
KEY_PREFIX = "demo-funds"

log = logging.getLogger(__name__)


class DemoFundsMisconfigured(ValueError):
    """The configured demo funds do not fit this exchange's currencies (refused at start)."""


@dataclass(frozen=True, slots=True)
class Fund:
    """One currency a member may claim, and how much (exact, in the currency's terms)."""

    currency: str
    amount: Decimal


def key_of(member_id: int, currency: str) -> str:
    """The one idempotency key of a member's demo funds in ``currency``, for ever."""
    return f"{KEY_PREFIX}:{member_id}:{currency}"


@dataclass(frozen=True, slots=True)
class DemoFunds:
    """The faucet as configured: ``funds`` empty means off."""

    funds: tuple[Fund, ...] = ()

    @property
    def available(self) -> bool:
        return bool(self.funds)

    @classmethod
    def off(cls) -> "DemoFunds":
        return cls()

    @classmethod
    async def at_start(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        funds: Mapping[str, Decimal],
        *,
        embedded: bool,
    ) -> "DemoFunds":
        """The faucet for ``funds`` (currency → amount; empty: off), each currency checked
        against the database: ``DemoFundsMisconfigured`` names what does not fit. On a real
        deployment (not ``embedded``) a faucet that is on is logged as a warning."""
        if not funds:
            return cls.off()
        async with sessions() as session:
            known = await _precisions(session)
        unknown = sorted(code for code in funds if code not in known)
        if unknown:
            raise DemoFundsMisconfigured(
                f"BURSA_DEMO_FUNDS names {', '.join(unknown)}: not a currency of this"
                f" exchange (its currencies: {', '.join(sorted(known)) or 'none'})"
            )
        for code, amount in funds.items():
            try:
                units = to_units(amount, known[code])
            except OverPrecise:
                units = 0
            if units <= 0:
                raise DemoFundsMisconfigured(
                    f"BURSA_DEMO_FUNDS gives {amount} {code}: {code} has {known[code]}"
                    " decimals, and the amount must be positive"
                )
        if not embedded:
            log.warning(
                "demo funds are on (BURSA_DEMO_FUNDS) outside the embedded default: every"
                " member may claim %s once, credited from nothing; unset it unless this"
                " exchange is a demo",
                ", ".join(f"{amount} {code}" for code, amount in funds.items()),
            )
        return cls(tuple(Fund(code, amount) for code, amount in funds.items()))

    async def granted(self, session: AsyncSession, member_id: int) -> bool:
        """Whether the member has claimed every fund (nothing is left to claim)."""
        return not await self._due(session, member_id)

    async def grant(self, session: AsyncSession, submit: Submit, member_id: int) -> list[Fund]:
        """Credit the member the funds they have not claimed yet, in the caller's open
        transaction (which holds the member's claim lock until it ends; the engine commits
        on its own). The funds credited now; refused when the faucet is off or nothing is
        left to claim."""
        if not self.available:
            raise BursaError(Refusal.INVALID, DISABLED)
        lock = func.hashtextextended(f"{KEY_PREFIX}:{member_id}", 0)
        await session.execute(select(func.pg_advisory_xact_lock(lock)))
        due = await self._due(session, member_id)
        if not due:
            raise BursaError(Refusal.INVALID, ALREADY_GRANTED)
        precisions = await _precisions(session, [fund.currency for fund in due])
        commands = []
        for fund in due:
            try:  # the currency's row changed since the start (gone, fewer decimals)
                amount = to_units(fund.amount, precisions[fund.currency])
            except (KeyError, OverPrecise):
                raise BursaError(Refusal.INVALID, REFUSED) from None
            key = key_of(member_id, fund.currency)
            commands.append(
                Adjust(
                    key=key,
                    member_id=member_id,
                    currency=fund.currency,
                    amount=amount,
                    reason=REASON,
                )
            )
        results = await engine_requests.submit_once(session, submit, commands)
        if any(not results[command.key].applied for command in commands):
            log.warning("the engine refused demo funds for member %d: %s", member_id, results)
            raise BursaError(Refusal.INVALID, REFUSED)
        return due

    async def _due(self, session: AsyncSession, member_id: int) -> list[Fund]:
        """The funds whose key the engine's command log does not hold yet."""
        keys = [key_of(member_id, fund.currency) for fund in self.funds]
        ran = await engine_requests.logged(session, keys)
        return [fund for fund, key in zip(self.funds, keys, strict=True) if key not in ran]


async def _precisions(session: AsyncSession, codes: Sequence[str] | None = None) -> dict[str, int]:
    """Each currency's precision (of ``codes`` only, when given)."""
    query = select(currencies.c.id, currencies.c.precision)
    if codes is not None:
        query = query.where(currencies.c.id.in_(list(codes)))
    return {row.id: int(row.precision) for row in await session.execute(query)}
