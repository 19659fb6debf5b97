"""Password policy and hashing.

Barong's rule (lower, upper, digit and symbol, 8–80 characters), then a strength estimate
by zxcvbn: it knows common passwords, names, keyboard walks, dates, repeats and l33t
substitutions, and is told the member's email and the words of this site. A password is
strong when zxcvbn estimates at least ``MIN_ENTROPY_BITS`` bits (log2 of the guesses an
attacker needs), the figure Barong's ``password_min_entropy`` names. Hashes are argon2id
(argon2-cffi defaults), re-hashed when those change.

30 bits (about 10^9 guesses) sits between zxcvbn's score 3 (10^8) and 4 (10^10): score 3
still lets a dictionary word with a year and a symbol through ("Dragon-1988!", exactly
10^8), which Bursa refused before; score 4 would refuse every random password under ten
characters. Every check is in memory: nothing about a password leaves the process.

``PASSWORD_REGEXP`` is the rule's one statement (length and the four classes), checked here
and shown to front ends (``configs``' ``password_regexp``) in a form JavaScript reads alike;
``assess`` gives the verdict and the estimate in bits together (one zxcvbn run), as Barong's
``password/validate`` answers ``entropy`` for any password.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 80
MIN_ENTROPY_BITS = 30
# Lower, upper, digit, anything else, MIN_LENGTH..MAX_LENGTH characters of any kind
# (``[\s\S]``, not ``.``, so that a line break counts as a symbol in Python and JavaScript).
PASSWORD_REGEXP = (
    r"^(?=[\s\S]*[a-z])(?=[\s\S]*[A-Z])(?=[\s\S]*[0-9])(?=[\s\S]*[^A-Za-z0-9])"
    rf"[\s\S]{{{MIN_LENGTH},{MAX_LENGTH}}}$"
)
_RULE = re.compile(PASSWORD_REGEXP)

# Words an attacker tries first against this site, given to zxcvbn beside the email.
SITE_WORDS = ("bursa", "bitcoin", "crypto", "ethereum", "exchange", "trading", "opendax")

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Verdict:
    """``ok`` or the reason the password is refused (an error code and a message)."""

    code: str | None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code is None


STRONG = Verdict(None)


def check_strength(password: str, email: str = "") -> Verdict:
    """Why ``password`` is not acceptable, or ``STRONG`` (zxcvbn runs only when the rule
    is met)."""
    return _against_rule(password) or _by_estimate(_estimate(password, email))


def assess(password: str, email: str = "") -> tuple[Verdict, int]:
    """The verdict on ``password`` and zxcvbn's estimate in whole bits (``entropy_bits``)
    from one estimate: what ``password/validate`` answers, for any password."""
    if not 0 < len(password) <= MAX_LENGTH:
        return _against_rule(password) or STRONG, 0
    estimate = _estimate(password, email)
    return _against_rule(password) or _by_estimate(estimate), int(_bits(estimate))


def entropy_bits(password: str, email: str = "") -> int:
    """zxcvbn's estimate in bits, floor(log2(guesses)) — the guesses an attacker needs —
    as Barong's ``password/validate`` answers ``entropy``; 0 for an empty password or one
    too long to estimate."""
    return assess(password, email)[1]


def _against_rule(password: str) -> Verdict | None:
    """``password.requirements`` with what is missing, or None when the rule is met."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return Verdict("password.requirements", f"use {MIN_LENGTH} to {MAX_LENGTH} characters")
    if not _RULE.fullmatch(password):
        return Verdict(
            "password.requirements", "mix lower-case and upper-case letters, digits and symbols"
        )
    return None


def _by_estimate(estimate: dict[str, Any]) -> Verdict:
    if _bits(estimate) >= MIN_ENTROPY_BITS:
        return STRONG
    feedback = estimate["feedback"]
    hint = feedback["warning"] or " ".join(feedback["suggestions"])
    return Verdict("password.weak", hint or "too easy to guess: add another uncommon word")


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash with ``hasher`` from now on. Only the test suite calls this, with argon2's
    cheapest parameters (the defaults cost about 0.2 s of CPU a hash, which was 40% of an
    API test); Bursa itself always hashes with argon2-cffi's defaults."""
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong password."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _estimate(password: str, email: str) -> dict[str, Any]:
    """zxcvbn's analysis (a few milliseconds; about 70 ms at 80 characters)."""
    local_part = email.partition("@")[0]
    inputs = [*SITE_WORDS, *(word for word in (email, local_part) if word)]
    found: dict[str, Any] = zxcvbn(password, user_inputs=inputs, max_length=MAX_LENGTH)
    return found


def _bits(estimate: dict[str, Any]) -> float:
    return math.log2(max(float(estimate["guesses"]), 1.0))
