"""Browser fixtures: Playwright (from PyPI) driving Debian's Chromium, never a downloaded one.

One browser per test module, a fresh context (cookies, storage) per test. Every page
records its console messages, uncaught errors and Content-Security-Policy violations,
and a test saves screenshots of its steps under ``test-artifacts/screenshots/``
(``SVIDOK_TEST_ARTIFACTS`` moves the artifacts folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect

from tests.conftest import REPO
from tests.live_server import LiveSvidok, live_svidok  # noqa: F401 — the module's server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

# Runs in every page before its own scripts (CDP, so the page's CSP does not apply):
# a CSP violation becomes a console error that the test can see.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the test, so the page fixture can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    base = Path(os.environ.get("SVIDOK_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = base / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, launched by Playwright's sync API."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium; "
                    "install it with `apt-get install chromium chromium-driver` "
                    "(Playwright's own browser downloads are not used)", pytrace=False)
    from playwright.sync_api import sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Ui:
    """A browser page on the live server, with what it logged and a screenshot helper."""

    page: Page
    live: LiveSvidok
    test_name: str
    folder: Path
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def shot(self, step: str) -> Path:
        path = self.folder / f"{self.test_name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def log_in(self, username: str, password: str | None = None) -> None:
        """Fill and send the login form of the page currently shown."""
        page = self.page
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password or self.live.password)
        page.click("form.login button[type=submit]")

    def record_console(self, message: ConsoleMessage) -> None:
        where = (message.location or {}).get("url", "")
        self.console.append(f"{message.type}: {message.text} [{where}]")

    def record_response(self, response: Response) -> None:
        if response.status >= 400:
            kind = response.request.resource_type
            self.http_errors.append(f"{kind} {response.status} {response.url}")

    def record_failed_request(self, request: Request) -> None:
        # Requests still under way when the test navigates on are aborted by the browser:
        # its own low-priority fetches (the favicon, of type "other") and a page's htmx
        # fragments (an item's near-duplicates, type "xhr"). An abort is no error; a
        # fragment that fails on the server still shows as its 4xx/5xx response.
        if request.resource_type in ("other", "xhr") and request.failure == "net::ERR_ABORTED":
            return
        if request.resource_type != "document":  # e.g. a download or a navigation away
            self.http_errors.append(f"{request.resource_type} failed ({request.failure}) "
                                    f"{request.url}")

    def problems(self) -> list[str]:
        """CSP violations, script errors, console errors and failed subresources so far.

        Pages answered with an error status (a wrong code is a 400) are the tests'
        business and are checked there; Chromium logs them as "Failed to load
        resource", which is therefore left out here, as is the favicon the browser
        asks for on its own.
        """
        console = [m for m in self.console
                   if ("Refused to" in m or "CSP violation" in m or m.startswith("error:"))
                   and "Failed to load resource" not in m]
        subresources = [e for e in self.http_errors if not e.startswith("document ")
                        and urlsplit(e.rsplit(" ", 1)[-1]).path != "/favicon.ico"]
        return console + subresources + [f"page error: {e}" for e in self.errors]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "console errors or CSP violations:\n" + "\n".join(problems)


def _test_name(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name).strip("_")


@pytest.fixture
def ui(browser, live_svidok: LiveSvidok, screenshot_dir: Path,  # noqa: F811
       request: pytest.FixtureRequest) -> Iterator[Ui]:
    """A new browser context and page, English, pointed at the live server."""
    context = browser.new_context(base_url=live_svidok.url, locale="en-GB",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    session = Ui(page=page, live=live_svidok, test_name=_test_name(request.node),
                 folder=screenshot_dir)
    for stale in screenshot_dir.glob(f"{session.test_name}-*.png"):  # from an earlier run
        stale.unlink()
    page.on("console", session.record_console)
    page.on("response", session.record_response)
    page.on("requestfailed", session.record_failed_request)
    page.on("pageerror", lambda e: session.errors.append(str(e)))
    try:
        yield session
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            try:
                session.shot("failure")
            except Exception:  # noqa: BLE001 — the page may be gone; the failure matters
                pass
        context.close()
