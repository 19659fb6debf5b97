"""The HTTP application: routers, Peatio-style errors and request limits.

The app does not own the engine or the database: whoever runs it (``bursa up``, a test)
starts them, hands them over here and stops them after the server.
"""

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.api import authz
from bursa.api.barong import kyc_callback as barong_kyc_callback
from bursa.api.barong import public as barong_public
from bursa.api.barong.admin import abilities as barong_admin_abilities
from bursa.api.barong.admin import activities as barong_admin_activities
from bursa.api.barong.admin import api_keys as barong_admin_api_keys
from bursa.api.barong.admin import levels as barong_admin_levels
from bursa.api.barong.admin import metrics as barong_admin_metrics
from bursa.api.barong.admin import oauth as barong_admin_oauth
from bursa.api.barong.admin import permissions as barong_admin_permissions
from bursa.api.barong.admin import profiles as barong_admin_profiles
from bursa.api.barong.admin import restrictions as barong_admin_restrictions
from bursa.api.barong.admin import service_accounts as barong_admin_service_accounts
from bursa.api.barong.admin.users import accounts as barong_admin_users
from bursa.api.barong.admin.users import comments as barong_admin_comments
from bursa.api.barong.admin.users import data_storage as barong_admin_data_storage
from bursa.api.barong.admin.users import documents as barong_admin_documents
from bursa.api.barong.admin.users import labels as barong_admin_labels
from bursa.api.barong.identity import access as barong_access
from bursa.api.barong.identity import sessions as barong_sessions
from bursa.api.barong.identity import users as barong_identity_users
from bursa.api.barong.management import kyc as barong_management_kyc  # noqa: F401  (joins barong_management.router)
from bursa.api.barong.management import tools as barong_management_tools  # noqa: F401
from bursa.api.barong.management import users as barong_management
from bursa.api.barong.resource import addresses as barong_addresses
from bursa.api.barong.resource import api_keys as barong_api_keys
from bursa.api.barong.resource import data_storage as barong_storage
from bursa.api.barong.resource import documents as barong_documents
from bursa.api.barong.resource import labels as barong_labels
from bursa.api.barong.resource import oauth as barong_grants
from bursa.api.barong.resource import otp as barong_otp
from bursa.api.barong.resource import phones as barong_phones
from bursa.api.barong.resource import profiles as barong_profiles
from bursa.api.barong.resource import service_accounts as barong_service_accounts
from bursa.api.barong.resource import users as barong_users
from bursa.api.bodies import document_bodies
from bursa.api.deps import EngineView
from bursa.api.errors import BodySizeLimit, install_error_handlers
from bursa.api.management import document_payloads
from bursa.api.management_auth import MAX_ENVELOPE_BYTES, ManagementPolicy
from bursa.api.metrics import RequestMetrics
from bursa.api.oauth import provider as oauth
from bursa.api.parameters import refuse_unknown_parameters
from bursa.api.peatio.account import balances as peatio_account
from bursa.api.peatio.account import demo_funds as peatio_account_demo_funds
from bursa.api.peatio.account import internal_transfers as peatio_account_transfers
from bursa.api.peatio.account import stats as peatio_account_stats
from bursa.api.peatio.account import withdraws as peatio_account_withdraws
from bursa.api.peatio.admin import adjustments as peatio_admin_adjustments
from bursa.api.peatio.admin import airdrops as peatio_admin_airdrops
from bursa.api.peatio.admin import beneficiaries as peatio_admin_beneficiaries
from bursa.api.peatio.admin import config as peatio_admin_config
from bursa.api.peatio.admin import contracts as peatio_admin_contracts
from bursa.api.peatio.admin import custody as peatio_admin_custody
from bursa.api.peatio.admin import deposit_address as peatio_admin_deposit_address
from bursa.api.peatio.admin import deposits as peatio_admin_deposits
from bursa.api.peatio.admin import engines as peatio_admin_engines
from bursa.api.peatio.admin import fees as peatio_admin_fees
from bursa.api.peatio.admin import finance as peatio_admin_finance
from bursa.api.peatio.admin import records as peatio_admin_records
from bursa.api.peatio.admin import transfers as peatio_admin_transfers
from bursa.api.peatio.admin import withdraw_limits as peatio_admin_withdraw_limits
from bursa.api.peatio.admin import withdraws as peatio_admin_withdraws
from bursa.api.peatio.listings import coingecko, coinmarketcap
from bursa.api.peatio.management import accounts as peatio_management_accounts
from bursa.api.peatio.management import beneficiaries as peatio_management_beneficiaries
from bursa.api.peatio.management import config as peatio_management_config
from bursa.api.peatio.management import deposit_address as peatio_management_deposit_address
from bursa.api.peatio.management import deposits as peatio_management_deposits
from bursa.api.peatio.management import engines as peatio_management_engines
from bursa.api.peatio.management import ledger as peatio_management_ledger
from bursa.api.peatio.management import trading as peatio_management_trading
from bursa.api.peatio.management import transfers as peatio_management_transfers
from bursa.api.peatio.management import withdraws as peatio_management_withdraws
from bursa.api.peatio.market import cancel_after as peatio_market_cancel_after
from bursa.api.peatio.market import order_entry as peatio_market_order_entry
from bursa.api.peatio.market import orders as peatio_market
from bursa.api.peatio.market.rate_limit import OrderEntryLimits
from bursa.api.peatio.public import general as public
from bursa.api.peatio.public import markets as market_data
from bursa.api.ranger import routes as ranger
from bursa.api.ranger.hub import RangerHub
from bursa.api.web import WebApp
from bursa.custody.addresses import Plugins
from bursa.custody.withdraw_limits import DEFAULT_PLATFORM_CURRENCY
from bursa.identity.account import Accounts
from bursa.identity.addresses import AddressProofs
from bursa.identity.api_keys import ApiKeys
from bursa.identity.authz import Authorizer, JwtSigner
from bursa.identity.data_storage import DEFAULT_TITLES, DataStorages
from bursa.identity.documents import MAX_UPLOAD, Documents
from bursa.identity.kyc import Kyc
from bursa.identity.kyc_providers import KycProvider
from bursa.identity.limits import ORDER_ENTRY, InProcessLimiter, Limiter, Rule
from bursa.identity.nonces import InProcessNonces, NonceRegistry
from bursa.identity.oauth_server import OAuthServer
from bursa.identity.oauth_store import OAuthStore
from bursa.identity.public_labels import PublicLabels
from bursa.identity.service import Identity
from bursa.identity.sms import SmsSender
from bursa.signing import multisig
from bursa.trading.dead_man import CancelAfterWatcher
from bursa.trading.demo_funds import DemoFunds
from bursa.trading.market_data import Tickers
from bursa.trading.member_levels import MemberLevels

