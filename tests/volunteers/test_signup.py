"""Sign-up (报名), the waiting list and every refusal of the issue's list, through the services."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from muster.mobilize import services as msvc
from muster.mobilize.models import Assignment
from muster.notify.models import Notification
from muster.orgs.access import SYSTEM
from muster.volunteers import queries
from muster.volunteers import services as vsvc
from muster.volunteers.models import SignUpStatus

from .conftest import at

pytestmark = pytest.mark.django_db


def code_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {e.code for errs in exc.value.error_dict.values() for e in errs}  # type: ignore[misc]


def text_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(m for msgs in exc.value.message_dict.values() for m in msgs)


def test_sign_up_takes_a_seat_and_the_batch(org: Any, world: Any) -> None:
    su = vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert su.status == SignUpStatus.SEATED
    assert Assignment.objects.filter(shift=world.morning, person=org.alice).exists()
    assert world.deployment.memberships.filter(person=org.alice).exists()
    # the same sign-up twice is the same sign-up
    again = vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert again.pk == su.pk


def test_sign_up_after_the_deadline(org: Any, world: Any, fixed_clock: Any) -> None:
    fixed_clock.move_to(at("2026-03-09 18:00"))
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert code_of(exc) == {"deadline"}
    assert "2026-03-09 18:00" in text_of(exc)
    assert not Assignment.objects.filter(person=org.alice).exists()


def test_full_shift_is_refused_or_waits_and_cancel_promotes(org: Any, world: Any) -> None:
    o = world.remote.opening  # one seat
    vsvc.signup_create(actor=world.alice_user, opening=o)
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.bob_user, opening=o)
    assert code_of(exc) == {"full"}
    assert "waiting list" in text_of(exc)
    waiting = vsvc.signup_create(actor=world.bob_user, opening=o, wait=True)
    assert waiting.status == SignUpStatus.WAITING
    assert not Assignment.objects.filter(shift=world.remote, person=org.bob).exists()
    mine = queries.open_shifts(org.bob, only_fitting=False)
    assert {r.opening_id: r.mine for r in mine}[o.pk] == "waiting"
    alice_su = o.signups.get(person=org.alice)
    result = vsvc.signup_cancel(actor=world.alice_user, signup=alice_su)
    assert result.promoted is not None and result.promoted.person == org.bob
    assert Assignment.objects.filter(shift=world.remote, person=org.bob).exists()
    assert not Assignment.objects.filter(shift=world.remote, person=org.alice).exists()
    note = Notification.objects.get(verb="volunteers.promoted")
    assert note.recipient == world.bob_user


def test_cancel_after_the_cutoff(org: Any, world: Any, fixed_clock: Any) -> None:
    su = vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    fixed_clock.move_to(at("2026-03-09 12:00"))
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_cancel(actor=world.alice_user, signup=su)
    assert code_of(exc) == {"cutoff"}
    assert Assignment.objects.filter(shift=world.morning, person=org.alice).exists()


def _post_shift(org: Any, world: Any, start: str, end: str, **kw: Any) -> Any:
    post = msvc.post_create(
        actor=world.leader, unit=org.xuhui, code="P12366", name="12366 热线", kind="hotline"
    )
    return msvc.shift_create(actor=world.leader, post=post, start=at(start), end=at(end), **kw)


def test_overlap_with_another_commitment(org: Any, world: Any) -> None:
    other = _post_shift(org, world, "2026-03-10 09:00", "2026-03-10 11:00")
    msvc.shift_assign(actor=world.leader, shift=other, person=org.alice)
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert code_of(exc) == {"conflict"}
    assert "12366" in text_of(exc)


def test_too_short_a_rest_is_refused_for_sign_up_but_only_warned_by_hand(org: Any, world: Any) -> None:
    day = _post_shift(org, world, "2026-03-12 08:00", "2026-03-12 12:00")
    late = msvc.shift_create(
        actor=world.leader, post=day.post, start=at("2026-03-12 13:00"), end=at("2026-03-12 17:00")
    )
    (opening,) = vsvc.shifts_open(
        actor=world.leader,
        shifts=[late],
        team=None,
        unit=org.xuhui,
        deadline=world.deadline,
        cancel_cutoff=world.cutoff,
    )
    msvc.shift_assign(actor=world.leader, shift=day, person=org.alice)
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=opening)
    assert code_of(exc) == {"rest"}
    assert "1.00 hours of rest" in text_of(exc)
    assert not Assignment.objects.filter(shift=late, person=org.alice).exists()
    # the coordinator assigning by hand is warned by the same rule
    res = msvc.shift_assign(actor=world.leader, shift=late, person=org.alice)
    assert res.created and res.warnings and "rest" in res.warnings[0].message


def test_weekly_limit(org: Any, world: Any) -> None:
    vsvc.profile_set(actor=world.alice_user, person=org.alice, max_hours_week=6)
    other = _post_shift(org, world, "2026-03-12 08:00", "2026-03-12 11:00")
    msvc.shift_assign(actor=world.leader, shift=other, person=org.alice)
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert code_of(exc) == {"week"}
    assert "7.00 hours in the week of 2026-03-09" in text_of(exc)


def test_missing_and_expired_skill(org: Any, world: Any) -> None:
    vsvc.need_set(actor=world.leader, shift=world.morning, skills_all=["medic"])
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert code_of(exc) == {"skill"}
    assert "医护" in text_of(exc)
    vsvc.profile_set(
        actor=world.leader,
        person=org.alice,
        qualifications=[vsvc.QualificationIn("medic", valid_until=date(2026, 3, 9))],
    )
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert code_of(exc) == {"skill_expired"}
    assert "2026-03-09" in text_of(exc)
    vsvc.profile_set(
        actor=world.leader,
        person=org.alice,
        qualifications=[vsvc.QualificationIn("medic", valid_until=date(2026, 3, 10))],
    )
    assert vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening).status == "seated"


def test_any_of_skills(org: Any, world: Any) -> None:
    vsvc.need_set(actor=world.leader, shift=world.morning, skills_any=["medic", "counsel"])
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert "医护" in text_of(exc) and "心理疏导" in text_of(exc)
    vsvc.profile_set(
        actor=world.alice_user, person=org.alice, qualifications=[vsvc.QualificationIn("counsel")]
    )
    assert vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening).status == "seated"


def test_home_observation_only_remote(org: Any, world: Any) -> None:
    vsvc.profile_set(
        actor=world.alice_user, person=org.alice, home_observation=[(date(2026, 3, 8), date(2026, 3, 21))]
    )
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.alice_user, opening=world.morning.opening)
    assert code_of(exc) == {"home_observation"}
    assert vsvc.signup_create(actor=world.alice_user, opening=world.remote.opening).status == "seated"
    fitting = {r.shift_id for r in queries.open_shifts(org.alice)}
    assert fitting == {world.remote.pk}  # the night shift is on site too


def test_outside_the_audience_is_not_found(org: Any, world: Any) -> None:
    with pytest.raises(Http404):
        vsvc.signup_create(actor=world.carol_user, opening=world.morning.opening)
    assert queries.open_shifts(org.carol) == []


def test_a_leader_signs_up_someone_without_an_account_but_not_out_of_scope(org: Any, world: Any) -> None:
    su = vsvc.signup_create(actor=world.leader, opening=world.morning.opening, person=world.zhou)
    assert su.status == "seated"
    with pytest.raises(Http404):
        vsvc.signup_create(actor=world.manager_hp, opening=world.morning.opening, person=org.alice)


def test_open_shifts_that_fit(org: Any, world: Any) -> None:
    vsvc.profile_set(actor=world.alice_user, person=org.alice, no_nights=True)
    fitting = {r.shift_id for r in queries.open_shifts(org.alice)}
    assert fitting == {world.morning.pk, world.remote.pk}
    vsvc.profile_set(
        actor=world.alice_user,
        person=org.alice,
        windows=[vsvc.WindowIn(1, 13 * 60, 19 * 60)],  # Tuesdays 13:00–19:00
    )
    assert {r.shift_id for r in queries.open_shifts(org.alice)} == {world.remote.pk}
    vsvc.profile_set(actor=world.alice_user, person=org.alice, days_off=[date(2026, 3, 10)])
    assert queries.open_shifts(org.alice) == []
    rows = queries.open_shifts(org.alice, only_fitting=False)
    assert {m.code for r in rows for m in r.misfits} == {"day_off", "window"}


def test_system_operator_signs_up_anyone(org: Any, world: Any) -> None:
    assert vsvc.signup_create(actor=SYSTEM, opening=world.night.opening, person=org.bob).status == "seated"


def test_a_full_shift_is_refused_before_the_persons_own_checks(org: Any, world: Any) -> None:
    """No seat is to be had whoever asks: "full" comes first; joining the waiting list then says what the
    person lacks (a waiting list is only for those who could take the seat)."""
    vsvc.need_set(actor=world.leader, shift=world.remote, skills_all=["medic"])
    msvc.shift_assign(actor=world.leader, shift=world.remote, person=world.zhou)  # the one seat
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.bob_user, opening=world.remote.opening)
    assert code_of(exc) == {"full"}
    with pytest.raises(ValidationError) as exc:
        vsvc.signup_create(actor=world.bob_user, opening=world.remote.opening, wait=True)
    assert code_of(exc) == {"skill"}
    assert not world.remote.opening.signups.filter(person=org.bob).exists()
