"""The browser tier: Debian's Chromium (never a downloaded build) driven by Playwright against
the session's local gateway, with the reference web client (web/dist) on an origin of its own.

`make test` builds the client first (`make web`); a failing test leaves a screenshot of every
page it opened under .local/browser-artifacts/<test>/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from messenger_local.gateway import LocalGateway
from messenger_local.web_client import DIST, WebClient
from tests.support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".local" / "browser-artifacts"
# Cold starts (every function's first call) and Kafka hops on 2 shared cores: bounded, not short.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)
FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in the main
# thread while it is open, and every later test that runs a loop of its own (asyncio.run,
# anyio.run: the gateway tier, the realtime fakes) would fail with "already running".
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def web_client(gateway: LocalGateway) -> Iterator[WebClient]:
    if not (DIST / "index.html").exists():
        pytest.fail(f"{DIST} is not built: run `make web`")
    with WebClient(gateway.url, gateway.ws_url or "", port=0) as web:
        yield web


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[[], Page]]:
    """Pages in separate browser contexts (separate users); screenshots kept if the test fails."""
    pages: list[Page] = []
    logs: list[list[str]] = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        log: list[str] = []
        page.on("console", lambda m: log.append(f"console {m.type}: {m.text}"))
        page.on("requestfailed", lambda r: log.append(f"failed {r.method} {r.url}: {r.failure}"))
        page.on("response", lambda r: log.append(f"{r.status} {r.request.method} {r.url}"))
        pages.append(page)
        logs.append(log)
        return page

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for n, page in enumerate(pages):
            page.screenshot(path=str(folder / f"page-{n}.png"), full_page=True)
            (folder / f"page-{n}.html").write_text(page.content())
            (folder / f"page-{n}.log").write_text("\n".join(logs[n]) + "\n")
    for page in pages:
        page.context.close()
