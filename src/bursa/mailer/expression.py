"""The ``expression`` filter of a mailer event: plain data, never evaluated as code.

An expression is a mapping. Each ``path: value`` entry must hold (all of them): ``path``
is dotted from ``record`` or ``changes`` (``record.state``, ``changes.state``,
``record.user.role``), ``value`` a scalar (equal; ``null`` = absent) or a list of scalars
(one of them). The keys ``all`` and ``any`` take a list of expressions, ``not`` one::

    expression:
      record.state: accepted
      not: {changes.state: null}   # the state is what changed
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool | None
_ROOTS = ("record", "changes")
_MAX_DEPTH = 8  # a filter, not a program


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression; ``matches`` is a pure function of the event's data."""

    fields: tuple[tuple[tuple[str, ...], tuple[Scalar, ...]], ...]
    all_of: tuple["Expression", ...] = ()
    any_of: tuple["Expression", ...] = ()
    none_of: tuple["Expression", ...] = ()

    def matches(self, data: Mapping[str, Any]) -> bool:
        for path, allowed in self.fields:
            if _lookup(data, path) not in allowed:
                return False
        if not all(e.matches(data) for e in self.all_of):
            return False
        if self.any_of and not any(e.matches(data) for e in self.any_of):
            return False
        return not any(e.matches(data) for e in self.none_of)


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _scalar(value: Any, where: str) -> Scalar:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ExpressionError(f"{where}: values are strings, numbers, booleans or null")


def parse(raw: Any, where: str = "expression", depth: int = 0) -> Expression:
    if depth > _MAX_DEPTH:
        raise ExpressionError(f"{where}: nested too deep")
    if not isinstance(raw, Mapping) or not raw:
        raise ExpressionError(f"{where}: must be a non-empty mapping")
    fields: list[tuple[tuple[str, ...], tuple[Scalar, ...]]] = []
    groups: dict[str, list[Expression]] = {"all": [], "any": [], "not": []}
    for key, value in raw.items():
        here = f"{where}.{key}"
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ExpressionError(f"{here}: must be a non-empty list of expressions")
            groups[key] = [parse(v, f"{here}[{i}]", depth + 1) for i, v in enumerate(value)]
        elif key == "not":
            groups["not"] = [parse(value, here, depth + 1)]
        else:
            path = tuple(str(key).split("."))
            if path[0] not in _ROOTS or len(path) < 2 or not all(path):
                raise ExpressionError(f"{here}: paths start with record. or changes.")
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ExpressionError(f"{here}: an empty list matches nothing")
            fields.append((path, tuple(_scalar(v, here) for v in values)))
    return Expression(
        tuple(fields), tuple(groups["all"]), tuple(groups["any"]), tuple(groups["not"])
    )
