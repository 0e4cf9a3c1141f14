"""The web permission matrix: each role × in-scope / out-of-scope × read / write, for unit, person and
team pages. Every role is granted on 徐汇 (XH); 黄浦 (HP) is out of scope. Reads of out-of-scope
objects are 404 (never 403); writes are allowed to the roles holding CHANGE, refused (403) to the others
in scope and 404 out of scope; links to actions show exactly when the action is allowed; a refused
write changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from muster.audit.models import AuditEvent
from muster.orgs.access import ROLE_PERMS, SYSTEM, Perm
from muster.orgs.models import Person, Team, TeamMembership, Unit
from muster.orgs.services import unit_create

ROLES = ["admin", "manager", "secretary", "leader", "member", "viewer"]
SCOPES = ["in", "out"]


def _targets(org: Any, huangpu_team: Team) -> dict[str, dict[str, Any]]:
    xh_team = Team.objects.get(code="XH-T1")
    # Where a unit is moved to: a second Xuhui office.
    new_parent = unit_create(
        actor=SYSTEM, code="XH-S2", name="徐汇区税务局第二税务所", kind="tax_office", parent=org.xuhui
    )
    return {
        "in": {
            "unit": org.xuhui_office,
            "person": org.bob,
            "team": xh_team,
            "member": org.bob,
            "new_parent": new_parent,
        },
        "out": {
            "unit": org.huangpu,
            "person": org.carol,
            "team": huangpu_team,
            "member": org.carol,
            "new_parent": new_parent,
        },
    }


def _may_change(role: str) -> bool:
    return Perm.CHANGE in ROLE_PERMS[role]


@pytest.mark.django_db
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES)
def test_read(org, as_role, huangpu_team, role, scope) -> None:
    c = as_role(role, org.xuhui)
    t = _targets(org, huangpu_team)[scope]
    expected = 200 if scope == "in" else 404
    pages = {
        "unit": reverse("web:unit_detail", args=[t["unit"].pk]),
        "unit children": reverse("web:unit_children", args=[t["unit"].pk]),
        "unit people": reverse("web:unit_people", args=[t["unit"].pk]),
        "person": reverse("web:person_detail", args=[t["person"].pk]),
        "team": reverse("web:team_detail", args=[t["team"].pk]),
    }
    for what, url in pages.items():
        r = c.get(url, HTTP_HX_REQUEST="true")
        assert r.status_code == expected, (what, role, scope)
    # Lists: the in-scope objects are listed, the out-of-scope ones are not.
    people = c.get(reverse("web:people")).content.decode()
    teams = c.get(reverse("web:teams")).content.decode()
    listed = t["person"].name in people and t["team"].name in teams
    assert listed is (scope == "in"), (role, scope)


def _write_requests(org: Any, t: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    unit, person, team = t["unit"], t["person"], t["team"]
    return [
        (
            "unit edit",
            reverse("web:unit_edit", args=[unit.pk]),
            {"code": unit.code, "name": unit.name + "X", "short_name": "", "kind": unit.kind},
        ),
        (
            "unit add",
            reverse("web:unit_add_child", args=[unit.pk]),
            {"code": unit.code + "-NEW", "name": "新科室", "short_name": "", "kind": "section"},
        ),
        ("unit move", reverse("web:unit_move", args=[unit.pk]), {"new_parent": t["new_parent"].pk}),
        (
            "person edit",
            reverse("web:person_edit", args=[person.pk]),
            {
                "code": person.code,
                "name": person.name + "X",
                "gender": person.gender,
                "unit": person.unit_id,
                "political_status": person.political_status,
                "employment_status": person.employment_status,
                "phone": "",
                "id_number": "",
                "tags": "",
            },
        ),
        (
            "team edit",
            reverse("web:team_edit", args=[team.pk]),
            {"name": team.name + "X", "kind": team.kind, "description": "", "is_active": "on"},
        ),
        (
            "team member",
            reverse("web:team_member_add", args=[team.pk]),
            {"person_code": t["member"].code, "role": "member"},
        ),
    ]


def _snapshot() -> tuple[Any, ...]:
    return (
        sorted(Unit.objects.values_list("code", "name", "path")),
        sorted(Person.objects.values_list("code", "name", "unit_id")),
        sorted(Team.objects.values_list("code", "name")),
        sorted(TeamMembership.objects.values_list("team_id", "person_id")),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES)
def test_write(org, as_role, huangpu_team, role, scope) -> None:
    c = as_role(role, org.xuhui)
    t = _targets(org, huangpu_team)[scope]
    allowed = scope == "in" and _may_change(role)
    refused = 404 if scope == "out" else 403
    for what, url, data in _write_requests(org, t):
        if what not in ("team member",):
            assert c.get(url).status_code == (200 if allowed else refused), (what, "GET", role, scope)
        before = _snapshot()
        r = c.post(url, data)
        if allowed:
            assert r.status_code == 302, (
                what,
                role,
                scope,
                getattr(r, "context", None) and r.context.get("form") and r.context["form"].errors,
            )
            assert _snapshot() != before, (what, role, scope)
        else:
            assert r.status_code == refused, (what, role, scope)
            assert _snapshot() == before, (what, role, scope)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_action_links_follow_the_permissions(org, as_role, role) -> None:
    c = as_role(role, org.xuhui)
    team = Team.objects.get(code="XH-T1")
    allowed = _may_change(role)
    unit_page = c.get(reverse("web:unit_detail", args=[org.xuhui_office.pk])).content.decode()
    for url in [
        reverse("web:unit_edit", args=[org.xuhui_office.pk]),
        reverse("web:unit_move", args=[org.xuhui_office.pk]),
        reverse("web:unit_add_child", args=[org.xuhui_office.pk]),
        reverse("web:person_create"),
    ]:
        assert (url in unit_page) is allowed, (role, url)
    person_page = c.get(reverse("web:person_detail", args=[org.bob.pk])).content.decode()
    assert (reverse("web:person_edit", args=[org.bob.pk]) in person_page) is allowed
    team_page = c.get(reverse("web:team_detail", args=[team.pk])).content.decode()
    assert (reverse("web:team_edit", args=[team.pk]) in team_page) is allowed
    assert (reverse("web:team_member_add", args=[team.pk]) in team_page) is allowed
    grants = 'id="grants"' in c.get(reverse("web:unit_detail", args=[org.xuhui.pk])).content.decode()
    assert grants is (Perm.GRANT in ROLE_PERMS[role])
    # Creating needs CHANGE somewhere.
    for url in [reverse("web:person_create"), reverse("web:team_create"), reverse("web:partner_create")]:
        assert c.get(url).status_code == (200 if allowed else 403), (role, url)
