"""The mails that carry a one-time code: email confirmation and password reset.

Each carries the code (typed back with the address: Bursa's form) and a link to the front
end holding the signed token (Barong's form, which OpenDAX front ends read from the URL and
post back alone). Where the link points is the operator's: ``BURSA_PUBLIC_URL`` and the
front end's paths (``BURSA_CONFIRMATION_PATH``, ``BURSA_PASSWORD_RESET_PATH``); the defaults
are the OpenDAX front end's.
"""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from bursa.identity.mail import Mail

CONFIRMATION = "confirmation"
RESET = "reset"
CONFIRMATION_PATH = "/accounts/confirmation?confirmation_token="
RESET_PATH = "/accounts/password_reset?reset_token="
SUBJECTS = {CONFIRMATION: "confirm your email", RESET: "reset your password"}
LINK_TEXTS = {CONFIRMATION: "confirm your email", RESET: "choose a new password"}


@dataclass(frozen=True, slots=True)
class MailLinks:
    """Where the links in code mails point: ``public_url`` + the path, then the token."""

    public_url: str = "http://127.0.0.1:8000"
    confirmation_path: str = CONFIRMATION_PATH
    reset_path: str = RESET_PATH

    def link(self, purpose: str, token: str) -> str:
        path = self.confirmation_path if purpose == CONFIRMATION else self.reset_path
        return self.public_url.rstrip("/") + path + quote(token, safe="")


def code_mail(
    app_name: str, address: str, purpose: str, code: str, link: str, valid_for: timedelta
) -> Mail:
    """The mail for ``purpose``: the link and the code, either of which works once."""
    minutes = int(valid_for.total_seconds() // 60)
    return Mail(
        to=address,
        subject=f"{app_name}: {SUBJECTS[purpose]}",
        body=(
            f"Open this link to {LINK_TEXTS[purpose]}:\n"
            f"{link}\n\n"
            f"Or type the code instead. Your {purpose} code is {code}.\n"
            f"The link and the code work once (either of them), for {minutes} minutes.\n"
            "If you did not ask for this, ignore this message."
        ),
    )
