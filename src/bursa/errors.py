"""The one error tree: every expected refusal a service raises is a ``BursaError``.

A service says *what kind* of no it is (``Refusal``) and which Peatio/Barong code(s) name
it; it never picks an HTTP status. The edge (``bursa.api.errors``) turns the kind into a
status with one table and writes ``{"errors": [codes]}``; the CLI prints the codes. So
nothing at the edge catches and translates a refusal by hand, and nothing chooses an answer
by reading an error's text.
"""

from collections.abc import Mapping
from enum import StrEnum


class Refusal(StrEnum):
    """Why a request was refused, in the caller's terms."""

    MALFORMED = "malformed"  # the request cannot be read at all
    UNAUTHENTICATED = "unauthenticated"  # who is calling is unknown or not proven
    FORBIDDEN = "forbidden"  # known, but not allowed
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the state changed under the request
    INVALID = "invalid"  # readable, but a value or the state refuses it
    TOO_MANY = "too_many"  # rate limited or locked out for a while
    UPSTREAM = "upstream"  # a service behind ours answered wrongly
    UNAVAILABLE = "unavailable"  # a part is not configured or not reachable


# The edges' one table from a kind to its HTTP status (the API's error handler and the
# gateway's authorization step); services never name a status.
HTTP_STATUS: dict[Refusal, int] = {
    Refusal.MALFORMED: 400,
    Refusal.UNAUTHENTICATED: 401,
    Refusal.FORBIDDEN: 403,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 409,
    Refusal.INVALID: 422,
    Refusal.TOO_MANY: 429,
    Refusal.UPSTREAM: 502,
    Refusal.UNAVAILABLE: 503,
}


class BursaError(Exception):
    """An expected refusal: nothing was changed unless ``keep`` says the transaction still
    commits what it recorded (a failed login's count, a wrong code's attempt).

    ``message`` is for operators and the CLI (never secrets); ``codes`` are what API
    clients see; ``retry_after`` (seconds) goes out as ``Retry-After``."""

    def __init__(
        self,
        kind: Refusal,
        *codes: str,
        message: str = "",
        keep: bool = False,
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or ", ".join(codes))
        self.kind = kind
        self.codes = list(codes)
        self.message = message
        self.keep = keep
        self.retry_after = retry_after
        self.headers = dict(headers) if headers else None

    @property
    def code(self) -> str:
        """The first (usually only) code."""
        return self.codes[0] if self.codes else ""


# PostgreSQL cannot be reached (down, restarting): whatever needed it answers 503 with this
# code (``bursa.db.outage``), and succeeds again once the database is back.
DATABASE_UNAVAILABLE = "server.database_unavailable"
