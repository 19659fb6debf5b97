"""Screenshots of every page of the web app against a busy market (``scripts/screenshots``).

The exchange runs in this process as ``bursa bench web`` runs it (``demo_market``: a
scratch database, a busy btcusdt, a member with a history); Debian's Chromium, through
Playwright, signs that member in through the API (the session cookie, and the session's
CSRF token in ``localStorage['bursa.csrf']`` as the app keeps it) and saves each page at
desktop (1366×900) and phone (390×844) sizes, in the light and the dark theme
(``localStorage['bursa.theme']``), full length, as ``<page>-<size>-<theme>.png``. Error
states too: the markets page with the API unreachable, a refused sign-in and an order the
engine refused.

``--readme`` writes instead the three pictures the README shows, in ``docs/screenshots``:
the trade page, the wallets and the account overview, desktop, dark, one screen (1366×860).

    .venv/bin/python -m bursa.cli.screenshots [--out DIR] [--readme] [--database-url URL]
"""

import argparse
import asyncio
import contextlib
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bursa.api import web
from bursa.bench.demo_market import MARKET, Exchange, Member, busy_exchange
from bursa.bench.web import (
    READY,
    BrowserMissing,
    check_browser,
    launch,
    sync_playwright,
    web_dist_missing,
)
from bursa.cli.context import load_settings, with_database
from bursa.cli.database import apply_seed_file
from bursa.db.migrate import upgrade
from bursa.db.scratch import scratch_database
from bursa.trading.seeds import DEMO_SEEDS, read_seed_file

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

SIGN_IN = "/api/v2/barong/identity/sessions"
CSRF_KEY = "bursa.csrf"
THEME_KEY = "bursa.theme"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
THEMES = ("light", "dark")
README_SIZE = (1366, 860)
SETTLE_MS = 1200  # after a page's requests: fonts, the chart's first draw
README_DIR = Path("docs/screenshots")


@dataclass(frozen=True, slots=True)
class Shot:
    name: str
    path: str
    signed_in: bool = True


def pages(currency: str) -> list[Shot]:
    """Every page, by a file name and its path."""
    member = [
        ("markets", "/"),
        ("trade", f"/trading/{MARKET}"),
        ("orders", "/orders"),
        ("wallets", "/wallets"),
        ("deposit", f"/wallets/{currency}/deposit"),
        ("withdraw", f"/wallets/{currency}/withdraw"),
        ("transfer", "/wallets/transfer"),
        ("profile", "/profile"),
        ("security", "/profile/security"),
        ("api-keys", "/profile/api-keys"),
        ("activity", "/profile/activity"),
        ("verification", "/profile/verification"),
    ]
    visitor = [("signin", "/signin"), ("signup", "/signup"), ("markets-visitor", "/")]
    return [Shot(n, p) for n, p in member] + [Shot(n, p, signed_in=False) for n, p in visitor]


README_SHOTS = (
    Shot("trade", f"/trading/{MARKET}"),
    Shot("wallet", "/wallets"),
    Shot("account", "/profile"),
)


def sign_in(context: "BrowserContext", base_url: str, member: Member, theme: str) -> None:
    """Open a session as ``member`` from a page of this context (the session is bound to
    the browser's user agent) and keep its CSRF token and the theme where the app looks."""
    page = context.new_page()
    try:
        page.goto(f"{base_url}/signin", wait_until="domcontentloaded")
        answer: dict[str, Any] = page.evaluate(
            """async ([path, email, password]) => {
                const response = await fetch(path, {
                    method: 'POST', credentials: 'same-origin',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({email, password}),
                });
                return {status: response.status, body: await response.json()};
            }""",
            [SIGN_IN, member.email, member.password],
        )
        if answer["status"] != 200 or not answer["body"].get("csrf_token"):
            raise RuntimeError(f"sign-in as {member.email} answered {answer}")
        page.evaluate(
            "([key, token]) => localStorage.setItem(key, token)",
            [CSRF_KEY, answer["body"]["csrf_token"]],
        )
    finally:
        page.close()


def themed(context: "BrowserContext", theme: str) -> None:
    """Every page of ``context`` starts in ``theme`` (and the system's colour scheme)."""
    context.add_init_script(f"localStorage.setItem({THEME_KEY!r}, {theme!r});")


