"""Volunteer profiles out to a spreadsheet (the layout ``profile_io`` reads back), the template to fill in,
and the importer's registration on the pipeline (``muster.tabular.pipeline``).

The export holds the people the actor may edit (under ``unit`` if given: their unit or party unit) who
have anything recorded (only those who may import profiles may export them); it imports back with no
change. The template has drop-down lists for the skill list, weekdays, yes/no, preference kinds and wishes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Q
from django.http import Http404

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.tabular.pipeline import ExportSheet, Importer, check_export, export_file
from muster.tabular.schema import use_chinese
from muster.tabular.template import TemplateSheet, template_file
from muster.volunteers import profile_io as io
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

SHEETS = tuple(s.key for s in io.SPECS)
_WIDTHS = {
    "volunteers": (12, 12, 14, 14, 12, 10),
    "skills": (12, 14, 14, 30),
    "windows": (12, 8, 10, 10),
    "days_off": (12, 14),
    "preferences": (12, 10, 24, 10, 8),
    "home_observation": (12, 14, 14),
}


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def people_with_profiles(actor: Any, unit: Unit | None) -> list[Person]:
    """The people the actor may edit (under ``unit``: their unit or party unit) with anything recorded, by
    staff number. Windows, days off and home observation are private time and health: the profile page shows
    them only to the person and to those who may edit them, and the file follows the same rule."""
    recorded = Q(pk__in=[])
    for model in (Profile, Qualification, WeeklyWindow, DayOff, HomeObservation, Preference):
        recorded |= Q(pk__in=model.objects.values("person_id"))
    base = Person.objects.filter(recorded)
    if unit is not None:
        base = base.filter(Q(unit__path__startswith=unit.path) | Q(party_unit__path__startswith=unit.path))
    editable = access.scoped(base, actor, Perm.CHANGE) | access.scoped(base, actor, Perm.MOBILIZE_DISPATCH)
    return list(editable.distinct().order_by("code"))


def volunteer_export(
    *, actor: Any, fmt: str, unit: Unit | None = None, sheet: str = "volunteers"
) -> tuple[bytes, str, str]:
    """Every sheet in an .xlsx, or the one named ``sheet`` as .csv: (content, content type, file name)."""
    check_export(fmt, sheet, SHEETS)
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise Http404
    io.require(actor)  # the file is for those who may edit profiles (it is what the import reads back)
    chinese = use_chinese()
    people = people_with_profiles(actor, unit)
    state = io.current([p.pk for p in people])
    names = dict(Skill.objects.values_list("code", "name"))
    counts = {"people": len(people)}
    yes, no = (io.YES_ZH, io.NO_ZH) if chinese else ("yes", "no")
    wanted, unwanted = (io.WANTED_ZH, io.UNWANTED_ZH) if chinese else ("wanted", "unwanted")
    weekdays = io.WEEKDAY_ZH if chinese else io.WEEKDAY_EN

    def volunteers() -> Iterator[list[Any]]:
        for p in people:
            f = state[p.pk].fields or {}
            yield [
                p.code,
                p.name,
                f.get("available_from"),
                f.get("available_until"),
                f.get("max_hours_week"),
                yes if f.get("no_nights") else no,
            ]

    def skills() -> Iterator[list[Any]]:
        for p in people:
            for code, (until, note) in sorted((state[p.pk].skills or {}).items()):
                yield [p.code, names.get(code, code), until, note]

    def windows() -> Iterator[list[Any]]:
        for p in people:
            for wd, a, b in sorted(state[p.pk].windows or []):
                yield [p.code, weekdays[wd], _hhmm(a), _hhmm(b)]

    def days_off() -> Iterator[list[Any]]:
        for p in people:
            for d in sorted(state[p.pk].days_off or ()):
                yield [p.code, d]

    def preferences() -> Iterator[list[Any]]:
        for p in people:
            for (kind, value), (w, weight) in sorted((state[p.pk].preferences or {}).items()):
                label = io.KIND_ZH[PreferenceKind(kind)] if chinese else io.KIND_EN[PreferenceKind(kind)]
                yield [p.code, label, value, wanted if w else unwanted, weight]

    def home() -> Iterator[list[Any]]:
        for p in people:
            for a, b in sorted(state[p.pk].home_observation or []):
                yield [p.code, a, b]

    rows = {
        "volunteers": volunteers,
        "skills": skills,
        "windows": windows,
        "days_off": days_off,
        "preferences": preferences,
        "home_observation": home,
    }
    return export_file(
        actor=actor,
        action="volunteers.profiles.exported",
        name="volunteers",
        fmt=fmt,
        sheet=sheet,
        unit=unit,
        sheets=[ExportSheet(s.key, s, rows[s.key](), _WIDTHS[s.key]) for s in io.SPECS],
        counts=counts,
    )


def volunteer_template(actor: Any = None) -> tuple[bytes, str, str]:
    """A workbook to fill in: every sheet's headers, one example row each (marked 示例 / Example, skipped by
    the import), drop-down lists for skills, weekdays, yes/no, preference kinds and wishes."""
    chinese = use_chinese()
    skills = list(Skill.objects.filter(is_active=True).values_list("name", flat=True))
    yes_no = [io.YES_ZH, io.NO_ZH] if chinese else ["yes", "no"]
    weekdays = list(io.WEEKDAY_ZH if chinese else io.WEEKDAY_EN)
    kinds = list(io.KIND_ZH.values()) if chinese else list(io.KIND_EN.values())
    wishes = [io.WANTED_ZH, io.UNWANTED_ZH] if chinese else ["wanted", "unwanted"]
    who = "A00001"
    example: dict[str, dict[str, Any]] = {
        "volunteers": {
            "person": who,
            "name": "张三" if chinese else "Zhang San",
            "available_from": "2025-01-01",
            "available_until": "2025-12-31",
            "max_hours_week": 20,
            "no_nights": yes_no[1],
        },
        "skills": {"person": who, "skill": skills[0] if skills else "", "valid_until": "2026-06-30"},
        "windows": {"person": who, "weekday": weekdays[0], "start": "08:00", "end": "12:00"},
        "days_off": {"person": who, "day": "2025-05-01"},
        "preferences": {
            "person": who,
            "kind": kinds[0],
            "value": "hotline",
            "wanted": wishes[0],
            "weight": 3,
        },
        "home_observation": {"person": who, "start": "2025-03-01", "end": "2025-03-14"},
    }
    choices: dict[str, dict[str, Sequence[str]]] = {
        "volunteers": {"no_nights": yes_no},
        "skills": {"skill": skills},
        "windows": {"weekday": weekdays},
        "preferences": {"kind": kinds, "wanted": wishes},
    }
    return template_file(
        [TemplateSheet(s, choices.get(s.key, {}), example[s.key], _WIDTHS[s.key]) for s in io.SPECS],
        chinese=chinese,
        name="volunteers-template.xlsx",
    )


IMPORTER = Importer(
    key="volunteers",
    order=40,
    specs=io.SPECS,
    require=io.require,
    plan=io.volunteer_plan,
    apply=io.volunteer_apply,
    summary=io.summary,
    export=volunteer_export,
    template=volunteer_template,
    check_by_applying=True,
)
