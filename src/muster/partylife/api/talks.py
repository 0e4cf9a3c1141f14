"""Heart-to-heart talks over the API, and the talk matrix."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Schema, Status

from muster.api.common import BoundedDate, BoundedDateTime, ReasonIn, Year, actor, required_unit
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.partylife import queries, services
from muster.partylife.models import Talk

from .common import WRITE_ERRORS, _aware, _people, _scope_unit, router


class TalkOut(Schema):
    id: int
    unit: str
    held_on: date
    topic: str
    participants: list[str]
    withdrawn: bool
    withdrawn_reason: str


class TalkIn(Schema):
    unit: str
    held_on: BoundedDate
    topic: str
    participants: list[str]
    notes: str = ""


class TalkFilters(Schema):
    unit: str | None = None
    year: Year | None = None


def _talk_out(t: Talk) -> dict[str, Any]:
    return {
        "id": t.pk,
        "unit": t.unit.code,
        "held_on": t.held_on,
        "topic": t.topic,
        "participants": sorted(p.person.code for p in t.participations.all()),
        "withdrawn": t.withdrawn,
        "withdrawn_reason": t.withdrawn_reason,
    }


def _talks(user: Any) -> QuerySet[Talk]:
    return access.scoped(Talk.objects.select_related("unit"), user, Perm.VIEW).prefetch_related(
        "participations__person"
    )


@router.get("/partylife/talks", response={200: list[TalkOut], **WRITE_ERRORS})
def list_talks(request: HttpRequest, q: Query[TalkFilters]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _talks(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if q.year:
        qs = qs.filter(held_on__year=q.year)
    return [_talk_out(t) for t in qs.order_by("-held_on", "-id")[:1000]]


@router.post("/partylife/talks", response={201: TalkOut, **WRITE_ERRORS})
def record_talk(request: HttpRequest, payload: TalkIn) -> Status:
    """Record a heart-to-heart talk (the secretary any; a member their own)."""
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    people = _people(user, payload.participants, "participants")
    t = services.talk_record(
        actor=user,
        unit=unit,
        held_on=payload.held_on,
        topic=payload.topic,
        participants=people,
        notes=payload.notes,
    )
    return Status(201, _talk_out(_talks(user).get(pk=t.pk)))


@router.post("/partylife/talks/{talk_id}/withdraw", response={200: TalkOut, **WRITE_ERRORS})
def withdraw_talk(request: HttpRequest, talk_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    talk = access.get_scoped_or_404(_talks(user), user, pk=talk_id)
    services.talk_withdraw(actor=user, talk=talk, reason=payload.reason)
    return _talk_out(_talks(user).get(pk=talk_id))


class MatrixQuery(Schema):
    branch: str
    year: Year
    as_of: BoundedDateTime | None = None


class PairOut(Schema):
    a: str
    b: str
    category: str


class CountOut(Schema):
    a: str
    b: str
    talks: int


class MatrixPersonOut(Schema):
    person: str
    name: str
    committee: bool


class MatrixOut(Schema):
    branch: str
    year: int
    people: list[MatrixPersonOut]
    required: int
    covered: int
    by_category: dict[str, list[int]] = Field(description="{category: [required, covered]}")
    gaps: list[PairOut]
    counts: list[CountOut]


@router.get("/partylife/talks/matrix", response={200: MatrixOut, **WRITE_ERRORS})
def talk_matrix(request: HttpRequest, q: Query[MatrixQuery]) -> dict[str, Any]:
    """Pair coverage of a branch's heart-to-heart talks for a year, with the gaps."""
    user = actor(request)
    branch = required_unit(user, q.branch, "branch")
    mx = queries.talk_matrix(user, branch, q.year, as_of=_aware(q.as_of))
    codes = {e.person.pk: e.person.code for e in mx.people}
    missing = {pid for pair in mx.coverage.counts for pid in pair} - set(codes)
    codes.update(dict(Person.objects.filter(pk__in=missing).values_list("pk", "code")))
    cov = mx.coverage
    return {
        "branch": branch.code,
        "year": q.year,
        "people": [
            {"person": e.person.code, "name": e.person.name, "committee": e.is_committee} for e in mx.people
        ],
        "required": cov.required,
        "covered": cov.covered,
        "by_category": {k: list(v) for k, v in cov.by_category.items()},
        "gaps": [{"a": codes[g.a], "b": codes[g.b], "category": g.category} for g in cov.gaps],
        "counts": [{"a": codes[a], "b": codes[b], "talks": n} for (a, b), n in sorted(cov.counts.items())],
    }
