"""One Debian chromium per test process, driven through Playwright's sync API; a test gets it as ``browser``
and opens contexts of its own on it (``browser.new_context(...)``: its own cookies, storage and service
workers); the contexts a test left open are closed after it.

Starting Playwright (its driver) and chromium costs a few seconds a time; they are started once per
pytest(-xdist) process, when the first browser test asks, and stopped at the end of the session.

Playwright's sync API marks its event loop as the thread's running loop between its calls. That mark is
set for a browser test only (and Django's async-safety check let through for it, since the test's ORM calls
run in the same thread); it is taken away after the test, so the other tests in the process run with no
event loop, as they would without a browser test before them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXPECT_TIMEOUT_MS = 5_000  # Playwright's default for ``expect``; a test may raise it for itself


@dataclass
class Chromium:
    playwright: Any
    browser: Any
    loop: asyncio.AbstractEventLoop

    def launch(self) -> None:
        self.browser = self.playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )


@pytest.fixture(scope="session")
def _chromium() -> Iterator[Chromium]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    playwright = sync_playwright().start()
    loop = asyncio.get_running_loop()  # marked running by the start (see the module's docstring)
    chromium = Chromium(playwright, None, loop)
    try:
        chromium.launch()
    except BaseException:
        playwright.stop()
        raise
    finally:
        asyncio._set_running_loop(None)
    yield chromium
    asyncio._set_running_loop(loop)
    try:
        if chromium.browser.is_connected():
            chromium.browser.close()
    finally:
        playwright.stop()
        asyncio._set_running_loop(None)


@pytest.fixture
def browser(_chromium: Chromium, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The process's chromium, for one test: the contexts it opens are closed after it."""
    from playwright.sync_api import expect

    # The test's own ORM calls run in the thread of the event loop (which is not running them).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    asyncio._set_running_loop(_chromium.loop)
    if not _chromium.browser.is_connected():  # a test before this one took chromium down: a new one
        _chromium.launch()
    try:
        yield _chromium.browser
    finally:
        try:
            for context in list(_chromium.browser.contexts):
                context.close()
        finally:
            expect.set_options(timeout=EXPECT_TIMEOUT_MS)
            asyncio._set_running_loop(None)
