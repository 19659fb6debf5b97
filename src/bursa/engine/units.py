"""Exact conversion between ``Decimal`` at the edges and the engine's integers."""

from decimal import Decimal, InvalidOperation


class OverPrecise(ValueError):
    """The value has more decimals than the unit allows, or is not a finite number."""


def to_units(value: Decimal | str | int, places: int) -> int:
    """``value`` in units of ``10**-places``; raises ``OverPrecise`` rather than round."""
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise OverPrecise(f"{value!r} is not a decimal number") from exc
    if not number.is_finite():
        raise OverPrecise(f"{value!r} is not a finite number")
    scaled = number.scaleb(places)
    units = int(scaled)
    if scaled != units:
        raise OverPrecise(f"{value} has more than {places} decimals")
    return units


def from_units(units: int, places: int) -> Decimal:
    """The ``Decimal`` worth ``units`` of ``10**-places``, exactly."""
    return Decimal(units).scaleb(-places)


def format_units(units: int, places: int) -> str:
    """Plain-notation string without trailing zeros (no exponent), as Peatio serialises."""
    return format(from_units(units, places).normalize(), "f")
