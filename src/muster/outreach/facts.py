"""The outreach figures' facts: day buckets per unit (``DayFact``), kept in step with the records.

``record(unit_paths, day, visits=, raised=, resolved=)`` is called by the services in the transaction of
the write (a visit, a raised problem, a resolution +1 or a reopening −1), adding to the bucket of that day
of every ancestor of the record's unit and party branch (each bucket unit once). ``rebuild()`` recomputes
every bucket from the raw rows (after a bulk load that bypassed the services, or after a unit moved:
``muster.orgs.signals.unit_moved``). A subtree's figure as of a cutoff is then one indexed range sum of a
few hundred rows (one per day with activity), not a scan of the records.

Resolved "by the cutoff" from the buckets equals the history rule of ``queries``: a problem's statuses
alternate between resolved and not (only ``reopen`` leaves resolved), so the sum of its +1/−1 up to a day
is 1 exactly when its last step by then left it resolved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import F, Sum

from muster.orgs.models import Unit
from muster.outreach.models import DayFact, Problem, ProblemEvent, ProblemStatus, Visit

STEP = Unit.steplen


def ancestor_paths(*paths: str | None) -> set[str]:
    out: set[str] = set()
    for p in paths:
        if p:
            out.update(p[:i] for i in range(STEP, len(p) + 1, STEP))
    return out


def record(
    paths: Iterable[str | None], day: date, *, visits: int = 0, raised: int = 0, resolved: int = 0
) -> None:
    """Add to the day buckets of every ancestor of ``paths`` (call inside the write's transaction)."""
    wanted = ancestor_paths(*paths)
    if not wanted:
        return
    ids = list(Unit.objects.filter(path__in=wanted).values_list("pk", flat=True))
    existing = set(DayFact.objects.filter(unit_id__in=ids, day=day).values_list("unit_id", flat=True))
    missing = [i for i in ids if i not in existing]
    if missing:
        DayFact.objects.bulk_create([DayFact(unit_id=i, day=day) for i in missing], ignore_conflicts=True)
    DayFact.objects.filter(unit_id__in=ids, day=day).update(
        visits=F("visits") + visits, raised=F("raised") + raised, resolved=F("resolved") + resolved
    )


def totals(unit: Unit, day: date) -> tuple[int, int, int]:
    """(visits, problems raised, problems resolved) of ``unit``'s subtree up to and including ``day``."""
    agg = DayFact.objects.filter(unit=unit, day__lte=day).aggregate(
        v=Sum("visits"), r=Sum("raised"), s=Sum("resolved")
    )
    return int(agg["v"] or 0), int(agg["r"] or 0), int(agg["s"] or 0)


@transaction.atomic
def rebuild() -> int:
    """Recompute every bucket from the records; returns the number of buckets written."""
    id_of = dict(Unit.objects.values_list("path", "pk"))
    cells: dict[tuple[int, date], list[int]] = {}

    def add(paths: tuple[str | None, ...], day: date, k: int, n: int) -> None:
        for p in ancestor_paths(*paths):
            cells.setdefault((id_of[p], day), [0, 0, 0])[k] += n

    visits = Counter(
        Visit.objects.values_list("unit__path", "branch__path", "held_on").iterator(chunk_size=20000)
    )
    for (u, b, d), n in visits.items():
        add((u, b), d, 0, n)
    raised = Counter(
        Problem.objects.values_list("unit__path", "branch__path", "raised_on").iterator(chunk_size=20000)
    )
    for (u, b, d), n in raised.items():
        add((u, b), d, 1, n)
    # +1 when a step leaves a problem resolved, -1 when a step leaves a resolved problem (a reopening)
    steps = (
        ProblemEvent.objects.values_list(
            "problem_id", "problem__unit__path", "problem__branch__path", "on", "status"
        )
        .order_by("problem_id", "on", "id")
        .iterator(chunk_size=20000)
    )
    delta: Counter[tuple[str | None, str | None, date]] = Counter()
    last: tuple[int, str] | None = None
    for pid, u, b, d, status in steps:
        was = last[1] if last is not None and last[0] == pid else ""
        now_resolved, was_resolved = status == ProblemStatus.RESOLVED, was == ProblemStatus.RESOLVED
        if now_resolved != was_resolved:
            delta[(u, b, d)] += 1 if now_resolved else -1
        last = (pid, status)
    for (up, bp, day), n in delta.items():
        if n:
            add((up, bp), day, 2, n)
    DayFact.objects.all().delete()
    rows = [DayFact(unit_id=u, day=d, visits=v, raised=r, resolved=s) for (u, d), (v, r, s) in cells.items()]
    DayFact.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def on_unit_moved(sender: object, **kwargs: object) -> None:
    """A subtree moved: its records now count under other ancestors."""
    rebuild()
