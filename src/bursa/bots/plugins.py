"""Finding a strategy class by the name a bots' file gives as its ``type:``.

Built-in strategies are registered here by name; other packages add theirs under the entry
point group ``bursa.strategies`` (``name = "package.module:Class"``). A built-in's name
cannot be taken by an installed package: a file saying ``type: fixed`` means the same
strategy wherever it runs. Classes are imported only when asked for.
"""

import importlib
import inspect
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from bursa.bots.strategy import Strategy

GROUP = "bursa.strategies"

BUILTINS: dict[str, str] = {
    "fixed": "bursa.bots.strategies.fixed:Fixed",
    "market_making": "bursa.bots.strategies.market_making:MarketMaking",
    "copy": "bursa.bots.strategies.copy:Copy",
    "microtrades": "bursa.bots.strategies.microtrades:Microtrades",
    "arbitrage": "bursa.bots.strategies.arbitrage:Arbitrage",
}


class PluginError(LookupError):
    """No strategy by that name, or it does not load or keep the contract."""


def _installed() -> dict[str, str]:
    found = {point.name: point.value for point in entry_points(group=GROUP)}
    found.update(BUILTINS)
    return found


def names() -> list[str]:
    """Every strategy type that can be named, sorted."""
    return sorted(_installed())


def load(name: str) -> type[Strategy[Any]]:
    """The strategy class registered as ``name``; raises ``PluginError``."""
    target = _installed().get(name)
    if target is None:
        raise PluginError(f"unknown strategy type {name!r} (known: {', '.join(names())})")
    module_name, _, attribute = target.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # a broken plugin is a refusal, not a crash of the check
        raise PluginError(
            f"strategy type {name!r} ({target}) does not load: {type(exc).__name__}: {exc}"
        ) from exc
    return _checked(name, found)


def _checked(name: str, found: object) -> type[Strategy[Any]]:
    if not (inspect.isclass(found) and issubclass(found, Strategy)):
        raise PluginError(f"strategy type {name!r} is not a bursa.bots.strategy.Strategy")
    params = getattr(found, "Params", None)
    if not (inspect.isclass(params) and issubclass(params, BaseModel)):
        raise PluginError(f"strategy type {name!r} has no Params model (a pydantic BaseModel)")
    if inspect.isabstract(found):
        raise PluginError(f"strategy type {name!r} does not implement tick")
    return found
