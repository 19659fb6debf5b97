"""jwt-multisig envelopes: several signers, algorithms pinned per key, time claims."""

import base64
import hashlib
import hmac
import time
import uuid

import orjson
import pytest

from bursa.signing import multisig
from tests.signing.keys import rsa_pem, signer, verifier


def claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), "data": {"a": 1}} | extra


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_two_signers_verify_and_unknown_ones_are_ignored() -> None:
    envelope = multisig.sign(claims(), signer("applogic"), signer("barong"), signer("stranger"))
    keychain = {"applogic": verifier("applogic"), "barong": verifier("barong")}
    verified = multisig.verify(envelope, keychain)
    assert verified.signers == {"applogic", "barong"}
    assert verified.unknown == {"stranger"}
    assert verified.claims["data"] == {"a": 1}


def test_the_protected_header_is_jwt_multisigs() -> None:
    envelope = multisig.sign(claims(), signer("applogic"))
    signature = envelope["signatures"][0]
    assert signature["protected"] == "eyJhbGciOiJSUzI1NiJ9"  # {"alg":"RS256"}
    assert signature["header"] == {"kid": "applogic"}


def test_add_signature_keeps_the_payload() -> None:
    envelope = multisig.sign(claims(), signer("applogic"))
    cosigned = multisig.add_signature(envelope, signer("barong"))
    assert cosigned["payload"] == envelope["payload"]
    keychain = {"applogic": verifier("applogic"), "barong": verifier("barong")}
    assert multisig.verify(cosigned, keychain).signers == {"applogic", "barong"}


def test_hmac_with_the_public_key_is_refused() -> None:
    """The forgery jwt-multisig allowed: HS256 keyed with the signer's public PEM."""
    _, public = rsa_pem("applogic")
    payload = b64(orjson.dumps(claims()))
    protected = b64(orjson.dumps({"alg": "HS256"}))
    mac = hmac.new(public.encode(), f"{protected}.{payload}".encode(), hashlib.sha256)
    forged = {
        "payload": payload,
        "signatures": [
            {"protected": protected, "header": {"kid": "applogic"}, "signature": b64(mac.digest())}
        ],
    }
    with pytest.raises(multisig.MultisigError) as refused:
        multisig.verify(forged, {"applogic": verifier("applogic")})
    assert refused.value.reason == "wrong_algorithm"


def test_a_tampered_payload_is_refused() -> None:
    envelope = multisig.sign(claims(), signer("applogic"))
    envelope["payload"] = b64(orjson.dumps(claims(data={"a": 2})))
    with pytest.raises(multisig.MultisigError) as refused:
        multisig.verify(envelope, {"applogic": verifier("applogic")})
    assert refused.value.reason == "bad_signature"


def test_a_signature_by_another_key_under_a_known_kid_is_refused() -> None:
    envelope = multisig.sign(claims(), multisig.SignKey("applogic", "RS256", signer("x").key))
    with pytest.raises(multisig.MultisigError) as refused:
        multisig.verify(envelope, {"applogic": verifier("applogic")})
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"exp": int(time.time()) - 100}, "expired"),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3660}, "not_yet_valid"),
        ({"exp": "soon"}, "malformed"),
    ],
)
def test_time_claims(extra: dict[str, object], reason: str) -> None:
    envelope = multisig.sign(claims(**extra), signer("applogic"))
    with pytest.raises(multisig.MultisigError) as refused:
        multisig.verify(envelope, {"applogic": verifier("applogic")})
    assert refused.value.reason == reason


def test_required_claims() -> None:
    body = claims()
    del body["jti"]
    envelope = multisig.sign(body, signer("applogic"))
    with pytest.raises(multisig.MultisigError) as refused:
        multisig.verify(envelope, {"applogic": verifier("applogic")})
    assert refused.value.reason == "missing_claim"


@pytest.mark.parametrize(
    "envelope",
    [
        None,
        [],
        {"payload": 1},
        {"payload": "x", "signatures": []},
        {"payload": "x", "signatures": [1]},
    ],
)
def test_malformed_envelopes(envelope: object) -> None:
    with pytest.raises(multisig.MultisigError) as refused:
        multisig.verify(envelope, {"applogic": verifier("applogic")})
    assert refused.value.reason == "malformed"


def test_configuration_refuses_private_keys_and_symmetric_algorithms() -> None:
    private, public = rsa_pem("applogic")
    with pytest.raises(ValueError, match="private key"):
        multisig.verify_key("applogic", "RS256", private)
    with pytest.raises(ValueError, match="algorithm"):
        multisig.verify_key("applogic", "HS256", public)
    encoded = base64.urlsafe_b64encode(public.encode()).decode()
    assert multisig.verify_key("applogic", "RS256", encoded).algorithm == "RS256"


def test_ec_keys() -> None:
    envelope = multisig.sign(claims(), signer("gw", "ES256"))
    assert multisig.verify(envelope, {"gw": verifier("gw", "ES256")}).signers == {"gw"}
