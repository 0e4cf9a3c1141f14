"""The care figures' facts: the marks of every record (``FactMark``, computed by ``muster.care.factmath``)
and their sums per unit, figure and local day (``DayFact``) and hour (``HourFact``), kept in the
transaction of each write.

- ``refresh(subjects=, helps=, lines=, payments=, donations=)`` recomputes the marks of those records
  from their rows, and moves the difference into the day buckets of every ancestor of the record's unit.
  The services call it after each write (a contact touches one subject's marks, a delivery one line's).
- ``value(unit, as_of, figure)``: the day buckets before the cutoff's day (one indexed range sum of the
  unit's rows), the hour buckets (``HourFact``) of that day before the cutoff's hour, and the marks of
  the cutoff's hour before the cutoff (an indexed time range).
- ``values(unit, as_of)``: every figure at once, in the same three reads grouped by figure (what the
  metrics of one unit and cutoff share); ``values_many``: of a unit and its children at once.
- ``rebuild()`` recomputes everything (after a bulk load that bypassed the services, a unit moving, the
  contact frequency changing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Min, Sum

from muster import clock
from muster.care import factmath as fm
from muster.care.models import (
    CareSubject,
    Consolation,
    Contact,
    ContactFrequency,
    ContactOutcome,
    DayFact,
    DeliveryKind,
    DeliveryLine,
    Donation,
    FactMark,
    HelpRequest,
    HelpStatus,
    HelpStep,
    HourFact,
    Observation,
    RiskTagEvent,
    RiskTagKind,
)
from muster.orgs.models import Unit
from muster.tabular.bulk import insert_many

STEP = Unit.steplen
CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def frequencies() -> dict[str, int]:
    return dict(ContactFrequency.objects.values_list("level", "every_days"))


# ---------------------------------------------------------------- marks of records, from their rows


def subject_marks(ids: Sequence[int]) -> dict[str, tuple[str, list[fm.Mark]]]:
    """{key: (unit path, marks)} of the subjects ``ids`` (a few set-wise reads per chunk)."""
    tz = clock.local_tz()
    every = frequencies()
    out: dict[str, tuple[str, list[fm.Mark]]] = {}
    for part in _chunks(list(ids)):
        rows = {
            pk: (path, fm.SubjectRows(created_at=created, status=status, status_on=on))
            for pk, path, created, status, on in CareSubject.objects.filter(pk__in=part).values_list(
                "pk", "unit__path", "created_at", "status", "status_on"
            )
        }
        for sid, at in (
            Contact.objects.filter(subject_id__in=part)
            .exclude(outcome=ContactOutcome.UNREACHED)
            .values_list("subject_id", "at")
        ):
            rows[sid][1].contacts.append(at)
        for sid, first in (
            Observation.objects.filter(subject_id__in=part)
            .values("subject_id")
            .annotate(first=Min("observed_at"))
            .values_list("subject_id", "first")
        ):
            rows[sid][1].first_answer = first
        for sid, at, pk, code, high, on in RiskTagEvent.objects.filter(subject_id__in=part).values_list(
            "subject_id", "at", "pk", "tag__code", "tag__high_risk", "on"
        ):
            rows[sid][1].tags.append(fm.TagEvent(at, pk, code, high, on))
        for sid, (path, r) in rows.items():
            out[f"s:{sid}"] = (path, fm.subject_marks(r, tz=tz, every_days=every))
    return out


def help_marks(ids: Sequence[int]) -> dict[str, tuple[str, list[fm.Mark]]]:
    out: dict[str, tuple[str, list[fm.Mark]]] = {}
    for part in _chunks(list(ids)):
        cancelled = dict(
            HelpStep.objects.filter(request_id__in=part, status=HelpStatus.CANCELLED)
            .values("request_id")
            .annotate(m=Min("at"))
            .values_list("request_id", "m")
        )
        for pk, path, raised, status, resolved in HelpRequest.objects.filter(pk__in=part).values_list(
            "pk", "unit__path", "raised_at", "status", "resolved_at"
        ):
            out[f"h:{pk}"] = (
                path,
                fm.help_marks(
                    raised_at=raised, status=status, resolved_at=resolved, cancelled_at=cancelled.get(pk)
                ),
            )
    return out


def line_marks(ids: Sequence[int]) -> dict[str, tuple[str, list[fm.Mark]]]:
    out: dict[str, tuple[str, list[fm.Mark]]] = {}
    for part in _chunks(list(ids)):
        for pk, path, kind, status, done in DeliveryLine.objects.filter(pk__in=part).values_list(
            "pk", "run__unit__path", "run__kind", "status", "done_at"
        ):
            out[f"l:{pk}"] = (path, fm.delivery_marks(kind=kind, status=status, done_at=done))
    return out


def payment_marks(ids: Sequence[int]) -> dict[str, tuple[str, list[fm.Mark]]]:
    out: dict[str, tuple[str, list[fm.Mark]]] = {}
    for part in _chunks(list(ids)):
        for pk, path, kind, approved in Consolation.objects.filter(pk__in=part).values_list(
            "pk", "subject__unit__path", "kind", "approved_at"
        ):
            out[f"c:{pk}"] = (path, fm.payment_marks(kind=kind, approved_at=approved))
    return out


def donation_marks(ids: Sequence[int]) -> dict[str, tuple[str, list[fm.Mark]]]:
    out: dict[str, tuple[str, list[fm.Mark]]] = {}
    for part in _chunks(list(ids)):
        for pk, path, given, value in Donation.objects.filter(pk__in=part).values_list(
            "pk", "unit__path", "given_at", "value"
        ):
            out[f"d:{pk}"] = (path, fm.donation_marks(given_at=given, value=value))
    return out


# ---------------------------------------------------------------- keeping the buckets


def _ancestors(paths: Iterable[str]) -> dict[str, list[int]]:
    wanted = {p: [p[:i] for i in range(STEP, len(p) + 1, STEP)] for p in set(paths)}
    every = {a for chain in wanted.values() for a in chain}
    ids: dict[str, int] = {}
    for part in _chunks(sorted(every)):
        ids.update(Unit.objects.filter(path__in=part).values_list("path", "pk"))
    return {p: [ids[a] for a in chain if a in ids] for p, chain in wanted.items()}


def _apply(
    cells: dict[tuple[int, str, Any], Decimal],
    *,
    empty: bool = False,
    model: Any = DayFact,
    field: str = "day",
) -> None:
    """Add ``{(unit id, figure, day): delta}`` to the buckets (creating the missing ones). ``empty``: the
    buckets were all deleted in this transaction (``rebuild``), so they are written as they are."""
    cells = {k: v for k, v in cells.items() if v}
    if not cells:
        return
    if empty:
        model.objects.bulk_create(
            [model(unit_id=u, figure=f, value=v, **{field: d}) for (u, f, d), v in cells.items()],
            batch_size=2000,
        )
        return
    # a missing bucket is created empty first (a concurrent writer's insert waits on the unique key and
    # is ignored), then every bucket is incremented in place
    model.objects.bulk_create(
        [model(unit_id=u, figure=f, **{field: d}) for u, f, d in cells],
        batch_size=2000,
        ignore_conflicts=True,
    )
    groups: dict[tuple[str, Any, Decimal], list[int]] = defaultdict(list)
    for (u, f, d), v in cells.items():
        groups[(f, d, v)].append(u)
    for (f, d, v), units in groups.items():
        for part in _chunks(units):
            model.objects.filter(unit_id__in=part, figure=f, **{field: d}).update(value=F("value") + v)


def _summed(marks: Iterable[tuple[str, str, datetime, Decimal]]) -> list[tuple[str, str, datetime, Decimal]]:
    """Marks of one unit path, figure and instant added up (an import's thousands of subjects share a
    few), so that the buckets are computed per (unit, figure, instant), not per record."""
    sums: dict[tuple[str, str, datetime], Decimal] = {}
    for path, figure, at, delta in marks:
        k = (path, figure, at)
        sums[k] = sums.get(k, Decimal(0)) + delta
    return [(p, f, at, d) for (p, f, at), d in sums.items()]


def _store(
    computed: dict[str, tuple[str, list[fm.Mark]]], *, fresh: bool = False, empty: bool = False
) -> None:
    """Replace the stored marks of ``computed``'s keys and move the difference into the buckets
    (``fresh``: records just created, with no marks yet)."""
    if not computed:
        return
    keys = list(computed)
    old: dict[str, list[tuple[str, str, datetime, Decimal]]] = defaultdict(list)
    for part in _chunks([] if fresh else keys):
        for key, path, figure, at, delta in FactMark.objects.filter(key__in=part).values_list(
            "key", "unit_path", "figure", "at", "delta"
        ):
            old[key].append((path, figure, at, delta))
    changed: list[str] = []
    minus: list[tuple[str, str, datetime, Decimal]] = []
    plus: list[tuple[str, str, datetime, Decimal]] = []
    for key, (path, marks) in computed.items():
        new = [(path, f, at, d if isinstance(d, Decimal) else Decimal(d)) for f, at, d in marks]
        if not fresh and sorted(new) == sorted(old.get(key, [])):
            continue
        changed.append(key)
        minus.extend(old.get(key, []))
        plus.extend(new)
    if not changed:
        return
    tz = clock.local_tz()
    anc = _ancestors({m[0] for m in minus} | {m[0] for m in plus})
    plus, minus = _summed(plus), _summed(minus)
    cells = fm.day_cells(plus, anc, tz)
    for k, v in fm.day_cells(minus, anc, tz).items():
        cells[k] = cells.get(k, Decimal(0)) - v
    hours = fm.hour_cells(plus, anc, tz)
    for hk, v in fm.hour_cells(minus, anc, tz).items():
        hours[hk] = hours.get(hk, Decimal(0)) - v
    # the rows of the marks by figure, equal instants and deltas as one object: the insert converts each
    # value once per run of equal values
    same: dict[Any, Any] = {}
    by_figure: dict[str, list[tuple[str, str, str, datetime, Decimal]]] = defaultdict(list)
    for key in changed:
        path, marks = computed[key]
        for f, at, d in marks:
            by_figure[f].append((key, path, f, same.setdefault(at, at), same.setdefault(d, d)))
    with transaction.atomic():
        for part in _chunks([] if fresh else changed):
            FactMark.objects.filter(key__in=part).delete()
        insert_many(
            FactMark,
            ("key", "unit_path", "figure", "at", "delta"),
            [row for rows in by_figure.values() for row in rows],
        )
        _apply(cells, empty=empty)
        _apply(hours, empty=empty, model=HourFact, field="hour")


def refresh(
    *,
    subjects: Iterable[int] = (),
    helps: Iterable[int] = (),
    lines: Iterable[int] = (),
    payments: Iterable[int] = (),
    donations: Iterable[int] = (),
) -> None:
    """Bring the marks of these records (and so the buckets) in step with their rows (in the write's
    transaction)."""
    computed: dict[str, tuple[str, list[fm.Mark]]] = {}
    computed.update(subject_marks(sorted(set(subjects))))
    computed.update(help_marks(sorted(set(helps))))
    computed.update(line_marks(sorted(set(lines))))
    computed.update(payment_marks(sorted(set(payments))))
    computed.update(donation_marks(sorted(set(donations))))
    _store(computed)


def add_new_subjects(
    subjects: Sequence[CareSubject], events: Sequence[tuple[int, RiskTagKind, datetime, bool]]
) -> None:
    """The marks of subjects just created in bulk (no contacts or answers yet; ``events``: their tag
    events as (subject id, tag, at, on), in the order they were written), computed from the objects in
    memory: no reads of the ledger. Subjects alike (created at the same time, the same status and tag
    events) have the same marks, computed once."""
    tz = clock.local_tz()
    every = frequencies()
    tags: dict[int, list[fm.TagEvent]] = defaultdict(list)
    for i, (sid, tag, at, on) in enumerate(events):  # (i: the order of their ids)
        tags[sid].append(fm.TagEvent(at, i, tag.code, tag.high_risk, on))
    alike: dict[tuple[Any, ...], list[fm.Mark]] = {}
    computed: dict[str, tuple[str, list[fm.Mark]]] = {}
    for s in subjects:
        mine = tags.get(s.pk, [])
        sig = (s.created_at, s.status, s.status_on, tuple((e.at, e.code, e.high, e.on) for e in mine))
        marks = alike.get(sig)
        if marks is None:
            rows = fm.SubjectRows(s.created_at, s.status, s.status_on, tags=mine)
            marks = alike[sig] = fm.subject_marks(rows, tz=tz, every_days=every)
        computed[f"s:{s.pk}"] = (s.unit.path, marks)
    _store(computed, fresh=True)


@transaction.atomic
def rebuild() -> int:
    """Recompute every mark and bucket from the records; returns the number of buckets written."""
    FactMark.objects.all().delete()
    DayFact.objects.all().delete()
    HourFact.objects.all().delete()
    computed: dict[str, tuple[str, list[fm.Mark]]] = {}
    computed.update(subject_marks(list(CareSubject.objects.order_by("pk").values_list("pk", flat=True))))
    computed.update(help_marks(list(HelpRequest.objects.values_list("pk", flat=True))))
    computed.update(line_marks(list(DeliveryLine.objects.values_list("pk", flat=True))))
    computed.update(payment_marks(list(Consolation.objects.values_list("pk", flat=True))))
    computed.update(donation_marks(list(Donation.objects.values_list("pk", flat=True))))
    _store(computed, fresh=True, empty=True)
    return DayFact.objects.count()


def on_unit_moved(sender: object, **kwargs: object) -> None:
    """A subtree moved: its records now count under other ancestors."""
    rebuild()


# ---------------------------------------------------------------- reading


def value(unit: Unit, as_of: datetime, figure: str) -> Decimal:
    """The figure of ``unit``'s subtree as of ``as_of`` (the marks before it): the day sums before the
    cutoff's day, the hour sums of that day before the cutoff's hour, the marks of that hour before it."""
    tz = clock.local_tz()
    day = fm.local_day(as_of, tz)
    start = fm.midnight(day, tz)
    hour = fm.local_hour(as_of, tz)
    total = DayFact.objects.filter(unit=unit, figure=figure, day__lt=day).aggregate(t=Sum("value"))["t"] or 0
    if hour > start:
        total += (
            HourFact.objects.filter(unit=unit, figure=figure, hour__gte=start, hour__lt=hour).aggregate(
                t=Sum("value")
            )["t"]
            or 0
        )
    if as_of > hour:
        total += (
            FactMark.objects.filter(
                figure=figure, at__gte=hour, at__lt=as_of, unit_path__startswith=unit.path
            ).aggregate(t=Sum("delta"))["t"]
            or 0
        )
    return Decimal(total)


# The figures that are not named by data (``tag:<code>`` and ``deliveries:<kind>`` are added to them).
FIGURES = (
    "subjects",
    "surveyed",
    "contacts",
    "deceased",
    "high",
    "overdue",
    "help_raised",
    "help_resolved",
    "help_closed",
    "payments",
    "donations",
)


def figure_names() -> list[str]:
    """Every figure the marks may carry."""
    tags = RiskTagKind.objects.order_by("code").values_list("code", flat=True)
    return [*FIGURES, *(f"deliveries:{k}" for k in DeliveryKind.values), *(f"tag:{c}" for c in tags)]


def values(unit: Unit, as_of: datetime) -> dict[str, Decimal]:
    """Every figure of ``unit``'s subtree as of ``as_of`` (``value`` of each, a figure without marks
    being 0): three reads grouped by figure, whatever the number of figures."""
    return values_many([unit], as_of)[unit.pk]


def values_many(units: Sequence[Unit], as_of: datetime) -> dict[int, dict[str, Decimal]]:
    """``values`` of several units (a unit and its children: a table of the rollup page) in the same
    three reads, grouped by unit and figure: {unit id: {figure: value}}."""
    tz = clock.local_tz()
    day = fm.local_day(as_of, tz)
    start = fm.midnight(day, tz)
    hour = fm.local_hour(as_of, tz)
    names = figure_names()
    out = {u.pk: dict.fromkeys(names, Decimal(0)) for u in units}

    def add(uid: int, figure: str, total: Any) -> None:
        out[uid][figure] = out[uid].get(figure, Decimal(0)) + Decimal(total or 0)

    ids = sorted(out)
    for part in _chunks(ids):
        for uid, figure, total in (
            DayFact.objects.filter(unit_id__in=part, day__lt=day)
            .values("unit_id", "figure")
            .annotate(t=Sum("value"))
            .values_list("unit_id", "figure", "t")
        ):
            add(uid, figure, total)
        if hour > start:
            for uid, figure, total in (
                HourFact.objects.filter(unit_id__in=part, hour__gte=start, hour__lt=hour)
                .values("unit_id", "figure")
                .annotate(t=Sum("value"))
                .values_list("unit_id", "figure", "t")
            ):
                add(uid, figure, total)
    if as_of > hour:
        paths = sorted({u.path for u in units})
        tops = [p for p in paths if not any(p != o and p.startswith(o) for o in paths)]
        for top in tops:
            # ``figure IN (…)``: the (figure, at) index answers each figure's time range
            for path, figure, total in (
                FactMark.objects.filter(
                    figure__in=names, at__gte=hour, at__lt=as_of, unit_path__startswith=top
                )
                .values("unit_path", "figure")
                .annotate(t=Sum("delta"))
                .values_list("unit_path", "figure", "t")
            ):
                for u in units:
                    if path.startswith(u.path):
                        add(u.pk, figure, total)
    return out


def count(unit: Unit, as_of: datetime, figure: str) -> int:
    return int(value(unit, as_of, figure))
