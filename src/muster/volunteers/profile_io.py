"""Volunteer profiles from a spreadsheet: a registration of the import pipeline (``muster.tabular.pipeline``).

Six sheets, each optional (a file holds at least one): 志愿者 / Volunteers (the overall period, most hours a
week, no nights), 技能 / Skills (with expiry), 每周时段 / Weekly windows, 不可服务日期 / Days off, 偏好 /
Preferences, 居家观察 / Home observation. Every row names a person by staff number.

The file is the whole profile of the people it names: for each sheet the file holds, a person named
anywhere in the file gets exactly that sheet's rows (none: the list is emptied); a sheet the file does not
hold leaves that list as it is. A person missing from the Volunteers sheet keeps their period and limits.

Every row is checked (the person in the importer's scope and theirs to change; dates, numbers, times; the
skill on the list; windows that end before they start or overlap; overlapping home observation; a row
twice) and every problem reported with its sheet, row, column and value; a person out of scope gets the
same words as one that does not exist. Only a clean file is written, through ``services.profile_set``
(one audited change per person whose profile differs), in one transaction. Export
(``muster.volunteers.profile_export``) writes the same layout, so an exported file imports back with no
change.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.utils.translation import gettext as _

from muster import dates
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.orgs.rules import cell_problem
from muster.tabular.cells import CellError, choice_table, is_blank, parse_choice, parse_date, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import TextCells, chunks, person_not_in_scope
from muster.tabular.schema import Column, SheetSpec, Table
from muster.volunteers import fit, services
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

PERSON = Column("person", "工号", "Staff number", ("person", "人员编号", "staff no"), True)
VOLUNTEERS = SheetSpec(
    "volunteers",
    "志愿者",
    "Volunteers",
    (
        PERSON,
        Column("name", "姓名", "Name"),
        Column("available_from", "可服务起始日", "Available from", ("available from",)),
        Column("available_until", "可服务截止日", "Available until", ("available until",)),
        Column("max_hours_week", "每周最多小时", "Most hours a week", ("max hours",)),
        Column("no_nights", "不排夜班", "No night shifts", ("no nights",)),
    ),
    aliases=("志愿者档案", "profiles"),
)
SKILLS = SheetSpec(
    "skills",
    "技能",
    "Skills",
    (
        PERSON,
        Column("skill", "技能资质", "Skill", ("技能代码", "skill code"), True),
        Column("valid_until", "有效期至", "Valid until", ("valid until",)),
        Column("note", "备注", "Note"),
    ),
    aliases=("资质", "qualifications"),
)
WINDOWS = SheetSpec(
    "windows",
    "每周时段",
    "Weekly windows",
    (
        PERSON,
        Column("weekday", "星期", "Weekday", (), True),
        Column("start", "开始时间", "From", ("start",), True),
        Column("end", "结束时间", "To", ("end",), True),
    ),
    aliases=("可服务时段", "availability"),
)
DAYS_OFF = SheetSpec(
    "days_off",
    "不可服务日期",
    "Days off",
    (PERSON, Column("day", "日期", "Day", ("date",), True)),
    aliases=("请假", "days off"),
)
PREFERENCES = SheetSpec(
    "preferences",
    "偏好",
    "Preferences",
    (
        PERSON,
        Column("kind", "类别", "About", (), True),
        Column("value", "内容", "Value", (), True),
        Column("wanted", "意愿", "Wish"),
        Column("weight", "权重", "Weight"),
    ),
    aliases=("意愿", "wishes"),
)
HOME = SheetSpec(
    "home_observation",
    "居家观察",
    "Home observation",
    (
        PERSON,
        Column("start", "开始日期", "From", ("start",), True),
        Column("end", "结束日期", "To", ("end",), True),
    ),
    aliases=("home observation",),
)
SPECS = (VOLUNTEERS, SKILLS, WINDOWS, DAYS_OFF, PREFERENCES, HOME)
LISTS = ("skills", "windows", "days_off", "preferences", "home_observation")

WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_LONG = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = choice_table(
    (
        WEEKDAY_EN[i].lower(),
        (WEEKDAY_ZH[i], WEEKDAY_EN[i], _WEEKDAY_LONG[i], "星期" + WEEKDAY_ZH[i][1], str(i + 1))
        + (("周天", "星期天", "星期日") if i == 6 else ()),
    )
    for i in range(7)
)  # 1 to 7: Monday first
_WEEKDAY_INDEX = {w.lower(): i for i, w in enumerate(WEEKDAY_EN)}
KIND_ZH = {PreferenceKind.KIND: "班次类型", PreferenceKind.SITE: "地点", PreferenceKind.TIME: "时段"}
KIND_EN = {PreferenceKind.KIND: "Shift kind", PreferenceKind.SITE: "Site", PreferenceKind.TIME: "Time of day"}
KINDS = choice_table(
    (c, (KIND_ZH[PreferenceKind(c)], KIND_EN[PreferenceKind(c)])) for c in PreferenceKind.values
)
YES_ZH, NO_ZH = "是", "否"
BOOLS = choice_table([("1", ("是", "yes", "y", "true", "√", "✓")), ("0", ("否", "no", "n", "false", "×"))])
WANTED_ZH, UNWANTED_ZH = "希望", "不希望"
WANTED = choice_table(
    [
        ("1", ("希望", "wanted", "want", "yes", "是", "想")),
        ("0", ("不希望", "unwanted", "not wanted", "no", "否")),
    ]
)
_TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：]00)?$")


@dataclass
class VolunteerImportResult:
    people: int = 0
    profiles_created: int = 0
    profiles_updated: int = 0
    profiles_unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary(result: VolunteerImportResult) -> str:
    lines = [
        _(
            "Volunteer profiles: %(people)d people, %(created)d created, %(updated)d changed, "
            "%(same)d unchanged."
        )
        % {
            "people": result.people,
            "created": result.profiles_created,
            "updated": result.profiles_updated,
            "same": result.profiles_unchanged,
        }
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)


def may_import(actor: Any) -> bool:
    return access.can_anywhere(actor, Perm.CHANGE) or access.can_anywhere(actor, Perm.MOBILIZE_DISPATCH)


def require(actor: Any) -> None:
    if not may_import(actor):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


# ---------------------------------------------------------------- cells


def _day(raw: Any) -> date | None:
    d = parse_date(raw)
    if d is not None and not dates.day_in_range(d):
        raise CellError(dates.date_range_message())
    return d


def _whole(raw: Any, lo: int, hi: int) -> int | None:
    """A whole number from ``lo`` to ``hi`` (blank: None); huge or fractional numbers are refused."""
    if is_blank(raw):
        return None
    bad = CellError(_("a whole number from %(lo)d to %(hi)d") % {"lo": lo, "hi": hi})
    if isinstance(raw, bool):
        raise bad
    if isinstance(raw, float):
        if raw != raw or not lo <= raw <= hi or not raw.is_integer():
            raise bad
        return int(raw)
    if isinstance(raw, int):
        if not lo <= raw <= hi:
            raise bad
        return raw
    s = text(raw)
    if not s.isascii() or not s.isdigit() or len(s) > 6 or not lo <= int(s) <= hi:
        raise bad
    return int(s)


def _minute(raw: Any, *, end: bool) -> int:
    """Minutes of the day from 08:00 (24:00 for the end of a window), a time cell or Excel's fraction."""
    bad = CellError(_("not a time; write it like 08:00 (24:00 for midnight at the end)"))
    if isinstance(raw, datetime):
        raw = raw.time()
    if isinstance(raw, time):
        return raw.hour * 60 + raw.minute
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        if not 0 <= raw <= 1:
            raise bad
        return round(raw * 1440)
    m = _TIME_RE.match(text(raw))
    if m is None:
        raise bad
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and (mi or not end)):
        raise bad
    return h * 60 + mi


