"""Reads for party-building points, scoped through ``muster.orgs.access``.

- ``statement``: a member's points statement (积分账本) for a year: every entry in ledger order with
  the running balance, the total, and the rank in the member's branch (standard competition ranking
  over the branch's current members, zero scores included).
- ``leaderboard``: totals for any period [start, end) grouped by person, branch (the party
  organization at the fact's date) or administrative unit, inside one visible unit's subtree.
- ``ledger_balances`` / ``facts_balances``: the same figure two ways — summed from the ledger, and
  recomputed by the pure engine from the facts. They must always agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.points import engine, kinds
from muster.points.models import PointEntry, PointFact

ZERO = engine.ZERO


def _require_view_unit(user: Any, unit: Unit) -> None:
    if not access.can(user, Perm.VIEW, unit):
        raise Http404


def scope_q(unit: Unit, prefix: str = "") -> Q:
    """Entries (or facts, with ``prefix``) that belong to ``unit``'s subtree.

    In the party tree by the branch recorded on the entry (the person's party organization at the
    fact's date, or their current one when none was recorded); in the administrative tree by the
    person's unit.
    """
    if unit.is_party:
        return Q(**{f"{prefix}branch__path__startswith": unit.path}) | Q(
            **{f"{prefix}branch__isnull": True, f"{prefix}person__party_unit__path__startswith": unit.path}
        )
    return Q(**{f"{prefix}person__unit__path__startswith": unit.path})


def ledger_balances(year: int, *, person_ids: list[int] | None = None) -> dict[int, Decimal]:
    qs = PointEntry.objects.filter(occurred_on__year=year)
    if person_ids is not None:
        qs = qs.filter(person_id__in=person_ids)
    return {
        row["person_id"]: row["total"]
        for row in qs.values("person_id").annotate(total=Sum("points")).order_by()
        if row["total"] is not None
    }


def facts_balances(year: int, *, person_ids: list[int] | None = None) -> dict[int, Decimal]:
    """The balances recomputed from the active facts by the pure engine (pinned rule versions)."""
    qs = PointFact.objects.filter(occurred_on__year=year, active=True, rule__isnull=False).select_related(
        "rule__unit"
    )
    if person_ids is not None:
        qs = qs.filter(person_id__in=person_ids)
    facts = [
        engine.FactIn(f.pk, f.person_id, f.occurred_on, f.quantity, f.rule.as_engine()) for f in qs if f.rule
    ]
    out: dict[int, Decimal] = {}
    for (pid, y), v in engine.balances(facts).items():
        if y == year:
            out[pid] = v
    return out


# ---------------------------------------------------------------- statement


@dataclass(frozen=True)
class StatementLine:
    entry: PointEntry
    label: str
    balance: Decimal

    @property
    def capped(self) -> bool:
        return self.entry.capped


@dataclass
class Statement:
    person: Person
    year: int
    lines: list[StatementLine]
    total: Decimal
    branch: Unit | None
    rank: int | None  # in the branch; None when the person has no branch
    branch_size: int
    by_kind: dict[str, Decimal] = field(default_factory=dict)


def _visible_person(user: Any, person: Person) -> Person:
    if getattr(user, "pk", None) is not None and person.user_id == user.pk:  # one's own statement
        return Person.objects.select_related("unit", "party_unit").get(pk=person.pk)
    try:
        return access.scoped(Person.objects.select_related("unit", "party_unit"), user, Perm.VIEW).get(
            pk=person.pk
        )
    except Person.DoesNotExist as exc:
        raise Http404 from exc


def branch_totals(branch: Unit, year: int) -> dict[int, Decimal]:
    """{person id: total} for the branch's current members (zero included) and anyone scored in it."""
    member_ids = list(Person.objects.filter(party_unit=branch).values_list("pk", flat=True))
    totals: dict[int, Decimal] = {pid: ZERO for pid in member_ids}
    rows = (
        PointEntry.objects.filter(occurred_on__year=year)
        .filter(Q(person_id__in=member_ids) | Q(branch=branch))
        .values("person_id")
        .annotate(total=Sum("points"))
        .order_by()
    )
    for row in rows:
        totals[row["person_id"]] = row["total"] or ZERO
    return totals


def statement(user: Any, person: Person, year: int) -> Statement:
    """A member's points statement for one year (scores restart each year)."""
    person = _visible_person(user, person)
    entries = list(
        PointEntry.objects.filter(person=person, occurred_on__year=year).select_related("rule").order_by("id")
    )
    balance = ZERO
    lines: list[StatementLine] = []
    by_kind: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e in entries:
        balance += e.points
        by_kind[e.kind] += e.points
        lines.append(StatementLine(e, kinds.label(e.kind), balance))
    branch = person.party_unit
    rank: int | None = None
    size = 0
    if branch is not None:
        totals = branch_totals(branch, year)
        totals.setdefault(person.pk, balance)
        ranks = engine.competition_ranks(list(totals.items()))
        rank = ranks.get(person.pk)
        size = len(totals)
    return Statement(person, year, lines, balance, branch, rank, size, dict(by_kind))


# ---------------------------------------------------------------- leaderboards


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    id: int
    label: str
    points: Decimal
    people: int  # distinct people with entries (1 for a person row)


GroupBy = Literal["person", "branch", "unit"]


def _entries_in(unit: Unit, start: date, end: date) -> QuerySet[PointEntry]:
    return PointEntry.objects.filter(scope_q(unit), occurred_on__gte=start, occurred_on__lt=end)


def leaderboard(
    user: Any, unit: Unit, *, start: date, end: date, by: GroupBy = "person", limit: int | None = None
) -> list[LeaderRow]:
    """Totals over [start, end) in ``unit``'s subtree, best first ("晒账本、比分数")."""
    _require_view_unit(user, unit)
    qs = _entries_in(unit, start, end)
    key = {"person": "person_id", "branch": "branch_id", "unit": "person__unit_id"}[by]
    rows = list(qs.values(key).annotate(total=Sum("points")).order_by())
    people: dict[Any, set[int]] = defaultdict(set)
    for k, pid in qs.values_list(key, "person_id").distinct():
        people[k].add(pid)
    labels: dict[Any, str] = {}
    ids = [r[key] for r in rows if r[key] is not None]
    if by == "person":
        labels = {p.pk: str(p) for p in Person.objects.filter(pk__in=ids)}
    else:
        labels = {u.pk: u.name for u in Unit.objects.filter(pk__in=ids)}
    scores = [(r[key], r["total"] or ZERO) for r in rows if r[key] is not None]
    ranks = engine.competition_ranks(scores)
    out = [LeaderRow(ranks[k], int(k), labels.get(k, str(k)), v, len(people.get(k, ()))) for k, v in scores]
    out.sort(key=lambda r: (r.rank, r.label))
    return out[:limit] if limit else out


def points_total(unit: Unit, *, start: date | None = None, end_inclusive: date) -> Decimal:
    qs = PointEntry.objects.filter(scope_q(unit), occurred_on__lte=end_inclusive)
    if start is not None:
        qs = qs.filter(occurred_on__gte=start)
    return qs.aggregate(t=Sum("points"))["t"] or ZERO
