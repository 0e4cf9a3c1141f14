"""Requests, batches, posts, shifts and assignments through the services; conflicts and scope."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import override_settings

from muster.audit.models import AuditEvent
from muster.mobilize import queries as q
from muster.mobilize import services as svc
from muster.mobilize import shift_templates as tpl
from muster.mobilize.models import DeploymentMember, PostKind
from muster.orgs.access import NotAllowed
from muster.orgs.models import Team
from muster.orgs.services import partner_create

from .conftest import TZ, at

pytestmark = pytest.mark.django_db


def _dispatch(actor: Any, unit: Any, start: str, end: str, **kw: Any) -> svc.DispatchResult:
    return svc.deployment_dispatch(
        actor=actor, unit=unit, title=kw.pop("title", "卡点值守"), start=at(start), end=at(end), **kw
    )


def test_dispatch_from_team_numbers_batches_per_unit(org: Any, cast: Any) -> None:
    team = Team.objects.get(code="XH-T1")
    r1 = _dispatch(
        cast.leader, org.xuhui, "2022-03-11 08:00", "2022-03-11 18:00", teams=[team], people=[org.bob]
    )
    r2 = _dispatch(cast.leader, org.xuhui, "2022-03-13 08:00", "2022-03-13 18:00", people=[org.bob])
    r3 = _dispatch(cast.leader, org.xuhui_office, "2022-03-15 08:00", "2022-03-15 18:00", people=[org.bob])
    assert (r1.deployment.seq, r2.deployment.seq, r3.deployment.seq) == (1, 2, 1)
    assert (r1.deployment.code, r2.deployment.code, r3.deployment.code) == ("XH-001", "XH-002", "XH-S1-001")
    members = {m.person.code: m.team for m in DeploymentMember.objects.filter(deployment=r1.deployment)}
    assert members == {"XH0001": team, "XH0002": None}
    ev = AuditEvent.objects.get(action="mobilize.deployment.dispatched", target_id=str(r1.deployment.pk))
    assert ev.changes["people"] == ["XH0001", "XH0002"] and ev.unit_path == org.xuhui.path


def test_overlapping_batches_refused_naming_the_other(org: Any, cast: Any) -> None:
    _dispatch(
        cast.leader, org.xuhui, "2022-03-11 08:00", "2022-03-12 18:00", people=[org.bob], title="真如体育场"
    )
    with pytest.raises(ValidationError) as exc:
        _dispatch(cast.leader, org.xuhui, "2022-03-12 08:00", "2022-03-12 20:00", people=[org.alice, org.bob])
    msg = str(exc.value)
    assert "XH-001" in msg and "真如体育场" in msg and "王强" in msg
    assert q.deployment_list(cast.leader).count() == 1  # nothing half written


@override_settings(MUSTER_MIN_REST_MINUTES=480)
def test_short_rest_is_a_warning(org: Any, cast: Any) -> None:
    _dispatch(cast.leader, org.xuhui, "2022-03-11 08:00", "2022-03-11 18:00", people=[org.bob])
    r = _dispatch(cast.leader, org.xuhui, "2022-03-11 20:00", "2022-03-12 04:00", people=[org.bob, org.alice])
    assert len(r.warnings) == 1
    w = r.warnings[0]
    assert w.person == org.bob and w.gap_minutes == 120 and "XH-001" in w.message
    with override_settings(MUSTER_MIN_REST_MINUTES=60):
        r3 = _dispatch(cast.leader, org.xuhui, "2022-03-12 06:00", "2022-03-12 10:00", people=[org.bob])
    assert r3.warnings == []


def test_overlapping_shifts_refused(org: Any, cast: Any, batch: Any) -> None:
    other = svc.shift_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=at("2022-03-12 15:00"),
        end=at("2022-03-12 23:00"),
        label="晚班",
    )
    with pytest.raises(ValidationError) as exc:
        svc.shift_assign(actor=cast.leader, shift=other, person=org.bob)
    assert "XH-001" in str(exc.value) and "16:00" in str(exc.value)
    later = svc.shift_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=at("2022-03-12 18:00"),
        end=at("2022-03-12 23:00"),
    )
    res = svc.shift_assign(actor=cast.leader, shift=later, person=org.bob)
    assert res.created and res.warnings and res.warnings[0].gap_minutes == 120


def test_post_shift_overlapping_a_batch_refused(org: Any, cast: Any, batch: Any) -> None:
    post = svc.post_create(
        actor=cast.leader, unit=org.xuhui, code="XH-12366", name="12366热线", kind=PostKind.HOTLINE
    )
    s = svc.shift_create(
        actor=cast.leader, post=post, start=at("2022-03-12 20:00"), end=at("2022-03-12 22:00")
    )
    with pytest.raises(ValidationError) as exc:
        svc.shift_assign(actor=cast.leader, shift=s, person=org.bob)
    assert "XH-001" in str(exc.value)


def test_assign_adds_member_and_respects_seats(org: Any, cast: Any) -> None:
    d = _dispatch(
        cast.leader, org.xuhui, "2022-03-12 00:00", "2022-03-13 00:00", people=[org.alice]
    ).deployment
    s = svc.shift_create(
        actor=cast.leader, deployment=d, start=at("2022-03-12 08:00"), end=at("2022-03-12 16:00")
    )
    svc.shift_assign(actor=cast.leader, shift=s, person=org.alice)
    assert svc.shift_assign(actor=cast.leader, shift=s, person=org.alice).created is False
    with pytest.raises(ValidationError, match="seats"):
        svc.shift_assign(actor=cast.leader, shift=s, person=org.bob)


def test_shifts_from_template_must_fit_the_batch(org: Any, cast: Any) -> None:
    d = _dispatch(
        cast.leader, org.xuhui, "2022-03-14 08:00", "2022-03-16 08:00", people=[org.alice]
    ).deployment
    shifts = svc.shifts_create(
        actor=cast.leader, deployment=d, specs=tpl.three_rotations(date(2022, 3, 14), 2, TZ)
    )
    assert len(shifts) == 6 and shifts[2].start == at("2022-03-15 00:00")
    with pytest.raises(ValidationError, match="outside the batch"):
        svc.shifts_create(
            actor=cast.leader, deployment=d, specs=tpl.three_rotations(date(2022, 3, 14), 3, TZ)
        )
    assert d.shifts.count() == 6  # the refused template wrote nothing


def test_end_before_start_refused(org: Any, cast: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _dispatch(cast.leader, org.xuhui, "2022-03-12 18:00", "2022-03-12 08:00", people=[org.bob])
    assert "end" in exc.value.message_dict
    d = _dispatch(cast.leader, org.xuhui, "2022-03-12 06:00", "2022-03-12 20:00", people=[org.bob]).deployment
    with pytest.raises(ValidationError):
        svc.shift_create(
            actor=cast.leader, deployment=d, start=at("2022-03-12 10:00"), end=at("2022-03-12 10:00")
        )


def test_permissions(org: Any, cast: Any) -> None:
    with pytest.raises(NotAllowed):
        _dispatch(cast.viewer, org.xuhui, "2022-03-12 08:00", "2022-03-12 18:00", people=[org.bob])
    with pytest.raises(NotAllowed):
        _dispatch(cast.manager_hp, org.xuhui, "2022-03-12 08:00", "2022-03-12 18:00", people=[org.bob])
    with pytest.raises(ValidationError, match="Unknown person"):  # out-of-scope people are unknown
        _dispatch(cast.manager_hp, org.huangpu, "2022-03-12 08:00", "2022-03-12 18:00", people=[org.bob])


def test_supporting_batch_is_visible_to_both_subtrees(org: Any, cast: Any, make_user: Any) -> None:
    """黄浦 dispatches a batch to support 徐汇: both see it; the bureau organ does not."""
    d = _dispatch(
        cast.manager_hp,
        org.huangpu,
        "2022-03-12 08:00",
        "2022-03-12 18:00",
        people=[org.carol],
        supported_unit=org.xuhui,
    ).deployment
    organ_viewer = make_user("organ", "viewer", org.organ)
    assert list(q.deployment_list(cast.manager_hp)) == [d]
    assert list(q.deployment_list(cast.leader)) == [d]
    assert list(q.deployment_list(cast.leader, unit=org.xuhui)) == [d]
    assert list(q.deployment_list(organ_viewer)) == []
    with pytest.raises(Http404):
        q.deployment_get_or_404(organ_viewer, pk=d.pk)
    assert q.deployment_get_or_404(cast.carol_user, pk=d.pk) == d  # a member sees their batch


def test_request_coverage(org: Any, cast: Any, system: Any) -> None:
    partner = partner_create(actor=system, code="WP", name="宛平社区", kind="community", unit=org.xuhui)
    req = svc.request_create(
        actor=cast.leader,
        unit=org.xuhui,
        partner=partner,
        title="核酸采样协助",
        people_needed=3,
        start=at("2022-03-12 06:00"),
        end=at("2022-03-12 20:00"),
        skills=["采样"],
    )
    assert [r.assigned for r in q.request_list(cast.leader)] == [0]
    d = _dispatch(
        cast.leader,
        org.xuhui,
        "2022-03-12 06:00",
        "2022-03-12 20:00",
        people=[org.alice, org.bob],
        request=req,
    ).deployment
    assert d.partner == partner
    cov = q.request_coverage(req)
    assert (cov.needed, cov.assigned, cov.missing) == (3, 2, 1)
    assert [r.assigned for r in q.request_list(cast.leader)] == [2]
    assert list(q.request_list(cast.manager_hp)) == []
    svc.request_update(actor=cast.leader, request=req, status="closed")
    assert list(q.request_list(cast.leader)) == []


def test_post_coverage_grid(org: Any, cast: Any) -> None:
    post = svc.post_create(
        actor=cast.leader,
        unit=org.xuhui,
        code="XH-12366",
        name="12366热线",
        kind=PostKind.HOTLINE,
        required_seats=[0] * 8 + [2] * 10 + [0] * 6,
    )
    shifts = svc.shifts_create(
        actor=cast.leader,
        post=post,
        specs=tpl.hotline_curve(date(2022, 3, 14), 1, TZ, post.required_seats[0], max_hours=5),
    )
    assert [(s.start.astimezone(TZ).hour, s.seats) for s in shifts] == [(8, 2), (13, 2)]
    svc.shift_assign(actor=cast.leader, shift=shifts[0], person=org.alice)
    svc.shift_assign(actor=cast.leader, shift=shifts[0], person=org.bob)
    svc.shift_assign(actor=cast.leader, shift=shifts[1], person=org.bob)
    grid = q.post_coverage(post, start=at("2022-03-14 00:00"), end=at("2022-03-15 00:00"))
    states = [g.state for g in grid]
    assert states[:8] == ["idle"] * 8 and states[8:13] == ["green"] * 5 and states[13:18] == ["red"] * 5
    with pytest.raises(ValidationError):
        svc.post_create(
            actor=cast.leader,
            unit=org.xuhui,
            code="BAD",
            name="x",
            kind=PostKind.DUTY,
            required_seats=[1, 2, 3],
        )
