"""Settings an operator gets wrong stop the process at start, with what to set."""

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bursa.config.settings import Settings
from tests.test_cli import bursa

TWILIO = {
    "twilio_account_sid": "AC0123456789abcdef0123456789abcdef",
    "twilio_auth_token": "twilio-auth-token-5e3c2a",
    "sms_from": "+15005550006",
}


def deployment_settings(monkeypatch: pytest.MonkeyPatch, **values: Any) -> Settings:
    """Settings from ``values`` alone, whatever the test runner's environment holds."""
    for name in list(os.environ):
        if name.startswith("BURSA_"):
            monkeypatch.delenv(name)
    return Settings(**values)


def test_sms_provider_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert deployment_settings(monkeypatch).sms == "file"  # the embedded default
    deployed = deployment_settings(monkeypatch, database_url="postgresql://db/bursa")
    assert deployed.sms is None  # no provider: phone verification is refused, not logged
    chosen = deployment_settings(
        monkeypatch, database_url="postgresql://db/bursa", sms_provider="twilio", **TWILIO
    )
    assert chosen.sms == "twilio"
    assert TWILIO["twilio_auth_token"] not in repr(chosen)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"sms_provider": "twilio"},
            "BURSA_SMS_PROVIDER=twilio also needs BURSA_TWILIO_ACCOUNT_SID,"
            " BURSA_TWILIO_AUTH_TOKEN, BURSA_SMS_FROM",
        ),
        (
            {"sms_provider": "twilio"} | TWILIO | {"twilio_auth_token": None},
            "BURSA_SMS_PROVIDER=twilio also needs BURSA_TWILIO_AUTH_TOKEN",
        ),
        (
            {"sms_provider": "twilio"} | TWILIO | {"sms_from": None},
            "BURSA_SMS_PROVIDER=twilio also needs BURSA_SMS_FROM",
        ),
        (
            {"sms_provider": "file", "database_url": "postgresql://db/bursa"},
            "only allowed on the embedded default",
        ),
        ({"sms_provider": "twilio"} | TWILIO | {"twilio_url": "http://sms.example.com"}, "https"),
        ({"sms_provider": "twilio"} | TWILIO | {"twilio_account_sid": "AC1/../x"}, "pattern"),
        ({"sms_provider": "carrier-pigeon"}, "file"),
        ({"sms_timeout_s": 0}, "greater than 0"),
    ],
)
def test_sms_settings_are_refused_with_what_to_set(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        deployment_settings(monkeypatch, **values)
    assert message in str(refused.value)
    assert TWILIO["twilio_auth_token"] not in str(refused.value)


def test_a_loopback_gateway_may_use_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"sms_provider": "twilio", "twilio_url": "http://127.0.0.1:8099"} | TWILIO
    assert deployment_settings(monkeypatch, **values).twilio_url == "http://127.0.0.1:8099"


def test_up_with_incomplete_twilio_settings_stops_at_start(tmp_path: Path) -> None:
    done = bursa(
        "up",
        env={
            "BURSA_DATA_DIR": str(tmp_path / "data"),
            "BURSA_SMS_PROVIDER": "twilio",
            "BURSA_TWILIO_ACCOUNT_SID": TWILIO["twilio_account_sid"],
            "BURSA_TWILIO_AUTH_TOKEN": TWILIO["twilio_auth_token"],
        },
        timeout=60,
    )
    assert done.returncode != 0
    assert "BURSA_SMS_FROM" in done.stderr
    assert TWILIO["twilio_auth_token"] not in done.stderr + done.stdout
    assert not (tmp_path / "data").exists()  # nothing was started
