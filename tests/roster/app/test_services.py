"""Rostering services: the adapter, solving, editing, publishing (all or nothing), permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from muster.audit.models import AuditEvent
from muster.mobilize import services as svc
from muster.mobilize.models import Assignment
from muster.notify.models import Notification
from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.services import person_create
from muster.roster import services
from muster.roster.adapter import Rules, build_problem
from muster.roster.models import PlanStatus, ProposalSource, RunStatus

from .conftest import DAY1, DAY2, Batch, Cast, at


def _plan(cast: Cast, batch: Batch, **kw: Any) -> Any:
    return services.plan_create(
        actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2, seconds=2, seed=1, **kw
    )


def _solved(cast: Cast, batch: Batch) -> Any:
    plan = _plan(cast, batch)
    run = services.solve_start(actor=cast.leader, plan=plan)
    assert run.status == RunStatus.DONE, run.error
    plan.refresh_from_db()
    return plan


def _roster(plan: Any) -> set[tuple[str, int]]:
    return {(r.person.code, r.shift_id) for r in plan.proposals.select_related("person")}


def test_adapter_builds_the_problem(org: Any, cast: Cast, batch: Batch) -> None:
    # bob worked the evening before the period (tail); 陈二 is in another batch on day 2 (unavailable then)
    other = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="热线",
        start=at("2030-03-03 10:00"),
        end=at("2030-03-03 23:00"),
        people=[org.bob],
    ).deployment
    prev = svc.shift_create(
        actor=cast.leader, deployment=other, start=at("2030-03-03 20:00"), end=at("2030-03-03 23:00")
    )
    svc.shift_assign(actor=cast.leader, shift=prev, person=org.bob)
    built = build_problem(
        deployment=batch.deployment,
        post=None,
        start=DAY1,
        end=DAY2,
        rules=Rules(min_rest_minutes=480, max_hours_day=10),
        locks=[(org.bob.pk, batch.shifts[0].pk)],
    )
    pr = built.problem
    assert pr.days == 2
    assert pr.start_weekday == 0
    assert sorted(p.id for p in pr.people) == sorted(p.code for p in batch.people)
    assert [(s.id, s.day, s.start, s.end, s.required, s.max_count, s.kind) for s in pr.shifts] == [
        (str(batch.shifts[0].pk), 0, 480, 960, 2, 2, "morning"),
        (str(batch.shifts[1].pk), 0, 960, 1439, 1, 1, "evening"),
        (str(batch.shifts[2].pk), 1, 1920, 2400, 2, 2, "morning"),
        (str(batch.shifts[3].pk), 1, 2400, 2879, 1, 1, "evening"),
    ]
    people = {p.id: p for p in pr.people}
    assert people["XH011"].availability is None
    assert people["XH0002"].min_rest_minutes == 480
    assert people["XH0002"].max_minutes_day == 600
    # bob's shift of the evening before is the tail (rest across the boundary)
    assert [(t.person, t.day, t.start, t.end) for t in pr.tail] == [("XH0002", -1, -240, -60)]
    assert [(lk.person, lk.shift) for lk in pr.locks] == [("XH0002", str(batch.shifts[0].pk))]
    assert pr.forbidden_successions == frozenset({("night", "morning")})


def test_solve_covers_every_seat_and_keeps_the_rules(cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    assert plan.status == PlanStatus.PROPOSED
    rows = list(plan.proposals.all())
    assert len(rows) == 6  # 2 + 1 + 2 + 1 seats
    assert plan.result["uncovered"] == []
    per_day: dict[tuple[int, int], int] = {}
    for r in rows:
        key = (r.person_id, r.shift.start.date().toordinal())
        per_day[key] = per_day.get(key, 0) + 1
    assert max(per_day.values()) == 1  # one shift a day
    assert all(r.source == ProposalSource.SOLVER for r in rows)
    run = plan.runs.get()
    assert run.objective == plan.result["objective"]
    assert run.history and run.history[-1]["objective"] == run.objective
    assert AuditEvent.objects.filter(action="roster.solve.started").count() == 1


def test_publish_creates_assignments_and_notifies(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    wanted = {(r.person_id, r.shift_id) for r in plan.proposals.all()}
    res = services.plan_publish(actor=cast.leader, plan=plan)
    assert res.added == 6 and res.removed == 0
    assert set(
        Assignment.objects.filter(shift__deployment=batch.deployment).values_list("person_id", "shift_id")
    ) == (wanted)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    # bob has a login: one notification listing his shifts; the others have none
    bob_rows = [r for r in plan.proposals.all() if r.person_id == org.bob.pk]
    notes = list(Notification.objects.all())
    assert [n.recipient_id for n in notes] == ([cast.bob_user.pk] if bob_rows else [])
    if bob_rows:
        assert notes[0].body.count("New:") == len(bob_rows)
        assert res.notified == 1
    assert AuditEvent.objects.filter(action="mobilize.shift.assigned").count() == 6
    with pytest.raises(ValidationError, match="already published"):
        services.solve_start(actor=cast.leader, plan=plan)


def _hotline(org: Any, cast: Cast) -> Any:
    post = svc.post_create(actor=cast.leader, code="XH-HOT", name="徐汇热线", kind="hotline", unit=org.xuhui)
    for day in ("2030-03-04", "2030-03-05"):
        svc.shift_create(
            actor=cast.leader, post=post, start=at(f"{day} 09:00"), end=at(f"{day} 17:00"), remote=True
        )
    return post


def test_adapter_post_scope_people_and_unavailability(org: Any, cast: Cast) -> None:
    post = _hotline(org, cast)
    # alice is in a batch on day 2, 07:00–20:00: free on day 1, not for day 2's shift
    svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="卡口",
        start=at("2030-03-05 07:00"),
        end=at("2030-03-05 20:00"),
        people=[org.alice],
    )
    built = build_problem(deployment=None, post=post, start=DAY1, end=DAY2, rules=Rules())
    # 徐汇 and its tax office: alice, bob; not 黄浦's carol or the organ's dave
    assert sorted(built.people) == ["XH0001", "XH0002"]
    assert all(s.remote for s in built.problem.shifts)
    people = {p.id: p for p in built.problem.people}
    assert people["XH0002"].availability is None
    windows = people["XH0001"].availability
    assert windows is not None
    assert any(a <= 540 and 1020 <= b for a, b in windows)  # day 1 09–17 fits
    assert not any(a <= 1980 and 2460 <= b for a, b in windows)  # day 2 09–17 does not


def test_publish_is_all_or_nothing(org: Any, cast: Cast) -> None:
    post = _hotline(org, cast)
    plan = services.plan_create(actor=cast.leader, post=post, start=DAY1, end=DAY2, seconds=1)
    assert services.solve_start(actor=cast.leader, plan=plan).status == RunStatus.DONE
    assert plan.proposals.count() == 2
    # after the solve, the person rostered on day 2 is sent on a batch at the same time: a hard conflict
    row = plan.proposals.order_by("-shift__start").first()
    assert row is not None
    svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="另一任务",
        start=at("2030-03-05 09:00"),
        end=at("2030-03-05 10:00"),
        people=[row.person],
    )
    with pytest.raises(ValidationError) as exc:
        services.plan_publish(actor=cast.leader, plan=plan)
    text = " ".join(exc.value.messages)
    assert "Nothing was published" in text and row.person.name in text
    assert not Assignment.objects.filter(shift__post=post).exists()  # day 1 was rolled back too
    assert not Notification.objects.exists()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED


def test_publish_removes_what_the_plan_dropped(org: Any, cast: Cast, batch: Batch) -> None:
    svc.shift_assign(actor=cast.leader, shift=batch.shifts[0], person=org.bob)
    plan = _plan(cast, batch)
    assert [(r.person_id, r.source, r.locked) for r in plan.proposals.all()] == [
        (org.bob.pk, ProposalSource.EXISTING, False)
    ]
    services.proposal_edit(
        actor=cast.leader, plan=plan, action="remove", shift=batch.shifts[0], person=org.bob
    )
    res = services.plan_publish(actor=cast.leader, plan=plan)
    assert (res.added, res.removed, res.notified) == (0, 1, 1)
    assert not Assignment.objects.exists()
    n = Notification.objects.get(recipient=cast.bob_user)
    assert "Cancelled: 2030-03-04 08:00" in n.body


def test_edit_checks_the_hard_rules(org: Any, cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    morning = batch.shifts[0]
    evening = batch.shifts[1]
    on_morning = plan.proposals.filter(shift=morning).first()
    assert on_morning is not None
    # the same person on the evening shift of the same day: two shifts a day
    with pytest.raises(ValidationError, match="More than 1 shift"):
        services.proposal_edit(
            actor=cast.leader, plan=plan, action="add", shift=evening, person=on_morning.person
        )
    # a full shift
    free = next(p for p in batch.people if not plan.proposals.filter(shift=morning, person=p).exists())
    if plan.proposals.filter(shift=morning).count() == 2:
        with pytest.raises(ValidationError, match="only 2 seats"):
            services.proposal_edit(actor=cast.leader, plan=plan, action="add", shift=morning, person=free)
    # a person outside the batch (one the leader may see; someone out of scope is "not found")
    outsider = person_create(actor=SYSTEM, code="XH0099", name="董一", unit=org.xuhui)
    with pytest.raises(ValidationError, match="cannot be rostered"):
        services.proposal_edit(actor=cast.leader, plan=plan, action="add", shift=morning, person=outsider)
    with pytest.raises(Http404):
        services.proposal_edit(actor=cast.leader, plan=plan, action="add", shift=morning, person=org.carol)
    with pytest.raises(ValidationError, match="Unknown action"):
        services.proposal_edit(actor=cast.leader, plan=plan, action="swap", shift=morning, person=free)
    # lock one, re-solve: the lock is kept
    services.proposal_edit(
        actor=cast.leader, plan=plan, action="lock", shift=morning, person=on_morning.person
    )
    run = services.solve_start(actor=cast.leader, plan=plan, seed=7)
    assert run.status == RunStatus.DONE
    kept = plan.proposals.get(shift=morning, person=on_morning.person)
    assert kept.locked
    assert plan.proposals.count() == 6


def test_repair_after_a_drop_out_changes_little(cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    before = _roster(plan)
    dropped = plan.proposals.order_by("person__code").first().person
    run = services.solve_start(actor=cast.leader, plan=plan, drop=dropped)
    assert run.status == RunStatus.DONE and run.kind == "repair"
    after = _roster(plan)
    assert not any(code == dropped.code for code, _s in after)
    kept = {x for x in before if x[0] != dropped.code}
    assert kept <= after  # everybody else keeps their shifts
    assert len(after) == 6  # the freed seats are filled again by the others


def test_out_of_scope_is_404_and_no_permission_is_403(cast: Cast, batch: Batch) -> None:
    with pytest.raises(Http404):
        services.plan_create(actor=cast.manager_hp, deployment=batch.deployment, start=DAY1, end=DAY2)
    with pytest.raises(NotAllowed):
        services.plan_create(actor=cast.viewer, deployment=batch.deployment, start=DAY1, end=DAY2)
    plan = _solved(cast, batch)
    with pytest.raises(Http404):
        services.plan_publish(actor=cast.manager_hp, plan=plan)
    with pytest.raises(NotAllowed):
        services.plan_publish(actor=cast.viewer, plan=plan)
    with pytest.raises(NotAllowed):
        services.proposal_edit(
            actor=cast.viewer, plan=plan, action="remove", shift=batch.shifts[0], person=batch.people[0]
        )
    assert not Assignment.objects.exists()


def test_a_person_busy_the_whole_period_is_left_out(org: Any, cast: Cast) -> None:
    post = _hotline(org, cast)
    svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="全程",
        start=at("2030-03-03 00:00"),
        end=at("2030-03-07 00:00"),
        people=[org.alice],
    )
    plan = services.plan_create(actor=cast.leader, post=post, start=DAY1, end=DAY2, seconds=1)
    run = services.solve_start(actor=SYSTEM, plan=plan)
    assert run.status == RunStatus.DONE
    plan.refresh_from_db()
    assert plan.notes == [{"code": "excluded", "person": "XH0001", "name": "张丽"}]
    assert {r.person_id for r in plan.proposals.all()} == {org.bob.pk}
    # bob takes one of the two shifts only if the rules allow both (they do: different days)
    assert plan.proposals.count() == 2
    # adding alice by hand is refused with the reason
    with pytest.raises(ValidationError, match="cannot be rostered"):
        services.proposal_edit(
            actor=cast.leader, plan=plan, action="add", shift=post.shifts.first(), person=org.alice
        )


def test_cancel_sets_the_flag_the_engine_reads(cast: Cast, batch: Batch) -> None:
    from datetime import timedelta

    from muster.roster.models import SolveRun

    plan = _plan(cast, batch)
    run = SolveRun.objects.create(plan=plan, status=RunStatus.RUNNING, seconds=5)
    progress = services._Progress(run.pk, None)
    assert progress.stop() is False
    assert services.solve_cancel(actor=cast.leader, plan=plan) == 1
    progress.last_check = 0.0
    assert progress.stop() is True
    with pytest.raises(ValidationError, match="already running"):
        services.solve_start(actor=cast.leader, plan=plan)
    # a run left "running" by a dead process long ago no longer blocks the plan
    SolveRun.objects.filter(pk=run.pk).update(created_at=run.created_at - timedelta(hours=1))
    new = services.solve_start(actor=cast.leader, plan=plan)
    assert new.status == RunStatus.DONE
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error == "The solve was interrupted."
