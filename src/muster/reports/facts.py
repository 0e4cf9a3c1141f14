"""Keeping the rollup's facts and day buckets in step with the ledger (see ``models`` for what they are).

Two ways in, one set of rules:

- ``on_ledger_row(row)`` and ``on_deployment(deployment)`` are called by ``muster.mobilize.services``
  right after it writes a ledger row or creates, moves or cancels a batch, inside the same
  transaction, so the facts commit (or roll back) with the write. The cost per ledger row is a few
  small indexed reads (the rows of one (person, batch) pair, the pairs of one person) and at most a
  dozen bucket upserts.
- ``rebuild()`` recomputes every fact and bucket from the ledger in one pass (after a bulk load, a unit
  move, or with ``settings.MUSTER_ROLLUP_MAINTENANCE = False``).

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
  (``kind = community``, no batch) to the person's home unit (at the time of the first row of the
  entry; ``rebuild`` re-attributes everything to the current units);
- *pending* rows (a record or a correction request waiting for a decision) are kept apart.

Times are whole minutes since the Unix epoch (UTC); days are local dates (``settings.TIME_ZONE``) as
ordinals. Local midnights are computed through ``zoneinfo``, so zones with summer time work too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, Q

from muster.mobilize.models import Deployment, DeploymentStatus, EntryKind, EntryOp, ServiceEntry
from muster.mobilize.queries import pending_rows
from muster.orgs.models import Person, Unit
from muster.reports.models import (
    BatchFact,
    Bucket,
    CommunityFact,
    PairFact,
    PendingFact,
    PersonFact,
    SpanFact,
)
from muster.tabular.bulk import insert_many

STEP = Unit.steplen
FIGURES = ("batches", "pairs", "persons", "minutes", "c_persons", "c_minutes")
BATCHES, PAIRS, PERSONS, MINUTES, C_PERSONS, C_MINUTES = range(6)
PENDING_OPS = (EntryOp.RECORD, EntryOp.CORRECT_REQUEST)


def enabled() -> bool:
    return bool(getattr(settings, "MUSTER_ROLLUP_MAINTENANCE", True))


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

    def split(self, start: int, end: int) -> tuple[int, int, int]:
        """(day of ``start``, minutes on that day, minutes on the next day) of ``[start, end)``."""
        d0 = self.day_of(start)
        b = self.midnight(d0 + 1)
        if end <= b:
            return d0, end - start, 0
        assert end <= self.midnight(d0 + 2), "an entry is at most 24 hours"
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


class Delta:
    """Bucket changes gathered during one maintenance step, written at the end by upserts."""

    def __init__(self) -> None:
        self.sums: defaultdict[tuple[int, bool, int], list[int]] = defaultdict(lambda: [0] * 6)
        self._ancestors: dict[str, list[int]] = {}

    def ancestors(self, path: str) -> list[int]:
        """Ids of the units on ``path`` (the unit itself included), root first."""
        ids = self._ancestors.get(path)
        if ids is None:
            found = dict(Unit.objects.filter(path__in=prefixes(path)).values_list("path", "id"))
            ids = [found[p] for p in prefixes(path) if p in found]
            self._ancestors[path] = ids
        return ids

    def add(self, unit_id: int, path: str, day: int, figure: int, value: int) -> None:
        """Add ``value`` to ``figure`` for ``day`` in every ancestor's subtree and the unit's own bucket."""
        if not value:
            return
        for node in self.ancestors(path):
            self.sums[(node, False, day)][figure] += value
        self.sums[(unit_id, True, day)][figure] += value

    def add_node(self, node: int, own: bool, day: int, figure: int, value: int) -> None:
        if value:
            self.sums[(node, own, day)][figure] += value

    def flush(self) -> None:
        rows = [(n, o, d, *v) for (n, o, d), v in self.sums.items() if any(v)]
        self.sums.clear()
        if rows:
            upsert_buckets(rows)


def upsert_buckets(rows: Sequence[Sequence[Any]]) -> None:
    """Add ``(node_id, own, day, *FIGURES)`` rows to the buckets (SQLite ≥ 3.24 and PostgreSQL)."""
    t = connection.ops.quote_name(Bucket._meta.db_table)
    cols = ", ".join(FIGURES)
    sets = ", ".join(f"{f} = {t}.{f} + excluded.{f}" for f in FIGURES)
    marks = ", ".join(["%s"] * (3 + len(FIGURES)))
    sql = (
        f"INSERT INTO {t} (node_id, own, day, {cols}) VALUES ({marks}) "  # noqa: S608 (names from the model)
        f"ON CONFLICT (node_id, own, day) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [list(r) for r in rows])


# ---------------------------------------------------------------- incremental maintenance


def _attribution(row: ServiceEntry, community: bool) -> tuple[int, str]:
    """The unit a ledger row counts for: its batch's dispatching unit, or the person's home unit.

    A row that refers to an earlier row (approval, reversal, correction) keeps that row's attribution,
    so a −1 always leaves the buckets its +1 went to.
    """
    if row.refers_to_id is not None:
        for model in (SpanFact, PendingFact):
            hit = model.objects.filter(row_id=row.refers_to_id).values_list("unit_id", "path").first()
            if hit is not None:
                return int(hit[0]), str(hit[1])
    if not community:
        assert row.deployment_id is not None
        unit_id, path = (
            Deployment.objects.filter(pk=row.deployment_id).values_list("unit_id", "unit__path").get()
        )
    else:
        unit_id, path = Person.objects.filter(pk=row.person_id).values_list("unit_id", "unit__path").get()
    return int(unit_id), str(path)


def on_ledger_row(row: ServiceEntry) -> None:
    """Bring the facts up to date with a ledger row just written (same transaction)."""
    if not enabled():
        return
    community = row.deployment_id is None and row.kind == EntryKind.COMMUNITY
    if row.deployment_id is None and not community:
        return  # hotline and duty on a post: not in these figures
    unit_id, path = _attribution(row, community)
    if row.refers_to_id is not None:
        PendingFact.objects.filter(row_id=row.refers_to_id).delete()
    s, e = minute_of(row.start), minute_of(row.end)
    if row.sign == 0:
        if row.op in PENDING_OPS:
            PendingFact.objects.create(
                row=row, unit_id=unit_id, path=path, community=community, start_m=s, minutes=row.minutes
            )
        return
    cal = calendar()
    d0, m0, m1 = cal.split(s, e)
    SpanFact.objects.create(
        row=row,
        unit_id=unit_id,
        path=path,
        community=community,
        sign=row.sign,
        start_m=s,
        end_m=e,
        day0=d0,
        min0=m0,
        min1=m1,
    )
    delta = Delta()
    figure = C_MINUTES if community else MINUTES
    delta.add(unit_id, path, d0, figure, row.sign * m0)
    delta.add(unit_id, path, d0 + 1, figure, row.sign * m1)
    if community:
        _refresh_community(delta, row.person_id, unit_id, path)
    else:
        assert row.deployment_id is not None
        _refresh_pair(delta, row.deployment_id, row.person_id, unit_id, path)
    delta.flush()


def _span_rows(qs: Any) -> list[tuple[int, int, int]]:
    return [
        (sign, minute_of(s), minute_of(e))
        for sign, s, e in qs.exclude(sign=0).values_list("sign", "start", "end")
    ]


def _refresh_pair(delta: Delta, deployment_id: int, person_id: int, unit_id: int, path: str) -> None:
    cal = calendar()
    first = live_first(
        _span_rows(ServiceEntry.objects.filter(deployment_id=deployment_id, person_id=person_id))
    )
    old = PairFact.objects.filter(deployment_id=deployment_id, person_id=person_id).first()
    if old is not None and old.first_m == first:
        return
    if old is not None:
        delta.add(old.unit_id, old.path, cal.day_of(old.first_m), PAIRS, -1)
        if first is None:
            old.delete()
        else:
            old.first_m = first
            old.save(update_fields=["first_m"])
            delta.add(old.unit_id, old.path, cal.day_of(first), PAIRS, 1)
    elif first is not None:
        PairFact.objects.create(
            deployment_id=deployment_id, person_id=person_id, unit_id=unit_id, path=path, first_m=first
        )
        delta.add(unit_id, path, cal.day_of(first), PAIRS, 1)
    _refresh_person(delta, person_id)


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


def _refresh_person(delta: Delta, person_id: int) -> None:
    cal = calendar()
    want = person_firsts(
        PairFact.objects.filter(person_id=person_id).values_list("unit_id", "path", "first_m"),
        delta.ancestors,
    )
    have = {(f.node_id, f.own): f for f in PersonFact.objects.filter(person_id=person_id)}
    new_rows: list[PersonFact] = []
    gone: list[int] = []
    for key in set(want) | set(have):
        new, fact = want.get(key), have.get(key)
        old = fact.first_m if fact is not None else None
        if new == old:
            continue
        node, own = key
        if old is not None:
            delta.add_node(node, own, cal.day_of(old), PERSONS, -1)
        if new is not None:
            delta.add_node(node, own, cal.day_of(new), PERSONS, 1)
        if fact is None:
            assert new is not None
            new_rows.append(PersonFact(person_id=person_id, node_id=node, own=own, first_m=new))
        elif new is None:
            gone.append(fact.pk)
        else:
            fact.first_m = new
            fact.save(update_fields=["first_m"])
    if new_rows:
        PersonFact.objects.bulk_create(new_rows)
    if gone:
        PersonFact.objects.filter(pk__in=gone).delete()


def _refresh_community(delta: Delta, person_id: int, unit_id: int, path: str) -> None:
    cal = calendar()
    rows = ServiceEntry.objects.filter(person_id=person_id, kind=EntryKind.COMMUNITY, deployment__isnull=True)
    first = live_first(_span_rows(rows))
    old = CommunityFact.objects.filter(person_id=person_id).first()
    if old is not None and old.first_m == first:
        return
    if old is not None:
        delta.add(old.unit_id, old.path, cal.day_of(old.first_m), C_PERSONS, -1)
        if first is None:
            old.delete()
        else:
            old.first_m = first
            old.save(update_fields=["first_m"])
            delta.add(old.unit_id, old.path, cal.day_of(first), C_PERSONS, 1)
    elif first is not None:
        CommunityFact.objects.create(person_id=person_id, unit_id=unit_id, path=path, first_m=first)
        delta.add(unit_id, path, cal.day_of(first), C_PERSONS, 1)


def on_deployment(deployment: Deployment) -> None:
    """Bring the batch fact up to date after a batch is created, moved in time or cancelled."""
    if not enabled():
        return
    cal = calendar()
    delta = Delta()
    old = BatchFact.objects.filter(deployment_id=deployment.pk).first()
    active = deployment.status == DeploymentStatus.ACTIVE
    start = minute_of(deployment.start)
    if old is not None and active and old.start_m == start:
        return
    if old is not None:
        delta.add(old.unit_id, old.path, cal.day_of(old.start_m), BATCHES, -1)
        old.delete()
    if active:
        path = Unit.objects.filter(pk=deployment.unit_id).values_list("path", flat=True).get()
        BatchFact.objects.create(
            deployment_id=deployment.pk, unit_id=deployment.unit_id, path=path, start_m=start
        )
        delta.add(deployment.unit_id, path, cal.day_of(start), BATCHES, 1)
    delta.flush()


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
        with connection.cursor() as cursor:
            for model in (Bucket, PersonFact, PairFact, CommunityFact, SpanFact, PendingFact, BatchFact):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        delta = Delta()
        paths: dict[int, str] = dict(Unit.objects.values_list("id", "path"))
        by_path = {p: i for i, p in paths.items()}

        def ancestors(path: str) -> list[int]:
            return [by_path[p] for p in prefixes(path) if p in by_path]

        delta._ancestors = {p: ancestors(p) for p in by_path}
        leaf: defaultdict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 6)

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
            leaf[(unit_id, cal.day_of(m))][BATCHES] += 1
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
                    leaf[(unit_id, cal.day_of(first))][PAIRS] += 1

            for pk, dep, person, sign, start, end in qs.iterator(chunk_size=20000):
                if (dep, person) != key:
                    close()
                    key, group = (dep, person), []
                s, e = minute_of(start), minute_of(end)
                group.append((sign, s, e))
                unit_id = dep_unit[dep]
                d0, m0, m1 = cal.split(s, e)
                cell = leaf[(unit_id, d0)]
                cell[MINUTES] += sign * m0
                if m1:
                    leaf[(unit_id, d0 + 1)][MINUTES] += sign * m1
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
                    leaf[(u, cal.day_of(first))][C_PERSONS] += 1

            for pk, person, unit_id, sign, start, end in qs.iterator(chunk_size=20000):
                if person != key:
                    close()
                    key, group = person, []
                    home[person] = unit_id
                s, e = minute_of(start), minute_of(end)
                group.append((sign, s, e))
                d0, m0, m1 = cal.split(s, e)
                leaf[(unit_id, d0)][C_MINUTES] += sign * m0
                if m1:
                    leaf[(unit_id, d0 + 1)][C_MINUTES] += sign * m1
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
        counts["pending"] = _bulk(
            PendingFact,
            ["row", "unit", "path", "community", "start_m", "minutes"],
            (
                (pk, du or pu, paths[du or pu], du is None, minute_of(s), mins)
                for pk, du, pu, s, mins in pend.iterator(chunk_size=20000)
            ),
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
                delta.add_node(node, own, cal.day_of(first), PERSONS, 1)
            i = j
        pairs.clear()
        counts["person_units"] = _bulk(PersonFact, ["person", "node", "own", "first_m"], person_rows)
        del person_rows

        # leaf sums → every ancestor's subtree and the unit's own bucket
        for (unit_id, day), values in leaf.items():
            for fig, v in enumerate(values):
                if v and fig != PERSONS:
                    delta.add(unit_id, paths[unit_id], day, fig, v)
        leaf.clear()
        rows = [(n, o, d, *v) for (n, o, d), v in delta.sums.items() if any(v)]
        delta.sums.clear()
        counts["buckets"] = _bulk(Bucket, ["node", "own", "day", *FIGURES], rows)
        _say(stdout, f"buckets {counts['buckets']}")
    return counts
