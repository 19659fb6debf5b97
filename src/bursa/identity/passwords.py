"""Password policy and hashing.

Barong's rule (lower, upper, digit and symbol, 8–80 characters) plus what it lacked: a
refusal of passwords that appear in breach lists or are built from the email address, and
an entropy floor. Hashes are argon2id (argon2-cffi defaults), re-hashed when those change.
"""

import math
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 80
MIN_ENTROPY_BITS = 40

_hasher = PasswordHasher()

# The most common passwords of public breach corpora, lower-cased, with the digits and
# symbols people append to pass composition rules stripped (see ``_core``).
_COMMON_CORES = frozenset(
    [
        "password",
        "passw0rd",
        "p@ssword",
        "p@ssw0rd",
        "qwerty",
        "qwertyuiop",
        "asdfgh",
        "asdfghjkl",
        "zxcvbnm",
        "letmein",
        "welcome",
        "welcome1",
        "admin",
        "administrator",
        "login",
        "master",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "sunshine",
        "iloveyou",
        "princess",
        "shadow",
        "superman",
        "batman",
        "trustno",
        "abc",
        "abcdef",
        "abcd",
        "qazwsx",
        "michael",
        "jennifer",
        "hunter",
        "charlie",
        "freedom",
        "whatever",
        "starwars",
        "secret",
        "changeme",
        "default",
        "bitcoin",
        "crypto",
        "ethereum",
        "exchange",
        "trading",
    ]
)


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
    """Why ``password`` is not acceptable, or ``STRONG``."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return Verdict(
            "password.requirements",
            f"use {MIN_LENGTH} to {MAX_LENGTH} characters",
        )
    classes = [
        re.search(r"[a-z]", password),
        re.search(r"[A-Z]", password),
        re.search(r"[0-9]", password),
        re.search(r"[^A-Za-z0-9]", password),
    ]
    if not all(classes):
        return Verdict(
            "password.requirements",
            "mix lower-case and upper-case letters, digits and symbols",
        )
    core = _core(password)
    local_part = email.split("@")[0].lower()
    if core in _COMMON_CORES or (len(local_part) >= 4 and local_part in password.lower()):
        return Verdict("password.weak", "this password is common or built from your email")
    if _entropy_bits(password) < MIN_ENTROPY_BITS or len(set(password)) < 5:
        return Verdict("password.weak", "too predictable: use a longer or more varied password")
    return STRONG


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


def _core(password: str) -> str:
    """The password without leading/trailing digits and symbols, lower-cased, with the
    usual letter substitutions undone."""
    stripped = re.sub(r"^[^A-Za-z]+|[^A-Za-z]+$", "", password).lower()
    return stripped.translate(str.maketrans("0134@$", "oieaas"))


def _entropy_bits(password: str) -> float:
    """Length × log2(alphabet), with runs of the same character counted once."""
    alphabet = 0
    alphabet += 26 if re.search(r"[a-z]", password) else 0
    alphabet += 26 if re.search(r"[A-Z]", password) else 0
    alphabet += 10 if re.search(r"[0-9]", password) else 0
    alphabet += 33 if re.search(r"[^A-Za-z0-9]", password) else 0
    effective = len(re.sub(r"(.)\1+", r"\1", password))
    return effective * math.log2(max(alphabet, 2))
