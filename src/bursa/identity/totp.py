"""Time-based one-time passwords (RFC 6238, 30 s, 6 digits) with each code accepted once.

The seed is generated here, shown once (otpauth URL and QR code), and stored only encrypted
by the key store. A code is checked against the current step and one step either side (clock
drift); the step that matched is remembered and no step at or before it is accepted again.
"""

import base64
import hmac
import io
import time

import pyotp
import segno

from bursa.plain_input import is_digits

STEP_S = 30


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_url(secret: str, email: str, issuer: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer))


def qr_png_base64(url: str) -> str:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=4)
    return base64.b64encode(buffer.getvalue()).decode()


def matching_step(
    secret: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step ``code`` belongs to, if it is valid and newer than ``last_step``."""
    if len(code) != 6 or not is_digits(code):  # "١٢٣٤٥٦" is not a code (nor a crash)
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_S)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None
