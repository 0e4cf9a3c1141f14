"""The rollup: a unit's figures as of a cutoff, one row per child unit (and the unit's own), and a total.

Definitions (the page shows ``DEFINITIONS``):

- a **batch** (批) counts when it started before the cutoff, was dispatched by a unit in the subtree and
  is not cancelled;
- a **person-time** (人次) is a (person, batch) pair with approved service before the cutoff; **persons**
  (人) are the distinct people among them (so the total's persons may be less than the sum of the rows:
  one person can serve in batches of two units);
- **hours** are the part of each approved entry of a batch before the cutoff (a shift running at the
  cutoff counts up to the cutoff);
- **community service** during home observation counts by the person's (current) home unit, with its
  own persons and hours: when a person moves, their community service moves with them, past days
  included (a published ``Snapshot`` keeps what it showed);
- entries **pending** approval are shown apart and never counted.

All figures are for the ledger as it is now (late corrections included); a published ``Snapshot``
keeps them as they were. Times are compared to the minute: a cutoff is truncated to its minute.

Two implementations give the same answer:

- ``rollup()`` — the fast path. Whole days before the cutoff's day come from the day buckets (one
  short index range per row: rows × days, independent of the number of entries); for a unit of the
  top levels (its children keep hour buckets, ``MUSTER_ROLLUP_HOUR_DEPTH``) the whole hours of the
  cutoff's day come from the hour buckets; the rest — the window from the last bucket edge to the
  cutoff, at most an hour (a day for deeper units) — comes from the facts in that window, found through
  indexes on their instants. Rows running across the window's start are not read: their number is in
  the buckets (rows opened minus rows closed), and only rows starting or ending inside the window are.
- ``rollup_straight()`` — the straight query: GROUP BY over the raw ledger, deployments and units
  (what a hand-written SQL report computes). Tests and the benchmark hold the two to each other.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from muster import clock
from muster.clock import local_tz
from muster.mobilize.models import Deployment, DeploymentStatus, EntryKind, ServiceEntry
from muster.mobilize.queries import pending_rows
from muster.orgs.models import Unit
from muster.reports.facts import FIGURES, STEP, calendar, fold_pending, hour_depth_read, minute_of
from muster.reports.models import (
    BatchFact,
    Bucket,
    CommunityFact,
    HourBucket,
    PairFact,
    PendingFact,
    PersonFact,
    SpanFact,
)

DEFINITIONS = {
    "batches": _(
        "A batch counts when it started before the cutoff and was dispatched by a unit in the subtree "
        "(cancelled batches do not count)."
    ),
    "person_times": _("A person-time is a (person, batch) pair with approved service before the cutoff."),
    "persons": _("Persons are the distinct people among the person-times."),
    "hours": _("Hours are the part of each approved entry of a batch before the cutoff."),
    "community": _(
        "Community service during home observation counts by the person's home unit, with its own "
        "persons and hours."
    ),
    "pending": _("Entries pending approval are shown apart and never counted."),
    "late": _(
        "The figures are those of the ledger as it is now, late corrections included; a published "
        "report keeps the figures it had when it was published."
    ),
}

FIGURE_LABELS = {
    "batches": _("Batches"),
    "person_times": _("Person-times"),
    "persons": _("Persons"),
    "hours": _("Hours"),
    "community_persons": _("Community service persons"),
    "community_hours": _("Community service hours"),
    "pending_entries": _("Pending entries"),
    "pending_hours": _("Pending hours"),
}

CONTRACT_KEYS = ("batches", "person_times", "persons", "hours", "community_persons", "community_hours")


@dataclass(frozen=True)
class Figures:
    """The figures of one row. Minutes are exact; hours are derived for display (two decimals)."""

    batches: int = 0
    person_times: int = 0
    persons: int = 0
    minutes: int = 0
    community_persons: int = 0
    community_minutes: int = 0
    pending_entries: int = 0
    pending_minutes: int = 0

    @property
    def hours(self) -> Decimal:
        return clock.minutes_to_hours(self.minutes)

    @property
    def community_hours(self) -> Decimal:
        return clock.minutes_to_hours(self.community_minutes)

    @property
    def pending_hours(self) -> Decimal:
        return clock.minutes_to_hours(self.pending_minutes)

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    def contract(self) -> dict[str, Any]:
        """The figures of the stable JSON contract (hours as Decimals with two decimals)."""
        return {k: getattr(self, k) for k in CONTRACT_KEYS}

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figures:
        return cls(**{f.name: int(data.get(f.name, 0)) for f in fields(cls)})

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class Row:
    unit_id: int
    code: str
    name: str
    path: str
    own: bool  # True: what is attached to the reporting unit itself (its "own organ")
    figures: Figures
    has_children: bool = False  # a drill-down target


@dataclass(frozen=True)
class Rollup:
    unit: Unit
    as_of: datetime  # aware, in the configured zone, truncated to the minute
    rows: tuple[Row, ...]
    total: Figures
    extras: dict[str, Any] = field(default_factory=dict)

    def contract(self) -> dict[str, Any]:
        """The stable contract of ``muster report --json`` and ``GET /api/v1/reports/rollup``
        (``basis: "party_members"`` added for a party organization: its members' figures)."""
        out: dict[str, Any] = {
            "as_of": self.as_of.isoformat(),
            "unit": {"code": self.unit.code, "name": self.unit.name},
            "rows": [{"code": r.code, "name": r.name, **r.figures.contract()} for r in self.rows],
            "total": self.total.contract(),
        }
        if self.extras.get("basis"):
            out["basis"] = self.extras["basis"]
        return out

    def contract_json(self, *, indent: int | None = None) -> str:
        return dumps(self.contract(), indent=indent)

    def row(self, code: str) -> Row:
        return next(r for r in self.rows if r.code == code and (not r.own or code == self.unit.code))


def dumps(data: Any, *, indent: int | None = None) -> str:
    """JSON with Decimals written as numbers with their decimals (``18572.00``, not ``18572.0``)."""
    marker = "\u0000dec:"

    def enc(o: Any) -> Any:
        if isinstance(o, Decimal):
            return f"{marker}{o}"
        raise TypeError(type(o))

    text = json.dumps(data, ensure_ascii=False, indent=indent, default=enc)
    import re

    return re.sub(r'"\\u0000dec:(-?[0-9.]+)"', r"\1", text)


def cutoff(as_of: datetime) -> datetime:
    """The cutoff as used by the figures: aware, local, truncated to the minute."""
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=local_tz())
    return clock.floor_minute(as_of.astimezone(local_tz()))


