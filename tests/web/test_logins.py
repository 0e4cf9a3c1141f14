"""Logins for people (issue 27 item 2): from a person's page a manager creates a login with a one-time
activation link (shown once, printable as a QR slip); in bulk from a team; the login holds the member role
on the person's home unit; a person who leaves loses their login."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from muster.accounts.models import ActivationToken
from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, RoleGrant
from muster.orgs.services import person_update

NEW_PASSWORD = "Volunteer-Pw-2026!"
LINK = re.compile(r'class="activation-link">https?://[^/]+(/accounts/activate/[^/<]+/)<')


def _links(html: str) -> list[str]:
    return LINK.findall(html)


def _create(client: Client, person: Person) -> str:
    response = client.post(reverse("web:person_login", args=[person.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" or "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<svg" in html  # the QR code of the slip
    links = _links(html)
    assert len(links) == 1
    return links[0]


def _activate(link: str, password: str = NEW_PASSWORD) -> Client:
    c = Client()
    assert c.get(link).status_code == 200
    response = c.post(link, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    return c


def test_manager_creates_a_login_and_the_person_activates_it(org: Any, as_role: Any) -> None:
    manager = as_role("manager")
    page = manager.get(reverse("web:person_detail", args=[org.bob.pk])).content.decode()
    assert 'id="person-login-form"' in page
    link = _create(manager, org.bob)
    org.bob.refresh_from_db()
    user = org.bob.user
    assert user is not None and user.username == "xh0002" and not user.has_usable_password()
    assert RoleGrant.objects.filter(user=user, unit=org.bob.unit, role="member").exists()
    assert AuditEvent.objects.filter(action="accounts.login.created", target_id=str(org.bob.pk)).exists()
    assert not ActivationToken.objects.filter(digest__contains=link.split("/")[-2]).exists()  # digest only

    volunteer = _activate(link)
    home = volunteer.get("/").content.decode()
    assert 'id="my-home"' in home
    assert Client().login(username="xh0002", password=NEW_PASSWORD)
    assert Client().get(link).status_code == 404  # used up
    assert AuditEvent.objects.filter(action="accounts.login.activated").count() == 1


def test_a_new_link_replaces_the_old_one(org: Any, as_role: Any) -> None:
    manager = as_role("manager")
    first = _create(manager, org.bob)
    page = manager.get(reverse("web:person_detail", args=[org.bob.pk])).content.decode()
    assert "Not activated yet" in page or "尚未激活" in page or 'id="person-login"' in page
    second = _create(manager, org.bob)
    assert first != second
    assert Client().get(first).status_code == 404
    _activate(second)
    assert get_user_model().objects.filter(username__startswith="xh0002").count() == 1


def test_bad_passwords_are_refused_and_the_link_stays(org: Any, as_role: Any) -> None:
    link = _create(as_role("manager"), org.bob)
    c = Client()
    response = c.post(link, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 422
    response = c.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert response.status_code == 422
    assert ActivationToken.objects.get().used_at is None
    _activate(link)


@pytest.mark.parametrize("token", ["x" * 5000, "abc%00def", "%E2%80%AE", "nothing-here"])
def test_unknown_or_hostile_tokens_are_not_found(db: Any, token: str) -> None:
    response = Client().get(f"/accounts/activate/{token}/")
    assert response.status_code == 404
    response = Client().post(f"/accounts/activate/{token}/", {"new_password1": "a", "new_password2": "a"})
    assert response.status_code == 404


def test_only_those_who_may_change_the_person(org: Any, as_role: Any) -> None:
    url = reverse("web:person_login", args=[org.bob.pk])
    assert as_role("manager", org.huangpu, "hp-manager").post(url).status_code == 404  # out of scope
    viewer = as_role("viewer")
    assert viewer.post(url).status_code == 403
    assert (
        'id="person-login-form"'
        not in viewer.get(reverse("web:person_detail", args=[org.bob.pk])).content.decode()
    )
    assert as_role("manager").get(url).status_code == 405  # a POST only
    assert Person.objects.get(pk=org.bob.pk).user is None


def test_logins_for_a_team_in_bulk(org: Any, as_role: Any) -> None:
    from muster.orgs.models import Team
    from muster.orgs.services import team_member_add

    team = Team.objects.get(code="XH-T1")
    team_member_add(actor=SYSTEM, team=team, person=org.bob, role="member")
    manager = as_role("manager")
    assert 'id="team-logins-form"' in manager.get(reverse("web:team_detail", args=[team.pk])).content.decode()
    html = manager.post(reverse("web:team_logins", args=[team.pk])).content.decode()
    assert len(_links(html)) == 2  # alice and bob
    assert Person.objects.filter(code__in=["XH0001", "XH0002"], user__isnull=False).count() == 2
    again = manager.post(reverse("web:team_logins", args=[team.pk])).content.decode()
    assert _links(again) == [] and 'id="no-slips"' in again


def test_a_person_who_leaves_loses_the_login(org: Any, as_role: Any) -> None:
    manager = as_role("manager")
    volunteer = _activate(_create(manager, org.bob))
    assert volunteer.get("/").status_code == 200
    fresh_link = _create(manager, org.bob)  # a slip not used yet
    person_update(actor=manager.user, person=org.bob, employment_status="left")
    user = get_user_model().objects.get(username="xh0002")
    assert not user.is_active
    assert volunteer.get("/").status_code == 302  # logged out
    assert not Client().login(username="xh0002", password=NEW_PASSWORD)
    assert Client().get(fresh_link).status_code == 404
    assert AuditEvent.objects.filter(action="accounts.login.ended").count() == 1
    # and nobody gives them a new one
    response = manager.post(reverse("web:person_login", args=[org.bob.pk]), follow=True)
    assert _links(response.content.decode()) == []
