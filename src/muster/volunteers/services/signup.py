"""What shifts need, opening shifts for sign-up (报名), sign-up and cancellation with the waiting list
(候补)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.mobilize import services as msvc
from muster.mobilize.models import Assignment, DeploymentStatus, Shift
from muster.mobilize.queries import shift_is_visible
from muster.notify.services import notify, recipients_of
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team, Unit
from muster.volunteers import fit, queries
from muster.volunteers.models import (
    Opening,
    ShiftNeed,
    SignUp,
    SignUpStatus,
    Skill,
)
from muster.volunteers.services.common import (
    _audience,
    _audit,
    _fmt,
    _invalid,
    _require_person,
    _require_shift_editor,
    may_edit_person,
    skill_by_code,
)

# ---------------------------------------------------------------- shift needs


@transaction.atomic
def need_set(
    *,
    actor: Any,
    shift: Shift,
    skills_all: Sequence[str] = (),
    skills_any: Sequence[str] = (),
    min_party_members: int = 0,
    min_skill: str | None = None,
    min_skill_count: int = 0,
) -> ShiftNeed:
    """What a shift needs (replacing what it needed)."""
    _require_shift_editor(actor, shift)
    all_ = [skill_by_code(c, "skills_all") for c in dict.fromkeys(skills_all)]
    any_ = [skill_by_code(c, "skills_any") for c in dict.fromkeys(skills_any)]
    for field, n in (("min_party_members", min_party_members), ("min_skill_count", min_skill_count)):
        if not 0 <= n <= shift.seats:
            raise _invalid(
                field, _("At most the shift's %(n)s seats, at least 0.") % {"n": shift.seats}, "range"
            )
    counted = skill_by_code(min_skill, "min_skill") if min_skill else None
    if min_skill_count and counted is None:
        raise _invalid("min_skill", _("Name the skill to count."), "required")
    need, _c = ShiftNeed.objects.get_or_create(shift=shift)
    need.min_party_members = min_party_members
    need.min_skill = counted
    need.min_skill_count = min_skill_count if counted else 0
    need.save()
    need.skills_all.set(all_)
    need.skills_any.set(any_)
    _audit(
        actor,
        "volunteers.need.changed",
        shift,
        shift.owner_unit.path,
        skills_all=[s.code for s in all_],
        skills_any=[s.code for s in any_],
        min_party_members=min_party_members,
        min_skill=counted.code if counted else None,
        min_skill_count=need.min_skill_count,
    )
    return need


# ---------------------------------------------------------------- openings and sign-up


@transaction.atomic
def shifts_open(
    *,
    actor: Any,
    shifts: Sequence[Shift],
    deadline: datetime,
    cancel_cutoff: datetime,
    team: Team | None = None,
    unit: Unit | None = None,
) -> list[Opening]:
    """Open shifts for sign-up to a team, or a unit or party branch (with its subtree), until
    ``deadline``; sign-ups may be cancelled until ``cancel_cutoff``. Re-opening replaces the terms."""
    if not shifts:
        raise _invalid("shifts", _("Choose the shifts to open."), "required")
    _audience(actor, team, unit)
    for dt, field in ((deadline, "deadline"), (cancel_cutoff, "cancel_cutoff")):
        if timezone.is_naive(dt):
            raise _invalid(field, _("A date and time with its zone is required."), "naive")
    out = []
    for s in shifts:
        _require_shift_editor(actor, s)
        if s.deployment is not None and s.deployment.status == DeploymentStatus.CANCELLED:
            raise _invalid("shifts", _("The batch of %(shift)s is cancelled.") % {"shift": s}, "cancelled")
        for dt, field, label in (
            (deadline, "deadline", _("sign-up deadline")),
            (cancel_cutoff, "cancel_cutoff", _("cancellation cut-off")),
        ):
            if dt > s.start:
                raise _invalid(
                    field,
                    _("The %(what)s (%(at)s) is after the start of %(shift)s.")
                    % {"what": label, "at": _fmt(dt), "shift": msvc._shift_name(s)},
                    "after_start",
                )
        o, _c = Opening.objects.update_or_create(
            shift=s,
            defaults={
                "team": team,
                "unit": unit,
                "deadline": deadline,
                "cancel_cutoff": cancel_cutoff,
                "is_open": True,
                "opened_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        out.append(o)
    _audit(
        actor,
        "volunteers.opening.created",
        out[0].shift,
        out[0].shift.owner_unit.path,
        shifts=[s.pk for s in shifts],
        team=team.code if team else None,
        unit=unit.code if unit else None,
        deadline=deadline.isoformat(),
        cancel_cutoff=cancel_cutoff.isoformat(),
    )
    return out


@transaction.atomic
def opening_close(*, actor: Any, opening: Opening) -> Opening:
    _require_shift_editor(actor, opening.shift)
    opening.is_open = False
    opening.save(update_fields=["is_open"])
    _audit(actor, "volunteers.opening.closed", opening.shift, opening.shift.owner_unit.path)
    return opening


def _fit_errors(person: Person, shift: Shift) -> None:
    """Refuse a sign-up the shift's needs or the person's home observation rule out (skills as of the
    shift's day, on-site seats during home observation)."""
    needs = queries.needs_of([shift.pk]).get(shift.pk)
    sf = queries.shift_facts(shift.start, shift.end, shift.mode, needs)
    # only the facts these refusals look at: skills when the shift needs any, home observation on site
    parts = ({"skills"} if needs is not None else set()) | (set() if sf.remote else {"home_observation"})
    if not parts:
        return
    facts = queries.people_facts([person.pk], parts)[person.pk]
    misfits = fit.misfits(facts, sf)
    names = dict(Skill.objects.values_list("code", "name")) if misfits else {}
    for m in misfits:
        if m.code == "skill_missing":
            raise _invalid(
                "person",
                _("The shift needs %(skill)s, which %(person)s does not hold.")
                % {"skill": names.get(m.skill, m.skill), "person": person},
                "skill",
            )
        if m.code == "skill_expired":
            raise _invalid(
                "person",
                _("The shift needs %(skill)s; %(person)s's qualification expired on %(day)s.")
                % {"skill": names.get(m.skill, m.skill), "person": person, "day": facts.skills[m.skill]},
                "skill_expired",
            )
        if m.code == "skill_any":
            raise _invalid(
                "person",
                _("The shift needs one of %(skills)s; %(person)s holds none (valid on the day).")
                % {"skills": "、".join(names.get(c, c) for c in sorted(sf.skills_any)), "person": person},
                "skill",
            )
        if m.code == "home_observation":
            raise _invalid(
                "person",
                _("%(person)s is under home observation then: only remote seats, and this one is on site.")
                % {"person": person},
                "home_observation",
            )


def _resolve_person(actor: Any, person: Person | None) -> Person:
    if person is None:
        person = queries.own_person(actor)
        if person is None:
            raise _invalid("person", _("Your login is not linked to a person."), "no_person")
    _require_person(actor, person)
    return person


def _gate(actor: Any, opening: Opening, person: Person) -> None:
    """Whether ``person`` may sign up for ``opening`` (as read): in its audience, the shift in sight of
    whoever signs someone else up, before the deadline."""
    if not queries.in_audience(opening, person):
        raise Http404  # not open to them: as if it did not exist
    if not queries.is_self(actor, person) and not shift_is_visible(actor, opening.shift):
        raise Http404  # signing someone else up needs sight of the shift
    if not opening.is_open or timezone.now() >= opening.deadline:
        raise _invalid(
            "opening",
            _("Sign-up for %(shift)s closed at %(at)s.")
            % {"shift": msvc._shift_name(opening.shift), "at": _fmt(opening.deadline)},
            "deadline",
        )


def _with_seats(qs: Any, person: Person) -> Any:
    """Openings with the seats taken on their shift (``taken``) and the person's live sign-up (``live``,
    its id) read in the same statement."""
    return qs.annotate(
        taken=Coalesce(
            Subquery(
                Assignment.objects.filter(shift=OuterRef("shift"))
                .values("shift")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        ),
        live=Subquery(
            SignUp.objects.filter(opening=OuterRef("pk"), person=person)
            .exclude(status=SignUpStatus.CANCELLED)
            .values("pk")[:1]
        ),
    )


def _full(shift: Shift) -> ValidationError:
    return _invalid(
        "opening",
        _("All %(n)s seats of %(shift)s are taken; you may join the waiting list.")
        % {"n": shift.seats, "shift": msvc._shift_name(shift)},
        "full",
    )


def signup_create(
    *, actor: Any, opening: Opening, person: Person | None = None, wait: bool = False
) -> SignUp:
    """Sign up (报名) for an open shift; when it is full, join its waiting list if ``wait``.

    A race for the last seats is mostly refusals: a sign-up that finds the shift full (and no sign-up of
    the person's own) is refused at once, without a transaction or a lock — as if it had come a moment
    before the seats went. Otherwise the sign-up is decided under locks (``_signup_locked``)."""
    person = _resolve_person(actor, person)
    if not wait:
        now_ = _with_seats(Opening.objects.select_related("shift__deployment", "unit"), person).get(
            pk=opening.pk
        )
        _gate(actor, now_, person)
        if now_.live is not None:
            return SignUp.objects.get(pk=now_.live)
        if now_.taken >= now_.shift.seats:
            raise _full(now_.shift)
    return _signup_locked(actor, opening, person, wait)


@transaction.atomic
def _signup_locked(actor: Any, opening: Opening, person: Person, wait: bool) -> SignUp:
    """Locks: the opening first (sign-ups and cancellations of one shift take turns), then — only when a
    seat is taken — the person and the shift (``mobilize.services.shift_take``), the order cancellation
    and the waiting list's promotion use too. A refusal because the shift is full comes before the
    person's own checks: no seat is to be had whoever asks."""
    opening = (
        Opening.objects.select_for_update(of=("self",))
        .select_related("shift__deployment__unit", "unit")
        .get(pk=opening.pk)
    )
    _gate(actor, opening, person)  # (again: as the opening is now)
    shift = opening.shift
    now = timezone.now()
    seats = _with_seats(Opening.objects.filter(pk=opening.pk), person).values("taken", "live").get()
    if seats["live"] is not None:  # (read after the lock: as committed now)
        return SignUp.objects.get(pk=seats["live"])
    full = seats["taken"] >= shift.seats
    if full and not wait:
        raise _full(shift)
    _fit_errors(person, shift)
    status = SignUpStatus.WAITING if full else SignUpStatus.SEATED
    if not full:
        msvc.shift_take(
            actor=actor, shift=shift, person=person, week_limit_minutes=queries.week_limit_minutes(person)
        )
    su = SignUp.objects.create(
        opening=opening,
        person=person,
        status=status,
        created_at=now,
        changed_at=now,
        by=actor if getattr(actor, "pk", None) else None,
    )
    _audit(
        actor,
        "volunteers.signup.created" if status == SignUpStatus.SEATED else "volunteers.signup.waiting",
        shift,
        shift.owner_unit.path,
        person=person.code,
    )
    return su


@dataclass
class CancelResult:
    signup: SignUp
    promoted: SignUp | None


@transaction.atomic
def signup_cancel(*, actor: Any, signup: SignUp) -> CancelResult:
    """Cancel a sign-up before the cut-off; a seat given back goes to the first on the waiting list who
    can still take it (notified)."""
    person = signup.person
    if not queries.person_visible(actor, person):
        raise Http404
    if not may_edit_person(actor, person):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    opening = (
        Opening.objects.select_for_update(of=("self",))
        .select_related("shift", "shift__deployment")
        .get(pk=signup.opening_id)
    )
    signup = SignUp.objects.get(pk=signup.pk)
    shift = opening.shift
    now = timezone.now()
    if signup.status == SignUpStatus.CANCELLED:
        raise _invalid("signup", _("This sign-up is already cancelled."), "cancelled")
    if now >= opening.cancel_cutoff:
        raise _invalid(
            "signup",
            _("Cancellations for %(shift)s closed at %(at)s; ask the coordinator.")
            % {"shift": msvc._shift_name(shift), "at": _fmt(opening.cancel_cutoff)},
            "cutoff",
        )
    was_seated = signup.status == SignUpStatus.SEATED
    if was_seated:
        msvc.shift_release(actor=actor, shift=shift, person=person)
    signup.status = SignUpStatus.CANCELLED
    signup.changed_at = now
    signup.save(update_fields=["status", "changed_at"])
    _audit(actor, "volunteers.signup.cancelled", shift, shift.owner_unit.path, person=person.code)
    promoted = _promote(actor, opening) if was_seated else None
    return CancelResult(signup, promoted)


def _promote(actor: Any, opening: Opening) -> SignUp | None:
    shift = opening.shift
    for w in (
        SignUp.objects.filter(opening=opening, status=SignUpStatus.WAITING)
        .select_related("person")
        .order_by("created_at", "id")
    ):
        try:
            with transaction.atomic():
                _fit_errors(w.person, shift)
                msvc.shift_take(
                    actor=access.SYSTEM,
                    shift=shift,
                    person=w.person,
                    week_limit_minutes=queries.week_limit_minutes(w.person),
                )
        except ValidationError:
            continue  # they took something else meanwhile; the next one gets the chance
        w.status = SignUpStatus.SEATED
        w.changed_at = timezone.now()
        w.save(update_fields=["status", "changed_at"])
        _audit(actor, "volunteers.signup.promoted", shift, shift.owner_unit.path, person=w.person.code)
        notify(
            recipients_of([w.person]),
            verb="volunteers.promoted",
            title=_("You have a seat: %(shift)s") % {"shift": msvc._shift_name(shift)},
            body=_("A seat came free and you were first on the waiting list."),
            link="/volunteers/",
        )
        return w
    return None
