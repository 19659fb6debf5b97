"""The built web app is served beside the API: hashed assets cached for good, every page
path answered by ``index.html``, and the API's own answers (404s included) untouched."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import FileResponse

from bursa.api.errors import install_error_handlers
from bursa.api.web import IMMUTABLE, WebApp


def _client(folder: Path) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v2/peatio/public/timestamp")
    async def timestamp() -> str:
        return "2026-12-07T00:00:00+00:00"

    app.add_middleware(WebApp, folder=folder)
    return TestClient(app)


def _built(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><div id=root></div>")
    (folder / "assets" / "index-3f2a.js").write_text("console.log('bursa')")
    (folder / "favicon.svg").write_text("<svg/>")
    return folder


def test_pages_assets_and_the_api_side_by_side(tmp_path: Path) -> None:
    client = _client(_built(tmp_path / "dist"))
    for page in ("/", "/markets", "/trade/btcusdt"):
        answer = client.get(page)
        assert answer.status_code == 200
        assert answer.text.startswith("<!doctype html>")
        assert answer.headers["cache-control"] == "no-cache"
    asset = client.get("/assets/index-3f2a.js")
    assert asset.text == "console.log('bursa')"
    assert asset.headers["cache-control"] == IMMUTABLE
    assert client.get("/favicon.svg").headers["cache-control"] == "no-cache"
    assert client.get("/assets/gone-0000.js").json() == {"errors": ["record.not_found"]}
    # The API answers as it would alone.
    assert client.get("/api/v2/peatio/public/timestamp").json() == "2026-12-07T00:00:00+00:00"
    assert client.get("/api/v2/peatio/nothing").json() == {"errors": ["record.not_found"]}
    assert client.post("/markets").status_code in (404, 405)


def test_nothing_outside_the_build_is_served(tmp_path: Path) -> None:
    folder = _built(tmp_path / "dist")
    (tmp_path / "secret.txt").write_text("not for the web")
    web = WebApp(FastAPI(), folder=folder)
    for path in ("/../secret.txt", "/assets/../../secret.txt"):
        answer = web.page(path)
        assert isinstance(answer, FileResponse | None)
        assert answer is None or Path(answer.path).name in ("index.html",)


def test_without_a_build_the_root_says_what_to_run(tmp_path: Path) -> None:
    client = _client(tmp_path / "empty")
    root = client.get("/")
    assert root.status_code == 503
    assert "scripts/up" in root.text
    assert client.get("/markets").json() == {"errors": ["record.not_found"]}
