"""Profiles (availability checks, scoping) and call-ups (集结号): answers, deadline, twice, pick, figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from muster.notify.models import Notification
from muster.volunteers import queries
from muster.volunteers import services as vsvc
from muster.volunteers.models import CallUpInvite, WeeklyWindow

from .conftest import at
from .test_signup import code_of, text_of

pytestmark = pytest.mark.django_db


def test_window_end_before_start(org: Any, world: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        vsvc.profile_set(
            actor=world.alice_user, person=org.alice, windows=[vsvc.WindowIn(0, 18 * 60, 9 * 60)]
        )
    assert code_of(exc) == {"end_before_start"}
    assert "Window 1 ends (09:00) before it starts (18:00)" in text_of(exc)
    assert not WeeklyWindow.objects.exists()


def test_overlapping_windows(org: Any, world: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        vsvc.profile_set(
            actor=world.alice_user,
            person=org.alice,
            windows=[vsvc.WindowIn(2, 8 * 60, 12 * 60), vsvc.WindowIn(2, 11 * 60, 14 * 60)],
        )
    assert code_of(exc) == {"overlap"}
    assert "windows.1" in exc.value.error_dict


def test_period_and_observation_order(org: Any, world: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        vsvc.profile_set(
            actor=world.alice_user,
            person=org.alice,
            available_from=date(2026, 4, 1),
            available_until=date(2026, 3, 1),
        )
    assert code_of(exc) == {"end_before_start"}
    with pytest.raises(ValidationError):
        vsvc.profile_set(
            actor=world.alice_user, person=org.alice, home_observation=[(date(2026, 3, 9), date(2026, 3, 1))]
        )


def test_unknown_skill_and_weight(org: Any, world: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        vsvc.profile_set(
            actor=world.alice_user, person=org.alice, qualifications=[vsvc.QualificationIn("pilot")]
        )
    assert code_of(exc) == {"unknown_skill"}
    with pytest.raises(ValidationError) as exc:
        vsvc.profile_set(
            actor=world.alice_user,
            person=org.alice,
            preferences=[vsvc.PreferenceIn("time", "night", False, 11)],
        )
    assert code_of(exc) == {"weight"}


def test_profile_scoping(org: Any, world: Any) -> None:
    # another volunteer may see nobody's profile; an out-of-scope manager gets "not found"
    with pytest.raises(Http404):
        vsvc.profile_set(actor=world.manager_hp, person=org.alice, no_nights=True)
    with pytest.raises(Http404):
        vsvc.profile_set(actor=world.carol_user, person=org.alice, no_nights=True)
    # the leader keeps the profile of someone without an account
    vsvc.profile_set(actor=world.leader, person=world.zhou, qualifications=[vsvc.QualificationIn("driver")])
    assert queries.people_facts([world.zhou.pk])[world.zhou.pk].skills == {"driver": None}


def test_viewer_sees_but_may_not_edit(org: Any, world: Any, make_user: Any) -> None:
    viewer = make_user("viewer", "viewer", org.xuhui)
    with pytest.raises(PermissionDenied):
        vsvc.profile_set(actor=viewer, person=world.zhou, no_nights=True)


def _callup(org: Any, world: Any, **kw: Any) -> Any:
    args = {
        "actor": world.leader,
        "unit": org.xuhui,
        "title": "黄浦党员集结号",
        "start": at("2026-03-06 08:00"),
        "end": at("2026-03-06 18:00"),
        "people_needed": 2,
        "deadline": at("2026-03-05 12:00"),
        "audience_unit": org.xuhui,
        "deployment": world.deployment,
    }
    args.update(kw)
    return vsvc.callup_create(**args)


def test_callup_answers_pick_and_figures(org: Any, world: Any, fixed_clock: Any) -> None:
    c = _callup(org, world)
    assert c.invited == 4  # alice, bob, zhou, the captain
    assert Notification.objects.filter(verb="volunteers.callup").count() == 2  # the two with logins
    alice_inv = CallUpInvite.objects.get(callup=c, person=org.alice)
    bob_inv = CallUpInvite.objects.get(callup=c, person=org.bob)
    fixed_clock.shift(600)
    vsvc.callup_answer(actor=world.alice_user, invite=alice_inv, answer="yes")
    with pytest.raises(ValidationError) as exc:
        vsvc.callup_answer(actor=world.alice_user, invite=alice_inv, answer="no", reason="家里有事")
    assert code_of(exc) == {"twice"}
    with pytest.raises(ValidationError) as exc:
        vsvc.callup_answer(actor=None, invite=bob_inv, answer="no", by_link=True)
    assert code_of(exc) == {"reason_required"}
    vsvc.callup_answer(actor=None, invite=bob_inv, answer="no", reason="子女尚在襁褓", by_link=True)
    zhou_inv = CallUpInvite.objects.get(callup=c, person=world.zhou)
    vsvc.callup_answer(actor=world.leader, invite=zhou_inv, answer="yes")
    c.refresh_from_db()
    f = queries.callup_figures(c)
    assert (f.invited, f.answered, f.yes, f.no) == (4, 3, 2, 1)
    assert f.response_rate == 0.75
    assert f.minutes_to_fill == 10
    with pytest.raises(ValidationError) as exc:
        vsvc.callup_pick(actor=world.leader, callup=c, people=[org.bob])
    assert code_of(exc) == {"not_yes"}
    picked = vsvc.callup_suggest(c)
    assert {p.code for p in picked} == {org.alice.code, world.zhou.code}
    vsvc.callup_pick(actor=world.leader, callup=c, people=picked)
    assert set(world.deployment.memberships.values_list("person__code", flat=True)) >= {"XH0001", "XH0009"}
    assert queries.callup_figures(c).picked == 2


def test_callup_answer_after_deadline(org: Any, world: Any, fixed_clock: Any) -> None:
    c = _callup(org, world)
    inv = CallUpInvite.objects.get(callup=c, person=org.alice)
    fixed_clock.move_to(at("2026-03-05 12:00"))
    with pytest.raises(ValidationError) as exc:
        vsvc.callup_answer(actor=world.alice_user, invite=inv, answer="yes")
    assert code_of(exc) == {"deadline"}


def test_callup_by_an_outsider(org: Any, world: Any) -> None:
    with pytest.raises(Http404):
        _callup(org, world, actor=world.manager_hp)
    with pytest.raises(ValidationError):
        _callup(org, world, end=at("2026-03-06 07:00"))


def test_engine_pick_respects_skills(org: Any, world: Any) -> None:
    c = _callup(org, world, skills=["medic"], people_needed=1)
    vsvc.profile_set(actor=world.leader, person=world.zhou, qualifications=[vsvc.QualificationIn("medic")])
    for person, user in ((org.alice, world.alice_user), (world.zhou, world.leader)):
        vsvc.callup_answer(actor=user, invite=CallUpInvite.objects.get(callup=c, person=person), answer="yes")
    assert [p.code for p in vsvc.callup_suggest(c)] == ["XH0009"]
