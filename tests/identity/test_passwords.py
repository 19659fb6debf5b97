"""The password policy: Barong's composition rule, then zxcvbn's estimate."""

import pytest

from bursa.identity import passwords


@pytest.mark.parametrize(
    "password",
    [
        "Summer2024!",  # a season and a year: zxcvbn knows both
        "Liverpool1!",  # a common password with a digit and a symbol appended
        "January2025!",
        "Dragon-1988!",  # a word, a year and a symbol: 10^8 guesses, below the floor
    ],
)
def test_passwords_that_met_the_composition_rule_but_zxcvbn_refuses(password: str) -> None:
    assert len(password) >= passwords.MIN_LENGTH
    verdict = passwords.check_strength(password, "someone@example.com")
    assert verdict.code == "password.weak"
    assert verdict.message
    assert passwords.entropy_bits(password) < passwords.MIN_ENTROPY_BITS


def test_the_email_and_the_site_count_as_known_words() -> None:
    assert passwords.check_strength("Carol1975!x", "carol@example.com").code == "password.weak"
    assert passwords.check_strength("Bitcoin-2024!x").code == "password.weak"


@pytest.mark.parametrize("password", ["Tr4de-Night!Owl", "Quiet-Harbor!7731", "kT9#vQ2!mZ7x"])
def test_strong_passwords_pass(password: str) -> None:
    assert passwords.check_strength(password, "alice@example.com").ok
    assert passwords.entropy_bits(password, "alice@example.com") >= passwords.MIN_ENTROPY_BITS


def test_composition_and_length_come_first() -> None:
    assert passwords.check_strength("x" * 81).code == "password.requirements"
    assert passwords.check_strength("alllowercase1!").code == "password.requirements"
    assert passwords.entropy_bits("x" * 81) == 0
