"""The skill list and a person's profile: skills with expiry, availability, preferences, limits, home
observation."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.orgs.validators import normalize_text
from muster.volunteers import fit
from muster.volunteers.models import (
    DayOff,
    HomeObservation,
    Preference,
    PreferenceKind,
    Profile,
    Qualification,
    Skill,
    WeeklyWindow,
)
from muster.volunteers.services.common import (
    MAX_ROWS,
    _audit,
    _hhmm,
    _invalid,
    _require_person,
    skill_by_code,
)

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