def parse_cutoff(text: str) -> datetime:
    """ "2022-03-18 24:00", "3月18日24时" (this year), ISO 8601… → the cutoff (``TimeParseError`` if not)."""
    from django.utils import timezone

    return cutoff(clock.parse_datetime(text, local_tz(), default_year=timezone.localdate().year))


def _children(unit: Unit) -> list[tuple[int, str, str, str, bool, int]]:
    return list(
        Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)
        .order_by("path")
        .values_list("id", "path", "code", "name", "is_active", "numchild")
    )


def _assemble(
    unit: Unit,
    as_of: datetime,
    by_key: dict[str, dict[str, int]],
    total: dict[str, int],
    *,
    children: list[tuple[int, str, str, str, bool, int]] | None = None,
    include_inactive_empty: bool = False,
) -> Rollup:
    """Rows from figures keyed by row path (a child's path; the unit's own path for its own row)."""
    rows: list[Row] = []
    own = Figures(**by_key.get(unit.path, {}))
    if not own.is_empty:
        rows.append(Row(unit.pk, unit.code, unit.name, unit.path, True, own, False))
    for pk, path, code, name, active, numchild in _children(unit) if children is None else children:
        figs = Figures(**by_key.get(path, {}))
        if not active and figs.is_empty and not include_inactive_empty:
            continue
        rows.append(Row(pk, code, name, path, False, figs, numchild > 0))
    return Rollup(unit, as_of, tuple(rows), Figures(**total))


