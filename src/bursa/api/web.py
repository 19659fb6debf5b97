"""The web app (``web/``, built into ``bursa/api/web_dist``) served beside the API.

A page request — GET or HEAD, a path outside ``/api/`` and ``/docs`` — gets the built
files: ``/assets/…`` (names carry a content hash) with a year's immutable cache, other
files at the root as they are, and every other path ``index.html`` (never cached), whose
router draws the page. Everything else reaches the API untouched, so an unknown API path
still answers ``record.not_found``. Without a build (a checkout where ``scripts/up`` has
not run), ``/`` answers 503 with what to run; nothing is built at run time.
"""

from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

DIST = Path(__file__).parent / "web_dist"
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bursa</title></head>
<body><h1>Bursa's web app is not built here</h1>
<p>The API runs (<a href="/api/v2/peatio/docs">its documentation</a>). To build the web app,
run <code>scripts/up</code> (it needs Node.js 20), or <code>npm --prefix web ci &amp;&amp;
npm --prefix web run build</code> and copy <code>web/dist</code> to
<code>src/bursa/api/web_dist</code>.</p></body></html>
"""
_NOT_PAGES = ("/api/", "/docs")


class WebApp:
    """ASGI middleware answering page requests from ``folder`` (see the module's doc)."""

    def __init__(self, app: ASGIApp, folder: Path = DIST) -> None:
        self.app = app
        self.folder = folder.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or path.startswith(_NOT_PAGES)
        ):
            await self.app(scope, receive, send)
            return
        response = self.page(path)
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def page(self, path: str) -> Response | None:
        """What answers ``path``: a built file, ``index.html``, the not-built page, or
        None (the API's 404)."""
        index = self.folder / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503) if path == "/" else None
        found = (self.folder / path.lstrip("/")).resolve()
        if found.is_file() and found.is_relative_to(self.folder):
            cache = IMMUTABLE if path.startswith("/assets/") else "no-cache"
            return FileResponse(found, headers={"Cache-Control": cache})
        if path.startswith("/assets/"):
            return None  # a missing asset is a 404, not the page
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
