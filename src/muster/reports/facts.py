"""Keeping the rollup's facts and day buckets in step with the ledger (see ``models`` for what they are).

Large because the incremental paths (a row, a bulk load, organization changes, the fold queue) and
``rebuild`` must give the same figures by the same rules: they are kept side by side in one module.

Two ways in, one set of rules:

- a ledger row written by ``muster.mobilize.services`` is queued (``FoldQueue``, same transaction) and
  folded by ``fold()`` — on ``muster worker`` and before every report read (see "the fold queue"
  below) — through ``on_ledger_row`` / the set-wise path; ``on_deployment(deployment)`` runs in the
  transaction that creates, moves or cancels a batch. The cost per ledger row is a few
  small indexed reads (the rows of one (person, batch) pair, the pairs of one person) and two
  multi-row bucket upserts (the day buckets of the unit's ancestors; the hour buckets of those down
  to ``MUSTER_ROLLUP_HOUR_DEPTH``, one per hour the row overlaps).
- ``rebuild()`` recomputes every fact and bucket from the ledger in one pass (after a bulk load that
  bypassed the services, or with ``settings.MUSTER_ROLLUP_MAINTENANCE = False``).

Rules (they are the report's definitions):

- a *batch* counts from its start while it is active (a cancelled batch does not count);
- a *person-time* is a (person, batch) pair with live approved service; it counts from the start of
  its earliest live interval. An interval is live when the signs of its rows sum to more than zero (a
  correction writes −1 for the old interval and +1 for the new one, so the old one stops being live);
- *persons*: a person counts under a unit from their earliest live dispatch service in batches of
  the unit's subtree (``PersonFact``), so distinct people are exact at every level;
- *hours*: every approved row (sign ±1) adds sign × its minutes, split by local day; the part before a
  cutoff is exact because the rows around the cutoff are clipped (``rollup``);
- batches, pairs and dispatch hours are attributed to the batch's dispatching unit; community service
  (``kind = community``, no batch) to the person's **current** home unit: when a person's home unit
  changes, all their community facts (person, hours, pending rows) move with them to the new unit, past
  days included (what ``rebuild`` gives too). A published ``Snapshot`` keeps the figures it showed;
- *pending* rows (a record or a correction request waiting for a decision) are kept apart, counted
  at their start;
- every approved row also counts, with its sign, as *opened* at the minute before its start and
  *closed* at the minute before its end, so that the buckets before an edge say how many rows run
  across it (the rollup clips them without reading them).

Every figure goes to the day bucket of its local day and, for the units down to
``MUSTER_ROLLUP_HOUR_DEPTH``, to the hour bucket of its local hour (``Sink`` says once how an instant and
an approved row fill both; ``Delta`` spreads them over the ancestors incrementally, ``Leaf`` sums them
per unit for ``rebuild``).

The organization's changes keep the facts exact too (``muster.orgs.signals``, received in the same
transaction): ``on_unit_moved`` rewrites the path prefix of the moved subtree's facts (one UPDATE per
fact table), moves the subtree's day sums from the old ancestors to the new ones and recomputes the
distinct people of the people who served in the subtree; ``on_home_units_changed`` re-attributes the
community facts of the people whose home unit changed (set-wise, for the staff-register import).
``on_ledger_bulk`` brings in rows and batches written in bulk (the ledger import) set-wise.

Times are whole minutes since the Unix epoch (UTC); days are local dates (``settings.TIME_ZONE``) as
ordinals. Local midnights are computed through ``zoneinfo``, so zones with summer time work too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Model, Q, Value
from django.db.models.functions import Concat, Substr
from django_tasks import task

from muster.mobilize.models import Deployment, DeploymentStatus, EntryKind, EntryOp, ServiceEntry
from muster.mobilize.queries import pending_rows
from muster.orgs.models import Person, Unit
from muster.reports.models import (
    BUCKET_FIGURES,
    BatchFact,
    Bucket,
    CommunityFact,
    FoldQueue,
    HourBucket,
    PairFact,
    PendingFact,
    PersonFact,
    RollupState,
    SpanFact,
)
from muster.tabular.bulk import insert_many
from muster.worker.recovery import rerun_on_worker_loss

STEP = Unit.steplen
FIGURES = BUCKET_FIGURES
(
    BATCHES, PAIRS, PERSONS, MINUTES, C_PERSONS, C_MINUTES,
    P_ROWS, P_MINUTES, OPENED, CLOSED, C_OPENED, C_CLOSED,
) = range(len(FIGURES))  # fmt: skip
NF = len(FIGURES)
PENDING_OPS = (EntryOp.RECORD, EntryOp.CORRECT_REQUEST)


def enabled() -> bool:
    return bool(getattr(settings, "MUSTER_ROLLUP_MAINTENANCE", True))


def hour_depth() -> int:
    """Units down to this depth keep hour buckets (``settings.MUSTER_ROLLUP_HOUR_DEPTH``)."""
    return int(getattr(settings, "MUSTER_ROLLUP_HOUR_DEPTH", 3))


def hour_depth_read() -> int:
    """The depth the rollup may read hour buckets down to: the lesser of the setting (what maintenance
    keeps from now on) and the depth the facts were last rebuilt with (what has its whole history).
    Raising the setting takes effect at the next ``rebuild()``; lowering it at once."""
    stored = _fetch(f"SELECT value FROM {_table(RollupState)} WHERE name = %s", ["hour_depth"])  # noqa: S608
    setting = hour_depth()
    return min(setting, int(stored[0][0])) if stored else setting


def depth_of(path: str) -> int:
    return len(path) // STEP


# ---------------------------------------------------------------- minutes and days


def minute_of(dt: datetime) -> int:
    """Whole minutes since the epoch (floored); ``dt`` is aware."""
    return int(dt.timestamp()) // 60


def at_minute(m: int) -> datetime:
    return datetime.fromtimestamp(m * 60, UTC)


class Calendar:
    """Local days of a zone, as date ordinals, for epoch minutes."""

    def __init__(self, zone: str) -> None:
        self.tz = ZoneInfo(zone)
        self._day: dict[int, int] = {}
        self._midnight: dict[int, int] = {}

    def day_of(self, m: int) -> int:
        q = m // 15  # every zone's offset is a multiple of 15 minutes
        d = self._day.get(q)
        if d is None:
            d = at_minute(q * 15).astimezone(self.tz).date().toordinal()
            self._day[q] = d
        return d

    def midnight(self, day: int) -> int:
        """The epoch minute of the local midnight that starts ``day``."""
        m = self._midnight.get(day)
        if m is None:
            local = datetime.combine(date.fromordinal(day), datetime.min.time(), tzinfo=self.tz)
            m = minute_of(local)
            self._midnight[day] = m
        return m

    def slot(self, m: int) -> tuple[int, int]:
        """(local day, hour of that day counted from its midnight) of minute ``m``."""
        d = self.day_of(m)
        return d, (m - self.midnight(d)) // 60

    def hours(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """``[start, end)`` cut at the local hours: (day, slot, minutes) of each hour it overlaps."""
        out = []
        m = start
        while m < end:
            d, k = self.slot(m)
            edge = min(self.midnight(d) + 60 * (k + 1), self.midnight(d + 1), end)
            out.append((d, k, edge - m))
            m = edge
        return out

    def split(self, start: int, end: int) -> tuple[int, int, int]:
        """(day of ``start``, minutes on that day, minutes after it) of ``[start, end)`` (the ``SpanFact``
        columns; an entry of at most 24 hours can reach a third day across a 23-hour summer-time day,
        so the buckets take their minutes from ``hours``)."""
        d0 = self.day_of(start)
        b = self.midnight(d0 + 1)
        if end <= b:
            return d0, end - start, 0
        return d0, b - start, end - b


@lru_cache(maxsize=8)
def _calendar(zone: str) -> Calendar:
    return Calendar(zone)


def calendar() -> Calendar:
    return _calendar(settings.TIME_ZONE)


def live_first(rows: Iterable[tuple[int, int, int]]) -> int | None:
    """The earliest start among the live intervals of ``(sign, start_m, end_m)`` rows (None if none)."""
    net: Counter[tuple[int, int]] = Counter()
    for sign, s, e in rows:
        net[(s, e)] += sign
    starts = [s for (s, _e), n in net.items() if n > 0]
    return min(starts) if starts else None


def prefixes(path: str) -> list[str]:
    return [path[:i] for i in range(STEP, len(path) + 1, STEP)]


# ---------------------------------------------------------------- bucket deltas


class Sink:
    """Where figures go, cell by cell: ``cell(unit_id, path, day, slot, figure, value)`` with
    ``slot=None`` for the day bucket. ``at`` and ``span`` say once how an instant and an approved row
    fill the cells (days and hours alike), for the incremental ``Delta`` and for ``rebuild``'s sums."""

    def cell(self, unit_id: int, path: str, day: int, slot: int | None, figure: int, value: int) -> None:
        raise NotImplementedError

    def at(self, unit_id: int, path: str, m: int, figure: int, value: int) -> None:
        """``value`` of ``figure`` at minute ``m`` (a batch's start, a first service, a pending row)."""
        if not value:
            return
        day, slot = calendar().slot(m)
        self.cell(unit_id, path, day, None, figure, value)
        self.cell(unit_id, path, day, slot, figure, value)

    def span(self, unit_id: int, path: str, community: bool, sign: int, s: int, e: int) -> None:
        """An approved row ``[s, e)`` with ``sign``: its minutes day by day and hour by hour, and its
        start and end (at the minute before, see ``models``)."""
        figure = C_MINUTES if community else MINUTES
        per_day: Counter[int] = Counter()
        for day, slot, minutes in calendar().hours(s, e):
            self.cell(unit_id, path, day, slot, figure, sign * minutes)
            per_day[day] += minutes
        for day, minutes in per_day.items():
            self.cell(unit_id, path, day, None, figure, sign * minutes)
        self.at(unit_id, path, s - 1, C_OPENED if community else OPENED, sign)
        self.at(unit_id, path, e - 1, C_CLOSED if community else CLOSED, sign)

    def pending(self, unit_id: int, path: str, s: int, minutes: int, sign: int) -> None:
        """A pending row appears (``sign`` 1) or is decided (−1)."""
        self.at(unit_id, path, s, P_ROWS, sign)
        self.at(unit_id, path, s, P_MINUTES, sign * minutes)


