"""Party posts, contact points and contact visits."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import today
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team, Unit
from muster.partylife import signals
from muster.partylife.membership import is_party_org
from muster.partylife.models import ContactPoint, ContactVisit, PartyPost, PostKind

from .common import _actor_person, _see, _see_person, _text, _user_or_none


@transaction.atomic
def party_post_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    unit: Unit,
    start: date,
    person: Person | None = None,
    team: Team | None = None,
    end: date | None = None,
    description: str = "",
) -> PartyPost:
    """Designate a model post, vanguard post or responsibility area to a person or a team for a period."""
    access.require(actor, Perm.PARTY_RECORD, unit)
    errors: dict[str, str] = {}
    if kind not in PostKind.values:
        errors["kind"] = _("Unknown type of post %(kind)s.") % {"kind": kind}
    if not _text(name):
        errors["name"] = _("A name is required.")
    if (person is None) == (team is None):
        errors["person"] = _("Designate the post to one person or one team.")
    if end is not None and end < start:
        errors["end"] = _("The end cannot be before the start.")
    if errors:
        raise ValidationError(errors)
    if person is not None:
        _see_person(actor, person)
    if team is not None and not access.scoped(Team.objects.filter(pk=team.pk), actor, Perm.VIEW).exists():
        raise Http404
    post = PartyPost.objects.create(
        kind=kind,
        name=_text(name)[:120],
        unit=unit,
        person=person,
        team=team,
        start=start,
        end=end,
        description=description or "",
    )
    signals.post_designated.send(sender=PartyPost, actor=actor, post=post)
    log_action(
        actor,
        action="partylife.post.created",
        target=post,
        unit_path=unit.path,
        changes={
            "kind": kind,
            "name": post.name,
            "person": person.code if person else None,
            "team": team.code if team else None,
            "start": start.isoformat(),
        },
    )
    return post


@transaction.atomic
def party_post_end(*, actor: Any, post: PartyPost, end: date) -> PartyPost:
    access.require(actor, Perm.PARTY_RECORD, post.unit)
    post = PartyPost.objects.select_for_update().get(pk=post.pk)
    if end < post.start:
        raise ValidationError({"end": _("The end cannot be before the start.")})
    post.end = end
    post.save(update_fields=["end"])
    log_action(
        actor,
        action="partylife.post.ended",
        target=post,
        unit_path=post.unit.path,
        changes={"end": end.isoformat()},
    )
    return post


@transaction.atomic
def contact_point_create(
    *, actor: Any, leader: Person, branch: Unit, start: date, note: str = ""
) -> ContactPoint:
    """Link a leader to a party organization as their contact point (基层党建联系点)."""
    access.require(actor, Perm.PARTY_RECORD, branch)
    _see_person(actor, leader)
    if not is_party_org(branch):
        raise ValidationError({"branch": _("A contact point is a party organization.")})
    cp = ContactPoint.objects.create(leader=leader, branch=branch, start=start, note=_text(note)[:200])
    log_action(
        actor,
        action="partylife.contact_point.created",
        target=cp,
        unit_path=branch.path,
        changes={"leader": leader.code, "start": start.isoformat()},
    )
    return cp


@transaction.atomic
def contact_point_end(*, actor: Any, contact_point: ContactPoint, end: date) -> ContactPoint:
    access.require(actor, Perm.PARTY_RECORD, contact_point.branch)
    cp = ContactPoint.objects.select_for_update().get(pk=contact_point.pk)
    if end < cp.start:
        raise ValidationError({"end": _("The end cannot be before the start.")})
    cp.end = end
    cp.save(update_fields=["end"])
    log_action(
        actor,
        action="partylife.contact_point.ended",
        target=cp,
        unit_path=contact_point.branch.path,
        changes={"end": end.isoformat()},
    )
    return cp


@transaction.atomic
def contact_visit_record(
    *, actor: Any, contact_point: ContactPoint, visited_on: date, topic: str, notes: str = ""
) -> ContactVisit:
    """Record a leader's visit to their contact point (by the branch's secretary or the leader)."""
    me = _actor_person(actor)
    is_leader = me is not None and me.pk == contact_point.leader_id
    if not is_leader:
        _see(actor, contact_point.branch)
        access.require(actor, Perm.PARTY_RECORD, contact_point.branch)
    errors: dict[str, str] = {}
    if not _text(topic):
        errors["topic"] = _("A topic is required.")
    if visited_on > today():
        errors["visited_on"] = _("A visit cannot be recorded before it happens.")
    elif visited_on < contact_point.start or (contact_point.end and visited_on > contact_point.end):
        errors["visited_on"] = _("The visit is outside the contact point's period.")
    if errors:
        raise ValidationError(errors)
    v = ContactVisit.objects.create(
        contact_point=contact_point,
        visited_on=visited_on,
        topic=_text(topic)[:200],
        notes=notes or "",
        recorded_by=_user_or_none(actor),
    )
    log_action(
        actor,
        action="partylife.contact_visit.recorded",
        target=v,
        unit_path=contact_point.branch.path,
        changes={"date": visited_on.isoformat(), "topic": v.topic},
    )
    return v
