"""Fixtures for awards and commendations (moved from party life, issue 23 item 4): the party-life cast of
``tests/partylife`` (a branch with members, users with party roles), uploaded files in a temporary media
root, and HTTP helpers. The clock is the honors tests' ``FIXED_NOW`` (``tests/honors/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.partylife.conftest import (  # noqa: F401  (fixtures re-exported for these tests)
    Party,
    _english,
    at,
    hold_meeting,
    link,
    party,
)

API = "/api/v1"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


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


def propose(p: Party, **extra: Any) -> Any:
    """An award proposed by the branch (evidence described), through the service."""
    from muster.honors import awards

    fields: dict[str, Any] = {
        "actor": p.sec_user,
        "kind": "award",
        "name": "优秀共产党员",
        "level": "district",
        "awarded_on": at("2024-06-30 12:00").date(),
        "branch": p.branch,
        "person": p.m1,
        "evidence_note": "文件",
    }
    return awards.honor_propose(**{**fields, **extra})