class Delta(Sink):
    """Bucket changes gathered during one maintenance step, written at the end by upserts.

    A cell of a unit goes to the day bucket of every ancestor's subtree and of the unit itself; a cell
    of an hour only to the subtrees of the units at depth ≤ ``hour_depth()`` and to the unit itself if
    it is above that depth (the rollup of a unit reads its own hour bucket only when its children have
    theirs).
    """

    def __init__(self) -> None:
        self.sums: defaultdict[tuple[int, bool, int], list[int]] = defaultdict(lambda: [0] * NF)
        self.hours: defaultdict[tuple[int, bool, int, int], list[int]] = defaultdict(lambda: [0] * NF)
        self._ancestors: dict[str, list[int]] = {}
        self.depth: dict[int, int] = {}
        self.hour_depth = hour_depth()

    def ancestors(self, path: str) -> list[int]:
        """Ids of the units on ``path`` (the unit itself included), root first."""
        ids = self._ancestors.get(path)
        if ids is None:
            wanted = prefixes(path)
            found = dict(
                _fetch(f"SELECT path, id FROM {_table(Unit)} WHERE path IN ({_marks(len(wanted))})", wanted)  # noqa: S608
            )
            ids = [int(found[p]) for p in wanted if p in found]
            for p in wanted:
                if p in found:
                    self.depth[int(found[p])] = depth_of(p)
            self._ancestors[path] = ids
        return ids

    def know(self, paths: dict[int, str]) -> None:
        """Preload the ancestors of units given as {id: path} (``rebuild``)."""
        by_path = {p: i for i, p in paths.items()}
        self.depth.update({i: depth_of(p) for i, p in paths.items()})
        self._ancestors.update({p: [by_path[q] for q in prefixes(p) if q in by_path] for p in by_path})

    def cell(self, unit_id: int, path: str, day: int, slot: int | None, figure: int, value: int) -> None:
        if not value:
            return
        if slot is None:
            for node in self.ancestors(path):
                self.sums[(node, False, day)][figure] += value
            self.sums[(unit_id, True, day)][figure] += value
            return
        limit = self.hour_depth
        if limit < 1:
            return
        for node in self.ancestors(path)[:limit]:
            self.hours[(node, False, day, slot)][figure] += value
        if depth_of(path) < limit:
            self.hours[(unit_id, True, day, slot)][figure] += value

    def node_at(self, node: int, own: bool, m: int, figure: int, value: int) -> None:
        """``value`` at minute ``m`` for one node's bucket only (distinct people are not additive)."""
        if not value:
            return
        day, slot = calendar().slot(m)
        self.sums[(node, own, day)][figure] += value
        depth = self.depth.get(node)
        if depth is None:
            (path,) = _fetch(f"SELECT path FROM {_table(Unit)} WHERE id = %s", [node])[0]  # noqa: S608
            depth = self.depth[node] = depth_of(str(path))
        if depth < self.hour_depth or (depth == self.hour_depth and not own):
            self.hours[(node, own, day, slot)][figure] += value

    def add_day(self, node: int, own: bool, day: int, figure: int, value: int) -> None:
        if value:
            self.sums[(node, own, day)][figure] += value

    def add_hour(self, node: int, own: bool, day: int, slot: int, figure: int, value: int) -> None:
        if value:
            self.hours[(node, own, day, slot)][figure] += value

    def flush(self) -> None:
        # sorted: every writer locks the bucket rows it upserts in the same order (no deadlock)
        rows = sorted((n, o, d, *v) for (n, o, d), v in self.sums.items() if any(v))
        hours = sorted((n, o, d, k, *v) for (n, o, d, k), v in self.hours.items() if any(v))
        self.sums.clear()
        self.hours.clear()
        if rows:
            upsert_buckets(Bucket, rows)
        if hours:
            upsert_buckets(HourBucket, hours)


