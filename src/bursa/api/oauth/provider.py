"""Bursa as an OAuth 2.0 / OpenID Connect provider (``/api/v2/barong/oauth``).

A third-party application registered by an admin sends the member to ``authorize``; the
member signs in if needed and approves or denies the scopes on a consent page served
here; the application trades the code (with its PKCE verifier) for tokens at ``token``,
refreshes them, revokes them at ``revoke``, and reads OpenID claims at ``userinfo``.
The protocol work is Authlib's (``bursa.identity.oauth_server``); this module turns HTTP
into its requests and its answers into HTTP.

The consent page is a plain server-rendered form: it works without the front end, cannot
be framed (``frame-ancestors 'none'``), and its POST must carry the session's CSRF token.
"""

import html
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.oidc.discovery import OpenIDProviderMetadata
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from bursa.api.barong.deps import SESSION_COOKIE, IdentityDep
from bursa.api.barong.identity.sessions import LogIn, open_session
from bursa.api.deps import client_of
from bursa.api.errors import ApiError
from bursa.errors import BursaError, Refusal
from bursa.identity import oauth_scopes
from bursa.identity.oauth_server import HttpRequest, HttpResponse, OAuthServer, user_claims
from bursa.identity.oauth_store import OAuthStore
from bursa.identity.service import Authenticated, Identity, IdentityError

PREFIX = "/api/v2/barong/oauth"
router = APIRouter(prefix=PREFIX, tags=["oauth 2.0 / openid connect"])
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
MAX_FIELD = 2048


def _server(request: Request) -> OAuthServer:
    server: OAuthServer = request.app.state.oauth_server
    return server


ServerDep = Annotated[OAuthServer, Depends(_server)]


# The form bodies of RFC 6749 and 7009, documented for the OpenAPI only: Authlib reads and
# checks them, and answers a bad one as the RFCs say (``invalid_request`` …), not as Barong.
class AuthorizationRequest(BaseModel):
    """The authorization request (RFC 6749 4.1.1, PKCE, OpenID ``nonce``)."""

    response_type: Literal["code"]
    client_id: str
    redirect_uri: str | None = None
    scope: str | None = None
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: Literal["S256"] | None = None
    nonce: str | None = None


class ConsentDecision(AuthorizationRequest):
    """The consent page's form: the authorization request, the member's decision and the
    session's CSRF token."""

    decision: Literal["approve", "deny"]
    csrf_token: str


class SignInForm(BaseModel):
    """The consent page's sign-in form; ``return_query`` is the authorization request."""

    email: str
    password: str
    otp_code: str | None = None
    return_query: str


class TokenRequest(BaseModel):
    """A code (with its PKCE verifier) or a refresh token for tokens (RFC 6749 4.1.3, 6);
    a confidential client authenticates with HTTP Basic or these ``client_*`` fields."""

    grant_type: Literal["authorization_code", "refresh_token"]
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class RevocationRequest(BaseModel):
    """A token to revoke (RFC 7009 2.1), with the client's authentication as at ``token``."""

    token: str
    token_type_hint: Literal["access_token", "refresh_token"] | None = None
    client_id: str | None = None
    client_secret: str | None = None


def form_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the operation's form body."""
    schema = {"schema": model.model_json_schema()}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": schema},
        }
    }


async def _http_request(request: Request, server: OAuthServer) -> HttpRequest:
    """What Authlib needs of the request. The URL is rebuilt on the configured issuer,
    which is what clients see (a TLS proxy in front changes the scheme uvicorn sees)."""
    form: dict[str, str] = {}
    if request.method == "POST":
        for key, value in (await request.form()).multi_items():
            if not isinstance(value, str) or len(value) > MAX_FIELD or key in form:
                raise ApiError(400, "oauth.invalid_request")
            form[key] = value
    query: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if len(value) > MAX_FIELD or key in query:
            raise ApiError(400, "oauth.invalid_request")
        query[key] = value
    origin = urlsplit(server.issuer)
    url = f"{origin.scheme}://{origin.netloc}{request.url.path}"
    if request.url.query:
        url += "?" + request.url.query
    return HttpRequest(request.method, url, request.headers, query, form, client_of(request))


