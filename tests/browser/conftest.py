"""Browser tests: the real app on a live local server, driven by Debian's Chromium through Playwright.

Without /usr/bin/chromium (or axe-core) the tests are skipped, unless REQUIRE_BROWSER=1 (as in CI),
when they fail instead."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, Route, expect, sync_playwright
from werkzeug.serving import make_server

from tests.browser import checked
from tests.conftest import clean, make_config
from webapp import create_app, routing
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# WCAG 1.4.10 (reflow): at 320 CSS pixels wide nothing may need scrolling sideways. axe-core does not check it.
REFLOW_WIDTH = 320
# The window the journeys run in: a small laptop's, where staff found the queue table running past its column.
WINDOW = {"width": 1024, "height": 768}
SCREENSHOTS = ROOT / "test-results" / "screenshots"

# A loaded CI machine can be slow: wait up to 10 s for what a resident should see (Playwright's default is 5 s).
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

# Where the "Use my current location" button puts the resident: inside the council's area.
HOME = {"latitude": 53.7997, "longitude": -1.5492}


def missing(what: str) -> None:
    """Skip, or fail when the browser tests are required (REQUIRE_BROWSER=1, set in CI)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {what}", pytrace=False)
    pytest.skip(f"{what}; browser tests skipped (set REQUIRE_BROWSER=1 to make this a failure)")