class Leaf(Sink):
    """Cells summed per unit (``rebuild`` and a moved subtree), spread over the ancestors at the end."""

    def __init__(self) -> None:
        self.cells: defaultdict[tuple[int, str, int, int | None], list[int]] = defaultdict(lambda: [0] * NF)

    def cell(self, unit_id: int, path: str, day: int, slot: int | None, figure: int, value: int) -> None:
        if value:
            self.cells[(unit_id, path, day, slot)][figure] += value

    def spread(self, delta: Delta) -> None:
        for (unit_id, path, day, slot), values in self.cells.items():
            for figure, v in enumerate(values):
                if v:
                    delta.cell(unit_id, path, day, slot, figure, v)
        self.cells.clear()


# ---------------------------------------------------------------- plain SQL helpers
# The maintenance runs for every ledger row written: its reads and writes are plain statements (the
# ORM's compilation of a dozen small queries cost more than the queries themselves).


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _run(sql: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Multi-row INSERT of plain values (``columns`` are the table's column names)."""
    one = "(" + _marks(len(columns)) + ")"
    for i in range(0, len(rows), 500):
        chunk = rows[i : i + 500]
        _run(
            f"INSERT INTO {_table(model)} ({', '.join(columns)}) VALUES {', '.join([one] * len(chunk))}",  # noqa: S608
            [v for r in chunk for v in r],
        )


def _set_first(model: type[Model], key: str, changes: Sequence[tuple[int, int]]) -> None:
    """``first_m`` of the rows keyed by ``key``: ``(key value, first_m)`` pairs."""
    for k, first in changes:
        _run(f"UPDATE {_table(model)} SET first_m = %s WHERE {key} = %s", [first, k])  # noqa: S608


def _delete(model: type[Model], key: str, keys: Sequence[int]) -> None:
    if keys:
        _run(f"DELETE FROM {_table(model)} WHERE {key} IN ({_marks(len(keys))})", list(keys))  # noqa: S608


def _minute_sql(column: str) -> str:
    """Whole minutes since the epoch of a datetime column (floored, as ``minute_of``)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / 60) AS BIGINT)"
    return f"(CAST(strftime('%%s', {column}) AS INTEGER) / 60)"


def _span_rows_sql(where: str) -> str:
    """``(deployment, person, sign, start_m, end_m)`` of the ledger rows with a sign matching ``where``."""
    e = connection.ops.quote_name("end")
    return (
        f"SELECT deployment_id, person_id, sign, {_minute_sql('start')}, {_minute_sql(e)} "  # noqa: S608
        f"FROM {_table(ServiceEntry)} WHERE sign <> 0 AND {where}"
    )


def upsert_buckets(model: type[Bucket] | type[HourBucket], rows: Sequence[Sequence[Any]]) -> None:
    """Add ``(node_id, own, day, [slot,] *FIGURES)`` rows to the buckets (SQLite ≥ 3.24 and PostgreSQL).

    One multi-row statement per 500 rows (a ledger row touches a few dozen buckets: one round trip).
    """
    t = _table(model)
    key = "node_id, own, day" + (", slot" if model is HourBucket else "")
    cols = ", ".join(FIGURES)
    sets = ", ".join(f"{f} = {t}.{f} + excluded.{f}" for f in FIGURES)
    one = "(" + _marks(key.count(",") + 1 + len(FIGURES)) + ")"
    for i in range(0, len(rows), 500):
        chunk = rows[i : i + 500]
        _run(
            f"INSERT INTO {t} ({key}, {cols}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}",
            [v for r in chunk for v in r],
        )


def _chunked(items: Iterable[Any], size: int = 500) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------- incremental maintenance

SPAN_COLUMNS = ("row_id", "unit_id", "path", "community", "sign", "start_m", "end_m", "day0", "min0", "min1")
PENDING_COLUMNS = ("row_id", "unit_id", "path", "community", "start_m", "minutes")


def _attribution(row: ServiceEntry, community: bool) -> tuple[int, str]:
    """The unit a ledger row counts for: its batch's dispatching unit, or the person's home unit.

    A row that refers to an earlier row (approval, reversal, correction) keeps that row's attribution,
    so a −1 always leaves the buckets its +1 went to (attributions follow unit moves and home-unit
    changes, so this is also the current unit).
    """
    if row.refers_to_id is not None:
        hit = _fetch(
            f"SELECT unit_id, path FROM {_table(SpanFact)} WHERE row_id = %s UNION ALL "  # noqa: S608
            f"SELECT unit_id, path FROM {_table(PendingFact)} WHERE row_id = %s",
            [row.refers_to_id, row.refers_to_id],
        )
        if hit:
            return int(hit[0][0]), str(hit[0][1])
    if community:
        table, pk = _table(Person), row.person_id
    else:
        assert row.deployment_id is not None
        table, pk = _table(Deployment), row.deployment_id
    (unit_id, path), *_rest = _fetch(
        f"SELECT u.id, u.path FROM {table} x JOIN {_table(Unit)} u ON u.id = x.unit_id WHERE x.id = %s",  # noqa: S608
        [pk],
    )
    return int(unit_id), str(path)


def _span_fact(
    pk: int, unit_id: int, path: str, community: bool, sign: int, s: int, e: int, delta: Delta
) -> tuple[Any, ...]:
    """The ``SpanFact`` row (``SPAN_COLUMNS``) of an approved row; its minutes go into ``delta``."""
    d0, m0, m1 = calendar().split(s, e)
    delta.span(unit_id, path, community, sign, s, e)
    return (pk, unit_id, path, community, sign, s, e, d0, m0, m1)


def on_ledger_row(row: ServiceEntry) -> None:
    """Bring the facts up to date with a ledger row just written (same transaction)."""
    if not enabled():
        return
    community = row.deployment_id is None and row.kind == EntryKind.COMMUNITY
    if row.deployment_id is None and not community:
        return  # hotline and duty on a post: not in these figures
    unit_id, path = _attribution(row, community)
    delta = Delta()
    if row.refers_to_id is not None:
        for p_unit, p_path, p_start, p_minutes in _fetch(
            f"SELECT unit_id, path, start_m, minutes FROM {_table(PendingFact)} WHERE row_id = %s",  # noqa: S608
            [row.refers_to_id],
        ):
            delta.pending(int(p_unit), str(p_path), int(p_start), int(p_minutes), -1)
            _delete(PendingFact, "row_id", [row.refers_to_id])
    s, e = minute_of(row.start), minute_of(row.end)
    if row.sign == 0:
        if row.op in PENDING_OPS:
            _insert(PendingFact, PENDING_COLUMNS, [(row.pk, unit_id, path, community, s, row.minutes)])
            delta.pending(unit_id, path, s, row.minutes, 1)
        delta.flush()
        return
    _insert(SpanFact, SPAN_COLUMNS, [_span_fact(row.pk, unit_id, path, community, row.sign, s, e, delta)])
    if community:
        _refresh_communities(delta, {row.person_id: (unit_id, path)})
    else:
        assert row.deployment_id is not None
        _refresh_pairs(delta, {(row.deployment_id, row.person_id): (unit_id, path)})
    delta.flush()


def _refresh_pairs(delta: Delta, pairs: dict[tuple[int, int], tuple[int, str]]) -> None:
    """Recompute the ``PairFact`` of each (deployment, person) from the ledger; then their people.

    ``pairs`` maps each pair to the unit (id, path) a new fact is attributed to (the batch's unit).
    """
    changed: set[int] = set()
    for chunk in _chunked(sorted(pairs)):
        deps = sorted({d for d, _p in chunk})
        people = sorted({p for _d, p in chunk})
        wanted = set(chunk)
        where = f"person_id IN ({_marks(len(people))}) AND deployment_id IN ({_marks(len(deps))})"
        rows: defaultdict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        for dep, person, sign, s, e in _fetch(_span_rows_sql(where), [*people, *deps]):
            if (dep, person) in wanted:
                rows[(dep, person)].append((int(sign), int(s), int(e)))
        have = {
            (dep, person): (pk, int(unit_id), str(path), int(first))
            for pk, dep, person, unit_id, path, first in _fetch(
                f"SELECT id, deployment_id, person_id, unit_id, path, first_m FROM {_table(PairFact)} "  # noqa: S608
                f"WHERE {where}",
                [*people, *deps],
            )
            if (dep, person) in wanted
        }
        new_rows: list[tuple[Any, ...]] = []
        moved: list[tuple[int, int]] = []
        gone: list[int] = []
        for key in chunk:
            first = live_first(rows.get(key, ()))
            old = have.get(key)
            if old is not None and old[3] == first:
                continue
            changed.add(key[1])
            if old is not None:
                pk, old_unit, old_path, old_first = old
                delta.at(old_unit, old_path, old_first, PAIRS, -1)
                if first is None:
                    gone.append(pk)
                else:
                    moved.append((pk, first))
                    delta.at(old_unit, old_path, first, PAIRS, 1)
            elif first is not None:
                unit_id, path = pairs[key]
                new_rows.append((key[0], key[1], unit_id, path, first))
                delta.at(unit_id, path, first, PAIRS, 1)
        _insert(PairFact, ("deployment_id", "person_id", "unit_id", "path", "first_m"), new_rows)
        _set_first(PairFact, "id", moved)
        _delete(PairFact, "id", gone)
    if changed:
        _refresh_persons(delta, changed)


def person_firsts(
    pairs: Iterable[tuple[int, str, int]], ancestors: Callable[[str], list[int]]
) -> dict[tuple[int, bool], int]:
    """{(node, own): first minute} of one person from their pairs ``(unit_id, path, first_m)``."""
    out: dict[tuple[int, bool], int] = {}
    for unit_id, path, first in pairs:
        for key in [(n, False) for n in ancestors(path)] + [(unit_id, True)]:
            cur = out.get(key)
            if cur is None or first < cur:
                out[key] = first
    return out


def _refresh_persons(delta: Delta, person_ids: Iterable[int]) -> None:
    """Recompute the ``PersonFact`` rows (distinct people per unit) of these people from their pairs."""
    for chunk in _chunked(sorted(set(person_ids))):
        marks = _marks(len(chunk))
        pairs: defaultdict[int, list[tuple[int, str, int]]] = defaultdict(list)
        for person, unit_id, path, first in _fetch(
            f"SELECT person_id, unit_id, path, first_m FROM {_table(PairFact)} WHERE person_id IN ({marks})",  # noqa: S608
            chunk,
        ):
            pairs[person].append((int(unit_id), str(path), int(first)))
        have: defaultdict[int, dict[tuple[int, bool], tuple[int, int]]] = defaultdict(dict)
        for pk, person, node, own, first in _fetch(
            f"SELECT id, person_id, node_id, own, first_m FROM {_table(PersonFact)} "  # noqa: S608
            f"WHERE person_id IN ({marks})",
            chunk,
        ):
            have[person][(int(node), bool(own))] = (pk, int(first))
        new_rows: list[tuple[Any, ...]] = []
        moved: list[tuple[int, int]] = []
        gone: list[int] = []
        for person in chunk:
            want = person_firsts(pairs.get(person, ()), delta.ancestors)
            mine = have.get(person, {})
            for key in sorted(set(want) | set(mine)):
                new, fact = want.get(key), mine.get(key)
                old = fact[1] if fact is not None else None
                if new == old:
                    continue
                node, own = key
                if old is not None:
                    delta.node_at(node, own, old, PERSONS, -1)
                if new is not None:
                    delta.node_at(node, own, new, PERSONS, 1)
                if fact is None:
                    assert new is not None
                    new_rows.append((person, node, own, new))
                elif new is None:
                    gone.append(fact[0])
                else:
                    moved.append((fact[0], new))
        _insert(PersonFact, ("person_id", "node_id", "own", "first_m"), new_rows)
        _set_first(PersonFact, "id", moved)
        _delete(PersonFact, "id", gone)


def _refresh_communities(delta: Delta, people: dict[int, tuple[int, str]]) -> None:
    """Recompute the ``CommunityFact`` of each person from the ledger.

    ``people`` maps each person to the unit (id, path) a new fact is attributed to (the home unit).
    """
    for chunk in _chunked(sorted(people)):
        marks = _marks(len(chunk))
        rows: defaultdict[int, list[tuple[int, int, int]]] = defaultdict(list)
        where = f"person_id IN ({marks}) AND deployment_id IS NULL AND kind = %s"
        for _dep, person, sign, s, e in _fetch(_span_rows_sql(where), [*chunk, EntryKind.COMMUNITY.value]):
            rows[person].append((int(sign), int(s), int(e)))
        have = {
            person: (int(unit_id), str(path), int(first))
            for person, unit_id, path, first in _fetch(
                f"SELECT person_id, unit_id, path, first_m FROM {_table(CommunityFact)} "  # noqa: S608
                f"WHERE person_id IN ({marks})",
                chunk,
            )
        }
        new_rows: list[tuple[Any, ...]] = []
        moved: list[tuple[int, int]] = []
        gone: list[int] = []
        for person in chunk:
            first = live_first(rows.get(person, ()))
            old = have.get(person)
            if old is not None and old[2] == first:
                continue
            if old is not None:
                old_unit, old_path, old_first = old
                delta.at(old_unit, old_path, old_first, C_PERSONS, -1)
                if first is None:
                    gone.append(person)
                else:
                    moved.append((person, first))
                    delta.at(old_unit, old_path, first, C_PERSONS, 1)
            elif first is not None:
                unit_id, path = people[person]
                new_rows.append((person, unit_id, path, first))
                delta.at(unit_id, path, first, C_PERSONS, 1)
        _insert(CommunityFact, ("person_id", "unit_id", "path", "first_m"), new_rows)
        _set_first(CommunityFact, "person_id", moved)
        _delete(CommunityFact, "person_id", gone)


def _refresh_batches(delta: Delta, deployment_ids: Iterable[int]) -> None:
    """Bring the ``BatchFact`` of each deployment in step with it (created, moved in time, cancelled)."""
    for chunk in _chunked(sorted(set(deployment_ids))):
        have = {f.deployment_id: f for f in BatchFact.objects.filter(deployment_id__in=chunk)}
        new_rows: list[BatchFact] = []
        gone: list[int] = []
        for pk, unit_id, path, start, status in Deployment.objects.filter(pk__in=chunk).values_list(
            "pk", "unit_id", "unit__path", "start", "status"
        ):
            old = have.get(pk)
            active = status == DeploymentStatus.ACTIVE
            m = minute_of(start)
            if old is not None and active and (old.start_m, old.unit_id, old.path) == (m, unit_id, path):
                continue
            if old is not None:
                delta.at(old.unit_id, old.path, old.start_m, BATCHES, -1)
                gone.append(pk)
            if active:
                new_rows.append(BatchFact(deployment_id=pk, unit_id=unit_id, path=path, start_m=m))
                delta.at(unit_id, path, m, BATCHES, 1)
        if gone:
            BatchFact.objects.filter(deployment_id__in=gone).delete()
        if new_rows:
            BatchFact.objects.bulk_create(new_rows)


def on_deployment(deployment: Deployment) -> None:
    """Bring the batch fact up to date after a batch is created, moved in time or cancelled."""
    if not enabled():
        return
    _drain()
    delta = Delta()
    _refresh_batches(delta, [deployment.pk])
    delta.flush()


def on_ledger_bulk(*, deployment_ids: Iterable[int] = (), row_ids: Iterable[int] = ()) -> None:
    """Bring in batches and ledger rows written in bulk (the ledger import), set-wise (same transaction).

    Rows that refer to an earlier row (the import writes none) go through ``on_ledger_row`` afterwards,
    in the order they were written. The rows queued before are folded first (``fold``).
    """
    if not enabled():
        return
    _drain()
    _fold_rows(deployment_ids=deployment_ids, row_ids=row_ids)


def _fold_rows(*, deployment_ids: Iterable[int] = (), row_ids: Iterable[int] = ()) -> None:
    """``on_ledger_bulk`` without the lock (the caller holds it)."""
    delta = Delta()
    _refresh_batches(delta, deployment_ids)
    pairs: dict[tuple[int, int], tuple[int, str]] = {}
    community: dict[int, tuple[int, str]] = {}
    later: list[int] = []
    fields = (
        "pk", "person_id", "deployment_id", "kind", "sign", "op", "refers_to_id", "start", "end", "minutes",
        "deployment__unit_id", "deployment__unit__path", "person__unit_id", "person__unit__path",
    )  # fmt: skip
    for chunk in _chunked(sorted(set(row_ids))):
        spans: list[tuple[Any, ...]] = []
        pend: list[tuple[Any, ...]] = []
        rows = ServiceEntry.objects.filter(pk__in=chunk).order_by("pk").values_list(*fields)
        for pk, person, dep, kind, sign, op, ref, start, end, minutes, du, dp, pu, pp in rows:
            is_comm = dep is None and kind == EntryKind.COMMUNITY
            if dep is None and not is_comm:
                continue
            if ref is not None:
                later.append(pk)
                continue
            unit_id, path = (pu, pp) if is_comm else (du, dp)
            s, e = minute_of(start), minute_of(end)
            if sign == 0:
                if op in PENDING_OPS:
                    pend.append((pk, unit_id, path, is_comm, s, minutes))
                    delta.pending(unit_id, path, s, minutes, 1)
                continue
            spans.append(_span_fact(pk, unit_id, path, is_comm, sign, s, e, delta))
            if is_comm:
                community[person] = (unit_id, path)
            else:
                pairs[(dep, person)] = (unit_id, path)
        _insert(SpanFact, SPAN_COLUMNS, spans)
        _insert(PendingFact, PENDING_COLUMNS, pend)
    _refresh_pairs(delta, pairs)
    _refresh_communities(delta, community)
    delta.flush()
    for pk in later:
        on_ledger_row(ServiceEntry.objects.get(pk=pk))


# ---------------------------------------------------------------- organization changes


def on_unit_moved(*, unit_id: int, old_path: str, new_path: str, **_: Any) -> None:
    """A unit and its subtree moved from ``old_path`` to ``new_path`` (same transaction, just after).

    The facts of the subtree get the new path prefix (one UPDATE per fact table); the subtree's day
    sums leave the ancestors the unit no longer has and join its new ancestors (the unit's own "tree"
    buckets are exactly those sums), and so do its hour sums for the ancestors that keep hour buckets;
    distinct people are not additive, so the people with dispatch service in the subtree get their
    ``PersonFact`` rows recomputed. When the move changes the subtree's depth, the hour buckets of its
    units are recomputed from the subtree's facts (a unit keeps them only down to ``hour_depth()``).
    """
    if not enabled() or old_path == new_path:
        return
    _drain()
    new_prefix = Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=CharField())
    for model in (BatchFact, SpanFact, PairFact, CommunityFact, PendingFact):
        model.objects.filter(path__startswith=old_path).update(path=new_prefix)
    chain = dict(
        Unit.objects.filter(path__in=prefixes(old_path)[:-1] + prefixes(new_path)[:-1]).values_list(
            "path", "id"
        )
    )
    old_chain = {chain[p]: depth_of(p) for p in prefixes(old_path)[:-1] if p in chain}
    new_chain = {chain[p]: depth_of(p) for p in prefixes(new_path)[:-1] if p in chain}
    lose = sorted(set(old_chain) - set(new_chain))
    gain = sorted(set(new_chain) - set(old_chain))
    limit = hour_depth()
    old_depth, new_depth = depth_of(old_path), depth_of(new_path)
    subtree: Leaf | None = None
    delta = Delta()
    if lose or gain:
        for day, *values in Bucket.objects.filter(node_id=unit_id, own=False).values_list("day", *FIGURES):
            for figure, v in enumerate(values):
                if figure == PERSONS or not v:
                    continue
                for node in lose:
                    delta.add_day(node, False, day, figure, -v)
                for node in gain:
                    delta.add_day(node, False, day, figure, v)
        hour_lose = [n for n in lose if old_chain[n] <= limit]
        hour_gain = [n for n in gain if new_chain[n] <= limit]
        if hour_lose or hour_gain:
            if old_depth <= limit:  # the unit's own hour sums are the subtree's
                hours: list[tuple[Any, ...]] = list(
                    HourBucket.objects.filter(node_id=unit_id, own=False).values_list("day", "slot", *FIGURES)
                )
            else:
                subtree = _subtree_leaf(new_path)
                total: defaultdict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * NF)
                for (_u, _p, day, slot), values in subtree.cells.items():
                    if slot is not None:
                        for figure, v in enumerate(values):
                            total[(day, slot)][figure] += v
                hours = [(day, slot, *values) for (day, slot), values in total.items()]
            for day, slot, *values in hours:
                for figure, v in enumerate(values):
                    if figure == PERSONS or not v:
                        continue
                    for node in hour_lose:
                        delta.add_hour(node, False, day, slot, figure, -v)
                    for node in hour_gain:
                        delta.add_hour(node, False, day, slot, figure, v)
        people = PersonFact.objects.filter(node_id=unit_id, own=False).values_list("person_id", flat=True)
        _refresh_persons(delta, list(people))
    delta.flush()
    if old_depth != new_depth and min(old_depth, new_depth) <= limit:
        _rehour_subtree(new_path, subtree or _subtree_leaf(new_path))


def _subtree_leaf(path: str) -> Leaf:
    """The cells (days and hours) of every fact attributed to a unit of ``path``'s subtree, per unit."""
    leaf = Leaf()
    like = [path + "%"]
    for table, figure in ((BatchFact, BATCHES), (PairFact, PAIRS), (CommunityFact, C_PERSONS)):
        when = "start_m" if table is BatchFact else "first_m"
        for unit_id, p, m in _fetch(
            f"SELECT unit_id, path, {when} FROM {_table(table)} WHERE path LIKE %s",  # noqa: S608
            like,
        ):
            leaf.at(int(unit_id), str(p), int(m), figure, 1)
    for unit_id, p, community, sign, s, e in _fetch(
        f"SELECT unit_id, path, community, sign, start_m, end_m FROM {_table(SpanFact)} WHERE path LIKE %s",  # noqa: S608
        like,
    ):
        leaf.span(int(unit_id), str(p), bool(community), int(sign), int(s), int(e))
    for unit_id, p, s, minutes in _fetch(
        f"SELECT unit_id, path, start_m, minutes FROM {_table(PendingFact)} WHERE path LIKE %s",  # noqa: S608
        like,
    ):
        leaf.pending(int(unit_id), str(p), int(s), int(minutes), 1)
    return leaf


def _rehour_subtree(path: str, leaf: Leaf) -> None:
    """Recompute the hour buckets of the units of ``path``'s subtree after a move changed their depth."""
    limit = hour_depth()
    units = dict(Unit.objects.filter(path__startswith=path).values_list("id", "path"))
    HourBucket.objects.filter(node__path__startswith=path).delete()
    delta = Delta()
    delta.know(units)
    keep = {i for i, p in units.items() if depth_of(p) <= limit}
    if not keep:
        return
    for (unit_id, p, day, slot), values in leaf.cells.items():
        if slot is None:
            continue
        nodes = [(n, False) for n in delta.ancestors(p) if n in keep]
        if depth_of(p) < limit:
            nodes.append((unit_id, True))
        for node, own in nodes:
            for figure, v in enumerate(values):
                delta.add_hour(node, own, day, slot, figure, v)
    cal = calendar()
    for node, own, first in PersonFact.objects.filter(node_id__in=sorted(keep)).values_list(
        "node_id", "own", "first_m"
    ):
        if own and depth_of(units[node]) == limit:
            continue
        day, slot = cal.slot(first)
        delta.add_hour(node, own, day, slot, PERSONS, 1)
    delta.flush()


def on_home_units_changed(*, person_ids: Iterable[int], **_: Any) -> None:
    """Re-attribute the community service of these people to their current home unit (set-wise).

    Their ``CommunityFact``, community ``SpanFact`` rows (with their minutes, day by day and hour by
    hour) and pending community rows move from the unit they were attributed to to the current home
    unit.
    """
    if not enabled():
        return
    _drain()
    delta = Delta()
    for chunk in _chunked(sorted(set(person_ids))):
        home = {
            pk: (int(u), str(p))
            for pk, u, p in Person.objects.filter(pk__in=chunk).values_list("pk", "unit_id", "unit__path")
        }
        targets: defaultdict[tuple[type[Model], tuple[int, str]], list[int]] = defaultdict(list)
        for person, unit_id, path, first in CommunityFact.objects.filter(person_id__in=chunk).values_list(
            "person_id", "unit_id", "path", "first_m"
        ):
            to = home[person]
            if (unit_id, path) != to:
                delta.at(unit_id, path, first, C_PERSONS, -1)
                delta.at(*to, first, C_PERSONS, 1)
                targets[(CommunityFact, to)].append(person)
        for row, person, unit_id, path, sign, s, e in SpanFact.objects.filter(
            community=True, row__person_id__in=chunk
        ).values_list("row_id", "row__person_id", "unit_id", "path", "sign", "start_m", "end_m"):
            to = home[person]
            if (unit_id, path) != to:
                delta.span(unit_id, path, True, -sign, s, e)
                delta.span(*to, True, sign, s, e)
                targets[(SpanFact, to)].append(row)
        for row, person, unit_id, path, s, minutes in PendingFact.objects.filter(
            community=True, row__person_id__in=chunk
        ).values_list("row_id", "row__person_id", "unit_id", "path", "start_m", "minutes"):
            to = home[person]
            if (unit_id, path) != to:
                delta.pending(unit_id, path, s, minutes, -1)
                delta.pending(*to, s, minutes, 1)
                targets[(PendingFact, to)].append(row)
        for (model, (unit_id, path)), keys in targets.items():
            key = "person_id" if model is CommunityFact else "row_id"
            model._default_manager.filter(**{f"{key}__in": keys}).update(unit_id=unit_id, path=path)
    delta.flush()


# ---------------------------------------------------------------- the fold queue
#
# A ledger row written by a service (a check-out, an approval, a correction …) is not folded into the facts
# and buckets in its own transaction: that took a dozen statements and row locks on the day buckets of the
# unit's ancestors, which every volunteer of a unit checking out the same day queued on. The write only
# appends the row's id to ``FoldQueue``; ``fold()`` folds the queued rows — in the order they were written
# (a row that refers to an earlier one needs that one's facts), one folder at a time (a lock on the
# ``RollupState`` row "fold"), and deletes them in the same transaction, so a fold killed half-way leaves
# its rows queued for the next one and a row is never folded twice.
#
# Who folds: ``fold_task`` on ``muster worker`` (queued, debounced, after the write commits), and every
# report read before it reads (``fold_pending``: one cheap query when nothing is queued) — so a report as of
# any time includes every row committed before it was asked. The synchronous maintenance (batches, bulk
# imports, organization changes, ``rebuild``) takes the same lock and folds the queue first.

FOLD_LOCK = "fold"
# A process queues the fold task at most this often; the task runs this long after (rows written
# meanwhile ride along).
FOLD_DELAY_SECONDS = 1.0
FOLD_BATCH = 2000
_next_enqueue = 0.0


def queue(rows: Sequence[ServiceEntry]) -> None:
    """Queue ledger rows just written for ``fold`` (same transaction), and the fold task after commit."""
    if not enabled():
        return
    ids = [
        (r.pk,)
        for r in rows
        if r.deployment_id is not None or r.kind == EntryKind.COMMUNITY  # hotline and duty: not counted
    ]
    if ids:
        _insert(FoldQueue, ("row_id",), ids)
        # robust: a task that could not be queued only delays the fold (reads fold first anyway); the
        # write has committed and must not answer with an error
        transaction.on_commit(_schedule, robust=True)


def _schedule() -> None:
    """Queue ``fold_task`` (at most once per ``FOLD_DELAY_SECONDS`` per process)."""
    global _next_enqueue
    import time

    now = time.monotonic()
    if now < _next_enqueue:
        return  # a task queued by this process runs after this row's commit anyway
    _next_enqueue = now + FOLD_DELAY_SECONDS
    from django.utils import timezone

    job = fold_task
    if job.get_backend().supports_defer:
        job = job.using(run_after=timezone.now() + timedelta(seconds=FOLD_DELAY_SECONDS))
    job.enqueue()


def _lock(*, wait: bool) -> bool:
    """Take the fold lock until the end of the transaction; ``False`` if another fold holds it (``wait``
    False, PostgreSQL). On SQLite every write transaction holds the database's one write lock already."""
    t = _table(RollupState)
    sql = f"SELECT value FROM {t} WHERE name = %s"  # noqa: S608
    features = connection.features
    if features.has_select_for_update:
        skip = not wait and features.has_select_for_update_skip_locked
        sql += " FOR UPDATE SKIP LOCKED" if skip else " FOR UPDATE"
    if _fetch(sql, [FOLD_LOCK]):
        return True
    _run(f"INSERT INTO {t} (name, value) VALUES (%s, 0) ON CONFLICT (name) DO NOTHING", [FOLD_LOCK])  # noqa: S608
    return bool(_fetch(sql, [FOLD_LOCK]))


def _drain(batch: int = FOLD_BATCH) -> int:
    """Fold every queued row, in the order written (the caller is in a transaction; takes the lock)."""
    _lock(wait=True)
    return _fold_queued(batch)


def _fold_queued(batch: int = FOLD_BATCH) -> int:
    done = 0
    t = _table(FoldQueue)
    while ids := [int(r[0]) for r in _fetch(f"SELECT row_id FROM {t} ORDER BY row_id LIMIT %s", [batch])]:  # noqa: S608
        _fold_rows(row_ids=ids)
        _delete(FoldQueue, "row_id", ids)
        done += len(ids)
    return done


def fold(*, wait: bool = True, batch: int = FOLD_BATCH) -> int | None:
    """Fold the queued ledger rows into the facts and buckets, in one transaction. Returns how many were
    folded, or ``None`` if another fold holds the lock and ``wait`` is False (it folds them)."""
    if not enabled():
        return 0
    with transaction.atomic():
        if not _lock(wait=wait):
            return None
        return _fold_queued(batch)


def pending_count() -> int:
    return int(_fetch(f"SELECT COUNT(*) FROM {_table(FoldQueue)}", [])[0][0])  # noqa: S608


def fold_pending() -> None:
    """Before a report reads the facts: fold what is queued (one cheap query when nothing is)."""
    if enabled() and _fetch(f"SELECT 1 FROM {_table(FoldQueue)} LIMIT 1", []):  # noqa: S608
        fold(wait=True)


@task(queue_name="reports")
def fold_task() -> int:
    """``fold()`` on ``muster worker``. With several workers, one folds and the others step aside; the
    one that steps aside queues the task again, for rows committed after the running fold began."""
    n = fold(wait=False)
    if n is None:
        _schedule()
        return 0
    return n


rerun_on_worker_loss(fold_task, max_attempts=3)  # idempotent: a lost fold rolled back, its rows are queued


def connect() -> None:
    """Listen to the organization's changes (``ReportsConfig.ready``)."""
    from muster.orgs import signals

    signals.unit_moved.connect(on_unit_moved, dispatch_uid="reports.facts.unit_moved")
    signals.home_units_changed.connect(on_home_units_changed, dispatch_uid="reports.facts.home_units")
    from muster.mobilize import signals as mobilize

    mobilize.ledger_rows_written.connect(_on_ledger_rows, dispatch_uid="reports.facts.ledger_rows")
    mobilize.deployment_changed.connect(_on_deployment, dispatch_uid="reports.facts.deployment")


def _on_ledger_rows(
    sender: Any,
    *,
    rows: Sequence[ServiceEntry] | None = None,
    row_ids: Iterable[int] = (),
    deployment_ids: Iterable[int] = (),
    **_: Any,
) -> None:
    """``mobilize.signals.ledger_rows_written``: a service's rows are queued for ``fold`` (the check-in/out
    path: one small insert, no shared lock); a bulk write (the import) is folded set-wise at once."""
    if rows is not None:
        queue(rows)
    else:
        on_ledger_bulk(deployment_ids=deployment_ids, row_ids=row_ids)


def _on_deployment(sender: Any, *, deployment: Deployment, **_: Any) -> None:
    on_deployment(deployment)


# ---------------------------------------------------------------- rebuild


def _bulk(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows: COPY on PostgreSQL, ``executemany`` elsewhere.

    ``rows`` may be fed by a server-side cursor on the same connection, so on PostgreSQL the rows are
    gathered in chunks and each chunk is copied once the cursor is idle (no query may run during COPY).
    """
    if connection.vendor != "postgresql":
        return insert_many(model, fields, rows, chunk=5000)
    meta = model._meta
    cols = ", ".join(connection.ops.quote_name(str(meta.get_field(f).column)) for f in fields)  # type: ignore[union-attr]
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({cols}) FROM STDIN"
    n = 0

    def copy(chunk: list[Sequence[Any]]) -> None:
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as cp:  # the psycopg cursor
            for r in chunk:
                cp.write_row(r)

    chunk: list[Sequence[Any]] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= 50_000:
            copy(chunk)
            n += len(chunk)
            chunk = []
    if chunk:
        copy(chunk)
        n += len(chunk)
    return n


def _say(out: IO[str] | None, text: str) -> None:
    if out is not None:
        out.write(text + "\n")


def rebuild(*, stdout: IO[str] | None = None) -> dict[str, int]:
    """Recompute every fact and bucket from the ledger (one transaction). Returns row counts."""
    cal = calendar()
    counts: dict[str, int] = {}
    with transaction.atomic():
        _lock(wait=True)  # no fold runs meanwhile; the queued rows are in the ledger this reads
        with connection.cursor() as cursor:
            for model in (
                Bucket, HourBucket, PersonFact, PairFact, CommunityFact, SpanFact, PendingFact, BatchFact,
                FoldQueue,
            ):  # fmt: skip
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        delta = Delta()
        paths: dict[int, str] = dict(Unit.objects.values_list("id", "path"))
        delta.know(paths)
        leaf = Leaf()

        # batches
        dep_unit: dict[int, int] = {}
        batch_rows = []
        for pk, unit_id, start, status in Deployment.objects.values_list(
            "pk", "unit_id", "start", "status"
        ).iterator(chunk_size=20000):
            dep_unit[pk] = unit_id
            if status != DeploymentStatus.ACTIVE:
                continue
            m = minute_of(start)
            batch_rows.append((pk, unit_id, paths[unit_id], m))
            leaf.at(unit_id, paths[unit_id], m, BATCHES, 1)
        counts["batches"] = _bulk(BatchFact, ["deployment", "unit", "path", "start_m"], batch_rows)
        del batch_rows
        _say(stdout, f"batches {counts['batches']}")

        # dispatch rows, pair by pair
        pairs: list[tuple[int, int, int, int]] = []  # (person, deployment, unit, first)

        def dispatch_spans() -> Iterable[tuple[Any, ...]]:
            qs = (
                ServiceEntry.objects.filter(deployment__isnull=False)
                .exclude(sign=0)
                .order_by("deployment_id", "person_id")
                .values_list("pk", "deployment_id", "person_id", "sign", "start", "end")
            )
            key: tuple[int, int] | None = None
            group: list[tuple[int, int, int]] = []

            def close() -> None:
                if key is None:
                    return
                first = live_first(group)
                if first is not None:
                    unit_id = dep_unit[key[0]]
                    pairs.append((key[1], key[0], unit_id, first))
                    leaf.at(unit_id, paths[unit_id], first, PAIRS, 1)

            for pk, dep, person, sign, start, end in qs.iterator(chunk_size=20000):
                if (dep, person) != key:
                    close()
                    key, group = (dep, person), []
                s, e = minute_of(start), minute_of(end)
                group.append((sign, s, e))
                unit_id = dep_unit[dep]
                d0, m0, m1 = cal.split(s, e)
                leaf.span(unit_id, paths[unit_id], False, sign, s, e)
                yield (pk, unit_id, paths[unit_id], False, sign, s, e, d0, m0, m1)
            close()

        span_fields = ["row", "unit", "path", "community", "sign", "start_m", "end_m", "day0", "min0", "min1"]
        counts["spans"] = _bulk(SpanFact, span_fields, dispatch_spans())
        counts["pairs"] = _bulk(
            PairFact,
            ["person", "deployment", "unit", "path", "first_m"],
            ((p, d, u, paths[u], f) for p, d, u, f in pairs),
        )
        _say(stdout, f"dispatch spans {counts['spans']}, pairs {counts['pairs']}")

        # community rows, person by person (attributed to the current home unit)
        home: dict[int, int] = {}
        community_facts: list[tuple[int, int, str, int]] = []

        def community_spans() -> Iterable[tuple[Any, ...]]:
            qs = (
                ServiceEntry.objects.filter(deployment__isnull=True, kind=EntryKind.COMMUNITY)
                .exclude(sign=0)
                .order_by("person_id")
                .values_list("pk", "person_id", "person__unit_id", "sign", "start", "end")
            )
            key: int | None = None
            group: list[tuple[int, int, int]] = []

            def close() -> None:
                if key is None:
                    return
                first = live_first(group)
                if first is not None:
                    u = home[key]
                    community_facts.append((key, u, paths[u], first))
                    leaf.at(u, paths[u], first, C_PERSONS, 1)

            for pk, person, unit_id, sign, start, end in qs.iterator(chunk_size=20000):
                if person != key:
                    close()
                    key, group = person, []
                    home[person] = unit_id
                s, e = minute_of(start), minute_of(end)
                group.append((sign, s, e))
                d0, m0, m1 = cal.split(s, e)
                leaf.span(unit_id, paths[unit_id], True, sign, s, e)
                yield (pk, unit_id, paths[unit_id], True, sign, s, e, d0, m0, m1)
            close()

        counts["community_spans"] = _bulk(SpanFact, span_fields, community_spans())
        counts["community_persons"] = _bulk(
            CommunityFact, ["person", "unit", "path", "first_m"], community_facts
        )

        # pending rows
        pend = pending_rows(
            ServiceEntry.objects.filter(Q(deployment__isnull=False) | Q(kind=EntryKind.COMMUNITY))
        ).values_list("pk", "deployment__unit_id", "person__unit_id", "start", "minutes")

        def pending_facts() -> Iterable[tuple[Any, ...]]:
            for pk, du, pu, start, mins in pend.iterator(chunk_size=20000):
                unit_id, s = du or pu, minute_of(start)
                leaf.pending(unit_id, paths[unit_id], s, mins, 1)
                yield (pk, unit_id, paths[unit_id], du is None, s, mins)

        counts["pending"] = _bulk(
            PendingFact, ["row", "unit", "path", "community", "start_m", "minutes"], pending_facts()
        )

        # distinct people under every unit
        pairs.sort()
        person_rows: list[tuple[int, int, bool, int]] = []
        i = 0
        while i < len(pairs):
            j = i
            person = pairs[i][0]
            while j < len(pairs) and pairs[j][0] == person:
                j += 1
            firsts = person_firsts(((u, paths[u], f) for _p, _d, u, f in pairs[i:j]), delta.ancestors)
            for (node, own), first in firsts.items():
                person_rows.append((person, node, own, first))
                delta.node_at(node, own, first, PERSONS, 1)
            i = j
        pairs.clear()
        counts["person_units"] = _bulk(PersonFact, ["person", "node", "own", "first_m"], person_rows)
        del person_rows

        # leaf sums → every ancestor's subtree and the unit's own bucket
        leaf.spread(delta)
        rows = [(n, o, d, *v) for (n, o, d), v in delta.sums.items() if any(v)]
        delta.sums.clear()
        counts["buckets"] = _bulk(Bucket, ["node", "own", "day", *FIGURES], rows)
        hours = [(n, o, d, k, *v) for (n, o, d, k), v in delta.hours.items() if any(v)]
        delta.hours.clear()
        counts["hour_buckets"] = _bulk(HourBucket, ["node", "own", "day", "slot", *FIGURES], hours)
        RollupState.objects.update_or_create(name="hour_depth", defaults={"value": delta.hour_depth})
        _say(stdout, f"buckets {counts['buckets']}, hour buckets {counts['hour_buckets']}")
    return counts
