"""The dispatch form, shift templates, the coverage grid and the QR code."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from muster.audit.models import AuditEvent
from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, Shift
from muster.orgs.models import Team

from .conftest import hour, local_input

pytestmark = pytest.mark.django_db


def _dispatch(c: Any, follow: bool = False, **over: Any) -> Any:
    data = {
        "unit": over.pop("unit"),
        "title": "核酸检测",
        "start": "2026-03-11T06:00",
        "end": "2026-03-18T22:00",
        "site": "宛平社区",
    }
    data.update(over)
    return c.post(reverse("mobilize:batch_create"), data, follow=follow)


def test_dispatch_form_creates_a_numbered_batch_from_a_team_and_people(org: Any, cast: Any) -> None:
    c = cast.client(cast.leader)
    team = Team.objects.get(code="XH-T1")  # alice
    r = _dispatch(c, unit=org.xuhui.pk, teams=[team.pk], people="XH0002", leader="XH0001")
    assert r.status_code == 302, r.content.decode()
    d = Deployment.objects.get()
    assert r.url == reverse("mobilize:batch_detail", args=[d.pk])
    assert d.seq == 1 and d.leader == org.alice
    assert sorted(d.members.values_list("code", flat=True)) == ["XH0001", "XH0002"]
    assert d.memberships.get(person=org.alice).team == team
    ev = AuditEvent.objects.get(action="mobilize.deployment.dispatched")
    assert ev.target_id == str(d.pk) and ev.changes["teams"] == ["XH-T1"]
    # the second batch of the unit is 第2批
    r = _dispatch(c, unit=org.xuhui.pk, people="XH0002", start="2026-04-01T08:00", end="2026-04-01T18:00")
    assert r.status_code == 302
    assert Deployment.objects.get(start__month=4).seq == 2
    html = c.get(reverse("mobilize:batches")).content.decode()
    assert html.count("data-batch=") == 2


def test_dispatch_conflict_is_a_form_error_naming_the_other_batch(org: Any, cast: Any) -> None:
    c = cast.client(cast.leader)
    assert _dispatch(c, unit=org.xuhui.pk, people="XH0002").status_code == 302
    first = Deployment.objects.get()
    r = _dispatch(
        c, unit=org.xuhui.pk, people="XH0001 XH0002", start="2026-03-12T08:00", end="2026-03-12T18:00"
    )
    assert r.status_code == 200
    html = r.content.decode()
    errors = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>\s*</div>', html, re.S)
    assert errors is not None and first.code in errors.group(1) and "王强" in errors.group(1)
    assert Deployment.objects.count() == 1  # nothing half written


def test_unknown_staff_number_is_a_field_error(org: Any, cast: Any) -> None:
    c = cast.client(cast.leader)
    r = _dispatch(c, unit=org.xuhui.pk, people="XH0002 HP0001 NOPE")  # carol is out of scope
    assert r.status_code == 200
    assert "HP0001, NOPE" in r.content.decode()
    assert not Deployment.objects.exists()


def test_short_rest_is_a_warning_message(org: Any, cast: Any) -> None:
    c = cast.client(cast.leader)
    assert _dispatch(c, unit=org.xuhui.pk, people="XH0002", end="2026-03-11T20:00").status_code == 302
    first = Deployment.objects.get()
    r = _dispatch(
        c, unit=org.xuhui.pk, people="XH0002", start="2026-03-11T22:00", end="2026-03-12T06:00", follow=True
    )
    assert r.status_code == 200
    warnings = [str(m) for m in r.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and first.code in warnings[0]
    assert Deployment.objects.count() == 2


def test_supporting_batch_is_seen_by_both_units(org: Any, cast: Any, make_user: Any) -> None:
    c = cast.client(cast.leader)
    r = _dispatch(c, unit=org.xuhui.pk, people="XH0002", supported_unit="HP")
    assert r.status_code == 302
    d = Deployment.objects.get()
    assert d.supported_unit == org.huangpu
    hp = cast.client(cast.manager_hp)
    assert d.code in hp.get(reverse("mobilize:batches")).content.decode()
    assert hp.get(reverse("mobilize:batch_detail", args=[d.pk])).status_code == 200
    organ = cast.client(make_user("organ", "manager", org.organ))
    assert d.code not in organ.get(reverse("mobilize:batches")).content.decode()
    assert organ.get(reverse("mobilize:batch_detail", args=[d.pk])).status_code == 404


def test_three_shift_template_over_three_days(org: Any, cast: Any) -> None:
    d = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="隔离点",
        start=timezone.make_aware(timezone.datetime(2026, 3, 11, 0, 0)),
        end=timezone.make_aware(timezone.datetime(2026, 3, 15, 0, 0)),
        people=[org.bob],
    ).deployment
    c = cast.client(cast.leader)
    url = reverse("mobilize:batch_shift_template", args=[d.pk])
    r = c.post(
        url,
        {
            "template": "three",
            "first_day": "2026-03-11",
            "days": 3,
            "start_hour": 8,
            "seats": 2,
            "max_hours": 4,
        },
    )
    assert r.status_code == 302, r.content.decode()
    shifts = list(Shift.objects.filter(deployment=d).order_by("start"))
    assert len(shifts) == 9
    assert all(s.end - s.start == timedelta(hours=8) and s.seats == 2 for s in shifts)
    third = timezone.localtime(shifts[2].start), timezone.localtime(shifts[2].end)
    assert (third[0].hour, third[1].hour, third[1].date()) == (0, 8, date(2026, 3, 12))
    # a template running past the batch is refused as a whole
    r = c.post(
        url,
        {
            "template": "duty24",
            "first_day": "2026-03-13",
            "days": 3,
            "start_hour": 8,
            "seats": 1,
            "max_hours": 4,
        },
    )
    assert r.status_code == 200 and "2026-03-15 00:00" in r.content.decode()
    assert Shift.objects.filter(deployment=d).count() == 9


def test_hotline_curve_template_and_coverage_grid(org: Any, cast: Any) -> None:
    curve = [0] * 8 + [2] * 4 + [1] * 8 + [0] * 4  # 08–12 two seats, 12–20 one seat
    post = svc.post_create(
        actor=cast.leader,
        unit=org.xuhui,
        code="XH-HOT",
        name="12366热线",
        kind="hotline",
        required_seats=curve,
    )
    c = cast.client(cast.leader)
    r = c.post(
        reverse("mobilize:post_shift_template", args=[post.pk]),
        {
            "template": "hotline",
            "first_day": "2026-03-16",
            "days": 1,
            "start_hour": 8,
            "seats": 1,
            "max_hours": 4,
            "curve": " ".join(str(v) for v in curve),
        },
    )
    assert r.status_code == 302, r.content.decode()
    shifts = list(Shift.objects.filter(post=post).order_by("start"))
    assert [(timezone.localtime(s.start).hour, timezone.localtime(s.end).hour, s.seats) for s in shifts] == [
        (8, 12, 2),
        (12, 16, 1),
        (16, 20, 1),
    ]
    # staff 08–12 fully and 12–16 fully; 16–20 stays empty
    svc.shift_assign(actor=cast.leader, shift=shifts[0], person=org.alice)
    svc.shift_assign(actor=cast.leader, shift=shifts[0], person=org.bob)
    c.post(reverse("mobilize:shift_assign", args=[shifts[1].pk]), {"person_code": "XH0001"})
    html = c.get(
        reverse("mobilize:post_detail", args=[post.pk]), {"start": "2026-03-16", "days": 1}
    ).content.decode()
    cells = dict(re.findall(r'data-hour="2026-03-16 (\d\d):00" data-state="(\w+)"', html))
    assert len(cells) == 24
    assert [h for h, s in sorted(cells.items()) if s == "green"] == [f"{h:02d}" for h in range(8, 16)]
    assert [h for h, s in sorted(cells.items()) if s == "red"] == [f"{h:02d}" for h in range(16, 20)]
    assert all(cells[f"{h:02d}"] == "idle" for h in [*range(8), *range(20, 24)])


def test_one_shift_and_assignment_from_the_shift_page(org: Any, cast: Any, batch: Any) -> None:
    c = cast.client(cast.leader)
    r = c.post(
        reverse("mobilize:batch_shift_create", args=[batch.deployment.pk]),
        {"start": local_input(hour(1)), "end": local_input(hour(9)), "seats": 1, "label": "夜班"},
    )
    assert r.status_code == 302
    shift = Shift.objects.get(label="夜班")
    r = c.post(reverse("mobilize:shift_assign", args=[shift.pk]), {"person_code": "XH0001"}, follow=True)
    assert list(shift.assignments.values_list("person__code", flat=True)) == ["XH0001"]
    # the seat is taken: a second person is refused with a message
    r = c.post(reverse("mobilize:shift_assign", args=[shift.pk]), {"person_code": "XH0002"}, follow=True)
    errors = [str(m) for m in r.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and shift.assignments.count() == 1


def test_qr_code_is_an_svg_pointing_to_the_mobile_page(org: Any, cast: Any, batch: Any) -> None:
    c = cast.client(cast.leader)
    r = c.get(reverse("mobilize:shift_qr", args=[batch.shift.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    body = r.content.decode()
    assert "<svg" in body and "</svg>" in body
    page = c.get(reverse("mobilize:shift_detail", args=[batch.shift.pk])).content.decode()
    assert reverse("mobilize:shift_qr", args=[batch.shift.pk]) in page
    assert f"http://testserver{reverse('mobilize:checkin', args=[batch.shift.token])}" in page