@dataclass
class LiveServer:
    app: Flask
    url: str

    def reset(self) -> None:
        """Empty tables with the queues and routing rules seeded, as a freshly deployed site has."""
        clean(self.app)
        with self.app.app_context():
            routing.load_seed()
            db.session.commit()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on 127.0.0.1:<free port>, with a migrated file SQLite database, for the whole session."""
    tmp = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{tmp / 'live.sqlite3'}"
    app = create_app(make_config(url, tmp, RATELIMIT_ENABLED=False, SERVER_NAME=None))
    with app.app_context():
        upgrade()
    checked.ROUTES[:] = [app.url_map.bind("127.0.0.1")]
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{http.server_port}")
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def live_server(server: LiveServer) -> LiveServer:
    """The live server, with an empty database for each test (so no report looks like a duplicate)."""
    server.reset()
    return server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE.exists():
        missing(f"{AXE.relative_to(ROOT)} is missing (run npm ci)")
    return AXE


def console_error(message: ConsoleMessage, errors: list[str]) -> None:
    # A page answered with 400 (a form with errors) is logged as "Failed to load resource": that is not
    # a script error. Assets that fail to load are caught by failed_asset instead.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(f"console: {message.text}")


def failed_asset(response: Response, errors: list[str]) -> None:
    if response.request.resource_type != "document" and response.status >= 400:
        errors.append(f"{response.status} for {response.url}")


@pytest.fixture
def js_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A resident with JavaScript, standing on the pothole, who lets the site see their location.
    bypass_csp lets the injected axe-core run under the site's strict Content-Security-Policy."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=WINDOW,
        geolocation=HOME,
        permissions=["geolocation"],
        bypass_csp=True,
        locale="en-GB",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda message: console_error(message, errors))
    page.on("response", lambda response: failed_asset(response, errors))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the browser: {errors}"


@pytest.fixture
def no_js_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A resident whose browser runs no JavaScript at all."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en-GB", viewport=WINDOW)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


DOCUMENT_WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


def reflow_width(page: Page, name: str | None = None) -> int:
    """How wide the document is when the window is REFLOW_WIDTH CSS pixels wide (a 1,280 px window zoomed to
    400%); with ``name``, a screenshot at that width too. The window is put back as it was."""
    before = page.viewport_size or WINDOW
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 720})
    try:
        width = page.evaluate(DOCUMENT_WIDTH)
        if name:
            page.screenshot(path=SCREENSHOTS / f"{name}-320px.png", full_page=True)
    finally:
        page.set_viewport_size(before)
    return width


@dataclass
class PageCheck:
    number: int
    name: str
    path: str
    violations: list[dict[str, Any]]
    width_at_320: int = REFLOW_WIDTH
    window: int = WINDOW["width"]
    width_in_window: int = WINDOW["width"]

    @property
    def reflows(self) -> bool:
        return self.width_at_320 <= REFLOW_WIDTH and self.width_in_window <= self.window

    def line(self) -> str:
        reflow = (
            "reflows"
            if self.reflows
            else (
                f"SCROLLS SIDEWAYS: {self.width_at_320}px wide at 320px, "
                f"{self.width_in_window}px in a {self.window}px window"
            )
        )
        return f"{self.number:02d} {self.name:<22} {self.path:<60} axe violations: {len(self.violations)}, {reflow}"

    def details(self) -> list[str]:
        lines = []
        for violation in self.violations:
            node = violation["nodes"][0] if violation["nodes"] else {}
            lines.append(
                f"  [{violation['id']}] ({violation['impact']}) {violation['help']}"
                f" - {len(violation['nodes'])} node(s); first: {node.get('target')} {node.get('html', '')[:200]}"
            )
        return lines


@dataclass
class Recorder:
    """For each page a resident sees: full-page screenshots (as the window is, and 320 px wide), an axe-core
    (WCAG 2.2 AA) check and a reflow check at 320 px. Failures are collected, printed as they are found, and
    asserted at the end of the test."""

    axe_source: Path
    prefix: str = ""
    screenshots: bool = True
    checks: list[PageCheck] = field(default_factory=list)

    def __call__(self, page: Page, name: str) -> PageCheck:
        number = len(self.checks) + 1
        if self.screenshots:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{self.prefix}{number:02d}-{name}.png", full_page=True)
        window = (page.viewport_size or WINDOW)["width"]
        width_in_window = page.evaluate(DOCUMENT_WIDTH)
        width = reflow_width(page, f"{self.prefix}{number:02d}-{name}" if self.screenshots else None)
        page.add_script_tag(path=str(self.axe_source))
        violations = page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
            AXE_TAGS,
        )
        split = urlsplit(page.url)
        check = PageCheck(
            number,
            name,
            split.path + (f"?{split.query}" if split.query else ""),
            violations,
            width,
            window,
            width_in_window,
        )
        key = checked.page_key(split.path)
        if key is not None:
            checked.CHECKED.add(key)
        self.checks.append(check)
        print("\n".join([f"axe {check.line()}", *check.details()]))
        return check

    def summary(self) -> str:
        lines = []
        for check in self.checks:
            lines += [check.line(), *check.details()]
        return "\n".join(lines)

    def assert_accessible(self) -> None:
        report = SCREENSHOTS.parent / f"axe-{self.prefix or 'journey-'}summary.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(
            json.dumps(
                [
                    {"page": c.name, "path": c.path, "violations": c.violations, "width_at_320px": c.width_at_320}
                    for c in self.checks
                ],
                indent=2,
            )
        )
        failing = [check for check in self.checks if check.violations or not check.reflows]
        assert not failing, f"{len(failing)} page(s) fail axe-core or do not reflow at 320px:\n{self.summary()}"


@pytest.fixture
def recorder(axe_source: Path) -> Callable[[str], Recorder]:
    """recorder(prefix) records a journey: screenshots <prefix>01-<page>.png, ... replacing an earlier run's."""

    def make(prefix: str = "") -> Recorder:
        for old in SCREENSHOTS.glob(f"{prefix}[0-9][0-9]-*.png"):  # both widths
            old.unlink(missing_ok=True)
        return Recorder(axe_source, prefix=prefix)

    return make


# axe-core without JavaScript ----------------------------------------------------------------------


@pytest.fixture
def axe_mirror(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """axe-core is a script, so it cannot run in the page of a resident without JavaScript: this page, with
    JavaScript for axe-core only (the site's own scripts are blocked), shows the same HTML at the same address."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="en-GB", viewport=WINDOW)
    context.route(re.compile(r"\.m?js(\?.*)?$"), lambda route: route.abort())
    yield context.new_page()
    context.close()


def record_without_js(record: Recorder, page: Page, mirror: Page, name: str) -> None:
    """The screenshots of what the resident without JavaScript sees; axe-core and the reflow check run on the
    same HTML in the mirror."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = f"{record.prefix}{len(record.checks) + 1:02d}-{name}"
    page.screenshot(path=SCREENSHOTS / f"{shot}.png", full_page=True)
    reflow_width(page, shot)
    html, url = page.content(), page.url

    def same_address(address: str) -> bool:
        return address == url

    def serve(route: Route) -> None:
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    mirror.route(same_address, serve)
    mirror.goto(url)
    mirror.unroute(same_address, serve)
    screenshots, record.screenshots = record.screenshots, False
    try:
        record(mirror, name)
    finally:
        record.screenshots = screenshots
