"""The browser side of the end-to-end tests: Debian's Chromium driven by Playwright, a
full-page screenshot of every page visited, fresh TOTP codes, and timed steps."""

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyotp
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    ViewportSize,
)

VIEWPORT: ViewportSize = {"width": 1366, "height": 900}
TIMEOUT_MS = 10_000  # every wait and assertion: a slow page fails in seconds, not minutes
OTP_STEP_S = 30
TRACE = os.environ.get("BURSA_E2E_TRACE") == "1"
# axe-core, installed with the web app's packages (scripts/build-web runs npm ci first).
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Every WCAG 2 A and AA rule axe checks: labels and names, roles, contrast in the theme shown.
AXE_RUN = """axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then((result) =>
  result.violations.map((v) => ({rule: v.id, impact: v.impact,
    where: v.nodes.slice(0, 3).map((node) => node.target.join(' '))})))"""


class Session:
    """The browser of one test: its contexts (one per member), screenshots and console
    errors kept in the artifact folder under the test's name."""

    def __init__(self, browser: Browser, base_url: str, folder: Path) -> None:
        self.browser = browser
        self.base_url = base_url
        self.folder = folder
        self.contexts: list[BrowserContext] = []
        self.shots = 0
        folder.mkdir(parents=True, exist_ok=True)

    def new_page(self, who: str) -> Page:
        """A page in a fresh context: its own cookies, as a second person's browser."""
        context = self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC"
        )
        context.set_default_timeout(TIMEOUT_MS)
        if TRACE:  # open with `playwright show-trace <file>`
            context.tracing.start(screenshots=True, snapshots=True)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page, who)
        return page

    def another_page(self, page: Page, who: str) -> Page:
        """A second tab of the same person (same cookies)."""
        tab = page.context.new_page()
        self.watch(tab, who)
        return tab

    def watch(self, page: Page, who: str) -> None:
        log = self.folder / "console.log"

        def console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                with log.open("a") as file:
                    file.write(f"[{who}] {message.type}: {message.text}\n")

        def crashed(error: Exception) -> None:
            with log.open("a") as file:
                file.write(f"[{who}] page error: {error}\n")

        def confirm(dialog: Dialog) -> None:  # "cancel this order?": yes
            dialog.accept()

        page.on("dialog", confirm)
        page.on("console", console)
        page.on("pageerror", crashed)

    def shot(self, page: Page, name: str) -> None:
        """A full-page screenshot, numbered in the order taken, of a page that must pass
        axe-core's WCAG 2 A and AA checks as it is shown."""
        self.shots += 1
        page.screenshot(path=self.folder / f"{self.shots:02d}-{name}.png", full_page=True)
        self.accessible(page, name)

    @staticmethod
    def accessible(page: Page, name: str) -> None:
        page.add_script_tag(path=AXE)
        violations = page.evaluate(AXE_RUN)
        assert violations == [], f"{name}: accessibility rules broken: {violations}"

    def close(self, failed: bool) -> None:
        """Closes every context; after a failure, with a screenshot of each page left
        open (where the test stopped) and, with ``BURSA_E2E_TRACE=1``, Playwright traces."""
        for number, context in enumerate(self.contexts, 1):
            if failed:
                for index, page in enumerate(context.pages):
                    try:
                        self.shots += 1
                        shot = self.folder / f"{self.shots:02d}-failed-{number}-{index}.png"
                        page.screenshot(path=shot, full_page=True)
                    except Exception as exc:  # a crashed page must not hide the test's error
                        print(f"no screenshot of a page left open: {exc}")
            if TRACE:
                context.tracing.stop(path=self.folder / f"trace-{number}.zip")
            context.close()


class Totp:
    """A member's authenticator: each code is of a newer time step than the one before,
    as the server accepts each step once (one step either side of now)."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def fresh_code(self) -> str:
        while True:
            now = int(time.time() // OTP_STEP_S)
            step = now if self.last_step is None else max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return str(self.totp.at(step * OTP_STEP_S))
            time.sleep((now + 1) * OTP_STEP_S - time.time() + 0.05)


def node(page: Page | Locator, name: str, **attributes: str) -> Locator:
    """``data-testid=name`` with these ``data-*`` attribute values (``data_price`` is
    ``data-price``)."""
    selector = f'[data-testid="{name}"]' + "".join(
        f'[{key.replace("_", "-")}="{value}"]' for key, value in attributes.items()
    )
    return page.locator(selector)


def decimal(value: str) -> re.Pattern[str]:
    """The amount ``value`` as a page may show it: with trailing zeros to its precision
    and English thousands separators (``99698.7655`` matches ``99,698.76550000``)."""
    whole, _, fraction = value.partition(".")
    head = len(whole) % 3 or 3
    groups = [whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))]
    tail = rf"\.{fraction}0*" if fraction else r"(\.0*)?"
    return re.compile(rf"(?<![\d.,]){',?'.join(groups)}{tail}(?!\d)")


def amount_spellings(value: str, precision: int) -> list[str]:
    """``value`` as written in a data attribute: as the API gives it, or padded to the
    currency's precision."""
    whole, _, fraction = value.partition(".")
    padded = f"{whole}.{fraction.ljust(precision, '0')}" if precision else whole
    return sorted({value, padded})


def any_of(page: Page | Locator, name: str, attribute: str, values: list[str]) -> Locator:
    """``data-testid=name`` whose ``attribute`` is any of ``values``."""
    return page.locator(
        ", ".join(f'[data-testid="{name}"][{attribute}="{value}"]' for value in values)
    )


@contextmanager
def step(timings: Path, name: str) -> Iterator[None]:
    """Times one step of a flow into ``timings`` (and says which step failed)."""
    started = time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "passed"
    finally:
        with timings.open("a") as file:
            file.write(f"{name}: {outcome} in {time.monotonic() - started:.1f} s\n")
