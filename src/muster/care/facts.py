"""The care figures' facts: the marks of every record (``FactMark``, computed by ``muster.care.factmath``)
and their sums per unit, figure and local day (``DayFact``) and hour (``HourFact``), kept in the
transaction of each write.

- ``refresh(subjects=, helps=, lines=, payments=, donations=)`` recomputes the marks of those records
  from their rows, and moves the difference into the day buckets of every ancestor of the record's unit.
  The services call it after each write (a contact touches one subject's marks, a delivery one line's).
- ``value(unit, as_of, figure)``: the day buckets before the cutoff's day (one indexed range sum of the
  unit's rows), the hour buckets (``HourFact``) of that day before the cutoff's hour, and the marks of
  the cutoff's hour before the cutoff (an indexed time range).
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
    DeliveryLine,
    Donation,
    FactMark,
    HelpRequest,
    HelpStatus,
    HelpStep,
    HourFact,
    Observation,
    RiskTagEvent,
)
from muster.orgs.models import Unit

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
        new = [(path, f, at, Decimal(d)) for f, at, d in marks]
        if sorted(new) == sorted(old.get(key, [])):
            continue
        changed.append(key)
        minus.extend(old.get(key, []))
        plus.extend(new)
    if not changed:
        return
    tz = clock.local_tz()
    anc = _ancestors({m[0] for m in minus} | {m[0] for m in plus})
    cells = fm.day_cells(plus, anc, tz)
    for k, v in fm.day_cells(minus, anc, tz).items():
        cells[k] = cells.get(k, Decimal(0)) - v
    hours = fm.hour_cells(plus, anc, tz)
    for hk, v in fm.hour_cells(minus, anc, tz).items():
        hours[hk] = hours.get(hk, Decimal(0)) - v
    with transaction.atomic():
        for part in _chunks(changed):
            FactMark.objects.filter(key__in=part).delete()
        FactMark.objects.bulk_create(
            (
                FactMark(key=key, unit_path=path, figure=f, at=at, delta=d)
                for key in changed
                for path, marks in [computed[key]]
                for f, at, d in marks
            ),
            batch_size=2000,
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


def add_new_subjects(subjects: Sequence[CareSubject], events: Sequence[RiskTagEvent]) -> None:
    """The marks of subjects just created in bulk (no contacts or answers yet; ``events``: their tag
    events), computed from the objects in memory: no reads of the ledger."""
    tz = clock.local_tz()
    every = frequencies()
    tags: dict[int, list[fm.TagEvent]] = defaultdict(list)
    for e in events:
        tags[e.subject_id].append(fm.TagEvent(e.at, e.pk, e.tag.code, e.tag.high_risk, e.on))
    computed = {
        f"s:{s.pk}": (
            s.unit.path,
            fm.subject_marks(
                fm.SubjectRows(s.created_at, s.status, s.status_on, tags=tags.get(s.pk, [])),
                tz=tz,
                every_days=every,
            ),
        )
        for s in subjects
    }
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


def count(unit: Unit, as_of: datetime, figure: str) -> int:
    return int(value(unit, as_of, figure))