# ---------------------------------------------------------------- the fast path

_BUCKET_MAP = {
    "batches": "batches",
    "pairs": "person_times",
    "persons": "persons",
    "minutes": "minutes",
    "c_persons": "community_persons",
    "c_minutes": "community_minutes",
}


def _q(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _window_sql(n_nodes: int, pending: bool) -> str:
    """One statement for the window ``[w0, t)`` between the last bucket edge and the cutoff.

    Parameters: (key length, w0, t, pattern, key length) for batches, pairs and community people;
    (key length, t, w0, t, pattern, key length) for the rows starting in ``(w0, t)``, the same for those
    ending in it; for people (false, the node ids, w0, t) and (true, the unit, w0, t); (key length, w0,
    t, pattern, key length) for pending
    rows. Columns: tag, row key (a path, or a node id), flag (community; own for people), value, value 2.
    """
    nodes = ", ".join(["%s"] * n_nodes)
    parts = []
    for tag, model, when in (
        ("b", BatchFact, "start_m"),
        ("p", PairFact, "first_m"),
        ("c", CommunityFact, "first_m"),
    ):
        parts.append(
            f"SELECT '{tag}', SUBSTR(path, 1, %s), 0, COUNT(*), 0 FROM {_q(model)} "  # noqa: S608
            f"WHERE {when} >= %s AND {when} < %s AND path LIKE %s GROUP BY SUBSTR(path, 1, %s)"
        )
    for tag, when in (("s", "start_m"), ("e", "end_m")):
        parts.append(
            f"SELECT '{tag}', SUBSTR(path, 1, %s), CASE WHEN community THEN 1 ELSE 0 END, "  # noqa: S608
            f"SUM(sign * (%s - {when})), 0 FROM {_q(SpanFact)} "
            f"WHERE {when} > %s AND {when} < %s AND path LIKE %s "
            "GROUP BY SUBSTR(path, 1, %s), CASE WHEN community THEN 1 ELSE 0 END"
        )
    for which in (f"own = %s AND node_id IN ({nodes})", "own = %s AND node_id = %s"):
        # own fixed, so the (node, own, first_m) index ranges over the window's minutes
        parts.append(
            "SELECT 'q', CAST(node_id AS VARCHAR(20)), CASE WHEN own THEN 1 ELSE 0 END, COUNT(*), 0 "  # noqa: S608
            f"FROM {_q(PersonFact)} WHERE {which} AND first_m >= %s AND first_m < %s "
            "GROUP BY node_id, CASE WHEN own THEN 1 ELSE 0 END"
        )
    if pending:
        parts.append(
            f"SELECT 'w', SUBSTR(path, 1, %s), 0, COUNT(*), SUM(minutes) FROM {_q(PendingFact)} "  # noqa: S608
            "WHERE start_m >= %s AND start_m < %s AND path LIKE %s GROUP BY SUBSTR(path, 1, %s)"
        )
    return " UNION ALL ".join(parts)


def uses_hours(unit: Unit, depth: int | None = None) -> bool:
    """Whether ``unit``'s rollup reads hour buckets: its children (and itself) keep them
    (``depth``: ``facts.hour_depth_read()``)."""
    return unit.depth + 1 <= (hour_depth_read() if depth is None else depth)


def rollup(unit: Unit, as_of: datetime, *, pending: bool = True) -> Rollup:
    """The figures of ``unit`` as of ``as_of`` (fast path; see the module docstring).

    Three or four statements (plain SQL: the ORM's compilation would cost more than the queries): the
    children; the day buckets before the cutoff's day; the hour buckets of the cutoff's day before its
    hour (for a unit whose children keep hour buckets; otherwise the window starts at midnight); and the
    facts of the window from there to the cutoff. Hours in the window are exact without reading the rows
    that merely overlap it: a bucket holds the signed number of rows that started and ended before its
    edge, so the rows running at the window's start are known by their number, and only the rows
    starting or ending inside the window are read::

        minutes in [w0, t) = open(w0) × (t − w0) + Σ_starts in (w0, t) sign × (t − start)
                                                 − Σ_ends in (w0, t) sign × (t − end)

    Ledger rows written but not yet folded into the facts (``facts.fold``) are folded first.
    """
    fold_pending()
    as_of = cutoff(as_of)
    cal = calendar()
    t = minute_of(as_of)
    day = cal.day_of(t)
    midnight = cal.midnight(day)
    hourly = uses_hours(unit)
    slot = (t - midnight) // 60 if hourly else 0
    w0 = midnight + 60 * slot
    children = _children(unit)
    path_of = {c[0]: c[1] for c in children}
    nodes = [*path_of, unit.pk]
    k = len(unit.path) + STEP
    pattern = unit.path + "%"
    base: defaultdict[str | None, list[int]] = defaultdict(lambda: [0] * len(FIGURES))

    def key_of(node: int, own: Any) -> str | None:
        if node == unit.pk:
            return unit.path if own else None
        return path_of[node]

    marks = ", ".join(["%s"] * len(nodes))
    sums = ", ".join(f"SUM({f})" for f in (FIGURES if pending else FIGURES[:6] + FIGURES[8:]))
    names = FIGURES if pending else FIGURES[:6] + FIGURES[8:]
    where: list[tuple[Any, str, list[Any]]] = [(Bucket, "day < %s", [day])]
    if slot:
        where.append((HourBucket, "day = %s AND slot < %s", [day, slot]))
    statements, params = [], []
    for model, when, extra in where:
        # the subtrees of the children and of the unit (the total), and the unit's own bucket
        head = f"SELECT node_id, own, {sums} FROM {_q(model)} WHERE "  # noqa: S608
        statements.append(
            f"{head}own = %s AND node_id IN ({marks}) AND {when} GROUP BY node_id, own UNION ALL "
            f"{head}own = %s AND node_id = %s AND {when} GROUP BY node_id, own"
        )
        params += [False, *nodes, *extra, True, unit.pk, *extra]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(statements), params)
        for node, own, *values in cursor.fetchall():
            sums_of = base[key_of(node, own)]
            for name, v in zip(names, values, strict=True):
                if v:
                    sums_of[FIGURES.index(name)] += int(v)
        window: list[tuple[Any, ...]] = []
        if t > w0:
            wparams: list[Any] = []
            for _tag in "bpc":
                wparams += [k, w0, t, pattern, k]
            for _tag in "se":
                wparams += [k, t, w0, t, pattern, k]
            wparams += [False, *nodes, w0, t, True, unit.pk, w0, t]
            if pending:
                wparams += [k, w0, t, pattern, k]
            cursor.execute(_window_sql(len(nodes), pending), wparams)
            window = cursor.fetchall()
    by_key: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: defaultdict[str, int] = defaultdict(int)
    for key, v in base.items():
        target: defaultdict[str, int] = total if key is None else by_key[key]
        for src, name in _BUCKET_MAP.items():
            target[name] += v[FIGURES.index(src)]
        if pending:
            target["pending_entries"] += v[FIGURES.index("p_rows")]
            target["pending_minutes"] += v[FIGURES.index("p_minutes")]
        # the rows running at the window's start
        span = t - w0
        target["minutes"] += span * (v[FIGURES.index("opened")] - v[FIGURES.index("closed")])
        target["community_minutes"] += span * (v[FIGURES.index("c_opened")] - v[FIGURES.index("c_closed")])
    counted = {"b": "batches", "p": "person_times", "c": "community_persons"}
    for tag, rk, flag, value, value2 in window:
        if not value and not value2:
            continue
        value = int(value or 0)
        if tag == "q":  # people: keyed by node, exact per row (not additive)
            node = int(rk)
            if flag and node != unit.pk:
                continue  # a child's own people are not a row here
            key = key_of(node, flag)
            (total if key is None else by_key[key])["persons"] += value
            continue
        if tag in "se":
            name = "community_minutes" if flag else "minutes"
            value = value if tag == "s" else -value
            by_key[rk][name] += value
            total[name] += value
            continue
        if tag == "w":
            for name, v in (("pending_entries", value), ("pending_minutes", int(value2 or 0))):
                by_key[rk][name] += v
                total[name] += v
            continue
        by_key[rk][counted[tag]] += value
        total[counted[tag]] += value
    return _assemble(
        unit,
        as_of,
        {key: {n: v for n, v in d.items() if v} for key, d in by_key.items()},
        {n: v for n, v in total.items() if v},
        children=children,
    )