# ---------------------------------------------------------------- the plan


@dataclass
class Wanted:
    """One person's profile as the file gives it (None: the file does not say, kept as it is)."""

    person: Person
    fields: dict[str, Any] | None = None
    skills: dict[str, tuple[date | None, str]] | None = None
    windows: list[tuple[int, int, int]] | None = None
    days_off: set[date] | None = None
    preferences: dict[tuple[str, str], tuple[bool, int]] | None = None
    home_observation: list[tuple[date, date]] | None = None


@dataclass
class Plan:
    wanted: dict[int, Wanted] = field(default_factory=dict)
    changed: list[Wanted] = field(default_factory=list)
    result: VolunteerImportResult = field(default_factory=VolunteerImportResult)


class _Sheet:
    """One table with the error collector: reading a cell, reporting on a row."""

    def __init__(self, t: Table, errors: ErrorCollector) -> None:
        self.t, self.errors = t, errors
        self.texts: dict[tuple[str, int], TextCells] = {}

    def bad(self, row: int, key: str, value: Any, reason: str) -> None:
        self.errors.add(self.t.sheet, row, self.t.column(key), value, reason)

    def parse(self, cells: list[Any], row: int, key: str, parser: Any, *args: Any, **kw: Any) -> Any:
        raw = self.t.get(cells, key)
        try:
            return parser(raw, *args, **kw)
        except CellError as exc:
            self.bad(row, key, raw, str(exc))
            return None

    def required(self, cells: list[Any], row: int, key: str) -> bool:
        if is_blank(self.t.get(cells, key)):
            self.bad(row, key, "", _("a value is required"))
            return False
        return True

    def words(self, cells: list[Any], row: int, key: str, limit: int) -> str | None:
        """The cell's clean text, or None when it breaks a rule of a text or is too long (said in errors)."""
        check = self.texts.get((key, limit))
        if check is None:
            check = self.texts[key, limit] = TextCells(self.errors, self.t, key=key, max_len=limit)
        raw = self.t.get(cells, key)
        value = text(raw)
        return value if check.check(row, raw, value) else None


