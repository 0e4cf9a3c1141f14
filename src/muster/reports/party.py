"""Party-life and points figures in the reports: the registry's ``party`` section.

The figures (``muster.partylife.metrics``, ``muster.points.metrics``) are registered with
``group="party"``; those with an ``order`` are the columns of the rollup page's section
"党建与组织生活", in that order — the template knows none of them.

**Which party organization an administrative unit shows.** Party-life facts hang on the party tree
(党委 → 党支部 → 党小组), which is separate from the administrative tree. For an administrative unit the
section shows the party organization *of most of its party members*: the deepest party unit whose
subtree holds a strict majority of the people of the administrative subtree who have a party
organization (市局 → 市局党委, 徐汇区税务局 → 徐汇区税务局党委, a tax office → its branch). The mapping
comes from the data (no extra table to keep in step), is deterministic (two disjoint subtrees cannot
both hold a strict majority) and is named on the page, with a link to that organization's own report;
a party unit shows its own figures. When the user may not see that party organization, the section
says so and shows no figures (scoping: out of sight is out of sight).

Rows: one per child party organization (its subtree), the organization's own row and the total. The
own row is the total minus the children for additive figures; distinct counts and averages (a post
counted under its unit and its holder's branch, the average score) have no own row ("—").
Cost: one query per figure per row (a committee has a few dozen branches at most).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from muster.clock import last_day
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Person, Unit
from muster.reports import briefing as bw
from muster.reports import registry
from muster.reports.registry import Metric, Number

GROUP = "party"
CENTS = Decimal("0.01")


def party_unit_for(unit: Unit) -> Unit | None:
    """The party organization whose figures stand for ``unit`` (itself when it is a party unit)."""
    if unit.is_party:
        return unit
    paths = list(
        Person.objects.filter(unit__path__startswith=unit.path, party_unit__isnull=False).values_list(
            "party_unit__path", flat=True
        )
    )
    if not paths:
        return None
    step = Unit.steplen
    counts: Counter[str] = Counter()
    for p in paths:
        for i in range(step, len(p) + 1, step):
            counts[p[:i]] += 1
    majority = [pfx for pfx, n in counts.items() if 2 * n > len(paths)]
    if not majority:
        return None
    best = max(majority, key=len)
    return Unit.objects.filter(path=best, kind__in=PARTY_KINDS).first()


@dataclass(frozen=True)
class PartyRow:
    code: str
    name: str
    own: bool
    has_children: bool
    values: tuple[Number | None, ...]


@dataclass(frozen=True)
class PartyTable:
    unit: Unit  # the party organization
    as_of: datetime
    columns: tuple[Metric, ...]
    rows: tuple[PartyRow, ...]
    total: tuple[Number, ...]


def _answer(m: Metric, unit: Unit, as_of: datetime) -> Number:
    value = m.answer(unit, as_of)
    return value.quantize(CENTS) if isinstance(value, Decimal) else value  # same on every database


def party_table(unit: Unit, as_of: datetime, columns: list[Metric] | None = None) -> PartyTable:
    """The section's figures for the party organization ``unit`` as of the cutoff."""
    cols = tuple(columns if columns is not None else registry.section(GROUP))
    total = tuple(_answer(m, unit, as_of) for m in cols)
    children = list(Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("path"))
    rows: list[PartyRow] = []
    sums: list[Number] = [0 for _m in cols]
    for child in children:
        values = tuple(_answer(m, child, as_of) for m in cols)
        sums = [s + v for s, v in zip(sums, values, strict=True)]
        rows.append(PartyRow(child.code, child.name, False, child.numchild > 0, values))
    if children:
        own = tuple((t - s) if m.additive else None for m, t, s in zip(cols, total, sums, strict=True))
        rows.insert(0, PartyRow(unit.code, unit.name, True, False, own))
    return PartyTable(unit, as_of, cols, tuple(rows), total)


@dataclass(frozen=True)
class PartySection:
    """What the rollup page shows: the table, or why there is none."""

    unit: Unit | None  # the party organization shown (None: none found)
    mapped: bool  # chosen for an administrative unit (named on the page)
    visible: bool
    table: PartyTable | None


def party_section(user: Any, unit: Unit, as_of: datetime) -> PartySection:
    party = party_unit_for(unit)
    if party is None:
        return PartySection(None, not unit.is_party, False, None)
    if not access.can(user, Perm.VIEW, party):
        return PartySection(party, party.pk != unit.pk, False, None)
    return PartySection(party, party.pk != unit.pk, True, party_table(party, as_of))


