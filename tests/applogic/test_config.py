"""AppLogic's configuration: mistakes named, the private key never repeated back."""

from decimal import Decimal
from pathlib import Path

import pytest

from bursa.applogic.config import AppLogicConfig
from bursa.applogic.listener import withdrawal_approvals
from tests.signing.keys import rsa_pem

URL = "http://127.0.0.1:8000/api/v2/peatio/management"


def test_rules_are_read_and_checked(tmp_path: Path) -> None:
    private = rsa_pem("applogic")[0]
    key_file = tmp_path / "applogic.pem"
    key_file.write_text(private)
    config_file = tmp_path / "applogic.yml"
    config_file.write_text(
        f"peatio_management_url: {URL}/\n"
        f"signing_key: {{file: {key_file}}}\n"
        "withdrawals:\n"
        "  USD: {threshold: '50.5', approvers: [A, B], required: 2}\n"
    )
    config = AppLogicConfig.from_file(config_file)
    assert config.peatio_management_url == URL
    assert config.key.kid == "applogic"
    assert config.rules["usd"].threshold == Decimal("50.5")

    with pytest.raises(ValueError, match="required is more than there are approvers") as bad:
        AppLogicConfig.from_mapping(
            {
                "peatio_management_url": URL,
                "signing_key": {"pem": private},
                "withdrawals": {"usd": {"threshold": "1", "approvers": ["A"], "required": 2}},
            }
        )
    with pytest.raises(ValueError, match="either pem or file") as both:
        AppLogicConfig.from_mapping(
            {"peatio_management_url": URL, "signing_key": {"pem": private, "file": "x"}}
        )
    for refused in (bad, both):
        assert "PRIVATE KEY" not in str(refused.value)


def test_the_listener_is_bound_to_created_withdrawals() -> None:
    assert withdrawal_approvals.bindings == (("peatio.events.model", "withdraw.created"),)
