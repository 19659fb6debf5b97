"""The HTTP application: routers, Peatio-style errors and request limits.

The app does not own the engine or the database: whoever runs it (``bursa up``, a test)
starts them, hands them over here and stops them after the server.
"""

import tempfile
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api import authz, barong, barong_admin, public
from bursa.api.deps import EngineView
from bursa.api.errors import BodySizeLimit, install_error_handlers
from bursa.identity.api_keys import ApiKeys
from bursa.identity.authz import Authorizer, JwtSigner
from bursa.identity.documents import MAX_UPLOAD, Documents
from bursa.identity.kyc import Kyc
from bursa.identity.limits import InProcessLimiter, Limiter
from bursa.identity.nonces import InProcessNonces, NonceRegistry
from bursa.identity.service import Identity
from bursa.identity.sms import SmsSender

MAX_BODY_BYTES = 64 * 1024


def create_app(
    runner: EngineView,
    session_factory: async_sessionmaker[AsyncSession],
    identity: Identity,
    *,
    limiter: Limiter | None = None,
    nonces: NonceRegistry | None = None,
    jwt_signer: JwtSigner | None = None,
    country_header: str | None = None,
    sms: SmsSender | None = None,
    storage_dir: Path | None = None,
    secure_cookies: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The API over ``runner``'s engine, the database behind ``session_factory`` and the
    identity service (cookies marked ``Secure`` unless ``secure_cookies`` is off).

    Without ``sms`` no code is ever texted: phone verification answers 503. Whoever builds
    the app chooses a sender explicitly, so the log sender cannot be reached by omission."""
    app = FastAPI(
        title="Bursa",
        summary="Crypto-currency exchange API in the OpenDAX (Peatio v2) dialect",
        version="0.1.0",
        openapi_url="/api/v2/peatio/openapi.json",
        docs_url="/api/v2/peatio/docs",
        redoc_url=None,
    )
    app.state.runner = runner
    app.state.session_factory = session_factory
    app.state.identity = identity
    app.state.limiter = limiter or InProcessLimiter()
    app.state.api_keys = ApiKeys(identity, nonces or InProcessNonces())
    app.state.kyc = Kyc(identity, sms)
    # Without a storage folder (tests, tools) uploads go to a private temporary one.
    app.state.documents = Documents(
        identity, storage_dir or Path(tempfile.mkdtemp(prefix="bursa-documents-"))
    )
    app.state.authorizer = Authorizer(
        identity,
        app.state.api_keys,
        jwt_signer or JwtSigner.ephemeral(),
        country_header=country_header,
    )
    app.state.secure_cookies = secure_cookies
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=max_body_bytes,
        larger={"/api/v2/barong/resource/documents": MAX_UPLOAD + 64 * 1024},
    )
    app.include_router(public.router)
    app.include_router(barong.identity_router)
    app.include_router(barong.resource_router)
    app.include_router(barong_admin.router)
    app.include_router(authz.router)
    return app
