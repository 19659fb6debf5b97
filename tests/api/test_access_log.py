"""Secrets sent in a URL never reach the access log."""

import logging

import pytest

from bursa.api.access_log import REDACTED, RedactSecrets, install, redact


def test_secret_parameters_are_redacted_and_the_rest_kept() -> None:
    path = "/api/v2/barong/resource/api_keys/k1?totp_code=123456&scope=trade&Password=hunter2"
    assert redact(path) == (
        f"/api/v2/barong/resource/api_keys/k1?totp_code={REDACTED}&scope=trade&Password={REDACTED}"
    )
    assert redact("/api/v2/peatio/market/orders") == "/api/v2/peatio/market/orders"
    assert redact("/x?otp%5Fcode=1&flag") == f"/x?otp%5Fcode={REDACTED}&flag"


def test_the_access_record_is_rewritten_before_it_is_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install()
    install()  # once is enough
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, RedactSecrets) for f in access.filters) == 1
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "POST",
            "/api/v2/peatio/account/withdraws?otp=654321&currency=eth",
            "1.1",
            201,
        )
    line = caplog.records[-1].getMessage()
    assert "654321" not in line
    assert f"otp={REDACTED}&currency=eth" in line
