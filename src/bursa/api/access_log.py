"""Keep secrets a client put in a URL out of the access log.

Peatio's and Barong's clients may send a write's parameters in the query string (OpenDAX's
front end sends ``?totp_code=…``), and uvicorn's access log prints the whole request line.
A filter on ``uvicorn.access`` replaces the value of every parameter named like a secret
(codes, passwords, tokens) before the line is written.
"""

import logging
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset(
    {
        "otp",
        "otp_code",
        "totp_code",
        "code",
        "pin",
        "password",
        "old_password",
        "new_password",
        "confirm_password",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "client_secret",
    }
)
REDACTED = "[redacted]"
_PATH_ARG = 2  # uvicorn's access record: (client, method, path with query, version, status)


def redact(path: str) -> str:
    """``path`` with the value of each secret query parameter replaced."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    shown = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        secret = equals and unquote_plus(name).strip().lower() in SECRET_PARAMETERS
        shown.append(f"{name}={REDACTED}" if secret else pair)
    return f"{base}?{'&'.join(shown)}"


class RedactSecrets(logging.Filter):
    """Rewrites the request line of uvicorn's access records (always lets them through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG:
            path = args[_PATH_ARG]
            if isinstance(path, str):
                record.args = (*args[:_PATH_ARG], redact(path), *args[_PATH_ARG + 1 :])
        return True


def install() -> None:
    """Filter ``uvicorn.access`` (after uvicorn configured its logging)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
