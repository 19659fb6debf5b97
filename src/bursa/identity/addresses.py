"""Address proofs (Barong's ``POST /resource/addresses``): the member's address and one
file showing it (a utility bill, a bank statement).

Kept as documents of type ``address``, so the admin document review covers them: the file
is checked and stored as an identity document's, the address, city and postcode are sealed
together by the key store (the country stays readable, as on profiles). An upload sets the
private label ``address: pending``; the review sets ``verified`` or ``rejected``.
"""

import json
import re
from typing import Any

from bursa.errors import Refusal
from bursa.identity.documents import ADDRESS_PROOF, DOCUMENT_KEY, Documents, check_upload
from bursa.identity.service import Client, IdentityError

SCOPE = "resource.addresses"
COUNTRY = re.compile(r"[A-Z]{2,3}")
LIMITS = {"address": 255, "city": 255, "postcode": 32}


def _field(name: str, text: str) -> str:
    """Trimmed, present and within its length; otherwise ``resource.addresses.invalid_<name>``."""
    value = " ".join(text.split())
    if not 0 < len(value) <= LIMITS[name]:
        raise IdentityError(
            Refusal.INVALID, f"{SCOPE}.invalid_{name}", f"1 to {LIMITS[name]} characters"
        )
    return value


class AddressProofs:
    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.identity = documents.identity

    async def upload(
        self,
        user: dict[str, Any],
        country: str,
        address: str,
        city: str,
        postcode: str,
        content: bytes,
        client: Client,
    ) -> dict[str, Any]:
        country = country.strip().upper()
        if not COUNTRY.fullmatch(country):
            raise IdentityError(
                Refusal.INVALID, f"{SCOPE}.invalid_country", "ISO 3166 alpha-2 or alpha-3"
            )
        details = {
            "address": _field("address", address),
            "city": _field("city", city),
            "postcode": _field("postcode", postcode),
        }
        content_type, extension = check_upload(content, SCOPE)
        sealed = await self.identity.keystore.encrypt(DOCUMENT_KEY, json.dumps(details).encode())
        values = {"doc_type": ADDRESS_PROOF, "country": country, "address": sealed}
        row = await self.documents.file(
            user, ADDRESS_PROOF, values, content, content_type, extension, client
        )
        return row | details

    async def pending_reviews(self) -> list[dict[str, Any]]:
        """Documents and address proofs waiting for an admin, the proofs' details opened."""
        return await self.reveal(await self.documents.pending())

    async def reveal(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows with the address proofs' sealed details opened (for the reviewing admin)."""
        opened = []
        for row in rows:
            if row["doc_type"] == ADDRESS_PROOF and row["address"] is not None:
                plain = await self.identity.keystore.decrypt(DOCUMENT_KEY, row["address"])
                row = row | json.loads(plain)
            opened.append(row)
        return opened
