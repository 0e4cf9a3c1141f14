"""Every page renders for a permitted user; objects outside the user's scope are 404; layout basics."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse


def _pages(org, team, partner) -> list[str]:
    return [
        reverse("web:home"),
        reverse("web:units"),
        reverse("web:unit_detail", args=[org.xuhui.pk]),
        reverse("web:unit_edit", args=[org.xuhui.pk]),
        reverse("web:unit_move", args=[org.xuhui_office.pk]),
        reverse("web:unit_add_child", args=[org.xuhui.pk]),
        reverse("web:people"),
        reverse("web:person_detail", args=[org.alice.pk]),
        reverse("web:person_create"),
        reverse("web:person_edit", args=[org.alice.pk]),
        reverse("web:teams"),
        reverse("web:team_detail", args=[team.pk]),
        reverse("web:team_create"),
        reverse("web:team_edit", args=[team.pk]),
        reverse("web:partners"),
        reverse("web:partner_create"),
        reverse("web:people_import"),
        reverse("web:audit"),
        reverse("web:tokens"),
    ]


@pytest.mark.django_db
def test_every_page_renders_for_a_unit_admin(org, as_role, xuhui_partner) -> None:
    from muster.orgs.models import Team

    team = Team.objects.get(code="XH-T1")
    c = as_role("admin", org.xuhui)
    for url in _pages(org, team, xuhui_partner):
        r = c.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        assert '<html lang="zh-hans">' in html, url
        # Navigation of a unit admin: every section, no back-office link.
        assert reverse("web:audit") in html and reverse("web:people_import") in html, url
        assert reverse("admin:index") not in html, url


@pytest.mark.django_db
def test_every_page_renders_for_a_superuser(org, make_user, login, xuhui_partner) -> None:
    from muster.orgs.models import Team

    su = make_user("root", is_superuser=True, is_staff=True)
    c = login(su)
    for url in _pages(org, Team.objects.get(code="XH-T1"), xuhui_partner):
        assert c.get(url).status_code == 200, url
    assert reverse("admin:index") in c.get(reverse("web:home")).content.decode()
    assert c.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_pages_need_login(org) -> None:
    c = Client()
    for url in [reverse("web:home"), reverse("web:people"), reverse("web:unit_detail", args=[org.xuhui.pk])]:
        r = c.get(url)
        assert r.status_code == 302 and r["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_login_page_logs_in_and_logout_is_a_post(org, make_user) -> None:
    make_user("li", "viewer", org.xuhui)
    c = Client()
    page = c.get(reverse("login"))
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    r = c.post(reverse("login"), {"username": "li", "password": "pw-Muster-2026"})
    assert r.status_code == 302 and r["Location"] == reverse("web:home")
    home = c.get(reverse("web:home")).content.decode()
    assert 'action="/accounts/logout/"' in home and 'method="post"' in home
    assert c.post(reverse("logout")).status_code == 302
    assert c.get(reverse("web:home")).status_code == 302


@pytest.mark.django_db
def test_login_page_shows_the_throttling_error(org, make_user, settings) -> None:
    settings.MUSTER_LOGIN_MAX_FAILURES = 3
    make_user("li", "viewer", org.xuhui)
    c = Client()
    # The clock stands still: the wait after the third failure (1 s) has not passed at the next attempt.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        for _ in range(3):
            r = c.post(reverse("login"), {"username": "li", "password": "wrong"})
            assert r.status_code == 200
        # Even the right password is refused now, and the page says why.
        r = c.post(reverse("login"), {"username": "li", "password": "pw-Muster-2026"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="login-errors"' in html and "1 秒后重试" in html
    assert r.context["form"].errors.as_data()["__all__"][0].code == "locked"


@pytest.mark.django_db
def test_out_of_scope_objects_are_not_found(org, as_role, huangpu_team) -> None:
    c = as_role("admin", org.xuhui)
    urls = [
        reverse("web:unit_detail", args=[org.huangpu.pk]),
        reverse("web:unit_children", args=[org.huangpu.pk]),
        reverse("web:unit_people", args=[org.huangpu.pk]),
        reverse("web:unit_edit", args=[org.huangpu.pk]),
        reverse("web:unit_move", args=[org.huangpu.pk]),
        reverse("web:unit_add_child", args=[org.huangpu.pk]),
        reverse("web:unit_detail", args=[org.root.pk]),  # the parent of a granted unit is out of scope too
        reverse("web:person_detail", args=[org.carol.pk]),
        reverse("web:person_edit", args=[org.carol.pk]),
        reverse("web:team_detail", args=[huangpu_team.pk]),
        reverse("web:team_edit", args=[huangpu_team.pk]),
        reverse("web:unit_detail", args=[999999]),
    ]
    for url in urls:
        r = c.get(url)
        assert r.status_code == 404, url
        # The 404 page says nothing about what might be there.
        assert "黄浦" not in r.content.decode() and "李娜" not in r.content.decode()
    posts = [
        reverse("web:unit_grant", args=[org.huangpu.pk]),
        reverse("web:team_member_add", args=[huangpu_team.pk]),
        reverse("web:team_member_remove", args=[huangpu_team.pk, org.carol.pk]),
    ]
    for url in posts:
        assert c.post(url, {"username": "x", "role": "viewer", "person_code": "HP0001"}).status_code == 404, (
            url
        )


@pytest.mark.django_db
def test_lists_leave_out_what_is_out_of_scope(
    org, as_role, huangpu_team, xuhui_partner, huangpu_partner
) -> None:
    c = as_role("viewer", org.xuhui)
    people = c.get(reverse("web:people")).content.decode()
    assert "张丽" in people and "王强" in people
    assert "李娜" not in people and "赵伟" not in people
    teams = c.get(reverse("web:teams")).content.decode()
    assert "税青逆行者" in teams and "抗疫急先锋" not in teams
    partners = c.get(reverse("web:partners")).content.decode()
    assert "宛平社区" in partners and "外滩街道" not in partners
    tree = c.get(reverse("web:units")).content.decode()
    assert "徐汇区税务局" in tree and "黄浦区税务局" not in tree and "国家税务总局上海市税务局" not in tree
    home = c.get(reverse("web:home")).content.decode()
    assert "徐汇区税务局" in home and "黄浦区税务局" not in home


@pytest.mark.django_db
def test_unit_tree_shows_both_trees_and_loads_children_on_expand(org, as_role) -> None:
    c = as_role("admin", org.root)
    # Also grant the party tree so both trees are visible.
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import role_grant

    role_grant(actor=SYSTEM, user=c.user, unit=org.party_root, role="viewer")
    html = c.get(reverse("web:units")).content.decode()
    admin_part, party_part = html.split('id="party-tree"')
    assert "国家税务总局上海市税务局" in admin_part and "徐汇区税务局" in admin_part
    assert "上海市税务局党委" in party_part and "徐汇区税务局党委" in party_part
    # Grandchildren are loaded only when a node is opened.
    assert "徐汇区税务局第一税务所" not in html
    assert f'hx-get="{reverse("web:unit_children", args=[org.xuhui.pk])}"' in html
    part = c.get(reverse("web:unit_children", args=[org.xuhui.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "徐汇区税务局第一税务所" in part and "<html" not in part
    party = c.get(reverse("web:unit_children", args=[org.xuhui_committee.pk])).content.decode()
    assert "第一税务所党支部" in party


@pytest.mark.django_db
def test_unit_detail_shows_counts_children_people_and_teams(org, as_role, xuhui_partner) -> None:
    c = as_role("viewer", org.xuhui)
    r = c.get(reverse("web:unit_detail", args=[org.xuhui.pk]))
    assert r.status_code == 200
    counts = r.context["counts"]
    assert (counts.people_subtree, counts.people_direct, counts.members_subtree, counts.children) == (
        2,
        1,
        1,
        1,
    )
    html = r.content.decode()
    assert "徐汇区税务局第一税务所" in html and "税青逆行者" in html and "宛平社区" in html
    assert "张丽" in html and "王强" in html
    # A viewer gets no action buttons and no role section.
    assert reverse("web:unit_edit", args=[org.xuhui.pk]) not in html
    assert 'id="grants"' not in html
    # Breadcrumb: the root is out of the viewer's scope, so it is not named.
    assert "国家税务总局上海市税务局" not in html


@pytest.mark.django_db
def test_unit_people_are_paginated_with_htmx(org, as_role) -> None:
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import person_create

    for i in range(60):
        person_create(actor=SYSTEM, code=f"XH1{i:03d}", name=f"测试{i:02d}", unit=org.xuhui_office)
    c = as_role("viewer", org.xuhui)
    first = c.get(reverse("web:unit_detail", args=[org.xuhui.pk])).content.decode()
    assert "62" in first and "XH1047" in first and "XH1048" not in first
    url = reverse("web:unit_people", args=[org.xuhui.pk])
    assert f'hx-get="{url}?page=2"' in first
    part = c.get(url + "?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="unit-people").content.decode()
    assert "XH1048" in part and "XH1059" in part and "XH1000" not in part and "<html" not in part
    # Without htmx the partial URL sends the browser to the full page.
    r = c.get(url + "?page=2")
    assert r.status_code == 302 and r["Location"].endswith("?page=2")


@pytest.mark.django_db
def test_security_headers_and_no_inline_scripts(org, as_role) -> None:
    c = as_role("admin", org.xuhui)
    r = c.get(reverse("web:unit_detail", args=[org.xuhui.pk]))
    assert "script-src 'self'" in r["Content-Security-Policy"]
    html = r.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in s for s in scripts)
    assert "hx-on" not in html and "onclick" not in html
    assert "cdn" not in html.lower()
    # htmx sends the CSRF token from the body's hx-headers.
    assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', html)


@pytest.mark.django_db
def test_static_assets_are_served_locally(org, as_role) -> None:
    from django.contrib.staticfiles import finders

    for path in [
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "vendor/htmx/htmx.min.js",
        "vendor/bootstrap-icons/bootstrap-icons.min.css",
        "muster/css/muster.css",
        "muster/js/muster.js",
    ]:
        assert finders.find(path), path
