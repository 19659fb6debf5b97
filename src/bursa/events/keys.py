"""The Event API's signing keys: one per application (kid ``peatio`` / ``barong``).

OpenDAX gives Peatio Barong's private key, so consumers cannot tell the two apps apart
and Peatio could mint sessions; Bursa keeps two keys. On the embedded default each is a
key file made on first use (mode 600), like the gateway's JWT key.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from bursa.signing import multisig
from bursa.signing.multisig import SignKey, VerifyKey

APPS = ("peatio", "barong")
ALGORITHM = "RS256"


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