def settle(page: "Page", path: str) -> None:
    """Wait until ``path`` has drawn what it fetched."""
    if path.startswith("/trading/"):
        page.wait_for_selector(READY, state="attached", timeout=30_000)
    with contextlib.suppress(Exception):  # a page that keeps fetching is shot as it stands
        page.wait_for_load_state("networkidle", timeout=8_000)
    page.wait_for_timeout(SETTLE_MS)


@contextmanager
def browser_context(
    browser: "Browser", size: tuple[int, int], theme: str, *, phone: bool = False
) -> Iterator["BrowserContext"]:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]},
        color_scheme="dark" if theme == "dark" else "light",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    try:
        themed(context, theme)
        yield context
    finally:
        context.close()


def shoot_all(browser: "Browser", exchange: Exchange, out: Path, currency: str) -> list[Path]:
    """Every page at every size in both themes, and the error states."""
    saved = []
    out.mkdir(parents=True, exist_ok=True)
    for size_name, size in SIZES.items():
        for theme in THEMES:
            phone = size_name == "phone"
            with browser_context(browser, size, theme, phone=phone) as visitor:
                saved += _shots(visitor, exchange, pages(currency), False, out, size_name, theme)
                saved.append(_api_down(visitor, exchange, out, size_name, theme))
                saved.append(_refused_sign_in(visitor, exchange, out, size_name, theme))
            with browser_context(browser, size, theme, phone=phone) as member:
                sign_in(member, exchange.base_url, exchange.trader, theme)
                saved += _shots(member, exchange, pages(currency), True, out, size_name, theme)
                refused = _refused_order(member, exchange, out, size_name, theme)
                saved += [refused] if refused is not None else []
    return saved


def _shots(
    context: "BrowserContext",
    exchange: Exchange,
    shots: list[Shot],
    signed_in: bool,
    out: Path,
    size: str,
    theme: str,
) -> list[Path]:
    saved = []
    page = context.new_page()
    try:
        for shot in shots:
            if shot.signed_in != signed_in:
                continue
            page.goto(exchange.base_url + shot.path, wait_until="domcontentloaded")
            settle(page, shot.path)
            target = out / f"{shot.name}-{size}-{theme}.png"
            page.screenshot(path=str(target), full_page=True)
            saved.append(target)
            print(f"  {target}", file=sys.stderr)
    finally:
        page.close()
    return saved


def _api_down(
    context: "BrowserContext", exchange: Exchange, out: Path, size: str, theme: str
) -> Path:
    """The markets page when no API request gets through (the page itself loads)."""
    page = context.new_page()
    try:
        page.route("**/api/**", lambda route: route.abort("connectionrefused"))
        page.goto(exchange.base_url + "/", wait_until="domcontentloaded")
        settle(page, "/")
        page.wait_for_timeout(2000)  # retries give up
        target = out / f"error-api-down-{size}-{theme}.png"
        page.screenshot(path=str(target), full_page=True)
        return target
    finally:
        page.close()


def _refused_sign_in(
    context: "BrowserContext", exchange: Exchange, out: Path, size: str, theme: str
) -> Path:
    """The sign-in form after a wrong password (the market maker's: the trader's activity
    page shows only their own sign-ins)."""
    page = context.new_page()
    try:
        page.goto(exchange.base_url + "/signin", wait_until="domcontentloaded")
        settle(page, "/signin")
        page.locator("input[type=email], input[name=email]").first.fill(exchange.maker.email)
        page.locator("input[type=password]").first.fill("not-the-password-1A!")
        page.locator("[data-testid=signin-submit]").click()
        page.locator("[role=alert]").first.wait_for(timeout=10_000)
        page.wait_for_timeout(300)
        target = out / f"error-signin-refused-{size}-{theme}.png"
        page.screenshot(path=str(target), full_page=True)
        return target
    finally:
        page.close()


def _refused_order(
    context: "BrowserContext", exchange: Exchange, out: Path, size: str, theme: str
) -> Path | None:
    """The order form after the engine refused an order: a post-only buy above the best
    ask (``market.order.post_only_would_match``). None, said, if the form is not there."""
    page = context.new_page()
    try:
        page.goto(f"{exchange.base_url}/trading/{MARKET}", wait_until="domcontentloaded")
        settle(page, f"/trading/{MARKET}")
        form = page.locator("[data-testid=order-form]")
        try:
            form.locator("[data-testid=order-side-buy]").click(timeout=5_000)
            form.locator("[data-testid=order-price]").fill("30010")
            form.locator("[data-testid=order-amount]").fill("0.01")
            form.locator("[data-testid=order-post-only]").check()
            form.locator("[data-testid=order-submit]").click()
            form.locator("[role=alert]").first.wait_for(timeout=10_000)
        except Exception as error:  # Playwright's errors, imported lazily
            print(f"  no refused-order shot: {str(error).splitlines()[0]}", file=sys.stderr)
            return None
        form.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        target = out / f"error-order-refused-{size}-{theme}.png"
        page.screenshot(path=str(target), full_page=True)
        return target
    finally:
        page.close()