# ---------------------------------------------------------------- the straight query


def _clip_sql() -> str:
    """Minutes from ``e.start`` to the cutoff parameter, in the database's dialect."""
    if connection.vendor == "postgresql":
        return "CAST(EXTRACT(EPOCH FROM (CAST(%s AS timestamptz) - e.start)) / 60 AS BIGINT)"
    return "CAST(ROUND((julianday(%s) - julianday(e.start)) * 1440) AS INTEGER)"


def straight_sql(kind: str) -> str:
    """The straight GROUP BY over the raw ledger (``kind``: "dispatch" or "community").

    Parameters, in order: cutoff ×4, row-key length, subtree path pattern. Columns: row key, person-times
    (or persons), persons, minutes; a last row with a NULL key holds the totals.
    """
    q = connection.ops.quote_name
    e, d, u, p = (
        q(ServiceEntry._meta.db_table),
        q(Deployment._meta.db_table),
        q(Unit._meta.db_table),
        q("orgs_person"),
    )
    live = "SUM(CASE WHEN e.start < %s THEN e.sign ELSE 0 END)"
    mins = (
        f"SUM(CASE WHEN e.{q('end')} <= %s THEN e.sign * e.minutes "
        f"WHEN e.start < %s THEN e.sign * {_clip_sql()} ELSE 0 END)"
    )
    if kind == "dispatch":
        source = (
            f"FROM {e} e JOIN {d} d ON d.id = e.deployment_id JOIN {u} u ON u.id = d.unit_id "
            "WHERE e.sign <> 0 AND u.path LIKE %s"
        )
        group = "e.deployment_id, e.person_id"
    else:
        source = (
            f"FROM {e} e JOIN {p} p ON p.id = e.person_id JOIN {u} u ON u.id = p.unit_id "
            f"WHERE e.sign <> 0 AND e.deployment_id IS NULL AND e.kind = '{EntryKind.COMMUNITY}' "
            "AND u.path LIKE %s"
        )
        group = "e.person_id"
    return (
        f"WITH pairs AS (SELECT SUBSTR(u.path, 1, %s) AS rk, e.person_id AS person, {live} AS live, "  # noqa: S608
        f"{mins} AS mins {source} GROUP BY SUBSTR(u.path, 1, %s), {group}) "
        "SELECT rk, SUM(CASE WHEN live > 0 THEN 1 ELSE 0 END), "
        "COUNT(DISTINCT CASE WHEN live > 0 THEN person END), SUM(mins) FROM pairs GROUP BY rk "
        "UNION ALL SELECT NULL, SUM(CASE WHEN live > 0 THEN 1 ELSE 0 END), "
        "COUNT(DISTINCT CASE WHEN live > 0 THEN person END), SUM(mins) FROM pairs"
    )


