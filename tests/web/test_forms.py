"""Forms create and change things through the services: audited, validated, errors on the form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from muster.audit.models import AuditEvent
from muster.orgs.models import Partner, Person, RoleGrant, Team, TeamMembership, Unit
from tests.conftest import make_id_number


def _events(action: str) -> list[AuditEvent]:
    """Events of this action written through the web (the fixtures' own are written as ``system``)."""
    return list(AuditEvent.objects.filter(action=action, channel="web"))


@pytest.mark.django_db
def test_edit_unit_through_the_service(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post(
        reverse("web:unit_edit", args=[org.xuhui_office.pk]),
        {"code": "XH-S1", "name": "徐汇区税务局第一税务所（新）", "short_name": "一所", "kind": "tax_office"},
    )
    assert r.status_code == 302
    org.xuhui_office.refresh_from_db()
    assert org.xuhui_office.name == "徐汇区税务局第一税务所(新)"  # normalized by the service (NFKC)
    (event,) = _events("orgs.unit.updated")
    assert event.actor == c.user and event.channel == "web" and event.ip == "127.0.0.1"
    assert event.changes["short_name"] == ["", "一所"]


@pytest.mark.django_db
def test_service_errors_land_on_the_form_fields(org, as_role) -> None:
    c = as_role("admin", org.xuhui)
    r = c.post(
        reverse("web:unit_add_child", args=[org.xuhui.pk]),
        {"code": "XH-S1", "name": "重复", "short_name": "", "kind": "tax_office"},
    )
    assert r.status_code == 200
    assert "XH-S1" in r.context["form"].errors["code"][0]
    assert not Unit.objects.filter(name="重复").exists()


@pytest.mark.django_db
def test_add_sub_unit(org, as_role) -> None:
    c = as_role("admin", org.xuhui)
    page = c.get(reverse("web:unit_add_child", args=[org.xuhui.pk])).content.decode()
    assert 'value="tax_office"' in page and 'value="branch"' not in page  # kinds of the parent's tree
    r = c.post(
        reverse("web:unit_add_child", args=[org.xuhui.pk]),
        {"code": "XH-S2", "name": "徐汇区税务局第二税务所", "short_name": "", "kind": "tax_office"},
    )
    unit = Unit.objects.get(code="XH-S2")
    assert r.status_code == 302 and r["Location"] == reverse("web:unit_detail", args=[unit.pk])
    assert unit.path.startswith(org.xuhui.path)
    assert _events("orgs.unit.created")[0].target_id == str(unit.pk)


@pytest.mark.django_db
def test_move_unit(org, as_role) -> None:
    c = as_role("admin", org.root)
    r = c.post(reverse("web:unit_move", args=[org.xuhui_office.pk]), {"new_parent": org.huangpu.pk})
    assert r.status_code == 302
    org.xuhui_office.refresh_from_db()
    assert org.xuhui_office.path.startswith(org.huangpu.path)
    assert _events("orgs.unit.moved")[0].changes == {"parent": ["XH", "HP"]}


@pytest.mark.django_db
def test_move_refuses_a_cycle_and_shows_why(org, as_role) -> None:
    c = as_role("admin", org.root)
    before = org.xuhui.path
    r = c.post(reverse("web:unit_move", args=[org.xuhui.pk]), {"new_parent": org.xuhui_office.pk})
    assert r.status_code == 200
    errors = r.context["form"].errors["new_parent"]
    assert "徐汇区税务局" in errors[0]
    assert errors[0] in r.content.decode()
    org.xuhui.refresh_from_db()
    assert org.xuhui.path == before
    assert not _events("orgs.unit.moved")


@pytest.mark.django_db
def test_move_offers_only_units_the_user_may_change(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.get(reverse("web:unit_move", args=[org.xuhui_office.pk]))
    choices = {u.code for u in r.context["form"].fields["new_parent"].queryset}
    assert choices == {"XH", "XH-S1"}
    # Forcing a unit outside the user's scope is refused by the form, and nothing moves.
    r = c.post(reverse("web:unit_move", args=[org.xuhui_office.pk]), {"new_parent": org.huangpu.pk})
    assert r.status_code == 200 and "new_parent" in r.context["form"].errors
    org.xuhui_office.refresh_from_db()
    assert org.xuhui_office.path.startswith(org.xuhui.path)


@pytest.mark.django_db
def test_create_person(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    page = c.get(reverse("web:person_create") + f"?unit={org.xuhui_office.pk}")
    assert page.context["form"].initial["unit"] == org.xuhui_office.pk
    assert {u.code for u in page.context["form"].fields["unit"].queryset} == {"XH", "XH-S1"}
    r = c.post(
        reverse("web:person_create"),
        {
            "code": "XH0100",
            "name": "陈晨",
            "gender": "F",
            "birth_date": "1995-04-01",
            "unit": org.xuhui_office.pk,
            "party_unit": "",
            "political_status": "league",
            "employment_status": "active",
            "phone": "138 0000 9999",
            "id_number": "",
            "tags": "青年, 志愿者",
        },
    )
    assert r.status_code == 302
    p = Person.objects.get(code="XH0100")
    assert (p.name, p.unit, p.phone, p.political_status) == (
        "陈晨",
        org.xuhui_office,
        "13800009999",
        "league",
    )
    assert sorted(p.tags.values_list("name", flat=True)) == ["志愿者", "青年"]
    (event,) = _events("orgs.person.created")
    assert event.changes["phone"] == "138****9999"  # the audit log never holds personal data in clear


@pytest.mark.django_db
def test_create_person_shows_validation_errors(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    bad_id = make_id_number()[:-1] + ("0" if make_id_number()[-1] != "0" else "1")
    r = c.post(
        reverse("web:person_create"),
        {
            "code": "XH0001",
            "name": "重复",
            "unit": org.xuhui.pk,
            "political_status": "non_party",
            "employment_status": "active",
            "id_number": bad_id,
        },
    )
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert "XH0001" in errors["code"][0]
    assert "校验码" in errors["id_number"][0]  # the importer's message, translated (one rule everywhere)
    assert Person.objects.filter(name="重复").count() == 0


@pytest.mark.django_db
def test_person_unit_outside_scope_is_refused(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post(
        reverse("web:person_create"),
        {
            "code": "HP0100",
            "name": "越权",
            "unit": org.huangpu.pk,
            "political_status": "non_party",
            "employment_status": "active",
        },
    )
    assert r.status_code == 200 and "unit" in r.context["form"].errors
    assert not Person.objects.filter(code="HP0100").exists()


@pytest.mark.django_db
def test_edit_person_keeps_masked_values(org, as_role) -> None:
    # A manager may see phones and IDs; here a secretary of the Xuhui party branch edits Alice.
    c = as_role("secretary", org.xuhui_branch)
    form = c.get(reverse("web:person_edit", args=[org.alice.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["name"] = "张丽丽"
    stored_id = org.alice.id_number
    r = c.post(reverse("web:person_edit", args=[org.alice.pk]), data)
    assert r.status_code == 302, r.context["form"].errors if r.context else r
    org.alice.refresh_from_db()
    assert org.alice.name == "张丽丽" and org.alice.id_number == stored_id
    (event,) = _events("orgs.person.updated")
    assert event.changes == {"name": ["张丽", "张丽丽"]}


@pytest.mark.django_db
def test_masked_values_sent_back_keep_the_stored_ones(org, make_user, login) -> None:
    # Whoever is shown a masked phone or ID number and submits it unchanged keeps the stored value.
    user = make_user("m", "manager", org.xuhui)
    c = login(user)
    r = c.post(
        reverse("web:person_edit", args=[org.bob.pk]),
        {
            "code": "XH0002",
            "name": "王强",
            "gender": "M",
            "unit": org.xuhui_office.pk,
            "political_status": "non_party",
            "employment_status": "active",
            "phone": "139****1111",
            "id_number": "",
            "tags": "",
        },
    )
    assert r.status_code == 302
    org.bob.refresh_from_db()
    assert org.bob.phone == "13900001111"


@pytest.mark.django_db
def test_team_create_edit_and_members(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post(
        reverse("web:team_create"),
        {"code": "XH-T2", "name": "党员集结号", "kind": "member", "unit": org.xuhui.pk, "description": ""},
    )
    assert r.status_code == 302
    team = Team.objects.get(code="XH-T2")
    assert _events("orgs.team.created")[-1].target_id == str(team.pk)

    r = c.post(
        reverse("web:team_edit", args=[team.pk]),
        {"name": "党员集结号突击队", "kind": "member", "description": "夜间值守", "is_active": "on"},
    )
    assert r.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.description) == ("党员集结号突击队", "夜间值守")
    assert _events("orgs.team.updated")[0].changes["name"] == ["党员集结号", "党员集结号突击队"]

    r = c.post(reverse("web:team_member_add", args=[team.pk]), {"person_code": "XH0002", "role": "leader"})
    assert r.status_code == 302
    assert TeamMembership.objects.get(team=team, person=org.bob).role == "leader"
    page = c.get(reverse("web:team_detail", args=[team.pk])).content.decode()
    assert "王强" in page

    # A person outside the user's scope cannot be added (and is reported as not found).
    r = c.post(
        reverse("web:team_member_add", args=[team.pk]),
        {"person_code": "HP0001", "role": "member"},
        follow=True,
    )
    assert "HP0001" in r.content.decode()
    assert not TeamMembership.objects.filter(team=team, person=org.carol).exists()

    r = c.post(reverse("web:team_member_remove", args=[team.pk, org.bob.pk]))
    assert r.status_code == 302
    assert not TeamMembership.objects.filter(team=team, person=org.bob).exists()
    assert _events("orgs.team.member_removed")[0].changes == {"person": "XH0002"}


@pytest.mark.django_db
def test_partner_create(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post(
        reverse("web:partner_create"),
        {
            "code": "P-XJW",
            "name": "新江湾城街道",
            "kind": "subdistrict",
            "unit": org.xuhui.pk,
            "district": "杨浦",
            "address": "",
        },
    )
    assert r.status_code == 302
    assert Partner.objects.get(code="P-XJW").unit == org.xuhui
    assert _events("orgs.partner.created")
    assert "新江湾城街道" in c.get(reverse("web:partners")).content.decode()


@pytest.mark.django_db
def test_grant_and_revoke_roles(org, as_role, make_user) -> None:
    c = as_role("admin", org.xuhui)
    make_user("newbie")
    page = c.get(reverse("web:unit_detail", args=[org.xuhui.pk])).content.decode()
    assert 'id="grants"' in page
    r = c.post(
        reverse("web:unit_grant", args=[org.xuhui_office.pk]), {"username": "newbie", "role": "viewer"}
    )
    assert r.status_code == 302
    grant = RoleGrant.objects.get(user__username="newbie")
    assert (grant.unit, grant.role) == (org.xuhui_office, "viewer")
    assert _events("accounts.grant.created")
    # An unknown user name is reported, not granted.
    r = c.post(
        reverse("web:unit_grant", args=[org.xuhui.pk]), {"username": "ghost", "role": "viewer"}, follow=True
    )
    assert "ghost" in r.content.decode()
    r = c.post(reverse("web:grant_revoke", args=[grant.pk]))
    assert r.status_code == 302 and not RoleGrant.objects.filter(pk=grant.pk).exists()
    assert _events("accounts.grant.revoked")


@pytest.mark.django_db
def test_grant_needs_the_grant_permission(org, as_role, make_user) -> None:
    c = as_role("manager", org.xuhui)
    make_user("newbie")
    page = c.get(reverse("web:unit_detail", args=[org.xuhui.pk])).content.decode()
    assert 'id="grants"' not in page
    r = c.post(reverse("web:unit_grant", args=[org.xuhui.pk]), {"username": "newbie", "role": "admin"})
    assert r.status_code == 403
    assert not RoleGrant.objects.filter(user__username="newbie").exists()
    own = RoleGrant.objects.get(user=c.user)
    assert c.post(reverse("web:grant_revoke", args=[own.pk])).status_code == 403
    assert RoleGrant.objects.filter(pk=own.pk).exists()


@pytest.mark.django_db
def test_api_tokens_page(org, as_role, make_user) -> None:
    from muster.accounts.models import ApiToken
    from muster.accounts.services import token_authenticate, token_create

    c = as_role("viewer", org.xuhui)
    r = c.post(reverse("web:tokens"), {"name": "报表脚本"})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    raw = r.context["new_token"]
    assert raw in r.content.decode()
    assert token_authenticate(raw) == c.user
    # Shown once: the next visit lists the token by its prefix only.
    again = c.get(reverse("web:tokens")).content.decode()
    assert raw not in again and raw[:12] in again
    token = ApiToken.objects.get(user=c.user)
    # Someone else's token is not found.
    other = make_user("other")
    other_token, _raw = token_create(actor=other, user=other, name="x")
    assert c.post(reverse("web:token_revoke", args=[other_token.pk])).status_code == 404
    assert c.post(reverse("web:token_revoke", args=[token.pk])).status_code == 302
    assert token_authenticate(raw) is None
    assert _events("accounts.token.revoked")
