"""Security hole 2 of issue 22: the people (and shifts) named in a plan's edit, repair and drop are
looked up through the actor's scope. Someone of another district is "not found" — on the API a 404, on
the web the same words as for nobody at all — and no answer carries their name."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.test import Client

from muster.mobilize import services as svc
from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create
from muster.roster import services
from muster.roster.models import RunStatus

from .conftest import DAY1, DAY2, Batch, Cast, at

API = "/api/v1/roster"
CAROL = "李娜"  # HP0001, of 黄浦: out of the 徐汇 leader's scope


def _post(c: Client, url: str, data: Any = None) -> Any:
    return c.post(API + url, data or {}, content_type="application/json")


def _solved(cast: Cast, batch: Batch) -> Any:
    plan = services.plan_create(
        actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2, seconds=2, seed=1
    )
    run = services.solve_start(actor=cast.leader, plan=plan)
    assert run.status == RunStatus.DONE, run.error
    plan.refresh_from_db()
    return plan


def _huangpu_shift(org: Any) -> Any:
    """A shift of another district's batch (out of the 徐汇 leader's scope)."""
    d = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.huangpu,
        title="黄浦核酸",
        start=at("2030-03-04 00:00"),
        end=at("2030-03-06 00:00"),
        people=[org.carol],
    ).deployment
    return svc.shift_create(
        actor=SYSTEM, deployment=d, start=at("2030-03-04 08:00"), end=at("2030-03-04 16:00")
    )


def test_api_edit_with_someone_out_of_scope_is_not_found(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = cast.client(cast.leader)
    shift = batch.shifts[0].pk
    before = set(plan.proposals.values_list("person_id", "shift_id", "locked"))
    for action in ("add", "remove", "lock", "unlock"):
        r = _post(c, f"/plans/{plan.pk}/edit", {"action": action, "shift": shift, "person": "HP0001"})
        assert r.status_code == 404, (action, r.content)
        assert CAROL not in str(r.json()) and "HP0001" not in str(r.json())
    # the same answer as for a staff number nobody has
    unknown = _post(c, f"/plans/{plan.pk}/edit", {"action": "add", "shift": shift, "person": "NOBODY"})
    assert unknown.status_code == 404
    carol = _post(c, f"/plans/{plan.pk}/edit", {"action": "add", "shift": shift, "person": "HP0001"})
    assert carol.json() == unknown.json()
    assert set(plan.proposals.values_list("person_id", "shift_id", "locked")) == before


def test_api_drop_of_someone_out_of_scope_is_not_found(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = cast.client(cast.leader)
    r = _post(c, f"/plans/{plan.pk}/solve", {"seconds": 1, "drop": "HP0001"})
    assert r.status_code == 404 and CAROL not in str(r.json())
    assert _post(c, f"/plans/{plan.pk}/solve", {"seconds": 1, "drop": "NOBODY"}).json() == r.json()
    assert plan.runs.count() == 1  # nothing was started


def test_api_a_shift_of_another_plan_is_refused_like_an_unknown_one(
    org: Any, cast: Cast, batch: Batch
) -> None:
    plan = _solved(cast, batch)
    c = cast.client(cast.leader)
    foreign = _huangpu_shift(org)
    row = plan.proposals.select_related("person").first()
    elsewhere = _post(
        c, f"/plans/{plan.pk}/edit", {"action": "remove", "shift": foreign.pk, "person": row.person.code}
    )
    unknown = _post(
        c, f"/plans/{plan.pk}/edit", {"action": "remove", "shift": 10**9, "person": row.person.code}
    )
    assert elsewhere.status_code == unknown.status_code == 422
    assert elsewhere.json() == unknown.json()
    assert "黄浦核酸" not in str(elsewhere.json())
    assert plan.proposals.filter(pk=row.pk).exists()


def test_api_in_scope_still_works(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = cast.client(cast.leader)
    row = plan.proposals.select_related("person").order_by("shift__start", "person__code").first()
    r = _post(
        c, f"/plans/{plan.pk}/edit", {"action": "remove", "shift": row.shift_id, "person": row.person.code}
    )
    assert r.status_code == 200
    r = _post(
        c, f"/plans/{plan.pk}/edit", {"action": "add", "shift": row.shift_id, "person": row.person.code}
    )
    assert r.status_code == 200
    assert plan.proposals.get(shift_id=row.shift_id, person=row.person).locked
    # a visible person who is not in the batch: refused with the reason (the leader may see that name)
    person_create(actor=SYSTEM, code="XH0099", name="董一", unit=org.xuhui)
    r = _post(c, f"/plans/{plan.pk}/edit", {"action": "add", "shift": row.shift_id, "person": "XH0099"})
    assert r.status_code == 422 and "董一" in r.json()["errors"]["person"][0]
    dropped = plan.proposals.order_by("person__code").first().person
    r = _post(c, f"/plans/{plan.pk}/solve", {"seconds": 1, "drop": dropped.code})
    assert r.status_code == 202 and r.json()["kind"] == "repair"


def test_web_edit_and_repair_with_someone_out_of_scope(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = cast.client(cast.leader)
    before = set(plan.proposals.values_list("person_id", "shift_id", "locked"))
    shift = batch.shifts[0].pk
    for action in ("add", "remove", "lock"):
        r = c.post(
            f"/roster/plans/{plan.pk}/edit/",
            {"action": action, "shift": shift, "person": org.carol.pk},
            follow=True,
        )
        page = r.content.decode()
        assert r.status_code == 200 and "请选择班次和人员。" in page, action
        assert CAROL not in page and "HP0001" not in page
    r = c.post(f"/roster/plans/{plan.pk}/repair/", {"person": org.carol.pk}, follow=True)
    page = r.content.decode()
    assert r.status_code == 200 and "请选择退出的人员。" in page
    assert CAROL not in page and "HP0001" not in page
    # a shift of another district's batch: the same words as for no shift at all
    foreign = _huangpu_shift(org)
    member = plan.proposals.first().person_id
    r = c.post(
        f"/roster/plans/{plan.pk}/edit/",
        {"action": "remove", "shift": foreign.pk, "person": member},
        follow=True,
    )
    assert "请选择班次和人员。" in r.content.decode()
    assert set(plan.proposals.values_list("person_id", "shift_id", "locked")) == before
    assert plan.runs.count() == 1


def test_web_in_scope_still_works(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = cast.client(cast.leader)
    row = plan.proposals.order_by("shift__start", "person__code").first()
    r = c.post(
        f"/roster/plans/{plan.pk}/edit/", {"action": "lock", "shift": row.shift_id, "person": row.person_id}
    )
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.locked
    r = c.post(f"/roster/plans/{plan.pk}/repair/", {"person": row.person_id})
    assert r.status_code == 302
    assert plan.runs.order_by("-id").first().kind == "repair"
    assert not plan.proposals.filter(person_id=row.person_id).exists()


def test_a_member_the_actor_may_not_see_cannot_be_added(org: Any, cast: Cast, batch: Batch) -> None:
    """Eligible (a member of the batch) is not enough: the actor must also see the person."""
    svc.deployment_member_add(actor=SYSTEM, deployment=batch.deployment, person=org.carol)
    plan = services.plan_create(
        actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2, seconds=1
    )
    shift_ids = [s.pk for s in batch.shifts]
    addable = set(services.rostering_candidates(cast.leader, plan, shift_ids))
    assert org.carol not in addable and org.alice in addable
    assert org.carol in set(services.rostering_candidates(SYSTEM, plan, shift_ids))
    with pytest.raises(Http404):
        services.proposal_edit(
            actor=cast.leader, plan=plan, action="add", shift=batch.shifts[0], person=org.carol
        )
    page = cast.client(cast.leader).get(f"/roster/plans/{plan.pk}/").content.decode()
    assert f'<option value="{org.carol.pk}">{CAROL} (HP0001)</option>' not in page
    assert f'<option value="{org.alice.pk}">张丽 (XH0001)</option>' in page
    # the system (the whole organization) may
    services.proposal_edit(actor=SYSTEM, plan=plan, action="add", shift=batch.shifts[0], person=org.carol)
    assert plan.proposals.filter(person=org.carol).exists()
