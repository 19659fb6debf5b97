"""What a bots' file may run: one strategy per account and market, and venues that exist
and have keys (``ownership_problems``).

Which orders are the strategy's: where an account takes client ids (``bursa``, and ccxt
exchanges that do) every order the bot places carries ``bot.<strategy id>.<random>``, and
only those are read, kept or cancelled (a person may trade by hand on the same account).
Peatio (``opendax`` driver) has no client ids, so there the strategy owns *every* open order
of its account on its target market. Either way positions and the daily P&L are read from
the account's balances, so a file gives each account and market to one strategy only.
"""

from collections.abc import Mapping

from bursa.bots.config import BotsConfig, StrategyConfig


class RunnerError(ValueError):
    """The file cannot be run as it is (a shared target, a venue without keys…)."""


def split_venue(venue: str) -> tuple[str, str] | None:
    """``"account_id/market_id"`` → its two parts (a market id may hold ``/``, an account
    id may not); None when it is not of that form."""
    account_id, slash, market_id = venue.partition("/")
    return (account_id, market_id) if slash and account_id and market_id else None


def ownership_problems(config: BotsConfig) -> list[str]:
    """Why ``config`` cannot run: two enabled strategies on one account and market (their
    orders, positions and P&L would mix), a strategy that cannot be built, or a venue it
    would place orders on that is not an account of the file, has no keys, or is another
    strategy's target on an account without client ids (its orders would be taken for
    that strategy's).

    Keys: a strategy needs them on every venue it trades on (``Strategy.venues``); sources
    it only reads may be public."""
    problems: list[str] = []
    built: dict[str, tuple[str, ...]] = {}
    for entry in config.strategies:
        if not entry.config.enabled:
            continue
        try:
            strategy = entry.build()
            built[entry.config.id] = tuple(strategy.venues())
        except ValueError as exc:
            problems.append(f'strategy "{entry.config.id}": {exc}')
    return _target_problems(config) + problems + _venue_problems(config, built)


def _target_problems(config: BotsConfig) -> list[str]:
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for entry in config.strategies:
        strategy = entry.config
        if not strategy.enabled:
            continue
        target = (strategy.target.account_id, strategy.target.market_id)
        if target in seen:
            problems.append(
                f'strategy "{strategy.id}": target {strategy.target} is already the target of '
                f'strategy "{seen[target]}" (one strategy per account and market)'
            )
        seen.setdefault(target, strategy.id)
    return problems


def _venue_problems(config: BotsConfig, venues: Mapping[str, tuple[str, ...]]) -> list[str]:
    problems = []
    targets = {
        str(entry.config.target): entry.config.id
        for entry in config.strategies
        if entry.config.enabled
    }
    for entry in config.strategies:
        strategy = entry.config
        for venue in venues.get(strategy.id, ()):
            parts = split_venue(venue)
            field = _field_of(strategy, parts) if parts is not None else None
            named = f"{field} (venue {venue})" if field is not None else f"venue {venue}"
            where = f'strategy "{strategy.id}": {named}'

            account = config.accounts.get(parts[0]) if parts is not None else None
            if parts is None:
                problems.append(f"{where}: not of the form account_id/market_id")
            elif account is None:
                problems.append(f'{where}: no account "{parts[0]}" in accounts')
            elif not account.has_keys:
                problems.append(
                    f'{where}: account "{account.id}" has no key_env/secret_env, and placing '
                    "orders there needs them"
                )
            elif account.driver == "opendax" and targets.get(venue, strategy.id) != strategy.id:
                problems.append(
                    f'{where}: is the target of strategy "{targets[venue]}" on an opendax '
                    "account (no client ids: that strategy would take these orders as its own)"
                )
    return problems


def _field_of(strategy: StrategyConfig, venue: tuple[str, str]) -> str | None:
    """The field of the file a venue comes from, to name it in a problem: a source it
    trades on, or a parameter naming the account (microtrades' ``counterparty_account``)."""
    account_id, market_id = venue
    for index, ref in enumerate(strategy.sources):
        if (ref.account_id, ref.market_id) == venue:
            return f"sources[{index}].account_id"
    for name, value in strategy.params.items():
        if value == account_id and market_id == strategy.target.market_id:
            return f"params.{name}"
    return None