def _people(actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> dict[str, Person | None]:
    """{staff number: the person, or None when not in the actor's scope or not theirs to change} for every
    number in the file; each bad number is reported on every row that names it."""
    codes: set[str] = set()
    for t in tables.values():
        for _row, cells in t.rows:
            codes.add(text(t.get(cells, "person")))
    codes.discard("")
    found: dict[str, Person] = {}
    for part in chunks(codes):
        qs = Person.objects.filter(code__in=part).select_related("unit", "party_unit")
        found.update({p.code: p for p in access.scoped(qs, actor)})
    if getattr(actor, "pk", None) is not None:  # one's own profile, whatever one's scope
        own = Person.objects.filter(user_id=actor.pk).select_related("unit", "party_unit")
        found.update({p.code: p for p in own if p.code in codes})
    out: dict[str, Person | None] = {}
    for code in codes:
        p = found.get(code)
        out[code] = p if p is not None and services.may_edit_person(actor, p) else None
    for t in tables.values():
        s = _Sheet(t, errors)
        for row, cells in t.rows:
            raw = t.get(cells, "person")
            code = text(raw)
            problem = cell_problem(raw, "person", code=True) if isinstance(raw, str) else None
            if problem:
                s.bad(row, "person", raw, problem)
            elif not code:
                s.bad(row, "person", "", _("a staff number is required"))
            elif code not in found:
                s.bad(row, "person", code, person_not_in_scope())
            elif out[code] is None:
                s.bad(row, "person", code, _("you may not change this person's volunteer profile"))
    return out


def volunteer_plan(*, actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> Plan:
    """Check the sheets against the database and the actor's rights; add every problem to ``errors``."""
    plan = Plan()
    people = _people(actor, tables, errors)
    for p in people.values():
        if p is not None:
            plan.wanted.setdefault(p.pk, Wanted(p))
    # a sheet the file holds sets that list for everybody the file names
    for key in LISTS:
        if key in tables:
            for w in plan.wanted.values():
                setattr(
                    w, key, {} if key in ("skills", "preferences") else set() if key == "days_off" else []
                )

    def rows(key: str) -> Any:
        t = tables.get(key)
        if t is None:
            return
        s = _Sheet(t, errors)
        for row, cells in t.rows:
            p = people.get(text(t.get(cells, "person")))
            yield s, row, cells, (plan.wanted[p.pk] if p is not None else None)

    seen_rows: dict[int, int] = {}
    for s, row, cells, w in rows("volunteers"):
        a = s.parse(cells, row, "available_from", _day)
        b = s.parse(cells, row, "available_until", _day)
        hours = s.parse(cells, row, "max_hours_week", _whole, 1, 168)
        nights = s.parse(cells, row, "no_nights", parse_choice, BOOLS, f"{YES_ZH}/{NO_ZH}")
        if a and b and b < a:
            s.bad(
                row,
                "available_until",
                s.t.get(cells, "available_until"),
                _("the period ends before it starts"),
            )
        if w is None:
            continue
        if w.person.pk in seen_rows:
            s.bad(
                row,
                "person",
                w.person.code,
                _("this person is on row %(row)d already") % {"row": seen_rows[w.person.pk]},
            )
            continue
        seen_rows[w.person.pk] = row
        w.fields = {
            "available_from": a,
            "available_until": b,
            "max_hours_week": hours,
            "no_nights": nights == "1",
        }

    skills = {}
    for sk in Skill.objects.all():
        skills[sk.code.casefold()] = sk.code
        skills.setdefault(sk.name.casefold(), sk.code)
    for s, row, cells, w in rows("skills"):
        code = None
        if s.required(cells, row, "skill"):
            raw = s.t.get(cells, "skill")
            code = skills.get(text(raw).casefold())
            if code is None:
                s.bad(row, "skill", raw, _("not on the skill list; pick one from the list"))
        until = s.parse(cells, row, "valid_until", _day)
        note = s.words(cells, row, "note", 200)
        if w is None or code is None or note is None or w.skills is None:
            continue
        if code in w.skills:
            s.bad(
                row,
                "skill",
                s.t.get(cells, "skill"),
                _("this person holds this skill on another row already"),
            )
            continue
        w.skills[code] = (until, note)

    window_rows: dict[int, list[int]] = defaultdict(list)
    for s, row, cells, w in rows("windows"):
        wd = (
            s.parse(cells, row, "weekday", parse_choice, WEEKDAYS, "、".join(WEEKDAY_ZH))
            if s.required(cells, row, "weekday")
            else None
        )
        a = s.parse(cells, row, "start", _minute, end=False) if s.required(cells, row, "start") else None
        b = s.parse(cells, row, "end", _minute, end=True) if s.required(cells, row, "end") else None
        if wd is None or a is None or b is None:
            continue
        if b <= a:
            s.bad(
                row, "end", s.t.get(cells, "end"), _("the window ends before it starts (or when it starts)")
            )
            continue
        if w is not None and w.windows is not None:
            w.windows.append((_WEEKDAY_INDEX[wd], a, b))
            window_rows[w.person.pk].append(row)
    if "windows" in tables:
        s = _Sheet(tables["windows"], errors)
        for pid, w in plan.wanted.items():
            for i, code in fit.window_problems(w.windows or []):
                if code == "overlap":
                    s.bad(window_rows[pid][i], "start", "", _("this window overlaps another of the same day"))

    day_rows: dict[tuple[int, date], int] = {}
    for s, row, cells, w in rows("days_off"):
        day = s.parse(cells, row, "day", _day) if s.required(cells, row, "day") else None
        if day is None or w is None or w.days_off is None:
            continue
        if (w.person.pk, day) in day_rows:
            s.bad(
                row,
                "day",
                day.isoformat(),
                _("this day is on row %(row)d already") % {"row": day_rows[(w.person.pk, day)]},
            )
            continue
        day_rows[(w.person.pk, day)] = row
        w.days_off.add(day)

    for s, row, cells, w in rows("preferences"):
        kind = (
            s.parse(cells, row, "kind", parse_choice, KINDS, "/".join(KIND_ZH.values()))
            if s.required(cells, row, "kind")
            else None
        )
        value = s.words(cells, row, "value", 100) if s.required(cells, row, "value") else None
        wanted = s.parse(cells, row, "wanted", parse_choice, WANTED, f"{WANTED_ZH}/{UNWANTED_ZH}")
        weight = s.parse(cells, row, "weight", _whole, 1, 10)
        if kind is None or not value or w is None or w.preferences is None:
            continue
        if (kind, value) in w.preferences:
            s.bad(row, "value", value, _("this person has this preference on another row already"))
            continue
        w.preferences[(kind, value)] = (wanted != "0", weight or 1)

    home_rows: dict[int, list[tuple[date, date, int]]] = defaultdict(list)
    for s, row, cells, w in rows("home_observation"):
        a = s.parse(cells, row, "start", _day) if s.required(cells, row, "start") else None
        b = s.parse(cells, row, "end", _day) if s.required(cells, row, "end") else None
        if a is None or b is None:
            continue
        if b < a:
            s.bad(row, "end", s.t.get(cells, "end"), _("home observation ends before it starts"))
            continue
        if w is not None and w.home_observation is not None:
            w.home_observation.append((a, b))
            home_rows[w.person.pk].append((a, b, row))
    if "home_observation" in tables:
        s = _Sheet(tables["home_observation"], errors)
        for spans in home_rows.values():
            for (_a1, b1, r1), (a2, _b2, r2) in itertools.pairwise(sorted(spans)):
                if a2 <= b1:
                    s.bad(
                        r2,
                        "start",
                        a2.isoformat(),
                        _("overlaps the home observation on row %(row)d") % {"row": r1},
                    )

    for w in plan.wanted.values():
        for key in LISTS:
            items = getattr(w, key)
            if items is not None and len(items) > services.MAX_ROWS:
                errors.add(
                    tables[key].sheet, None, PERSON.header(), w.person.code,
                    _("at most %(n)d rows for one person") % {"n": services.MAX_ROWS},
                )  # fmt: skip
    plan.result.people = len(plan.wanted)
    if not errors:
        _compare(plan)
    return plan


def current(person_ids: list[int]) -> dict[int, Wanted]:
    """The profiles stored now, in the plan's shape (what an export writes)."""
    out = {pid: Wanted(Person(pk=pid), None, {}, [], set(), {}, []) for pid in person_ids}
    for part in chunks(person_ids):
        for pr in Profile.objects.filter(person_id__in=part):
            out[pr.person_id].fields = {
                "available_from": pr.available_from,
                "available_until": pr.available_until,
                "max_hours_week": pr.max_hours_week,
                "no_nights": pr.no_nights,
            }
        for pid, code, until, note in Qualification.objects.filter(person_id__in=part).values_list(
            "person_id", "skill__code", "valid_until", "note"
        ):
            out[pid].skills[code] = (until, note)  # type: ignore[index]
        for pid, wd, a, b in WeeklyWindow.objects.filter(person_id__in=part).values_list(
            "person_id", "weekday", "start_minute", "end_minute"
        ):
            out[pid].windows.append((wd, a, b))  # type: ignore[union-attr]
        for pid, day in DayOff.objects.filter(person_id__in=part).values_list("person_id", "day"):
            out[pid].days_off.add(day)  # type: ignore[union-attr]
        for pid, kind, value, wanted, weight in Preference.objects.filter(person_id__in=part).values_list(
            "person_id", "kind", "value", "wanted", "weight"
        ):
            out[pid].preferences[(kind, value)] = (wanted, weight)  # type: ignore[index]
        for pid, o_start, o_end in HomeObservation.objects.filter(person_id__in=part).values_list(
            "person_id", "start", "end"
        ):
            out[pid].home_observation.append((o_start, o_end))  # type: ignore[union-attr]
    return out


_EMPTY_FIELDS = {"available_from": None, "available_until": None, "max_hours_week": None, "no_nights": False}


def _compare(plan: Plan) -> None:
    now = current(list(plan.wanted))
    r = plan.result
    for pid, w in plan.wanted.items():
        have = now[pid]
        same = (w.fields is None or w.fields == (have.fields or _EMPTY_FIELDS)) and all(
            getattr(w, key) is None or _norm(getattr(w, key)) == _norm(getattr(have, key)) for key in LISTS
        )
        if same:
            r.profiles_unchanged += 1
            continue
        plan.changed.append(w)
        if have.fields is None:
            r.profiles_created += 1
        else:
            r.profiles_updated += 1
        # what the file does not say stays as it is
        w.fields = w.fields or have.fields or dict(_EMPTY_FIELDS)


def _norm(items: Any) -> Any:
    return sorted(items) if isinstance(items, list) else items


def volunteer_apply(plan: Plan, *, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    """Write a checked plan through ``services.profile_set`` (inside the caller's transaction)."""
    for w in plan.changed:
        assert w.fields is not None
        services.profile_set(
            actor=actor,
            person=w.person,
            **w.fields,
            windows=None if w.windows is None else [services.WindowIn(*t) for t in sorted(w.windows)],
            days_off=None if w.days_off is None else sorted(w.days_off),
            home_observation=None if w.home_observation is None else sorted(w.home_observation),
            qualifications=None
            if w.skills is None
            else [services.QualificationIn(c, u, n) for c, (u, n) in sorted(w.skills.items())],
            preferences=None
            if w.preferences is None
            else [services.PreferenceIn(k, v, wa, wt) for (k, v), (wa, wt) in sorted(w.preferences.items())],
        )


def volunteer_import(
    *, actor: Any, filename: str, data: bytes, dry_run: bool = False
) -> VolunteerImportResult:
    """Check a volunteer-profile file and, unless ``dry_run``, write it (all or nothing); raise
    ``TabularError`` listing every problem (``muster.tabular.pipeline.import_file``)."""
    from muster.volunteers.profile_export import IMPORTER

    result: VolunteerImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result
