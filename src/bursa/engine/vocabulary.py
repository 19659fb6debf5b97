"""The engine's words as types: sides, order types, times in force, self-trade prevention
and order states. Each is a ``StrEnum`` whose values are the strings the command log, the
tables and the API have always carried, so a member compares equal to its text and
serialises as it."""

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    STOP_LIMIT = "stop_limit"  # a limit order placed when the last trade price crosses a trigger
    STOP_MARKET = "stop_market"  # a market order placed when the last trade price crosses one


class TriggerCondition(StrEnum):
    """When a trigger order fires: the market's last trade price at or above its trigger
    price, or at or below it."""

    ABOVE = "above"
    BELOW = "below"


class TimeInForce(StrEnum):
    """Stored upper-case (the engine's), shown lower-case by Peatio's API."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class SelfTradePrevention(StrEnum):
    """What happens when an order would trade with its member's own."""

    CANCEL_TAKER = "cancel_taker"  # the incoming order's remainder is cancelled (default)
    CANCEL_MAKER = "cancel_maker"  # the resting order is cancelled, matching goes on
    CANCEL_BOTH = "cancel_both"


class OrderState(StrEnum):
    """An order's state in the engine: waiting for its trigger, resting, filled, or
    cancelled."""

    TRIGGER_WAIT = "trigger_wait"
    WAIT = "wait"
    DONE = "done"
    CANCEL = "cancel"
