"""The registry's sections beyond the dispatch figures and party life: one table per metric group.

Any app that registers figures with a ``group`` (``care``, ``outreach``, …) and an ``order`` (a column
of the section, ``registry.section(group)``) gets a section on the rollup page "截至…" and a sheet of
the Excel 台账, with no code here that knows the app: the rows are the unit's child units (drill-down,
as in the main table), the unit's own row and a total, the columns the group's metrics as of the cutoff.

- Which groups: every group with at least one column, except ``""`` (the dispatch and community figures
  of the main table) and ``"party"`` (its own section, ``muster.reports.party``, on the party tree).
- Who sees them: whoever may view the unit (``Perm.VIEW``, the page's own scoping). A figure that needs
  a special permission answers as its metric function does; nothing here shows records.
- Which are left out: a group whose every registered figure (columns or not) is zero for the subtree
  has no data there, and is not shown, to keep the page short.
- The own row is the total less the children for additive figures and "—" (``None``) for the others
  (distinct counts, rates), as in the party section. Inactive children without figures are left out,
  as in the main table.

Cost: one query per column per row (a unit has a few dozen children at most), after one per figure of
the group for the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.utils.functional import Promise

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Unit
from muster.reports import registry
from muster.reports.registry import Metric, Number

# Groups shown elsewhere: the main table's figures ("") and the party-life section.
OTHER_SECTIONS = frozenset({"", "party"})


@dataclass(frozen=True)
class SectionRow:
    code: str
    name: str
    own: bool
    has_children: bool
    values: tuple[Number | None, ...]


@dataclass(frozen=True)
class SectionTable:
    group: str
    title: str | Promise
    unit: Unit
    as_of: datetime
    columns: tuple[Metric, ...]
    rows: tuple[SectionRow, ...]
    total: tuple[Number, ...]


def groups() -> list[str]:
    """The groups that have a section of their own, in a stable order (by name)."""
    return sorted({m.group for m in registry.metrics() if m.group not in OTHER_SECTIONS and m.order})


def group_title(group: str) -> str | Promise:
    """The section's heading: the verbose name of the app labelled like the group, else the group."""
    try:
        return apps.get_app_config(group).verbose_name
    except LookupError:
        return group.replace("_", " ").capitalize()


def _answer(m: Metric, unit: Unit, as_of: datetime) -> Number:
    return m.answer(unit, as_of)


def _has_data(group: str, unit: Unit, as_of: datetime, total: tuple[Number, ...]) -> bool:
    if any(total):
        return True
    shown = {m.id for m in registry.section(group)}
    return any(_answer(m, unit, as_of) for m in registry.metrics() if m.group == group and m.id not in shown)


def _children(unit: Unit) -> list[Unit]:
    return list(Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("path"))


def section_table(group: str, unit: Unit, as_of: datetime, *, skip_empty: bool = True) -> SectionTable | None:
    """The group's table for ``unit``'s subtree as of the cutoff; ``None`` when the group has no columns
    or (``skip_empty``) no data in the subtree."""
    cols = tuple(registry.section(group))
    if not cols:
        return None
    total = tuple(_answer(m, unit, as_of) for m in cols)
    if skip_empty and not _has_data(group, unit, as_of, total):
        return None
    rows: list[SectionRow] = []
    sums: list[Number] = [0 for _m in cols]
    children = _children(unit)
    for child in children:
        values = tuple(_answer(m, child, as_of) for m in cols)
        sums = [s + v for s, v in zip(sums, values, strict=True)]
        if not child.is_active and not any(values):
            continue
        rows.append(SectionRow(child.code, child.name, False, child.numchild > 0, values))
    if children:
        own = tuple((t - s) if m.additive else None for m, t, s in zip(cols, total, sums, strict=True))
        if any(v for v in own if v is not None):
            rows.insert(0, SectionRow(unit.code, unit.name, True, False, own))
    return SectionTable(group, group_title(group), unit, as_of, cols, tuple(rows), total)


def sections_for(unit: Unit, as_of: datetime) -> list[SectionTable]:
    """Every group's table with data in ``unit``'s subtree (the caller has checked the unit's scope)."""
    with registry.shared_totals():  # what an app's metrics of one unit and cutoff share is read once
        return [t for g in groups() if (t := section_table(g, unit, as_of)) is not None]


def visible_sections(user: Any, unit: Unit, as_of: datetime) -> list[SectionTable]:
    """The sections ``user`` may see for ``unit``: all of them when they may view the unit, else none."""
    if not access.can(user, Perm.VIEW, unit):
        return []
    return sections_for(unit, as_of)


def number_format(m: Metric, value: Number | None) -> str:
    """The Excel number format of a figure: whole numbers, hours with two decimals, else as it is."""
    if m.kind == "hours":
        return "0.00"
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return "0.0#"
    return "0" if m.kind == "count" else "General"
