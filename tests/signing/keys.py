"""Throw-away signer keys for tests (generated per run, never stored)."""

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bursa.signing import multisig


def _pems(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@cache
def rsa_pem(name: str) -> tuple[str, str]:
    """(private PEM, public PEM) of a test RSA key called ``name``."""
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@cache
def ec_pem(name: str) -> tuple[str, str]:
    return _pems(ec.generate_private_key(ec.SECP256R1()))


def signer(name: str, algorithm: str = "RS256") -> multisig.SignKey:
    private, _ = ec_pem(name) if algorithm.startswith("ES") else rsa_pem(name)
    return multisig.sign_key(name, algorithm, private)


def verifier(name: str, algorithm: str = "RS256") -> multisig.VerifyKey:
    _, public = ec_pem(name) if algorithm.startswith("ES") else rsa_pem(name)
    return multisig.verify_key(name, algorithm, public)
