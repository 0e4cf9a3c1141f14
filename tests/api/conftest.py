"""API fixtures: a few more objects around the shared ``org`` tree, and JSON helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from muster.orgs.access import SYSTEM
from muster.orgs.models import Partner, Team, Unit
from muster.orgs.services import partner_create, team_create, team_member_add, unit_create


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 costs ~0.4 s per user; these tests create one per case and do not test hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """``org`` plus: a second Xuhui office, a team and a partner on each side of the Xuhui scope.

    Carol (黄浦, out of a Xuhui grant's scope) is also a member of the Xuhui team, and Bob (徐汇) of the
    Huangpu team, so lists and details that join across the boundary are tested too.
    """

    org: Any
    xuhui_office2: Unit
    xh_team: Team
    hp_team: Team
    xh_partner: Partner
    hp_partner: Partner


@pytest.fixture
def world(org: Any) -> World:
    return build_world(org)


def build_world(org: Any) -> World:
    """The ``world`` fixture's objects around ``org`` (for a module fixture that builds them once)."""
    a = SYSTEM
    xo2 = unit_create(
        actor=a, code="XH-S2", name="徐汇区税务局第二税务所", kind="tax_office", parent=org.xuhui
    )
    hp_team = team_create(actor=a, code="HP-T1", name="抗疫急先锋", unit=org.huangpu, kind="member")
    xh_team = Team.objects.get(code="XH-T1")
    team_member_add(actor=a, team=xh_team, person=org.carol)
    team_member_add(actor=a, team=hp_team, person=org.bob)
    xp = partner_create(
        actor=a, code="XH-P1", name="宛平社区", kind="community", unit=org.xuhui, district="徐汇"
    )
    hp = partner_create(
        actor=a, code="HP-P1", name="外滩街道", kind="subdistrict", unit=org.huangpu, district="黄浦"
    )
    return World(org, xo2, xh_team, hp_team, xp, hp)
