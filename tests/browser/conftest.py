"""The browser-test harness: the real server on a free port, Chromium driven by Playwright.

Chromium is Debian's (/usr/bin/chromium, installed by the test command); Playwright never
downloads a browser here. Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.services import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def server_url():
    port = free_port()
    # The server's log goes to a file: a pipe nobody reads fills up (64 KiB of access lines)
    # and then blocks the server mid-run.
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "browser-tests-server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "deepviz", "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                output = log_path.read_text(errors="replace")
                raise RuntimeError(f"the server did not start:\n{output}") from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


# Per package, not per session: Playwright's sync API runs an event loop in the main thread
# while it is open, and the suites after this one (tests/classroom, …) start asyncio loops there.
@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run the README's test command, which installs it")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _open(browser, server_url, tolerated: tuple[str, ...] = (), context_options: dict | None = None):
    """A fresh context and page, and the list of errors it reports: uncaught exceptions, and
    console errors except a 422's (the answer bad input is meant to get) and `tolerated`.
    `context_options` overrides the desktop viewport (a phone's, with touch)."""
    options = {"viewport": {"width": 1400, "height": 1000}, **(context_options or {})}
    context = browser.new_context(base_url=server_url, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "status of 422" not in m.text and not m.text.startswith(tolerated)
            else None
        ),
    )
    return context, page, errors


@pytest.fixture
def page(browser, server_url):
    context, page, errors = _open(browser, server_url)
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


# What Chromium logs for a request the test refuses (route.abort("connectionrefused")): the
# server "unreachable". Only the tests of an unreachable server tolerate it.
REFUSED = "Failed to load resource: net::ERR_CONNECTION_REFUSED"


@pytest.fixture
def offline_page(browser, server_url):
    """A page whose requests a test may refuse: the console errors of refused requests are
    expected; any other error still fails the test."""
    context, page, errors = _open(browser, server_url, tolerated=(REFUSED,))
    yield page
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def screenshot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