MAX_BODY_BYTES = 64 * 1024
OPENAPI_URL = "/api/v2/peatio/openapi.json"
# Where Peatio and Barong published their Swagger documents; one schema covers both APIs.
SWAGGER_ALIASES = ("/api/v2/peatio/swagger", "/api/v2/barong/swagger")
# Barong's endpoints, in the order they are matched: within each path, fixed paths before
# ``{param}`` ones (``admin/users/{uid}`` comes after every other ``admin/users/…`` router).
BARONG_ROUTERS = (
    barong_access.router,
    barong_identity_users.router,
    barong_sessions.router,
    barong_public.identity_router,
    barong_public.router,
    barong_kyc_callback.router,
    barong_users.router,
    barong_otp.router,
    barong_api_keys.router,
    barong_phones.router,
    barong_profiles.router,
    barong_documents.router,
    barong_addresses.router,
    barong_labels.router,
    barong_storage.router,
    barong_service_accounts.router,
    barong_grants.router,
    barong_admin_comments.router,
    barong_admin_labels.router,
    barong_admin_documents.router,
    barong_admin_data_storage.router,
    barong_admin_metrics.router,
    barong_admin_abilities.router,
    barong_admin_users.router,
    barong_admin_permissions.router,
    barong_admin_restrictions.router,
    barong_admin_activities.router,
    barong_admin_api_keys.router,
    barong_admin_profiles.router,
    barong_admin_levels.router,
    barong_admin_service_accounts.router,
    barong_admin_oauth.router,
)
UPLOAD_PATHS = ("/api/v2/barong/resource/documents", "/api/v2/barong/resource/addresses")
MANAGEMENT_UPLOAD_PATHS = ("/api/v2/barong/management/documents",)


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
    storage_titles: Sequence[str] = DEFAULT_TITLES,
    secure_cookies: bool = True,
    public_url: str = "http://127.0.0.1:8000",
    max_body_bytes: int = MAX_BODY_BYTES,
    tickers: Tickers | None = None,
    member_levels: MemberLevels | None = None,
    ranger_hub: RangerHub | None = None,
    management: Mapping[str, ManagementPolicy] | None = None,
    barong_management_key: multisig.SignKey | None = None,
    platform_currency: str = DEFAULT_PLATFORM_CURRENCY,
    kyc_provider: KycProvider | None = None,
    web_dist: Path | None = None,
    demo_funds: DemoFunds | None = None,
    metrics_public: bool = False,
    order_rate_limit: Rule | None = ORDER_ENTRY,
    cancel_after: CancelAfterWatcher | None = None,
) -> FastAPI:
    """The API over ``runner``'s engine, the database behind ``session_factory`` and the
    identity service (cookies marked ``Secure`` unless ``secure_cookies`` is off);
    ``storage_titles`` are the titles members may file data storages under;
    ``public_url`` is the address members and applications use: the OAuth issuer;
    ``member_levels`` the least KYC level to see deposits, withdraw and trade.

    ``tickers`` caches while its candle writer runs (the host starts the writer); without
    it tickers are computed on each request. ``ranger_hub`` serves the websocket streams
    (the host starts and stops it); without it the websocket endpoints answer 503.
    ``management`` holds the Management API policy of ``peatio`` and ``barong``; an
    application without one refuses every management request.

    ``web_dist`` holds the built web app, served at ``/`` (``bursa.api.web``); without it
    only the APIs answer.

    ``GET /metrics`` answers clients at non-global addresses only, unless
    ``metrics_public`` (``bursa.api.metrics``).

    ``order_rate_limit`` is order entry's rule per API key (``…market.rate_limit``; None:
    none); ``cancel_after`` the ``cancel_all_after`` watcher its host runs (None: refused).

    Without ``sms`` no code is ever texted: phone verification answers 503. Whoever builds
    the app chooses a sender explicitly, so the log sender cannot be reached by omission."""
    app = FastAPI(
        title="Bursa",
        summary="Crypto-currency exchange API in the OpenDAX (Peatio v2) dialect",
        version="0.1.0",
        openapi_url=OPENAPI_URL,
        docs_url="/api/v2/peatio/docs",
        redoc_url=None,
        dependencies=[Depends(refuse_unknown_parameters)],
    )
    app.state.runner = runner
    app.state.session_factory = session_factory
    app.state.tickers = tickers or Tickers()
    app.state.member_levels = member_levels or MemberLevels()
    app.state.platform_currency = platform_currency  # KYC withdrawal limits' currency
    app.state.demo_funds = demo_funds or DemoFunds.off()  # bursa up's demo faucet
    app.state.identity = identity
    app.state.ranger = ranger_hub
    # Chain plugins for members' deposit addresses, opened on first use.
    # (no identity: only the OpenAPI document is wanted, as the fuzz test builds it)
    app.state.custody = Plugins(identity.keystore) if identity is not None else None
    app.state.management = dict(management or {})
    app.state.barong_management_key = barong_management_key  # otp/sign; None: 503
    app.state.limiter = limiter or InProcessLimiter()
    if identity is not None:  # wrong 2FA codes count with failed logins, per address
        identity.limiter = app.state.limiter
    app.state.api_keys = ApiKeys(identity, nonces or InProcessNonces(), app.state.limiter)
    # Order entry per API key (None: no limit; so is a limiter that cannot count it).
    app.state.order_limits = OrderEntryLimits(app.state.limiter, order_rate_limit)
    app.state.cancel_after = cancel_after  # its host runs the watcher; None: refused (503)
    app.state.kyc = Kyc(identity, sms)
    app.state.kyc_provider = kyc_provider  # a KYC provider's callbacks; None: refused (404)
    # Without a storage folder (tests, tools) uploads go to a private temporary one.
    app.state.documents = Documents(
        identity, storage_dir or Path(tempfile.mkdtemp(prefix="bursa-documents-"))
    )
    app.state.addresses = AddressProofs(app.state.documents)
    app.state.public_labels = PublicLabels(identity)
    app.state.data_storages = DataStorages(identity, storage_titles)
    app.state.accounts = Accounts(identity)
    signer = jwt_signer or JwtSigner.ephemeral()
    app.state.oauth_store = OAuthStore(identity)
    app.state.oauth_server = OAuthServer(
        app.state.oauth_store, public_url.rstrip("/") + oauth.PREFIX, signer.private_pem
    )
    app.state.authorizer = Authorizer(
        identity,
        app.state.api_keys,
        signer,
        app.state.oauth_store,
        country_header=country_header,
    )
    app.state.secure_cookies = secure_cookies
    install_error_handlers(app)

    async def swagger() -> JSONResponse:
        return JSONResponse(app.openapi())

    for alias in SWAGGER_ALIASES:
        app.add_api_route(alias, swagger, methods=["GET"], include_in_schema=False)
    if web_dist is not None:
        app.add_middleware(WebApp, folder=web_dist)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=max_body_bytes,
        larger=dict.fromkeys(UPLOAD_PATHS, MAX_UPLOAD + 64 * 1024)
        | dict.fromkeys(MANAGEMENT_UPLOAD_PATHS, MAX_ENVELOPE_BYTES),
    )
    # First: order entry is the hottest path, and FastAPI tries routes in order (each
    # one tried costs a regex and some bookkeeping). No other router has a path under
    # ``/api/v2/peatio/market``, so the order changes no match (tests/api/test_routing.py).
    app.include_router(peatio_market_cancel_after.router)  # before ``orders/{id}`` paths
    app.include_router(peatio_market_order_entry.router)  # before ``orders/{id}`` paths
    app.include_router(peatio_market.router)
    app.include_router(public.router)
    app.include_router(market_data.router)
    app.include_router(coinmarketcap.router)
    app.include_router(coingecko.router)
    app.include_router(peatio_account.router)
    app.include_router(peatio_account_withdraws.router)
    app.include_router(peatio_account_transfers.router)
    app.include_router(peatio_account_stats.router)
    app.include_router(peatio_account_demo_funds.router)
    app.include_router(peatio_admin_transfers.router)
    app.include_router(peatio_admin_config.router)
    app.include_router(peatio_admin_fees.router)
    app.include_router(peatio_admin_records.router)
    app.include_router(peatio_admin_adjustments.router)
    app.include_router(peatio_admin_withdraws.router)
    app.include_router(peatio_admin_withdraw_limits.router)
    app.include_router(peatio_admin_deposits.router)
    app.include_router(peatio_admin_custody.router)
    app.include_router(peatio_admin_contracts.router)
    app.include_router(peatio_admin_airdrops.router)
    app.include_router(peatio_admin_engines.router)
    app.include_router(peatio_admin_beneficiaries.router)
    app.include_router(peatio_admin_deposit_address.router)
    # Last of the admin routers: ``members/{uid}`` must not shadow a fixed path such as
    # ``members/groups``.
    app.include_router(peatio_admin_finance.router)
    for barong_router in BARONG_ROUTERS:
        app.include_router(barong_router)
    app.include_router(authz.router)
    app.include_router(oauth.router)
    app.include_router(ranger.router)
    app.include_router(peatio_management_deposits.router)
    app.include_router(peatio_management_transfers.router)
    app.include_router(peatio_management_accounts.router)
    app.include_router(peatio_management_trading.router)
    app.include_router(peatio_management_config.router)
    app.include_router(peatio_management_withdraws.router)
    app.include_router(peatio_management_engines.router)
    app.include_router(peatio_management_beneficiaries.router)
    app.include_router(peatio_management_ledger.router)
    app.include_router(peatio_management_deposit_address.router)
    app.include_router(barong_management.router)
    document_bodies(app)
    document_payloads(app)  # management routes: the envelope's payload models
    # Outermost (added last): every request is counted, and /metrics is answered before the
    # web app could take it for a page (``bursa.api.metrics``).
    app.add_middleware(RequestMetrics, public=metrics_public)
    return app
