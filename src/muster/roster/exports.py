"""The published 排班表 of a plan: a people × days grid and a flat list, as an Excel workbook (two sheets)
or a print layout (A4 landscape). Personal data masked (phone numbers); names and staff numbers as the
plan's page shows them. The headers are translated into the request's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import local_tz
from muster.mobilize.models import Shift
from muster.orgs.models import Person
from muster.roster.models import RosterPlan
from muster.roster.naming import shift_name
from muster.tabular.writer import SheetData, xlsx_bytes

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Entry:
    day: date
    shift: Shift
    person: Person
    name: str  # the shift's display name (早班 …) or empty
    start: str  # HH:MM, local
    end: str

    @property
    def cell(self) -> str:
        return self.name or f"{self.start}–{self.end}"


@dataclass
class GridRow:
    person: Person
    cells: list[list[Entry]]
    hours: float


@dataclass
class RosterTable:
    plan: RosterPlan
    days: list[date]
    rows: list[GridRow] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def day_labels(self) -> list[str]:
        names = [_(w) for w in WEEKDAYS]
        return [f"{d:%m-%d} {names[d.weekday()]}" for d in self.days]


def _place(shift: Shift) -> str:
    if shift.post_id is not None and shift.post is not None:
        return shift.post.site or shift.post.name
    if shift.deployment_id is not None and shift.deployment is not None:
        return shift.deployment.site
    return ""


def roster_table(plan: RosterPlan) -> RosterTable:
    """The plan's roster (its proposal, which publishing made the real one) as a grid and a list."""
    tz = local_tz()
    days = [plan.start_date + timedelta(days=i) for i in range((plan.end_date - plan.start_date).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    table = RosterTable(plan, days)
    rows = plan.proposals.select_related("person", "shift", "shift__post", "shift__deployment").order_by(
        "shift__start", "shift_id", "person__code"
    )
    grid: dict[int, GridRow] = {}
    for r in rows:
        start = timezone.localtime(r.shift.start, tz)
        end = timezone.localtime(r.shift.end, tz)
        e = Entry(start.date(), r.shift, r.person, shift_name(r.shift), f"{start:%H:%M}", f"{end:%H:%M}")
        table.entries.append(e)
        row = grid.get(r.person_id)
        if row is None:
            row = grid[r.person_id] = GridRow(r.person, [[] for _d in days], 0.0)
        if e.day in index:
            row.cells[index[e.day]].append(e)
        row.hours += (r.shift.end - r.shift.start).total_seconds() / 3600
    table.rows = sorted(grid.values(), key=lambda g: g.person.code)
    for g in table.rows:
        g.hours = round(g.hours, 1)
    return table


def _place_cell(e: Entry) -> str:
    return _place(e.shift)


def roster_xlsx(*, actor: Any, plan: RosterPlan) -> tuple[str, bytes]:
    """(file name, workbook) of the plan's 排班表: sheet 1 people × days, sheet 2 one row per assignment.
    Audited (an export of names)."""
    table = roster_table(plan)
    grid = SheetData(
        title=_("Roster grid"),
        headers=[_("Staff number"), _("Name"), _("Phone"), *table.day_labels(), _("Hours")],
        rows=(
            [
                g.person.code,
                g.person.name,
                g.person.phone_masked,
                *["、".join(e.cell for e in cell) for cell in g.cells],
                g.hours,
            ]
            for g in table.rows
        ),
        widths=[12, 10, 14, *[12 for _d in table.days], 8],
    )
    flat = SheetData(
        title=_("Assignments"),
        headers=[
            _("Date"),
            _("Start"),
            _("End"),
            _("Shift"),
            _("Place"),
            _("Staff number"),
            _("Name"),
            _("Phone"),
        ],
        rows=(
            [
                e.day,
                e.start,
                e.end,
                e.name,
                _place_cell(e),
                e.person.code,
                e.person.name,
                e.person.phone_masked,
            ]
            for e in table.entries
        ),
        widths=[12, 8, 8, 10, 20, 12, 10, 14],
    )
    content = xlsx_bytes([grid, flat])
    log_action(
        actor,
        action="roster.plan.exported",
        target=plan,
        unit_path=plan.unit.path,
        changes={"format": "xlsx", "rows": len(table.entries)},
    )
    name = f"roster-{plan.scope_name}-{plan.start_date:%Y%m%d}-{plan.end_date:%Y%m%d}.xlsx"
    return name, content
