"""The pages: 排班 on the batch page → solve form → plan page → progress fragment → edit → publish,
and the member's notifications (bell count, list, mark read)."""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation

from muster.mobilize.models import Assignment
from muster.notify.models import Notification
from muster.roster.models import PlanStatus, RosterPlan

from .conftest import Batch, Cast

FORM = {
    "start_date": "2030-03-04",
    "end_date": "2030-03-05",
    "seconds": "1",
    "seed": "3",
    "min_rest_minutes": "480",
    "max_hours_day": "12",
    "max_hours_week": "48",
    "max_consecutive_days": "6",
    "max_shifts_per_day": "1",
    "no_night_then_morning": "on",
    "fairness": "1",
}


def test_form_plan_progress_publish_and_notification(org: Any, cast: Cast, batch: Batch) -> None:
    c = cast.client(cast.leader)
    d = batch.deployment
    page = c.get(f"/mobilize/batches/{d.pk}/")
    assert 'id="roster-link"' in page.content.decode()
    assert "排班" in page.content.decode()  # Chinese by default
    form = c.get(f"/roster/new/?deployment={d.pk}")
    assert form.status_code == 200
    assert 'value="2030-03-04"' in form.content.decode()  # the batch's first day
    r = c.post(f"/roster/new/?deployment={d.pk}", FORM)
    assert r.status_code == 302
    plan = RosterPlan.objects.get()
    assert r["Location"] == f"/roster/plans/{plan.pk}/"
    assert plan.options["seed"] == 3 and plan.options["rules"]["max_hours_week"] == 48
    page = c.get(r["Location"]).content.decode()
    assert 'id="per-shift"' in page and 'id="penalties"' in page
    assert page.count("data-person=") >= 6
    # the progress fragment: finished, so a poll asks the page to refresh (to show the proposal)
    frag = c.get(f"/roster/plans/{plan.pk}/progress/?poll=1")
    assert frag["HX-Refresh"] == "true"
    assert 'id="run-objective"' in frag.content.decode()
    assert "hx-trigger" not in frag.content.decode()
    # edit: if bob got nothing, he replaces someone on the first shift (so he has news); else remove one row
    first = batch.shifts[0]
    if not plan.proposals.filter(person=org.bob).exists():
        row = plan.proposals.filter(shift=first).order_by("person__code").first()
        c.post(
            f"/roster/plans/{plan.pk}/edit/", {"action": "remove", "shift": first.pk, "person": row.person_id}
        )
        r = c.post(
            f"/roster/plans/{plan.pk}/edit/", {"action": "add", "shift": first.pk, "person": org.bob.pk}
        )
        assert plan.proposals.get(person=org.bob).locked  # added by hand = locked
    else:
        row = plan.proposals.exclude(person=org.bob).order_by("shift__start", "person__code").first()
        r = c.post(
            f"/roster/plans/{plan.pk}/edit/",
            {"action": "remove", "shift": row.shift_id, "person": row.person_id},
        )
    assert r.status_code == 302
    assert plan.proposals.count() == 5
    assert plan.proposals.filter(person=org.bob).exists()
    # publishing shows a summary first; the confirm carries its token
    r = c.post(f"/roster/plans/{plan.pk}/publish/")
    assert r.status_code == 302 and r["Location"] == f"/roster/plans/{plan.pk}/publish/"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    summary = c.get(r["Location"]).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]+)"', summary).group(1)
    r = c.post(f"/roster/plans/{plan.pk}/publish/", {"token": token}, follow=True)
    assert r.status_code == 200
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    assert Assignment.objects.filter(shift__deployment=d).count() == 5
    # bob (a member with a login) sees his notification: the bell's count, the list, mark read
    b = cast.client(cast.bob_user)
    assert 'id="unread-count"' in b.get("/").content.decode()
    n = Notification.objects.get(recipient=cast.bob_user)
    listing = b.get("/notifications/").content.decode()
    assert n.title in listing and "的排班有变动" in n.title
    assert b.post(f"/notifications/{n.pk}/read/").status_code == 302
    n.refresh_from_db()
    assert n.read_at is not None
    assert 'id="unread-count"' not in b.get("/").content.decode()
    # nobody else sees it
    assert n.title not in cast.client(cast.leader).get("/notifications/").content.decode()


def test_progress_polls_while_running(cast: Cast, batch: Batch) -> None:
    from muster.roster import services
    from muster.roster.models import SolveRun

    plan = services.plan_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=batch.shifts[0].start.date(),
        end=batch.shifts[3].start.date(),
    )
    SolveRun.objects.create(
        plan=plan, status="running", phase="cpsat", elapsed=1.5, objective=123, seconds=10
    )
    c = cast.client(cast.leader)
    with translation.override("en"):
        frag = c.get(f"/roster/plans/{plan.pk}/progress/?poll=1", HTTP_ACCEPT_LANGUAGE="en")
    body = frag.content.decode()
    assert "HX-Refresh" not in frag
    assert 'hx-trigger="every 1s"' in body
    assert ">123<" in body and ">1.5<" in body


def test_pages_are_scoped(cast: Cast, batch: Batch) -> None:
    d = batch.deployment
    assert cast.client(cast.manager_hp).get(f"/roster/new/?deployment={d.pk}").status_code == 404
    assert cast.client(cast.viewer).get(f"/roster/new/?deployment={d.pk}").status_code == 403
    c = cast.client(cast.leader)
    c.post(f"/roster/new/?deployment={d.pk}", FORM)
    plan = RosterPlan.objects.get()
    assert cast.client(cast.manager_hp).get(f"/roster/plans/{plan.pk}/").status_code == 404
    assert cast.client(cast.viewer).get(f"/roster/plans/{plan.pk}/").status_code == 200
    assert cast.client(cast.viewer).post(f"/roster/plans/{plan.pk}/publish/").status_code == 403
    assert not Assignment.objects.exists()


def test_form_shows_service_errors(cast: Cast, batch: Batch) -> None:
    c = cast.client(cast.leader)
    r = c.post(f"/roster/new/?deployment={batch.deployment.pk}", {**FORM, "end_date": "2030-03-01"})
    assert r.status_code == 200
    assert "2030-03-01" in r.content.decode()
    assert "invalid-feedback" in r.content.decode()
    assert not RosterPlan.objects.exists()
    r = c.post(f"/roster/new/?deployment={batch.deployment.pk}", {**FORM, "seconds": "600"})
    assert r.status_code == 200 and not RosterPlan.objects.exists()
