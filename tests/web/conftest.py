"""Fixtures of the web tests: a team and a partner outside Xuhui, users with roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from muster.orgs.access import SYSTEM
from muster.orgs.models import Partner, Team
from muster.orgs.services import partner_create, team_create

ROLES = ["admin", "manager", "secretary", "leader", "member", "viewer"]


@pytest.fixture
def huangpu_team(org: Any) -> Team:
    return team_create(actor=SYSTEM, code="HP-T1", name="抗疫急先锋", unit=org.huangpu, kind="volunteer")


@pytest.fixture
def xuhui_partner(org: Any) -> Partner:
    return partner_create(actor=SYSTEM, code="P-WP", name="宛平社区", kind="community", unit=org.xuhui)


@pytest.fixture
def huangpu_partner(org: Any) -> Partner:
    return partner_create(actor=SYSTEM, code="P-HP", name="外滩街道", kind="subdistrict", unit=org.huangpu)


@pytest.fixture
def as_role(org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Callable[..., Client]:
    """A logged-in client for a fresh user holding ``role`` on ``unit`` (Xuhui by default)."""

    def _as(role: str, unit: Any = None, username: str | None = None) -> Client:
        user = make_user(username or f"u-{role}", role, unit or org.xuhui)
        client = login(user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return _as


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; these tests create many users and are about pages, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
