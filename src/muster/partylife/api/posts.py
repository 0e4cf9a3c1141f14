"""Party posts, contact points and visits over the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from muster.api.common import BoundedDate, actor, required_person, required_unit
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Team
from muster.partylife import services
from muster.partylife.models import ContactPoint, PartyPost

from .common import NOT_FOUND, WRITE_ERRORS, _code, _person_opt, _scope_unit, router


class ModelPostOut(Schema):
    id: int
    kind: str
    name: str
    unit: str
    person: str | None
    team: str | None
    start: date
    end: date | None
    description: str


class ModelPostIn(Schema):
    kind: str = Field(description="model · vanguard · responsibility_area")
    name: str
    unit: str
    start: BoundedDate
    person: str | None = None
    team: str | None = None
    end: BoundedDate | None = None
    description: str = ""


class EndIn(Schema):
    end: BoundedDate


class UnitFilter(Schema):
    unit: str | None = None


def _post_out(p: PartyPost) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind,
        "name": p.name,
        "unit": p.unit.code,
        "person": _code(p.person),
        "team": p.team.code if p.team else None,
        "start": p.start,
        "end": p.end,
        "description": p.description,
    }


def _posts(user: Any) -> QuerySet[PartyPost]:
    return access.scoped(PartyPost.objects.select_related("unit", "person", "team"), user, Perm.VIEW)


@router.get("/partylife/posts", response={200: list[ModelPostOut], **WRITE_ERRORS})
def list_posts(request: HttpRequest, q: Query[UnitFilter]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _posts(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return [_post_out(p) for p in qs.order_by("unit__path", "kind", "name")]


@router.post("/partylife/posts", response={201: ModelPostOut, **WRITE_ERRORS})
def create_post(request: HttpRequest, payload: ModelPostIn) -> Status:
    """Designate a model post, vanguard post or responsibility area to one person or one team."""
    user = actor(request)
    team: Team | None = None
    if payload.team:
        team = access.scoped(Team.objects.all(), user, Perm.VIEW).filter(code=payload.team).first()
        if team is None:
            raise ValidationError(
                {"team": _("There is no team with the code %(code)s.") % {"code": payload.team}}
            )
    p = services.party_post_create(
        actor=user,
        kind=payload.kind,
        name=payload.name,
        unit=required_unit(user, payload.unit, "unit"),
        start=payload.start,
        person=_person_opt(user, payload.person, "person"),
        team=team,
        end=payload.end,
        description=payload.description,
    )
    return Status(201, _post_out(p))


@router.post("/partylife/posts/{post_id}/end", response={200: ModelPostOut, **WRITE_ERRORS})
def end_post(request: HttpRequest, post_id: int, payload: EndIn) -> dict[str, Any]:
    user = actor(request)
    p = services.party_post_end(
        actor=user, post=access.get_scoped_or_404(_posts(user), user, pk=post_id), end=payload.end
    )
    return _post_out(p)


class ContactPointOut(Schema):
    id: int
    leader: str
    leader_name: str
    branch: str
    start: date
    end: date | None
    note: str
    visits: int


class ContactPointIn(Schema):
    leader: str
    branch: str
    start: BoundedDate
    note: str = ""


class VisitIn(Schema):
    visited_on: BoundedDate
    topic: str
    notes: str = ""


class VisitOut(Schema):
    id: int
    visited_on: date
    topic: str
    notes: str


def _cp_out(cp: ContactPoint) -> dict[str, Any]:
    return {
        "id": cp.pk,
        "leader": cp.leader.code,
        "leader_name": cp.leader.name,
        "branch": cp.branch.code,
        "start": cp.start,
        "end": cp.end,
        "note": cp.note,
        "visits": cp.visits.count(),
    }


def _contact_points(user: Any) -> QuerySet[ContactPoint]:
    """Visible contact points, and the user's own (a leader records their visits)."""
    base = ContactPoint.objects.select_related("leader", "branch")
    visible = access.scoped(base, user, Perm.VIEW).values("pk")
    own = Q(leader__user_id=user.pk) if getattr(user, "pk", None) is not None else Q(pk__in=[])
    return base.filter(Q(pk__in=visible) | own)


@router.get("/partylife/contact-points", response={200: list[ContactPointOut], **WRITE_ERRORS})
def list_contact_points(request: HttpRequest, q: Query[UnitFilter]) -> list[dict[str, Any]]:
    user = actor(request)
    qs = _contact_points(user)
    unit = _scope_unit(user, q.unit)
    if unit is not None:
        qs = qs.filter(branch__path__startswith=unit.path)
    return [_cp_out(cp) for cp in qs.order_by("branch__path", "leader__code")]


@router.post("/partylife/contact-points", response={201: ContactPointOut, **WRITE_ERRORS})
def create_contact_point(request: HttpRequest, payload: ContactPointIn) -> Status:
    """Link a leader to a party organization as their contact point (基层党建联系点)."""
    user = actor(request)
    cp = services.contact_point_create(
        actor=user,
        leader=required_person(user, payload.leader, "leader"),
        branch=required_unit(user, payload.branch, "branch"),
        start=payload.start,
        note=payload.note,
    )
    return Status(201, _cp_out(cp))


@router.post("/partylife/contact-points/{cp_id}/end", response={200: ContactPointOut, **WRITE_ERRORS})
def end_contact_point(request: HttpRequest, cp_id: int, payload: EndIn) -> dict[str, Any]:
    user = actor(request)
    cp = access.get_scoped_or_404(ContactPoint.objects.select_related("leader", "branch"), user, pk=cp_id)
    return _cp_out(services.contact_point_end(actor=user, contact_point=cp, end=payload.end))


@router.get("/partylife/contact-points/{cp_id}/visits", response={200: list[VisitOut], **NOT_FOUND})
def list_visits(request: HttpRequest, cp_id: int) -> list[dict[str, Any]]:
    user = actor(request)
    cp = _contact_points(user).filter(pk=cp_id).first()
    if cp is None:
        raise Http404
    return [
        {"id": v.pk, "visited_on": v.visited_on, "topic": v.topic, "notes": v.notes}
        for v in cp.visits.order_by("-visited_on", "-id")
    ]


@router.post("/partylife/contact-points/{cp_id}/visits", response={201: VisitOut, **WRITE_ERRORS})
def record_visit(request: HttpRequest, cp_id: int, payload: VisitIn) -> Status:
    """Record a leader's visit (by the branch's secretary or the leader)."""
    user = actor(request)
    cp = _contact_points(user).filter(pk=cp_id).first()
    if cp is None:
        raise Http404
    v = services.contact_visit_record(
        actor=user, contact_point=cp, visited_on=payload.visited_on, topic=payload.topic, notes=payload.notes
    )
    return Status(201, {"id": v.pk, "visited_on": v.visited_on, "topic": v.topic, "notes": v.notes})