def rollup_straight(unit: Unit, as_of: datetime, *, pending: bool = True) -> Rollup:
    """The same figures as ``rollup`` straight from the raw ledger (slow; the reference)."""
    as_of = cutoff(as_of)
    t = connection.ops.adapt_datetimefield_value(as_of)
    k = len(unit.path) + STEP
    pattern = unit.path + "%"
    by_key: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: defaultdict[str, int] = defaultdict(int)
    with connection.cursor() as cursor:
        for kind in ("dispatch", "community"):
            cursor.execute(straight_sql(kind), [k, t, t, t, t, pattern, k])
            for rk, pt, persons, mins in cursor.fetchall():
                target = total if rk is None else by_key[rk]
                if kind == "dispatch":
                    target["person_times"] += int(pt or 0)
                    target["persons"] += int(persons or 0)
                    target["minutes"] += int(mins or 0)
                else:
                    target["community_persons"] += int(pt or 0)
                    target["community_minutes"] += int(mins or 0)
    batches = (
        Deployment.objects.filter(
            status=DeploymentStatus.ACTIVE, start__lt=as_of, unit__path__startswith=unit.path
        )
        .values(rk=Substr("unit__path", 1, k))
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in batches:
        by_key[r["rk"]]["batches"] += r["n"]
        total["batches"] += r["n"]
    if pending:
        for rel, community in (("deployment__unit__path", False), ("person__unit__path", True)):
            base = ServiceEntry.objects.filter(start__lt=as_of, **{f"{rel}__startswith": unit.path})
            base = (
                base.filter(deployment__isnull=True, kind=EntryKind.COMMUNITY)
                if community
                else base.filter(deployment__isnull=False)
            )
            for r in (
                pending_rows(base)
                .values(rk=Substr(rel, 1, k))
                .annotate(n=Count("id"), m=Sum("minutes"))
                .order_by()
            ):
                for name, v in (("pending_entries", r["n"]), ("pending_minutes", r["m"] or 0)):
                    by_key[r["rk"]][name] += v
                    total[name] += v
    return _assemble(
        unit, as_of, {key: {n: v for n, v in d.items() if v} for key, d in by_key.items()}, dict(total)
    )


# ---------------------------------------------------------------- day by day


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    daily: Figures  # what happened that day (persons: people counted for the first time that day)
    cumulative: Figures  # as of the end of the day (or the cutoff, on the cutoff's day)


def series(unit: Unit, *, start: date, as_of: datetime) -> list[SeriesPoint]:
    """The unit's figures day by day from ``start`` to the cutoff's day (pending not included)."""
    fold_pending()
    as_of = cutoff(as_of)
    cal = calendar()
    t = minute_of(as_of)
    last = cal.day_of(t)
    if cal.midnight(last) == t:
        last -= 1  # a cutoff at midnight ends the previous day
    first = start.toordinal()
    if first > last:
        return []
    qs = Bucket.objects.filter(node_id=unit.pk, own=False, day__lte=last)

    def figs(values: dict[str, Any]) -> Figures:
        return Figures(**{name: int(values.get(src) or 0) for src, name in _BUCKET_MAP.items()})

    base = figs(qs.filter(day__lt=first).aggregate(**{f: Sum(f) for f in _BUCKET_MAP}))
    per_day = {b["day"]: figs(b) for b in qs.filter(day__gte=first).values("day", *_BUCKET_MAP)}
    out: list[SeriesPoint] = []
    cum = base
    for d in range(first, last + 1):
        if d == last and cal.midnight(d + 1) != t:
            end = replace(rollup(unit, as_of, pending=False).total)
            daily = end - cum
        else:
            daily = per_day.get(d, Figures())
            end = cum + daily
        out.append(SeriesPoint(date.fromordinal(d), daily, end))
        cum = end
    return out


def days_between(start: date, end: date) -> int:
    return (end - start) // timedelta(days=1)
