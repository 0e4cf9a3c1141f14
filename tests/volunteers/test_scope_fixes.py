"""Security review fixes: signing someone up needs sight of the shift (out of sight = 404, nothing echoed);
a profile's home observation, days off and weekly windows only for the person and those who may edit."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.conf import settings

from muster.audit.models import AuditEvent
from muster.mobilize.models import Assignment
from muster.orgs.access import SYSTEM
from muster.volunteers import services as vsvc
from muster.volunteers.models import SignUp

pytestmark = pytest.mark.django_db


def _en(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def test_signup_on_behalf_into_invisible_shift_is_404(
    org: Any, world: Any, login: Any, make_user: Any
) -> None:
    # a leader of the party branch sees alice (a member) but not 徐汇's batch
    xb_leader = make_user("xb_leader", "leader", org.xuhui_branch)
    c = _en(login(xb_leader))
    assert c.get(f"/api/v1/mobilize/shifts/{world.morning.pk}").status_code == 404
    o = world.morning.opening
    r = c.post(
        f"/api/v1/volunteers/openings/{o.pk}/signup",
        json.dumps({"person": org.alice.code}),
        content_type="application/json",
    )
    assert r.status_code == 404
    assert "核酸检测" not in r.content.decode()
    missing = c.post(
        "/api/v1/volunteers/openings/999999/signup",
        json.dumps({"person": org.alice.code}),
        content_type="application/json",
    )
    assert missing.status_code == 404 and missing.json() == r.json()
    assert not SignUp.objects.exists() and not Assignment.objects.filter(person=org.alice).exists()
    assert not AuditEvent.objects.filter(action__startswith="volunteers.signup").exists()
    # the web form is the same: 404
    assert c.post(f"/volunteers/openings/{o.pk}/signup/").status_code == 404
    # and the service itself refuses it
    with pytest.raises(Exception) as exc:
        vsvc.signup_create(actor=xb_leader, opening=o, person=org.alice)
    assert exc.typename == "Http404"


def test_self_signup_through_the_audience_and_leader_on_behalf_still_work(
    org: Any, world: Any, login: Any
) -> None:
    o = world.morning.opening
    # alice has no role: the shift is hers to reach only as one of its audience
    r = login(world.alice_user).post(
        f"/api/v1/volunteers/openings/{o.pk}/signup", json.dumps({}), content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "seated"
    # 徐汇's leader sees the shift and signs 周敏 up
    r = login(world.leader).post(
        f"/api/v1/volunteers/openings/{o.pk}/signup",
        json.dumps({"person": world.zhou.code}),
        content_type="application/json",
    )
    assert r.status_code == 200
    # someone outside the audience (carol, 黄浦) cannot reach it at all
    carol = login(world.carol_user)
    assert (
        carol.post(
            f"/api/v1/volunteers/openings/{o.pk}/signup", json.dumps({}), content_type="application/json"
        ).status_code
        == 404
    )
    assert carol.post(f"/volunteers/openings/{o.pk}/signup/").status_code == 404


def test_profile_private_parts_hidden_from_plain_viewers(
    org: Any, world: Any, login: Any, make_user: Any
) -> None:
    vsvc.profile_set(
        actor=SYSTEM,
        person=org.alice,
        home_observation=[(date(2026, 1, 1), date(2026, 1, 14))],
        days_off=[date(2026, 3, 20)],
        windows=[vsvc.WindowIn(0, 480, 720)],
        max_hours_week=20,
    )
    viewer = make_user("xh_viewer", "viewer", org.xuhui)
    d = login(viewer).get(f"/api/v1/volunteers/people/{org.alice.code}/profile").json()
    assert d["may_edit"] is False
    assert d["home_observation"] == [] and d["days_off"] == [] and d["windows"] == []
    assert d["max_hours_week"] == 20
    page = login(viewer).get(f"/volunteers/people/{org.alice.code}/profile/").content.decode()
    assert "2026-01-14" not in page and "2026-03-20" not in page
    for user in (world.alice_user, world.leader):
        d = login(user).get(f"/api/v1/volunteers/people/{org.alice.code}/profile").json()
        assert d["home_observation"] == [{"start": "2026-01-01", "end": "2026-01-14"}]
        assert d["days_off"] == ["2026-03-20"] and len(d["windows"]) == 1
    page = login(world.leader).get(f"/volunteers/people/{org.alice.code}/profile/").content.decode()
    assert "2026-01-14" in page
