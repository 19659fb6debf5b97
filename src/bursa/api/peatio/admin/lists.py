"""Parameters every Peatio admin list takes, with Peatio's error codes: ``limit`` (1..1000,
default 100), ``page``, ``ordering`` (asc, the default, or desc) on every list
(``AdminPage``); ``range`` (created, updated or completed) with ``from`` / ``to`` (Unix
seconds) on lists of records in time (``AdminList``); ``order_by`` is each list's own,
declared with ``sort_by`` (a column it does not name: 422)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.api.errors import ApiError, error_code
from bursa.api.peatio.params import MAX_TIME, moment, positive_decimal
from bursa.identity import directory
from bursa.plain_input import PlainInt
from bursa.trading import history
from bursa.trading.admin_queries import Listing

USER_NOT_FOUND = "admin.user.doesnt_exist"
MARKET_NOT_FOUND = "admin.market.doesnt_exist"
CURRENCY_NOT_FOUND = "admin.currency.doesnt_exist"
MOST_PAGES = 1_000_000  # beyond any real list; keeps OFFSET within what PostgreSQL takes


def _time(name: str) -> Any:
    return Query(
        alias=name,
        ge=0,
        le=MAX_TIME,
        description="Unix seconds",
        json_schema_extra=error_code(
            f"admin.filter.invalid_range_{name}",
            non_integer=f"admin.filter.non_integer_range_{name}",
        ),
    )


@dataclass(frozen=True)
class AdminPage:
    """``limit``, ``page`` and ``ordering``: what every admin list takes (FastAPI reads
    them from the query)."""

    limit: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=1000,
            json_schema_extra=error_code(
                "admin.pagination.invalid_limit", non_integer="admin.pagination.non_integer_limit"
            ),
        ),
    ] = 100
    page: Annotated[
        PlainInt,
        Query(
            ge=1,
            le=MOST_PAGES,
            json_schema_extra=error_code(
                "admin.pagination.invalid_page", non_integer="admin.pagination.non_integer_page"
            ),
        ),
    ] = 1
    ordering: Annotated[
        Literal["asc", "desc"],
        Query(json_schema_extra=error_code("admin.pagination.invalid_ordering")),
    ] = "asc"

    @property
    def ascending(self) -> bool:
        return self.ordering == "asc"

    def sorting(self, order_by: str = "id") -> Listing:
        """The order alone (a list without a time range)."""
        return Listing(order_by=order_by, ascending=self.ascending)


@dataclass(frozen=True)
class AdminList(AdminPage):
    """``AdminPage`` and the time range: ``range`` with ``from`` / ``to``."""

    range: Annotated[
        Literal["created", "updated", "completed"],
        Query(json_schema_extra=error_code("admin.filter.invalid_range")),
    ] = "created"
    time_from: Annotated[PlainInt | None, _time("from")] = None
    time_to: Annotated[PlainInt | None, _time("to")] = None

    def listing(self, order_by: str = "id", *, completes: bool = False) -> Listing:
        """The order and time range; ``range=completed`` only where the records have a
        completion time (``completes``): elsewhere it is refused (422
        ``admin.filter.invalid_range``) rather than silently read as ``created``."""
        if self.range == "completed" and not completes:
            raise ApiError(422, "admin.filter.invalid_range")
        return Listing(
            moment(self.time_from),
            moment(self.time_to),
            updated=self.range == "updated",
            order_by=order_by,
            ascending=self.ascending,
            completed=self.range == "completed",
        )


def sort_by(*columns: str) -> Any:
    """The ``Query`` of a list's ``order_by`` (Peatio took any column; Bursa names them)."""
    return Query(
        description=f"one of: {', '.join(columns)}",
        json_schema_extra=error_code("admin.pagination.invalid_order_by"),
    )


Uid = Annotated[str | None, Query(max_length=16, json_schema_extra=error_code(USER_NOT_FOUND))]
Email = Annotated[
    str | None, Query(max_length=254, json_schema_extra=error_code("admin.user.invalid_email"))
]
MarketId = Annotated[
    str | None, Query(max_length=20, json_schema_extra=error_code(MARKET_NOT_FOUND))
]
MarketType = Annotated[
    Literal["spot", "qe"] | None,
    Query(json_schema_extra=error_code("admin.market.invalid_market_type")),
]
CurrencyId = Annotated[
    str | None, Query(max_length=10, json_schema_extra=error_code(CURRENCY_NOT_FOUND))
]


async def member_filter(
    session: AsyncSession, uid: str | None, email: str | None = None
) -> tuple[int | None, bool]:
    """The member id a ``uid`` (unknown: 422, as Peatio) and ``email`` (unknown: nothing
    matches) filter on, and whether they name nobody at all."""
    found: int | None = None
    if uid is not None:
        found = await directory.member_id(session, uid=uid)
        if found is None:
            raise ApiError(422, USER_NOT_FOUND)
    if email is not None:
        by_email = await directory.member_id(session, email=email)
        if by_email is None or (found is not None and by_email != found):
            return None, True
        found = by_email
    return found, False


async def market_of(session: AsyncSession, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.lower()
    if not await history.market_exists(session, value):
        raise ApiError(422, MARKET_NOT_FOUND)
    return value


async def currency_of(session: AsyncSession, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.lower()
    if not await history.currency_exists(session, value):
        raise ApiError(422, CURRENCY_NOT_FOUND)
    return value


def amount_filter(value: str | None, area: str, name: str) -> Decimal | None:
    """A positive decimal filter, or Peatio's ``non_decimal`` / ``non_positive`` code."""
    if value is None:
        return None
    number = positive_decimal(value)
    if isinstance(number, str):
        raise ApiError(422, f"admin.{area}.{number}_{name}")
    return number


Paging = Annotated[AdminPage, Depends()]
"""A route's ``limit``, ``page`` and ``ordering`` (lists without a time range)."""