def _respond(answer: HttpResponse) -> Response:
    headers = dict(answer.headers)
    headers.pop("Content-Type", None)
    if answer.status in (301, 302, 303) and "Location" in headers:
        return RedirectResponse(headers.pop("Location"), status_code=302, headers=headers)
    if isinstance(answer.body, dict):
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)
    return Response(answer.body, status_code=answer.status, headers=headers)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>body{{font:16px system-ui;max-width:30em;"
        "margin:3em auto;padding:0 1em}button{font:inherit;padding:.4em 1em;margin-right:1em}"
        "input{font:inherit;display:block;margin:.3em 0 1em;width:100%}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=PAGE_HEADERS)


def _error_page(answer: HttpResponse) -> Response:
    """An error that must not go back to the client (unknown client or redirect URI)."""
    if answer.status == 302:
        return _respond(answer)
    body = answer.body if isinstance(answer.body, dict) else {}
    detail = html.escape(str(body.get("error_description") or body.get("error") or "error"))
    return _page("This sign-in link is not valid", f"<p>{detail}</p>", answer.status)


async def _member(request: Request, identity: Identity) -> Authenticated | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await identity.authenticate(token, client_of(request))
    except IdentityError:
        return None


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )


def _sign_in_form(query: dict[str, str], error: str | None = None) -> HTMLResponse:
    note = f"<p role=alert>{html.escape(error)}</p>" if error else ""
    return _page(
        "Sign in to continue",
        f'{note}<form method=post action="{PREFIX}/authorize/session">'
        f"{_hidden({'return_query': urlencode(query)})}"
        "<label>Email<input name=email type=email autocomplete=username required></label>"
        "<label>Password<input name=password type=password autocomplete=current-password "
        "required></label><label>2FA code (if enabled)<input name=otp_code "
        "inputmode=numeric autocomplete=one-time-code maxlength=6></label>"
        "<button type=submit>Sign in</button></form>",
        401 if error else 200,
    )


@router.get("/authorize", summary="Start authorization: the consent page", response_model=None)
async def authorize_page(request: Request, server: ServerDep, identity: IdentityDep) -> Response:
    query = dict(request.query_params)
    session = await _member(request, identity)
    prepared = await _http_request(request, server)
    # A bad request is answered before any sign-in form: no login page for a bogus client.
    grant = await server.consent(prepared, session.user if session else None)
    if isinstance(grant, HttpResponse):
        return _error_page(grant)
    if session is None:
        return _sign_in_form(query)
    if session.user["state"] != "active":
        return _page("Your account cannot authorize applications", "", 403)
    client = grant.client
    requested = (grant.request.scope or "").split()
    items = "".join(
        f"<li>{html.escape(oauth_scopes.SCOPES[name].description)}</li>"
        for name in requested
        if name in oauth_scopes.SCOPES
    )
    return _page(
        f"{client.name} wants to use your Bursa account",
        f"<p>Signed in as {html.escape(session.user['email'])}.</p>"
        f"<p>{html.escape(client.name)} asks to:</p><ul>{items}</ul>"
        f"<p>Redirects to {html.escape(urlsplit(grant.redirect_uri).netloc)}.</p>"
        f'<form method=post action="{PREFIX}/authorize">'
        f"{_hidden(query | {'csrf_token': session.csrf_token})}"
        "<button name=decision value=approve>Allow</button>"
        "<button name=decision value=deny>Deny</button></form>",
    )


@router.post(
    "/authorize",
    summary="The member's decision on the consent page",
    response_model=None,
    openapi_extra=form_body(ConsentDecision),
)
async def authorize_decision(
    request: Request, server: ServerDep, identity: IdentityDep
) -> Response:
    session = await _member(request, identity)
    if session is None:
        raise ApiError(401, "authz.invalid_session")
    prepared = await _http_request(request, server)
    form = dict(prepared.form)
    csrf = form.pop("csrf_token", "")
    decision = form.pop("decision", "")
    if not csrf:
        raise ApiError(401, "authz.missing_csrf_token")
    if csrf != session.csrf_token:
        raise ApiError(401, "authz.csrf_token_mismatch")
    if decision not in ("approve", "deny"):
        raise ApiError(422, "oauth.invalid_decision")
    # The authorization request travels in the form; Authlib reads it as such.
    prepared = HttpRequest(
        prepared.method, prepared.url, prepared.headers, {}, form, prepared.client
    )
    grant = await server.consent(prepared, session.user)
    if isinstance(grant, HttpResponse):
        return _error_page(grant)
    approved = decision == "approve" and session.user["state"] == "active"
    answer = await server.authorize(prepared, grant, session.user if approved else None)
    return _respond(answer)


@router.post(
    "/authorize/session",
    summary="Sign in from the consent page",
    response_model=None,
    openapi_extra=form_body(SignInForm),
)
async def authorize_sign_in(request: Request, identity: IdentityDep) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= MAX_FIELD}
    back = fields.get("return_query", "")
    query = dict(parse_qsl(back))
    try:
        body = LogIn(
            email=fields.get("email", ""),
            password=fields.get("password", ""),
            otp_code=fields.get("otp_code") or None,
        )
    except ValidationError:
        return _sign_in_form(query, "Check the email, password and code.")
    # Back to this provider's own authorize page only: never an open redirect.
    response = RedirectResponse(f"{PREFIX}/authorize?{urlencode(query)}", status_code=303)
    try:
        await open_session(request, response, identity, body)
    except BursaError as exc:  # every refusal but a rate limit shows the form again
        if exc.kind == Refusal.TOO_MANY:
            raise
        return _sign_in_form(query, "Wrong email, password or 2FA code.")
    return response