def shoot_readme(browser: "Browser", exchange: Exchange, theme: str) -> list[Path]:
    """The README's three pictures: one screen each, optimised PNG."""
    README_DIR.mkdir(parents=True, exist_ok=True)
    saved = []
    with browser_context(browser, README_SIZE, theme) as context:
        sign_in(context, exchange.base_url, exchange.trader, theme)
        page = context.new_page()
        for shot in README_SHOTS:
            page.goto(exchange.base_url + shot.path, wait_until="domcontentloaded")
            settle(page, shot.path)
            target = README_DIR / f"{shot.name}.png"
            target.write_bytes(smaller_png(page.screenshot(full_page=False)))
            saved.append(target)
    return saved


# ----------------------------------------------------------------- PNG


def smaller_png(png: bytes) -> bytes:
    """The same image with its pixel data deflated again at zlib's strongest level
    (Chromium favours speed); every other chunk kept as it is."""
    signature, chunks = png[:8], _chunks(png[8:])
    data = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    packed = zlib.compress(data, 9)
    out = [signature]
    wrote_data = False
    for kind, body in chunks:
        if kind == b"IDAT":
            if not wrote_data:
                out.append(_chunk(b"IDAT", packed))
                wrote_data = True
            continue
        out.append(_chunk(kind, body))
    smaller = b"".join(out)
    return smaller if len(smaller) < len(png) else png


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found = []
    at = 0
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        found.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length
    return found


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")


# ----------------------------------------------------------------- the run


def run(
    database_url: str | None,
    *,
    out: Path,
    readme: bool,
    currency: str,
    theme: str,
    web_dist: Path = web.DIST,
) -> list[Path]:
    """The busy exchange on a scratch database on ``database_url``'s server (default:
    the configured one, else the embedded one), and the screenshots."""
    settings = load_settings()
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})

    def progress(text: str) -> None:
        print(text, file=sys.stderr)

    async def work(url: str) -> list[Path]:
        async with scratch_database(url, "bursa_screenshots") as scratch:
            await upgrade(scratch)
            await apply_seed_file(scratch, read_seed_file(DEMO_SEEDS))
            async with busy_exchange(scratch, progress=progress, web_dist=web_dist) as exchange:
                progress(f"exchange up on {exchange.base_url}")
                return await asyncio.to_thread(_browse, exchange, out, readme, currency, theme)

    return with_database(settings, work)


def _browse(exchange: Exchange, out: Path, readme: bool, currency: str, theme: str) -> list[Path]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            if readme:
                return shoot_readme(browser, exchange, theme)
            return shoot_all(browser, exchange, out, currency)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/screenshots",
        description="Screenshots of every page of the web app against a busy market.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(".screenshots"), help="where (default .screenshots)"
    )
    parser.add_argument(
        "--readme", action="store_true", help=f"write the README's three PNGs in {README_DIR}"
    )
    parser.add_argument("--theme", choices=THEMES, default="dark", help="with --readme")
    parser.add_argument("--currency", default="btc", help="of the deposit and withdraw pages")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server for the scratch database (default: BURSA_DATABASE_URL, else"
        " the embedded one)",
    )
    parser.add_argument(
        "--web-dist", type=Path, default=web.DIST, help="the built web app to serve"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    if web_dist_missing(args.web_dist):
        print(f"error: no web app built in {args.web_dist}: run scripts/build-web", file=sys.stderr)
        return 1
    try:
        check_browser()
        saved = run(
            args.database_url,
            out=args.out,
            readme=args.readme,
            currency=args.currency,
            theme=args.theme,
            web_dist=args.web_dist,
        )
    except BrowserMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in saved if args.readme else []:
        print(f"{path}  {path.stat().st_size / 1024:,.0f} KB")
    where = README_DIR if args.readme else args.out
    print(f"{len(saved)} screenshots in {where} ({time.monotonic() - started:,.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
