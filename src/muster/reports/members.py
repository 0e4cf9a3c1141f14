"""Dispatch and service figures of a party organization's members (其党员): the rollup of a party unit.

Batches are dispatched by administrative units, so the ordinary rollup of a party organization (党委,
党支部) finds nothing: no batch hangs on the party tree. What a party organization can say is what **its
members** did: the people who belonged to it (a branch of its subtree) on the cutoff's last day —
``muster.partylife.membership.members_on``, the one rule of who belonged when (a membership history, or the
person's current branch when no history was entered) — and the approved service of those people, in
whichever unit's batches it was.

Definitions (the same as the rollup's, restricted to the members):

- **person-times**: (member, batch) pairs with approved service before the cutoff; **persons**: the
  distinct members among them; **hours**: the part of each approved entry before the cutoff;
- **batches**: the distinct (not cancelled) batches in which members served — a batch in which the
  members of two branches served counts once in the total, so the total may be less than the sum of rows;
- **community service** during home observation: the members' own, with its persons and hours;
- **pending**: the members' entries waiting for approval (shown apart, never counted).

Rows: one per child party organization (its members), the organization's own members (attached to it
directly) as its own row, and the total. A member belongs to one branch on a day, so persons, person-times
and hours of the rows add up to the total; batches need not.

Reads the raw ledger restricted to the members (grouped by batch and person in the database), in chunks
of people so that no statement carries more parameters than the databases accept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, Sum, When

from muster.clock import last_day, local_tz
from muster.mobilize.models import Deployment, DeploymentStatus, EntryKind, ServiceEntry
from muster.mobilize.queries import pending_rows
from muster.orgs.models import Unit
from muster.partylife import membership
from muster.reports.facts import STEP
from muster.reports.rollup import Figures, Rollup, Row, SeriesPoint, cutoff, rollup, series

BASIS = "party_members"
CHUNK = 2000  # people per statement


def members_on(party: Unit, on: date) -> dict[int, str]:
    """The members of the party organization ``party`` (its subtree) on ``on``: person id → the path of
    the branch (or party group, or the organization itself) they belonged to that day."""
    return {e.person.pk: e.branch.path for e in membership.members_on(party, on)}


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _minutes_until(start: datetime, as_of: datetime) -> int:
    return max(0, round((as_of - start).total_seconds() / 60))


def members_rollup(party: Unit, as_of: datetime, *, pending: bool = True) -> Rollup:
    """The figures of the members of ``party`` as of ``as_of``: one row per child party organization (and
    the organization's own members), a total. ``extras``: ``basis`` (``"party_members"``), ``members``
    (how many people belonged on the day) and ``day`` (that day)."""
    as_of = cutoff(as_of)
    day = last_day(as_of)
    branch_of = members_on(party, day)
    children = list(
        Unit.objects.filter(path__startswith=party.path, depth=party.depth + 1)
        .order_by("path")
        .values_list("id", "path", "code", "name", "is_active", "numchild")
    )
    k = len(party.path) + STEP

    def key(path: str) -> str:
        return party.path if len(path) <= len(party.path) else path[:k]

    row_of = {pid: key(path) for pid, path in branch_of.items()}
    ids = sorted(row_of)
    live: dict[tuple[int, int], int] = defaultdict(int)  # (deployment, person) → signs before the cutoff
    mins: dict[tuple[int, int], int] = defaultdict(int)
    c_live: dict[int, int] = defaultdict(int)
    c_mins: dict[int, int] = defaultdict(int)
    pend: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    counted = Q(deployment__isnull=False) | Q(kind=EntryKind.COMMUNITY)
    done = Case(When(end__lte=as_of, then=F("sign") * F("minutes")), default=0, output_field=IntegerField())
    for chunk in _chunks(ids):
        rows = ServiceEntry.objects.filter(counted, person_id__in=chunk, start__lt=as_of).exclude(sign=0)
        for dep, person, signs, full in (
            rows.values("deployment_id", "person_id")
            .annotate(signs=Sum("sign"), full=Sum(done))
            .order_by()
            .values_list("deployment_id", "person_id", "signs", "full")
        ):
            if dep is None:
                c_live[person] += int(signs or 0)
                c_mins[person] += int(full or 0)
            else:
                live[(dep, person)] += int(signs or 0)
                mins[(dep, person)] += int(full or 0)
        # rows running at the cutoff count up to it
        for dep, person, sign, start in rows.filter(end__gt=as_of).values_list(
            "deployment_id", "person_id", "sign", "start"
        ):
            part = sign * _minutes_until(start, as_of)
            if dep is None:
                c_mins[person] += part
            else:
                mins[(dep, person)] += part
        if pending:
            waiting = pending_rows(ServiceEntry.objects.filter(counted, person_id__in=chunk, start__lt=as_of))
            for person, n, m in (
                waiting.values("person_id").annotate(n=Count("id"), m=Sum("minutes")).order_by()
            ).values_list("person_id", "n", "m"):
                cell = pend[row_of[person]]
                cell[0] += int(n)
                cell[1] += int(m or 0)
    active = set(
        Deployment.objects.filter(
            pk__in=sorted({d for (d, _p), s in live.items() if s > 0}),
            status=DeploymentStatus.ACTIVE,
            start__lt=as_of,
        ).values_list("pk", flat=True)
    )

    def blank() -> dict[str, Any]:
        return {"batches": set(), "pairs": 0, "persons": set(), "minutes": 0, "c": set(), "cm": 0}

    by_row: dict[str, dict[str, Any]] = defaultdict(blank)
    total = blank()

    def add(target: dict[str, Any], dep: int | None, person: int, is_live: bool, minutes: int) -> None:
        if dep is None:
            if is_live:
                target["c"].add(person)
            target["cm"] += minutes
            return
        if is_live:
            target["pairs"] += 1
            target["persons"].add(person)
            if dep in active:
                target["batches"].add(dep)
        target["minutes"] += minutes

    for (dep, person), signs in live.items():
        for target in (by_row[row_of[person]], total):
            add(target, dep, person, signs > 0, mins[(dep, person)])
    for person, signs in c_live.items():
        for target in (by_row[row_of[person]], total):
            add(target, None, person, signs > 0, c_mins[person])

    def figures(v: dict[str, Any] | None, waiting: list[int] | None) -> Figures:
        v = v or blank()
        return Figures(
            batches=len(v["batches"]),
            person_times=v["pairs"],
            persons=len(v["persons"]),
            minutes=v["minutes"],
            community_persons=len(v["c"]),
            community_minutes=v["cm"],
            pending_entries=(waiting or [0, 0])[0],
            pending_minutes=(waiting or [0, 0])[1],
        )

    out: list[Row] = []
    own = figures(by_row.get(party.path), pend.get(party.path))
    if not own.is_empty:
        out.append(Row(party.pk, party.code, party.name, party.path, True, own, False))
    for pk, path, code, name, is_active, numchild in children:
        figs = figures(by_row.get(path), pend.get(path))
        if not is_active and figs.is_empty:
            continue
        out.append(Row(pk, code, name, path, False, figs, numchild > 0))
    all_pending = [sum(v[0] for v in pend.values()), sum(v[1] for v in pend.values())]
    return Rollup(
        party,
        as_of,
        tuple(out),
        figures(total, all_pending),
        extras={"basis": BASIS, "members": len(ids), "day": day},
    )


def is_members_report(report: Rollup) -> bool:
    return report.extras.get("basis") == BASIS


def unit_rollup(unit: Unit, as_of: datetime, *, pending: bool = True) -> Rollup:
    """The rollup a page shows for ``unit``: its members' figures for a party organization, the
    dispatching units' figures (``rollup.rollup``) for an administrative unit."""
    if unit.is_party:
        return members_rollup(unit, as_of, pending=pending)
    return rollup(unit, as_of, pending=pending)


def members_series(party: Unit, *, start: date, as_of: datetime) -> list[SeriesPoint]:
    """The members' figures of ``party`` day by day from ``start`` to the cutoff's day (pending not
    included), as ``rollup.series`` gives them for an administrative unit.

    The cumulative figures of a day are ``members_rollup`` as of the end of that day (the cutoff, on the
    cutoff's day) — the members of that day, so a day on which a member joins or leaves shows the change;
    the daily figures are the difference from the day before (persons: the members counted for the first
    time that day). One members' rollup per day: a series covers at most a year."""
    as_of = cutoff(as_of)
    last = last_day(as_of)
    if start > last:
        return []
    tz = local_tz()

    def end_of(day: date) -> datetime:
        return min(as_of, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz))

    prev = members_rollup(party, datetime.combine(start, time(), tzinfo=tz), pending=False).total
    out: list[SeriesPoint] = []
    day = start
    while day <= last:
        cum = members_rollup(party, end_of(day), pending=False).total
        out.append(SeriesPoint(day, cum - prev, cum))
        prev = cum
        day += timedelta(days=1)
    return out


def unit_series(unit: Unit, *, start: date, as_of: datetime) -> list[SeriesPoint]:
    """The day-by-day figures a page shows for ``unit``: its members' for a party organization
    (``members_series``), the dispatching units' (``rollup.series``) for an administrative unit."""
    if unit.is_party:
        return members_series(unit, start=start, as_of=as_of)
    return series(unit, start=start, as_of=as_of)


def basis_of(unit: Unit) -> str | None:
    """``"party_members"`` for a party organization (its figures are its members'), else None."""
    return BASIS if unit.is_party else None
