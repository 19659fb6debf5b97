"""The Event API's signing keys: one per application (kid ``peatio`` / ``barong``).

OpenDAX gives Peatio Barong's private key, so consumers cannot tell the two apps apart
and Peatio could mint sessions; Bursa keeps two keys. On the embedded default each is a
key file made on first use (mode 600), like the gateway's JWT key.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bursa.signing import multisig
from bursa.signing.multisig import SignKey, VerifyKey

APPS = ("peatio", "barong")
ALGORITHM = "RS256"


def key_file(path: Path) -> bytes:
    """The PEM private key in ``path``, created (2048-bit RSA, mode 600) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    return path.read_bytes()


@dataclass(frozen=True, slots=True)
class EventKeys:
    """What the relay signs with: the key of each application."""

    signers: Mapping[str, SignKey]

    @classmethod
    def of_pems(cls, pems: Mapping[str, bytes | str]) -> "EventKeys":
        if set(pems) != set(APPS):
            raise ValueError(f"event keys are needed for {', '.join(APPS)}")
        signers = {
            app: multisig.sign_key(app, ALGORITHM, pem if isinstance(pem, str) else pem.decode())
            for app, pem in pems.items()
        }
        public = {app: public_pem(key) for app, key in signers.items()}
        if public["peatio"] == public["barong"]:
            raise ValueError("Peatio and Barong must not sign events with the same key")
        return cls(signers)

    def keychain(self) -> dict[str, VerifyKey]:
        return {app: multisig.public_of(key) for app, key in self.signers.items()}

    def public_pems(self) -> dict[str, str]:
        return {app: public_pem(key) for app, key in self.signers.items()}


def public_pem(key: SignKey) -> str:
    return (
        key.key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