@router.post(
    "/token",
    summary="Exchange a code or refresh token for tokens",
    response_model=None,
    openapi_extra=form_body(TokenRequest),
)
async def token(request: Request, server: ServerDep) -> Response:
    return _respond(await server.token(await _http_request(request, server)))


@router.post(
    "/revoke",
    summary="Revoke an access or refresh token (RFC 7009)",
    response_model=None,
    openapi_extra=form_body(RevocationRequest),
)
async def revoke(request: Request, server: ServerDep) -> Response:
    return _respond(await server.revoke(await _http_request(request, server)))


@router.get("/userinfo", summary="OpenID claims of the token's member")
async def userinfo(request: Request) -> dict[str, Any]:
    store: OAuthStore = request.app.state.oauth_store
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "authz.invalid_token", headers={"WWW-Authenticate": "Bearer"})
    try:
        principal = await store.bearer(value.strip())
    except IdentityError as exc:  # answered as raised, with the challenge RFC 6750 asks for
        exc.headers = {**(exc.headers or {}), "WWW-Authenticate": "Bearer"}
        raise
    if "openid" not in principal.scopes:
        raise ApiError(403, "authz.insufficient_scope")
    return dict(user_claims(principal.user, " ".join(principal.scopes)))


@router.get("/jwks", summary="Public keys that verify ID tokens")
async def jwks(server: ServerDep) -> dict[str, Any]:
    return server.public_jwks()


@router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery")
async def discovery(server: ServerDep) -> dict[str, Any]:
    base = server.issuer  # the issuer is this prefix on the public URL
    metadata = OpenIDProviderMetadata(
        issuer=server.issuer,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        revocation_endpoint=f"{base}/revoke",
        userinfo_endpoint=f"{base}/userinfo",
        jwks_uri=f"{base}/jwks",
        scopes_supported=list(oauth_scopes.SCOPES),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "refresh_token"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        token_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        revocation_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        code_challenge_methods_supported=["S256"],
        claims_supported=[
            "sub",
            "email",
            "email_verified",
            "preferred_username",
            "role",
            "level",
            "state",
            "kyc",
        ],
    )
    metadata.validate()
    return dict(metadata)
