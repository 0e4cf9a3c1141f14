"""Teams and partners over the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from muster.audit.models import AuditEvent
from muster.orgs.models import Partner, Team, TeamMembership

from .helpers import API, codes, get, patch, post


@pytest.fixture
def manager(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("xh-manager", "manager", world.org.xuhui))


@pytest.fixture
def boss(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("boss", is_superuser=True))


def test_team_list_and_filters(boss: Client) -> None:
    assert codes(get(boss, "/teams").json()) == {"XH-T1", "HP-T1"}
    assert codes(get(boss, "/teams?unit=HP").json()) == {"HP-T1"}
    assert codes(get(boss, "/teams?q=逆行").json()) == {"XH-T1"}
    items = {t["code"]: t for t in get(boss, "/teams").json()["items"]}
    assert items["XH-T1"]["member_count"] == 2
    assert items["XH-T1"]["kind"] == "youth" and items["XH-T1"]["kind_label"]
    assert items["HP-T1"]["unit"] == {"code": "HP", "name": "黄浦区税务局"}


def test_team_detail_lists_visible_members(boss: Client, manager: Client) -> None:
    members = get(boss, "/teams/XH-T1").json()["members"]
    assert [(m["person"], m["role"]) for m in members] == [("HP0001", "member"), ("XH0001", "leader")]
    scoped = get(manager, "/teams/XH-T1").json()
    assert [m["person"] for m in scoped["members"]] == ["XH0001"]
    assert scoped["member_count"] == 1
    listed = get(manager, "/teams").json()["items"][0]
    assert listed["member_count"] == 1


def test_create_and_change_team(manager: Client) -> None:
    r = post(manager, "/teams", {"code": "XH-T2", "name": "党员突击队", "unit": "XH-S1", "kind": "member"})
    assert r.status_code == 201, r.content
    assert r.json()["unit"]["code"] == "XH-S1"
    r = patch(manager, "/teams/XH-T2", {"description": "值班值守", "is_active": False})
    assert r.status_code == 200
    team = Team.objects.get(code="XH-T2")
    assert (team.description, team.is_active, team.name) == ("值班值守", False, "党员突击队")
    assert AuditEvent.objects.filter(action__startswith="orgs.team.", target_id=str(team.pk)).count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "XH-T1", "name": "重复", "unit": "XH"}, "code"),
        ({"code": "XH-T2", "name": "x", "unit": "XH", "kind": "army"}, "kind"),
        ({"code": "XH-T2", "name": "", "unit": "XH"}, "name"),
        ({"code": "XH-T2", "name": "x", "unit": "NOPE"}, "unit"),
    ],
)
def test_create_team_validation(manager: Client, data: dict[str, Any], field: str) -> None:
    r = post(manager, "/teams", data)
    assert r.status_code == 422, r.content
    assert list(r.json()["errors"]) == [field]
    assert not Team.objects.filter(code="XH-T2").exists()


def test_patch_team_validation(manager: Client) -> None:
    r = patch(manager, "/teams/XH-T1", {"kind": "army"})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["kind"]
    assert Team.objects.get(code="XH-T1").kind == "youth"


def test_add_change_and_remove_member(manager: Client) -> None:
    r = post(manager, "/teams/XH-T1/members", {"person": "XH0002"})
    assert r.status_code == 200, r.content
    assert {m["person"]: m["role"] for m in r.json()["members"]} == {"XH0001": "leader", "XH0002": "member"}
    r = post(manager, "/teams/XH-T1/members", {"person": "XH0002", "role": "leader"})
    assert {m["person"]: m["role"] for m in r.json()["members"]}["XH0002"] == "leader"
    assert TeamMembership.objects.filter(team__code="XH-T1", person__code="XH0002").count() == 1
    r = manager.delete(API + "/teams/XH-T1/members/XH0002")
    assert r.status_code == 204
    assert r.content == b""
    assert not TeamMembership.objects.filter(team__code="XH-T1", person__code="XH0002").exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="orgs.team.member").values_list("action", flat=True)
    )
    assert actions.count("orgs.team.member_added") >= 3  # two in the fixtures, then ours
    assert actions.count("orgs.team.member_removed") == 1


def test_member_errors(manager: Client) -> None:
    r = post(manager, "/teams/XH-T1/members", {"person": "NOPE"})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["person"]
    r = post(manager, "/teams/XH-T1/members", {"person": "XH0002", "role": "captain"})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["role"]
    assert not TeamMembership.objects.filter(team__code="XH-T1", person__code="XH0002").exists()
    assert manager.delete(API + "/teams/XH-T1/members/NOPE").status_code == 404


def test_partners(boss: Client, manager: Client) -> None:
    assert codes(get(boss, "/partners").json()) == {"XH-P1", "HP-P1"}
    assert codes(get(boss, "/partners?kind=community").json()) == {"XH-P1"}
    assert codes(get(boss, "/partners?unit=HP").json()) == {"HP-P1"}
    assert codes(get(boss, "/partners?q=宛平").json()) == {"XH-P1"}
    assert codes(get(manager, "/partners").json()) == {"XH-P1"}
    body = get(manager, "/partners/XH-P1").json()
    assert (body["name"], body["kind"], body["district"], body["unit"]["code"]) == (
        "宛平社区",
        "community",
        "徐汇",
        "XH",
    )
    assert body["kind_label"]


def test_create_partner(manager: Client) -> None:
    r = post(
        manager,
        "/partners",
        {"code": "XH-P2", "name": "徐家汇街道", "kind": "subdistrict", "unit": "XH", "address": "漕溪北路"},
    )
    assert r.status_code == 201, r.content
    assert Partner.objects.get(code="XH-P2").address == "漕溪北路"
    assert AuditEvent.objects.filter(action="orgs.partner.created").count() == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "XH-P1", "name": "重复", "kind": "community", "unit": "XH"}, "code"),
        ({"code": "XH-P2", "name": "x", "kind": "planet", "unit": "XH"}, "kind"),
        ({"code": "XH-P2", "name": "x", "unit": "XH"}, "kind"),
    ],
)
def test_create_partner_validation(manager: Client, data: dict[str, Any], field: str) -> None:
    r = post(manager, "/partners", data)
    assert r.status_code == 422, r.content
    assert list(r.json()["errors"]) == [field]
    assert not Partner.objects.filter(code="XH-P2").exists()
