"""Writes for volunteers. Each service is keyword-only, atomic, permission-checked and audited.

Who may do what
---------------
- A person's profile (skills, availability, preferences, limits, home observation): the person themself
  (through their login), or a coordinator holding ``org.change`` or ``mobilize.dispatch`` on the person's
  unit or party unit — so a leader keeps the profile of someone without an account.
- The skill list: an administrator (``mobilize.catalog``, like the measure catalog).
- A shift's needs, opening shifts for sign-up: whoever may edit the shift (``mobilize.dispatch`` on its
  unit). The audience (a team, or a unit or party branch with its subtree) must be in their scope.
- Sign-up and cancellation: the person themself, or their coordinator for them. The assignment itself
  is ``mobilize.services.shift_take`` — the same rules as a manual assignment (``mobilize.rules``).
- Call-ups: ``mobilize.dispatch`` on the calling unit; answers by the person (in the app or through the
  secret link of their message); picking adds the picked to the batch through
  ``mobilize.services.deployment_member_add``.

What the actor may not see is "not found" (404); what they see but may not do is 403.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize import rules as mrules
from muster.mobilize import services as msvc
from muster.mobilize.models import Deployment, DeploymentStatus, Shift
from muster.mobilize.queries import shift_is_visible
from muster.notify.services import notify, recipients_of
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, PoliticalStatus, Team, TeamMembership, Unit
from muster.orgs.validators import normalize_text
from muster.roster import engine as eng
from muster.volunteers import fit, queries
from muster.volunteers.models import (
    AnswerChoice,
    CallUp,
    CallUpInvite,
    DayOff,
    HomeObservation,
    Opening,
    Preference,
    PreferenceKind,
    Profile,
    Qualification,
    ShiftNeed,
    SignUp,
    SignUpStatus,
    Skill,
    WeeklyWindow,
)

MAX_ROWS = 200  # windows, days off, qualifications, preferences in one profile edit
MAX_CALLUP = 100_000
PARTY = (PoliticalStatus.MEMBER, PoliticalStatus.PROBATIONARY)


def _invalid(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, queries.tz()).strftime("%Y-%m-%d %H:%M")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _units(person: Person) -> list[Unit]:
    return [u for u in (person.unit, person.party_unit) if u is not None]


def may_edit_person(actor: Any, person: Person) -> bool:
    if queries.is_self(actor, person):
        return True
    return any(
        access.can(actor, perm, u) for perm in (Perm.CHANGE, Perm.MOBILIZE_DISPATCH) for u in _units(person)
    )


def _require_person(actor: Any, person: Person) -> None:
    if not queries.person_visible(actor, person):
        raise Http404
    if not may_edit_person(actor, person):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def _audit(actor: Any, action: str, target: Any, unit_path: str, **changes: Any) -> None:
    log_action(actor, action=action, target=target, unit_path=unit_path, changes=changes)


# ---------------------------------------------------------------- skills


@transaction.atomic
def skill_save(*, actor: Any, code: str, name: str, order: int = 0, is_active: bool = True) -> Skill:
    """Add a skill to the list or rename one (by code)."""
    if not access.is_all_powerful(actor) and not any(
        access.can(actor, Perm.MOBILIZE_CATALOG, r) for r in Unit.objects.get_root_nodes()
    ):
        raise access.NotAllowed(Perm.MOBILIZE_CATALOG)
    code = normalize_text(code or "").strip()
    name = normalize_text(name or "").strip()
    if not code or len(code) > 40 or any(c.isspace() for c in code):
        raise _invalid("code", _("A skill code is 1 to 40 characters without spaces."), "code")
    if not name or len(name) > 60:
        raise _invalid("name", _("A skill name is 1 to 60 characters."), "name")
    if not 0 <= order <= 32767:
        raise _invalid("order", _("The order is a whole number from 0 to 32767."), "order")
    if Skill.objects.filter(name=name).exclude(code=code).exists():
        raise _invalid("name", _("Another skill is already called %(name)s.") % {"name": name}, "duplicate")
    skill, _created = Skill.objects.update_or_create(
        code=code, defaults={"name": name, "order": order, "is_active": is_active}
    )
    _audit(actor, "volunteers.skill.saved", skill, "", code=code, name=name, active=is_active)
    return skill


def skill_by_code(code: str, field: str) -> Skill:
    s = Skill.objects.filter(code=code).first()
    if s is None:
        raise _invalid(field, _("Unknown skill %(code)s.") % {"code": code}, "unknown_skill")
    return s


# ---------------------------------------------------------------- profile


@dataclass(frozen=True)
class WindowIn:
    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class QualificationIn:
    skill: str
    valid_until: date | None = None
    note: str = ""


@dataclass(frozen=True)
class PreferenceIn:
    kind: str
    value: str
    wanted: bool = True
    weight: int = 1


def _check_count(field: str, items: Sequence[Any] | None) -> None:
    if items is not None and len(items) > MAX_ROWS:
        raise _invalid(field, _("At most %(n)s rows.") % {"n": MAX_ROWS}, "too_many")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _check_windows(windows: Sequence[WindowIn]) -> None:
    errors: dict[str, list[ValidationError]] = {}
    triples = [(w.weekday, w.start_minute, w.end_minute) for w in windows]
    for i, code in fit.window_problems(triples):
        _wd, a, b = triples[i]
        if code == "bounds":
            msg = _("Window %(n)s: the weekday is 0 (Monday) to 6 and the times 00:00 to 24:00.") % {
                "n": i + 1
            }
        elif code == "end_before_start":
            msg = _("Window %(n)s ends (%(end)s) before it starts (%(start)s).") % {
                "n": i + 1,
                "end": _hhmm(b),
                "start": _hhmm(a),
            }
        else:
            msg = _("Window %(n)s (%(start)s–%(end)s) overlaps another window of the same day.") % {
                "n": i + 1,
                "start": _hhmm(a),
                "end": _hhmm(b),
            }
        errors.setdefault(f"windows.{i}", []).append(ValidationError(msg, code=code))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def profile_set(
    *,
    actor: Any,
    person: Person,
    available_from: date | None = None,
    available_until: date | None = None,
    max_hours_week: int | None = None,
    no_nights: bool = False,
    windows: Sequence[WindowIn] | None = None,
    days_off: Sequence[date] | None = None,
    home_observation: Sequence[tuple[date, date]] | None = None,
    qualifications: Sequence[QualificationIn] | None = None,
    preferences: Sequence[PreferenceIn] | None = None,
) -> Profile:
    """Set a person's profile. The lists given replace the person's lists; ``None`` keeps them."""
    _require_person(actor, person)
    for name, items in (
        ("windows", windows),
        ("days_off", days_off),
        ("home_observation", home_observation),
        ("qualifications", qualifications),
        ("preferences", preferences),
    ):
        _check_count(name, items)
    if available_from and available_until and available_until < available_from:
        raise _invalid(
            "available_until",
            _("The period ends (%(end)s) before it starts (%(start)s).")
            % {"end": available_until, "start": available_from},
            "end_before_start",
        )
    if max_hours_week is not None and not 1 <= max_hours_week <= 168:
        raise _invalid("max_hours_week", _("Most hours a week: a whole number from 1 to 168."), "range")
    if windows is not None:
        _check_windows(windows)
    if home_observation is not None:
        spans = sorted(home_observation)
        for i, (a, b) in enumerate(home_observation):
            if b < a:
                raise _invalid(
                    f"home_observation.{i}",
                    _("Home observation ends (%(end)s) before it starts (%(start)s).")
                    % {"end": b, "start": a},
                    "end_before_start",
                )
        for (_a1, b1), (a2, _b2) in itertools.pairwise(spans):
            if a2 <= b1:
                raise _invalid(
                    "home_observation",
                    _("Two periods of home observation overlap (%(day)s).") % {"day": a2},
                    "overlap",
                )
    skills: dict[str, Skill] = {}
    if qualifications is not None:
        seen: set[str] = set()
        for i, q in enumerate(qualifications):
            if q.skill in seen:
                raise _invalid(
                    f"qualifications.{i}", _("%(code)s is listed twice.") % {"code": q.skill}, "duplicate"
                )
            seen.add(q.skill)
            skills[q.skill] = skill_by_code(q.skill, f"qualifications.{i}")
            if len(q.note) > 200:
                raise _invalid(f"qualifications.{i}", _("A note is at most 200 characters."), "too_long")
    if preferences is not None:
        seen_p: set[tuple[str, str]] = set()
        for i, p in enumerate(preferences):
            if p.kind not in PreferenceKind.values:
                raise _invalid(
                    f"preferences.{i}", _("Unknown preference kind %(kind)s.") % {"kind": p.kind}, "kind"
                )
            value = normalize_text(p.value).strip()
            if not value or len(value) > 100:
                raise _invalid(
                    f"preferences.{i}", _("A preference names a value of 1 to 100 characters."), "value"
                )
            if not 1 <= p.weight <= 10:
                raise _invalid(f"preferences.{i}", _("A weight is a whole number from 1 to 10."), "weight")
            if (p.kind, value) in seen_p:
                raise _invalid(
                    f"preferences.{i}", _("%(value)s is listed twice.") % {"value": value}, "duplicate"
                )
            seen_p.add((p.kind, value))
    profile, _c = Profile.objects.select_for_update().get_or_create(person=person)
    profile.available_from = available_from
    profile.available_until = available_until
    profile.max_hours_week = max_hours_week
    profile.no_nights = no_nights
    profile.save()
    if windows is not None:
        WeeklyWindow.objects.filter(person=person).delete()
        WeeklyWindow.objects.bulk_create(
            [
                WeeklyWindow(
                    person=person, weekday=w.weekday, start_minute=w.start_minute, end_minute=w.end_minute
                )
                for w in windows
            ]
        )
    if days_off is not None:
        DayOff.objects.filter(person=person).delete()
        DayOff.objects.bulk_create([DayOff(person=person, day=d) for d in sorted(set(days_off))])
    if home_observation is not None:
        HomeObservation.objects.filter(person=person).delete()
        HomeObservation.objects.bulk_create(
            [HomeObservation(person=person, start=a, end=b) for a, b in sorted(home_observation)]
        )
    if qualifications is not None:
        Qualification.objects.filter(person=person).delete()
        Qualification.objects.bulk_create(
            [
                Qualification(person=person, skill=skills[q.skill], valid_until=q.valid_until, note=q.note)
                for q in qualifications
            ]
        )
    if preferences is not None:
        Preference.objects.filter(person=person).delete()
        Preference.objects.bulk_create(
            [
                Preference(
                    person=person,
                    kind=p.kind,
                    value=normalize_text(p.value).strip(),
                    wanted=p.wanted,
                    weight=p.weight,
                )
                for p in preferences
            ]
        )
    _audit(
        actor,
        "volunteers.profile.changed",
        person,
        person.unit.path,
        person=person.code,
        available_from=str(available_from or ""),
        available_until=str(available_until or ""),
        max_hours_week=max_hours_week,
        no_nights=no_nights,
        windows=None if windows is None else len(windows),
        days_off=None if days_off is None else len(days_off),
        home_observation=None
        if home_observation is None
        else [[str(a), str(b)] for a, b in home_observation],
        qualifications=None if qualifications is None else [q.skill for q in qualifications],
        preferences=None if preferences is None else len(preferences),
    )
    return profile


# ---------------------------------------------------------------- shift needs


def _require_shift_editor(actor: Any, shift: Shift) -> None:
    if not shift_is_visible(actor, shift):
        raise Http404
    if not access.can(actor, Perm.MOBILIZE_DISPATCH, shift.owner_unit):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


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


def _audience(actor: Any, team: Team | None, unit: Unit | None) -> None:
    if (team is None) == (unit is None):
        raise _invalid("audience", _("Open to one team, unit or party branch."), "audience")
    if team is not None and not access.scoped(Team.objects.filter(pk=team.pk), actor).exists():
        raise _invalid("team", _("Unknown team."), "unknown")
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise _invalid("unit", _("Unknown unit."), "unknown")


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
    facts = queries.people_facts([person.pk])[person.pk]
    sf = queries.shift_facts(shift.start, shift.end, shift.mode, needs)
    names = dict(Skill.objects.values_list("code", "name"))
    for m in fit.misfits(facts, sf):
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


@transaction.atomic
def signup_create(
    *, actor: Any, opening: Opening, person: Person | None = None, wait: bool = False
) -> SignUp:
    """Sign up (报名) for an open shift; when it is full, join its waiting list if ``wait``."""
    person = _resolve_person(actor, person)
    locked = msvc._lock_people([person])[person.pk]
    opening = (
        Opening.objects.select_for_update(of=("self",))
        .select_related("shift", "shift__deployment", "unit")
        .get(pk=opening.pk)
    )
    if not queries.in_audience(opening, locked):
        raise Http404  # not open to them: as if it did not exist
    shift = opening.shift
    if not queries.is_self(actor, locked) and not shift_is_visible(actor, shift):
        raise Http404  # signing someone else up needs sight of the shift
    now = timezone.now()
    if not opening.is_open or now >= opening.deadline:
        raise _invalid(
            "opening",
            _("Sign-up for %(shift)s closed at %(at)s.")
            % {"shift": msvc._shift_name(shift), "at": _fmt(opening.deadline)},
            "deadline",
        )
    live = (
        SignUp.objects.filter(opening=opening, person=locked).exclude(status=SignUpStatus.CANCELLED).first()
    )
    if live is not None:
        return live
    _fit_errors(locked, shift)
    taken = shift.assignments.count()
    status = SignUpStatus.SEATED
    if taken >= shift.seats:
        if not wait:
            raise _invalid(
                "opening",
                _("All %(n)s seats of %(shift)s are taken; you may join the waiting list.")
                % {"n": shift.seats, "shift": msvc._shift_name(shift)},
                "full",
            )
        status = SignUpStatus.WAITING
    else:
        msvc.shift_take(
            actor=actor, shift=shift, person=locked, week_limit_minutes=queries.week_limit_minutes(locked)
        )
    su = SignUp.objects.create(
        opening=opening,
        person=locked,
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
        person=locked.code,
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


# ---------------------------------------------------------------- call-ups


def _next_code() -> str:
    year = timezone.localtime(timezone.now(), queries.tz()).year
    prefix = f"JJH{year}-"
    n = CallUp.objects.filter(code__startswith=prefix).count() + 1
    while CallUp.objects.filter(code=f"{prefix}{n:04d}").exists():
        n += 1
    return f"{prefix}{n:04d}"


def audience_people(team: Team | None, unit: Unit | None) -> Any:
    if team is not None:
        return Person.objects.filter(pk__in=TeamMembership.objects.filter(team=team).values("person_id"))
    assert unit is not None
    field = "party_unit__path" if unit.is_party else "unit__path"
    return Person.objects.filter(**{f"{field}__startswith": unit.path})


@transaction.atomic
def callup_create(
    *,
    actor: Any,
    unit: Unit,
    title: str,
    start: datetime,
    end: datetime,
    people_needed: int,
    deadline: datetime,
    place: str = "",
    skills: Sequence[str] = (),
    team: Team | None = None,
    audience_unit: Unit | None = None,
    deployment: Deployment | None = None,
) -> CallUp:
    """Send a call-up (集结号) to everyone of the audience; each gets a notice with their answer link."""
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    _audience(actor, team, audience_unit)
    title = normalize_text(title or "").strip()
    place = normalize_text(place or "").strip()
    if not title or len(title) > 200:
        raise _invalid("title", _("The task is 1 to 200 characters."), "title")
    if len(place) > 200:
        raise _invalid("place", _("The place is at most 200 characters."), "place")
    if end <= start:
        raise _invalid(
            "end",
            _("The end (%(end)s) must be after the start (%(start)s).")
            % {"end": _fmt(end), "start": _fmt(start)},
            "end_before_start",
        )
    if not 1 <= people_needed <= MAX_CALLUP:
        raise _invalid("people_needed", _("People needed: 1 to %(n)s.") % {"n": MAX_CALLUP}, "range")
    now = timezone.now()
    if deadline <= now:
        raise _invalid(
            "deadline", _("The answer deadline (%(at)s) has passed.") % {"at": _fmt(deadline)}, "past"
        )
    if deadline > start:
        raise _invalid("deadline", _("The answer deadline must be before the start."), "after_start")
    if deployment is not None:
        access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    sk = [skill_by_code(c, "skills") for c in dict.fromkeys(skills)]
    c = CallUp.objects.create(
        code=_next_code(),
        unit=unit,
        team=team,
        audience_unit=audience_unit,
        title=title,
        place=place,
        start=start,
        end=end,
        people_needed=people_needed,
        deadline=deadline,
        deployment=deployment,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    c.skills.set(sk)
    people = list(audience_people(team, audience_unit).select_related("user").order_by("pk"))
    invites = CallUpInvite.objects.bulk_create(
        [CallUpInvite(callup=c, person=p) for p in people], batch_size=2000
    )
    c.invited = len(invites)
    c.save(update_fields=["invited"])
    _audit(
        actor, "volunteers.callup.created", c, unit.path, code=c.code, invited=c.invited, needed=people_needed
    )
    token_of = {i.person_id: i.token for i in invites}
    by_user = recipients_of(people)
    title_text = _("Call-up: %(title)s") % {"title": title}
    body = _("%(n)s volunteers wanted, %(start)s–%(end)s %(place)s. Answer by %(deadline)s.") % {
        "n": people_needed,
        "start": _fmt(start),
        "end": _fmt(end),
        "place": place,
        "deadline": _fmt(deadline),
    }
    # with a login: one notice each in one write, linking to their sign-up page (which lists the call-up
    # with their answer link); without one (e-mail only): their own answer link in the message
    with_login = [(u, p) for u, p in by_user if u is not None]
    if with_login:
        notify(with_login, verb="volunteers.callup", title=title_text, body=body, link="/volunteers/")
    for u, p in by_user:
        if u is None:
            notify(
                [(u, p)],
                verb="volunteers.callup",
                title=title_text,
                body=body,
                link=f"/volunteers/answer/{token_of[p.pk]}/",
            )
    return c


@transaction.atomic
def callup_answer(
    *, actor: Any, invite: CallUpInvite, answer: str, reason: str = "", by_link: bool = False
) -> CallUpInvite:
    """Answer a call-up: "yes" (报名) or "no" (不能参加, with a reason), once, before the deadline.
    ``by_link``: through the secret link of the message (the link is the credential)."""
    invite = CallUpInvite.objects.select_for_update().select_related("callup", "person").get(pk=invite.pk)
    if (
        not by_link
        and not queries.is_self(actor, invite.person)
        and not may_edit_person(actor, invite.person)
    ):
        raise Http404
    c = invite.callup
    now = timezone.now()
    if answer not in AnswerChoice.values:
        raise _invalid("answer", _("Answer yes (报名) or no (不能参加)."), "answer")
    reason = normalize_text(reason or "").strip()
    if answer == AnswerChoice.NO and not reason:
        raise _invalid("reason", _("Say why you cannot attend."), "reason_required")
    if len(reason) > 300:
        raise _invalid("reason", _("The reason is at most 300 characters."), "too_long")
    if invite.answer:
        raise _invalid(
            "answer",
            _("You already answered this call-up (%(answer)s at %(at)s).")
            % {"answer": invite.get_answer_display(), "at": _fmt(invite.answered_at or now)},
            "twice",
        )
    if now >= c.deadline:
        raise _invalid(
            "answer", _("Answers to this call-up closed at %(at)s.") % {"at": _fmt(c.deadline)}, "deadline"
        )
    invite.answer = answer
    invite.reason = reason
    invite.answered_at = now
    invite.save(update_fields=["answer", "reason", "answered_at"])
    if answer == AnswerChoice.YES and c.filled_at is None:
        locked = CallUp.objects.select_for_update().get(pk=c.pk)
        if locked.filled_at is None and (
            CallUpInvite.objects.filter(callup=c, answer=AnswerChoice.YES).count() >= c.people_needed
        ):
            locked.filled_at = now
            locked.save(update_fields=["filled_at"])
    _audit(
        None if by_link else actor,
        "volunteers.callup.answered",
        c,
        c.unit.path,
        person=invite.person.code,
        answer=answer,
        by_link=by_link,
    )
    return invite


def _require_callup_manager(actor: Any, c: CallUp) -> None:
    if not queries.callups_visible(actor).filter(pk=c.pk).exists():
        raise Http404
    access.require(actor, Perm.MOBILIZE_DISPATCH, c.unit)


@transaction.atomic
def callup_pick(
    *, actor: Any, callup: CallUp, people: Sequence[Person], deployment: Deployment | None = None
) -> list[CallUpInvite]:
    """Pick people who answered "yes"; they become members of the batch at once (one transaction)."""
    _require_callup_manager(actor, callup)
    d = deployment or callup.deployment
    if d is None:
        raise _invalid("deployment", _("Name the batch the picked people join."), "required")
    invites = {
        i.person_id: i
        for i in CallUpInvite.objects.select_for_update().filter(callup=callup, person__in=people)
    }
    picked = []
    for p in people:
        inv = invites.get(p.pk)
        if inv is None or inv.answer != AnswerChoice.YES:
            raise _invalid(
                "people", _("%(person)s has not answered yes to this call-up.") % {"person": p}, "not_yes"
            )
        msvc.deployment_member_add(actor=actor, deployment=d, person=p)
        inv.picked = True
        inv.save(update_fields=["picked"])
        picked.append(inv)
    if callup.deployment_id is None:
        callup.deployment = d
        callup.save(update_fields=["deployment"])
    _audit(
        actor,
        "volunteers.callup.picked",
        callup,
        callup.unit.path,
        people=[p.code for p in people],
        batch=d.code,
    )
    return picked


def callup_suggest(callup: CallUp) -> list[Person]:
    """The engine's pick: from the "yes" answers, up to N people who hold the skills (valid on the day),
    are free then (``mobilize.rules``) and may serve on site, earliest answers first — solved by the
    rostering engine as one shift of N seats."""
    answers = list(
        CallUpInvite.objects.filter(callup=callup, answer=AnswerChoice.YES, picked=False)
        .select_related("person")
        .order_by("answered_at", "id")
    )
    if not answers:
        return []
    skills = frozenset(callup.skills.values_list("code", flat=True))
    facts = queries.people_facts([a.person_id for a in answers])
    lo, hi = mrules.window(callup.start, callup.end)
    commitments = mrules.commitments_of([a.person_id for a in answers], lo, hi)
    z = queries.tz()
    day0 = datetime.combine(callup.start.astimezone(z).date(), datetime.min.time(), tzinfo=z)
    s_min = int((callup.start - day0).total_seconds() // 60)
    e_min = int((callup.end - day0).total_seconds() // 60)
    days = max(1, -(-e_min // 1440))
    sf = queries.shift_facts(callup.start, callup.end, "onsite", (skills, frozenset()))
    people = []
    prefs = []
    by_code = {}
    n = len(answers)
    for rank, a in enumerate(answers):
        f = facts[a.person_id]
        misfit = [
            m for m in fit.misfits(f, sf) if m.code in {"skill_missing", "skill_expired", "home_observation"}
        ]
        busy = [
            b
            for b in mrules.judge(
                who="",
                start=callup.start,
                end=callup.end,
                commitments=commitments.get(a.person_id, []),
                deployment_id=callup.deployment_id,
            )
            if b.code == "conflict"
        ]
        if misfit or busy:
            continue
        held = frozenset(c for c in f.skills if fit.holds(f, c, sf.start.date()))
        people.append(eng.Person(id=a.person.code, skills=held, max_minutes_day=None, max_shifts_per_day=1))
        prefs.append(eng.Preference(a.person.code, "callup", n - rank))
        by_code[a.person.code] = a.person
    if not people:
        return []
    shift = eng.Shift(
        id="callup",
        day=0,
        start=s_min,
        end=e_min,
        required=callup.people_needed,
        max_count=callup.people_needed,
        skills=skills,
    )
    problem = eng.Problem(days=days, people=people, shifts=[shift], preferences=prefs)
    result = eng.solve(problem, eng.Options(seconds=2, seed=0, deterministic=True, workers=1))
    chosen = {p for p, _s in result.assignments}
    return [by_code[c] for c in by_code if c in chosen]