# ---------------------------------------------------------------- the briefing sentence


def _local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), ZoneInfo(settings.TIME_ZONE))


def _year_start(as_of: datetime) -> datetime:
    local = as_of.astimezone(ZoneInfo(settings.TIME_ZONE)) - timedelta(microseconds=1)
    return _local_midnight(date(local.year, 1, 1))


def since_year_start(metric_id: str, unit: Unit, as_of: datetime) -> Number:
    """A cumulative figure over the cutoff's calendar year (the figure at the cutoff minus at 1 January)."""
    start = _year_start(as_of)
    return registry.answer(metric_id, unit, as_of) - registry.answer(metric_id, unit, start)


# How the briefing rounds each figure by default (the seed article's "近9000人次").
PARTY_STYLES = {"talk_person_times": "near"}


def party_life(unit: Unit, as_of: datetime, *, styles: dict[str, str] | None = None) -> bw.PartyLife | None:
    """The briefing's party-life sentence for the party organization ``unit`` (None: nothing to say).

    Meetings, talks, awards and applications count over the cutoff's calendar year ("全年"); posts and
    contact points are those in force on the cutoff.
    """
    styles = {**PARTY_STYLES, **(styles or {})}

    def num(key: str, value: Number) -> bw.Num:
        return bw.Num(int(value), styles.get(key, "exact"))

    p = bw.PartyLife(
        as_of=as_of.astimezone(ZoneInfo(settings.TIME_ZONE)),
        meetings=num("meetings", since_year_start("partylife.meetings_held", unit, as_of)),
        talk_person_times=num(
            "talk_person_times", since_year_start("partylife.talk_person_times", unit, as_of)
        ),
        model_posts=num("model_posts", registry.answer("partylife.model_posts", unit, as_of)),
        vanguard_posts=num("vanguard_posts", registry.answer("partylife.vanguard_posts", unit, as_of)),
        responsibility_areas=num(
            "responsibility_areas", registry.answer("partylife.responsibility_areas", unit, as_of)
        ),
        contact_points=num("contact_points", registry.answer("partylife.contact_points", unit, as_of)),
        awards=num("awards", since_year_start("partylife.awards", unit, as_of)),
        applications=num("applications", since_year_start("partylife.applications", unit, as_of)),
    )
    return p if not p.is_empty else None


# ---------------------------------------------------------------- the home page


@dataclass(frozen=True)
class PartyDashboard:
    unit: Unit  # the party organization
    quarter_start: date
    quarter_end: date  # exclusive
    behind: tuple[tuple[str, str], ...]  # (code, name) of the organizations behind this quarter
    meetings_this_year: int
    points_this_year: Number
    leaders: tuple[Any, ...]  # points.queries.LeaderRow, best first


def home_party_unit(user: Any, admin_unit: Unit | None) -> Unit | None:
    """The party organization of the user's home page: the one standing for their report unit when they
    may see it, else the top-most party organization they see."""
    if admin_unit is not None:
        mapped = party_unit_for(admin_unit)
        if mapped is not None and access.can(user, Perm.VIEW, mapped):
            return mapped
    units = access.scoped(Unit.objects.filter(kind__in=PARTY_KINDS, is_active=True), user, Perm.VIEW)
    return units.order_by("depth", "path").first()


def party_dashboard(user: Any, unit: Unit, now: datetime, *, leaders: int = 5) -> PartyDashboard:
    """Key party-life figures as of ``now`` for ``unit`` (a party organization the user sees): the
    organizations behind on compliance this quarter, the meetings held this year, the points leaders."""
    from muster.partylife.queries import compliance_dashboard
    from muster.points.queries import leaderboard

    today = last_day(now)
    q_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    q_end = date(today.year + (q_start.month == 10), (q_start.month + 2) % 12 + 1, 1)
    board = compliance_dashboard(user, unit, start=q_start, end=q_end, as_of=now)
    behind = tuple((r["unit_code"], r["unit_name"]) for r in board.behind)
    meetings = int(since_year_start("partylife.meetings_held", unit, now))
    points = _answer(registry.get("points.total"), unit, now)  # a figure of the cutoff's year already
    top = leaderboard(
        user, unit, start=date(today.year, 1, 1), end=today + timedelta(days=1), by="person", limit=leaders
    )
    return PartyDashboard(unit, q_start, q_end, behind, meetings, points, tuple(top))
