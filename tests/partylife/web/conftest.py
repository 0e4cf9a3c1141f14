"""Fixtures of the party-life pages: the party-life cast of ``tests/partylife`` (a branch with members
and history, users with party roles), uploaded files in a temporary media root, and HTTP helpers."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.partylife.conftest import (  # noqa: F401  (fixtures re-exported for these tests)
    Party,
    _english,
    _fast_passwords,
    at,
    hold_meeting,
    link,
    party,
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(user: Any, language: str = "en") -> Client:
    """A logged-in client; pages in English (their source strings) unless another language is asked."""
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    c.force_login(user)
    return c
