"""``POST /api/v2/barong/public/kyc``: a KYC provider's callback (Barong's KYCAID adapter).

Off unless a provider is configured (``BURSA_KYCAID_API_TOKEN``): then 404
``public.kyc.provider_not_configured``, and nothing is read. Otherwise the provider's
adapter authenticates the raw body before anything is parsed (KYCAID: the
``x-data-integrity`` header, ``bursa.identity.kyc_providers``) — an unsigned or forged
callback is 401 — and its verdict is applied once (``bursa.identity.kyc_callbacks``): a
second delivery answers 200 ``duplicate`` and changes nothing. The provider retries on
anything but a 2xx, so every accepted callback answers 200.
"""

from typing import Any

from fastapi import APIRouter, Request

from bursa.api.barong.schemas import ERRORS
from bursa.api.deps import client_of
from bursa.api.errors import ApiError
from bursa.identity.kyc_callbacks import KycCallbacks
from bursa.identity.kyc_providers import KycProvider

router = APIRouter(prefix="/api/v2/barong/public", tags=["barong public"])


def kyc_provider(request: Request) -> KycProvider:
    """The application's provider (``app.state.kyc_provider``), or 404 without one."""
    provider: KycProvider | None = getattr(request.app.state, "kyc_provider", None)
    if provider is None:
        raise ApiError(404, "public.kyc.provider_not_configured")
    return provider


@router.post(
    "/kyc",
    responses={404: ERRORS[401], **ERRORS},
    summary="A KYC provider's verdict on a member (signed by the provider)",
    # The provider's own JSON, read raw: its signature covers the exact bytes sent.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "The provider's callback"}
                }
            },
        }
    },
)
async def kyc_callback(request: Request) -> dict[str, Any]:
    provider = kyc_provider(request)
    verdict = provider.verify(request.headers, await request.body())
    outcome = await KycCallbacks(request.app.state.identity).apply(verdict, client_of(request))
    return {"result": outcome}
