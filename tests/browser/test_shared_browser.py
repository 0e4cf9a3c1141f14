"""The shared chromium of tests/browser/conftest.py: one browser for the process, a context per use, and
no event loop left marked running in the thread for the tests after a browser test (``asyncio.run`` and
Django's async-safety check work there as without a browser test before them)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]

seen: list[Any] = []


def test_a_page_in_a_context_of_its_own(browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_content("<p id='x'>你好</p>")
    assert page.inner_text("#x") == "你好"
    assert page.evaluate("window.innerWidth") == 390
    seen.append(browser)


def test_the_next_browser_test_gets_the_same_browser_and_no_context_left(browser: Any) -> None:
    assert seen == [browser]
    assert browser.is_connected() and browser.contexts == []


def test_after_a_browser_test_no_loop_is_running_and_djangos_guard_holds(monkeypatch: Any) -> None:
    """(No database: pytest-django runs the tests that use one before the others.)"""
    from django.core.exceptions import SynchronousOnlyOperation
    from django.utils.asyncio import async_unsafe

    assert seen, "runs after the browser tests above it, in the same process"
    assert asyncio._get_running_loop() is None
    assert asyncio.run(asyncio.sleep(0, result="ran")) == "ran"
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)

    @async_unsafe
    def query() -> str:  # as Django guards its database calls
        return "answered"

    assert query() == "answered"  # sync code in a thread with no running loop

    async def inside_a_loop() -> str:
        return query()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(inside_a_loop())
