"""Fixtures for the points pages: the party-life branch fixture, and JSON helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.partylife.conftest import Party, _english, _fast_passwords, at, hold_meeting, link, party

API = "/api/v1"

__all__ = [
    "API",
    "Party",
    "_english",
    "_fast_passwords",
    "at",
    "hold_meeting",
    "link",
    "party",
    "patch",
    "post",
]


@pytest.fixture
def login(login: Callable[[Any], Client]) -> Callable[[Any], Client]:
    """Logged-in clients that read English (messages are matched in their English source form)."""

    def _login(user: Any) -> Client:
        c = login(user)
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return c

    return _login


def post(c: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return c.post(API + path, body or {}, content_type="application/json")


def patch(c: Client, path: str, body: dict[str, Any]) -> Any:
    return c.patch(API + path, body, content_type="application/json")
