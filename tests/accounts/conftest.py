"""Fixtures of the login tests: a frozen clock, the reverse proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.http import HttpResponse

from tests.accounts.logins import T0, WEB, attempt


@pytest.fixture
def clock() -> Iterator[Any]:
    """A clock that moves only when the test says so."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def proxy(settings: Any) -> Callable[..., HttpResponse]:
    """Behind the documented reverse proxy (10.0.0.2, trusted): logins from a client address it forwards."""
    settings.MUSTER_TRUSTED_PROXIES = ["10.0.0.0/8"]

    def _attempt(username: str, password: str, *, client: str, url: str = WEB) -> HttpResponse:
        return attempt(username, password, ip="10.0.0.2", forwarded=client, url=url)

    return _attempt
