"""The volunteer figures in the metric registry (``volunteers.*``): as of a cutoff, through the registry,
``muster metrics --json`` and the rollup page's section."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from muster.reports import registry
from muster.volunteers import services as vsvc
from muster.volunteers.metrics import percent
from muster.volunteers.models import CallUpInvite
from tests.volunteers.conftest import at

pytestmark = pytest.mark.django_db


def figures(unit: Any, when: str) -> dict[str, Any]:
    ids = [m.id for m in registry.metrics() if m.id.startswith("volunteers.")]
    return {i.split(".", 1)[1]: registry.answer(i, unit, at(when)) for i in ids}


def test_percent_is_cut_not_rounded() -> None:
    assert percent(181, 197) == Decimal("91.8")
    assert percent(2, 3) == Decimal("66.6")
    assert percent(0, 0) == Decimal("0.0") and percent(4, 4) == Decimal("100.0")


def test_signups_seats_and_waiting_as_of_a_cutoff(org: Any, world: Any, fixed_clock: Any) -> None:
    vsvc.profile_set(actor=world.alice_user, person=org.alice, no_nights=True)
    vsvc.profile_set(actor=world.leader, person=world.zhou, max_hours_week=20)
    morning = world.morning.opening
    alice = vsvc.signup_create(actor=world.alice_user, opening=morning)
    vsvc.signup_create(actor=world.bob_user, opening=morning)
    vsvc.signup_create(actor=world.leader, opening=morning, person=world.zhou, wait=True)
    first = figures(org.xuhui, "2026-03-04 12:00")
    assert first["registered"] == 2
    assert (first["signups"], first["open_seats"], first["seats_taken"], first["waiting"]) == (3, 4, 2, 1)
    assert first["fill_rate"] == Decimal("50.0")
    assert figures(org.xuhui, "2026-03-04 00:00")["registered"] == 0  # before the profiles were made
    assert figures(org.huangpu, "2026-03-04 12:00")["signups"] == 0  # another unit's shifts

    fixed_clock.move_to(at("2026-03-05 09:00"))
    result = vsvc.signup_cancel(actor=world.alice_user, signup=alice)
    assert result.promoted is not None and result.promoted.person == world.zhou
    # the earlier cutoff keeps its figures: alice still held a seat, zhou still waited
    assert figures(org.xuhui, "2026-03-04 12:00") == first
    later = figures(org.xuhui, "2026-03-05 10:00")
    assert (later["signups"], later["seats_taken"], later["waiting"]) == (2, 2, 0)
    # active this month: people seated on a shift that started in the month before the cutoff
    assert figures(org.xuhui, "2026-03-10 07:00")["active"] == 0
    assert figures(org.xuhui, "2026-03-10 13:00")["active"] == 2  # bob and zhou on the morning shift
    assert figures(org.xuhui, "2026-04-02 00:00")["active"] == 0  # a new month


def test_callup_answer_rate(org: Any, world: Any, fixed_clock: Any) -> None:
    c = vsvc.callup_create(
        actor=world.leader,
        unit=org.xuhui,
        title="党员集结号",
        start=at("2026-03-06 08:00"),
        end=at("2026-03-06 18:00"),
        people_needed=2,
        deadline=at("2026-03-05 12:00"),
        audience_unit=org.xuhui,
    )
    fixed_clock.move_to(at("2026-03-04 11:00"))
    invite = CallUpInvite.objects.get(callup=c, person=org.alice)
    vsvc.callup_answer(actor=world.alice_user, invite=invite, answer="yes")
    before = figures(org.xuhui, "2026-03-04 10:30")
    assert (before["callups"], before["callup_invited"], before["callup_answered"]) == (1, c.invited, 0)
    after = figures(org.xuhui, "2026-03-04 12:00")
    assert after["callup_answered"] == 1
    assert after["callup_answer_rate"] == percent(1, c.invited)
    assert (
        figures(org.root, "2026-03-04 12:00")["callups"] == 1
        and figures(org.huangpu, "2026-03-04 12:00")["callups"] == 0
    )


def test_metrics_command_and_rollup_section(org: Any, world: Any, login: Any, make_user: Any) -> None:
    vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    out = StringIO()
    call_command("metrics", "--as-of", "2026-03-04 12:00", "--unit", "XH", "--json", stdout=out)
    data = json.loads(out.getvalue())["metrics"]
    assert data["volunteers.signups"] == 1 and data["volunteers.open_seats"] == 4
    assert data["volunteers.fill_rate"] == 25.0
    viewer = login(make_user("xhview", "viewer", org.xuhui))
    r = viewer.get("/reports/", {"unit": "XH", "date": "2026-03-04", "time": "12:00"})
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-metric="volunteers.fill_rate"' in page and "Fill rate of open shifts" in page
    # out of scope: 黄浦's manager never sees 徐汇's figures
    assert login(world.manager_hp).get("/reports/", {"unit": "XH"}).status_code == 404
