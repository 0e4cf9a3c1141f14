"""Reads of the organization, always scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from muster.orgs.access import Perm, scoped
from muster.orgs.models import Partner, Person, Team, Unit


@dataclass(frozen=True)
class PersonFilter:
    q: str = ""  # name or staff number, contains
    unit: Unit | None = None  # the unit's whole subtree (administrative or party)
    political_status: str = ""
    employment_status: str = ""
    team: Team | None = None
    tag: str = ""


def person_search(user: Any, f: PersonFilter) -> QuerySet[Person]:
    qs = scoped(Person.objects.all(), user, Perm.VIEW)
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(code__icontains=f.q))
    if f.unit is not None:
        qs = qs.filter(Q(unit__path__startswith=f.unit.path) | Q(party_unit__path__startswith=f.unit.path))
    if f.political_status:
        qs = qs.filter(political_status=f.political_status)
    if f.employment_status:
        qs = qs.filter(employment_status=f.employment_status)
    if f.team is not None:
        qs = qs.filter(team_memberships__team=f.team)
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    return qs.select_related("unit", "party_unit").order_by("code").distinct()


def unit_list(user: Any) -> QuerySet[Unit]:
    return scoped(Unit.objects.all(), user, Perm.VIEW).order_by("path")


def team_list(user: Any, unit: Unit | None = None) -> QuerySet[Team]:
    qs = scoped(Team.objects.all(), user, Perm.VIEW).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.annotate(member_count=Count("memberships")).order_by("code")


def partner_list(user: Any, unit: Unit | None = None) -> QuerySet[Partner]:
    qs = scoped(Partner.objects.all(), user, Perm.VIEW).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs.order_by("code")


@dataclass(frozen=True)
class UnitCounts:
    people_direct: int
    people_subtree: int
    active_subtree: int
    members_subtree: int
    teams_subtree: int
    children: int


def unit_counts(unit: Unit) -> UnitCounts:
    """Head-counts of a unit (the caller has already checked it may see the unit, hence its subtree)."""
    field = "party_unit" if unit.is_party else "unit"
    sub = Person.objects.filter(**{f"{field}__path__startswith": unit.path})
    agg = sub.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(employment_status="active")),
        members=Count("id", filter=Q(political_status__in=["member", "probationary"])),
    )
    return UnitCounts(
        people_direct=Person.objects.filter(**{field: unit}).count(),
        people_subtree=agg["total"],
        active_subtree=agg["active"],
        members_subtree=agg["members"],
        teams_subtree=Team.objects.filter(unit__path__startswith=unit.path).count(),
        children=Unit.objects.get_children_count(unit),
    )


def children_with_counts(unit: Unit) -> list[tuple[Unit, int]]:
    """Each child unit with the number of people in its subtree (one query per tree level)."""
    children = list(Unit.objects.get_children(unit))
    if not children:
        return []
    field = "party_unit__path" if unit.is_party else "unit__path"
    depth_len = len(children[0].path)
    rows = (
        Person.objects.filter(**{f"{field}__startswith": unit.path})
        .exclude(**{field: unit.path})
        .values_list(field, flat=True)
    )
    counts: dict[str, int] = {}
    for path in rows.iterator(chunk_size=5000):
        if path is None:
            continue
        key = path[:depth_len]
        counts[key] = counts.get(key, 0) + 1
    return [(c, counts.get(c.path, 0)) for c in children]
