"""A member's home (issue 27 item 3) and the links a batch member sees (item 1): a volunteer with a login
and no role sees their next shifts with a check-in button, their hours of this month and year, their new
notifications and their batches — never "no role"; on a batch page they may open only their own shifts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from muster.mobilize import services as svc
from muster.notify.models import Notification
from muster.notify.services import notify
from muster.orgs.models import Person

pytestmark = pytest.mark.usefixtures("fixed_clock")


def hour(delta: float) -> datetime:
    return (timezone.now() + timedelta(hours=delta)).replace(second=0, microsecond=0)


@pytest.fixture
def setup(org: Any, make_user: Any) -> dict[str, Any]:
    leader = make_user("leader", "leader", org.xuhui)
    bob_user = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=bob_user)
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=hour(-10),
        end=hour(30),
        people=[org.bob, org.alice],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    done = svc.shift_create(actor=leader, deployment=d, start=hour(-9), end=hour(-1), seats=3, label="早班")
    svc.shift_assign(actor=leader, shift=done, person=org.bob)
    svc.checkin_record(actor=leader, shift=done, key="in-1", at=hour(-9), person=org.bob)
    svc.checkout_record(actor=leader, shift=done, key="out-1", at=hour(-1), person=org.bob)
    nxt = svc.shift_create(actor=leader, deployment=d, start=hour(2), end=hour(6), seats=3, label="中班")
    svc.shift_assign(actor=leader, shift=nxt, person=org.bob)
    other = svc.shift_create(actor=leader, deployment=d, start=hour(8), end=hour(12), seats=3, label="夜班")
    svc.shift_assign(actor=leader, shift=other, person=org.alice)
    notify([(bob_user, org.bob)], verb="test.notice", title="明早七点集合")
    client = Client()
    client.force_login(bob_user)
    client.cookies["django_language"] = "en"
    return {"client": client, "deployment": d, "done": done, "next": nxt, "other": other, "user": bob_user}


def test_home_shows_my_service(setup: dict[str, Any]) -> None:
    response = setup["client"].get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "You have no role" not in html
    assert 'id="my-home"' in html
    nxt = setup["next"]
    assert f'data-shift="{nxt.pk}"' in html
    assert reverse("mobilize:checkin", args=[nxt.token]) in html
    assert f'data-shift="{setup["done"].pk}"' not in html  # over
    assert re.search(r'id="hours-month">8\.00<', html)
    assert re.search(r'id="hours-year">8\.00<', html)
    assert "明早七点集合" in html
    assert reverse("mobilize:batch_detail", args=[setup["deployment"].pk]) in html


def test_home_in_chinese_by_default(setup: dict[str, Any]) -> None:
    client = setup["client"]
    del client.cookies["django_language"]
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html and 'id="my-home"' in html
    assert "您尚未在任何单位拥有角色" not in html


def test_read_notices_leave_the_home(setup: dict[str, Any]) -> None:
    Notification.objects.filter(recipient=setup["user"]).update(read_at=timezone.now())
    html = setup["client"].get("/").content.decode()
    assert "明早七点集合" not in html and "Nothing new" in html


def test_batch_member_opens_only_own_shifts(setup: dict[str, Any]) -> None:
    client = setup["client"]
    html = client.get(reverse("mobilize:batch_detail", args=[setup["deployment"].pk])).content.decode()
    for key in ("done", "next"):
        url = reverse("mobilize:shift_detail", args=[setup[key].pk])
        assert url in html
        assert client.get(url).status_code == 200
    other = reverse("mobilize:shift_detail", args=[setup["other"].pk])
    assert other not in html
    assert client.get(other).status_code == 404


def test_leader_opens_every_shift(setup: dict[str, Any]) -> None:
    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="leader"))
    html = client.get(reverse("mobilize:batch_detail", args=[setup["deployment"].pk])).content.decode()
    for key in ("done", "next", "other"):
        assert reverse("mobilize:shift_detail", args=[setup[key].pk]) in html


def test_no_person_no_role_still_told(org: Any, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("nobody"))
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "You have no role on any unit yet" in html
    assert 'id="nav-points"' not in html and 'id="nav-reports"' not in html
