"""Batches (派遣批次): dispatch, update, cancel, and their members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize import signals
from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    Request,
    ServiceEntry,
)
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person, Team, Unit
from muster.orgs.validators import normalize_text

from .common import (
    ConflictWarning,
    _announce_deployment,
    _check_span,
    _conflicts,
    _iso,
    _lock_people,
    _shift_name,
    _visible_person,
)


@dataclass
class DispatchResult:
    deployment: Deployment
    warnings: list[ConflictWarning] = field(default_factory=list)


@dataclass
class MemberResult:
    member: DeploymentMember
    created: bool
    warnings: list[ConflictWarning] = field(default_factory=list)


def _add_member(
    actor: Any, d: Deployment, person: Person, team: Team | None
) -> tuple[DeploymentMember, bool, list[ConflictWarning]]:
    existing = DeploymentMember.objects.filter(deployment=d, person=person).first()
    if existing is not None:
        return existing, False, []
    warnings = _conflicts(person, d.start, d.end, deployment=d, actor=actor)
    m = DeploymentMember.objects.create(deployment=d, person=person, team=team)
    return m, True, warnings


@transaction.atomic
def deployment_dispatch(
    *,
    actor: Any,
    unit: Unit,
    title: str,
    start: datetime,
    end: datetime,
    teams: Sequence[Team] = (),
    people: Sequence[Person] = (),
    leader: Person | None = None,
    request: Request | None = None,
    partner: Partner | None = None,
    site: str = "",
    supported_unit: Unit | None = None,
    code: str = "",
    note: str = "",
) -> DispatchResult:
    """Send a batch: the members of ``teams`` (with their team) and hand-picked ``people``.

    The batch gets the unit's next number (第N批) under a lock of the unit's row; ``code`` defaults to
    ``<unit code>-<NNN>``. All members are checked for conflicts; any hard conflict refuses the whole batch.
    """
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    start, end = _check_span(start, end)
    problems = rules.Problems()
    title = problems.text("title", title, max_length=200)
    site = problems.text("site", site, max_length=200)
    note = problems.text("note", note, multiline=True)
    code = problems.code("code", code)
    problems.raise_if_any()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Say what the task is.")
    if supported_unit is not None and supported_unit.pk == unit.pk:
        errors["supported_unit"] = _("A unit does not support itself.")
    if request is not None and not access.scoped(Request.objects.filter(pk=request.pk), actor).exists():
        errors["request"] = _("Unknown request.")
    if partner is None and request is not None:
        partner = request.partner
    if partner is not None and not access.scoped(Partner.objects.filter(pk=partner.pk), actor).exists():
        errors["partner"] = _("Unknown partner.")
    for t in teams:
        if not access.scoped(Team.objects.filter(pk=t.pk), actor).exists():
            errors["teams"] = _("Unknown team %(code)s.") % {"code": t.code}
    if errors:
        raise ValidationError(errors)
    picked: dict[int, tuple[Person, Team | None]] = {}
    for t in teams:
        for m in t.memberships.select_related("person").order_by("person__code"):
            picked.setdefault(m.person_id, (m.person, t))
    for p in people:
        picked.setdefault(p.pk, (_visible_person(actor, p), None))
    if leader is not None:
        picked.setdefault(leader.pk, (_visible_person(actor, leader), None))
    if not picked:
        raise ValidationError({"people": _("A batch needs at least one person.")})

    locked_unit = Unit.objects.select_for_update().get(pk=unit.pk)  # serializes the numbering per unit
    seq = (Deployment.objects.filter(unit=locked_unit).aggregate(m=Max("seq"))["m"] or 0) + 1
    code = normalize_text(code)
    if code:
        if Deployment.objects.filter(code=code).exists():
            raise ValidationError(
                {"code": _("Another batch already has the code %(code)s.") % {"code": code}}
            )
    else:
        code = f"{unit.code}-{seq:03d}"
        n = 1
        while Deployment.objects.filter(code=code).exists():
            n += 1
            code = f"{unit.code}-{seq:03d}-{n}"
    d = Deployment.objects.create(
        unit=unit,
        seq=seq,
        code=code,
        title=title,
        request=request,
        partner=partner,
        site=normalize_text(site),
        start=start,
        end=end,
        leader=leader,
        supported_unit=supported_unit,
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _announce_deployment(d)
    locked = _lock_people(p for p, _t in picked.values())
    warnings: list[ConflictWarning] = []
    for pk, (_p, team) in picked.items():
        _m, _c, w = _add_member(actor, d, locked[pk], team)
        warnings += w
    log_action(
        actor,
        action="mobilize.deployment.dispatched",
        target=d,
        unit_path=unit.path,
        changes={
            "code": code,
            "seq": seq,
            "title": title,
            "start": _iso(start),
            "end": _iso(end),
            "site": d.site,
            "partner": partner.code if partner else None,
            "request": request.code if request else None,
            "supported_unit": supported_unit.code if supported_unit else None,
            "leader": leader.code if leader else None,
            "teams": [t.code for t in teams],
            "people": sorted(p.code for p, _t in picked.values()),
        },
    )
    return DispatchResult(d, warnings)


@transaction.atomic
def deployment_update(
    *,
    actor: Any,
    deployment: Deployment,
    title: str | None = None,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    leader: Person | None = None,
    note: str | None = None,
) -> DispatchResult:
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    d = Deployment.objects.select_for_update().get(pk=deployment.pk)
    before = {
        "title": d.title,
        "site": d.site,
        "start": _iso(d.start),
        "end": _iso(d.end),
        "leader": d.leader.code if d.leader else None,
        "note": d.note,
    }
    problems = rules.Problems()
    if title is not None:
        d.title = problems.text("title", title, max_length=200)
        if not d.title and "title" not in problems.errors:
            problems.add("title", _("Say what the task is."))
    if site is not None:
        d.site = problems.text("site", site, max_length=200)
    if note is not None:
        d.note = problems.text("note", note, multiline=True)
    problems.raise_if_any()
    if leader is not None:
        d.leader = _visible_person(actor, leader)
    d.start, d.end = _check_span(start or d.start, end or d.end)
    outside = d.shifts.filter(Q(start__lt=d.start) | Q(end__gt=d.end)).first()
    if outside is not None:
        raise ValidationError(
            {"start": _("%(shift)s would lie outside the batch.") % {"shift": _shift_name(outside)}}
        )
    d.save()
    _announce_deployment(d)
    warnings: list[ConflictWarning] = []
    members = list(d.memberships.select_related("person"))
    if before["start"] != _iso(d.start) or before["end"] != _iso(d.end):
        locked = _lock_people(m.person for m in members)
        for m in members:
            warnings += _conflicts(locked[m.person_id], d.start, d.end, deployment=d, actor=actor)
    if leader is not None and not d.memberships.filter(person=leader).exists():
        locked = _lock_people([leader])
        _m, _c, w = _add_member(actor, d, locked[leader.pk], None)
        warnings += w
    after = {
        "title": d.title,
        "site": d.site,
        "start": _iso(d.start),
        "end": _iso(d.end),
        "leader": d.leader.code if d.leader else None,
        "note": d.note,
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        log_action(
            actor, action="mobilize.deployment.updated", target=d, unit_path=d.unit.path, changes=changes
        )
    return DispatchResult(d, warnings)


@transaction.atomic
def deployment_cancel(*, actor: Any, deployment: Deployment, reason: str) -> Deployment:
    """Cancel a batch (it stops counting as a batch; entries already recorded stay in the ledger)."""
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    reason = rules.check_text("reason", reason, max_length=500)
    if not reason:
        raise ValidationError({"reason": _("Say why the batch is cancelled.")})
    d = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if d.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"status": _("The batch is already cancelled.")})
    d.status = DeploymentStatus.CANCELLED
    d.save(update_fields=["status"])
    _announce_deployment(d)
    log_action(
        actor,
        action="mobilize.deployment.cancelled",
        target=d,
        unit_path=d.unit.path,
        changes={"status": [DeploymentStatus.ACTIVE, DeploymentStatus.CANCELLED], "reason": reason},
    )
    # the members are told, with the reason (the notify app listens; mobilize does not import it)
    signals.deployment_cancelled.send(sender=Deployment, actor=actor, deployment=d, reason=reason)
    return d


@transaction.atomic
def deployment_member_add(
    *, actor: Any, deployment: Deployment, person: Person, team: Team | None = None
) -> MemberResult:
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    _visible_person(actor, person)
    if deployment.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"deployment": _("The batch is cancelled.")})
    locked = _lock_people([person])
    m, created, warnings = _add_member(actor, deployment, locked[person.pk], team)
    if created:
        log_action(
            actor,
            action="mobilize.deployment.member_added",
            target=deployment,
            unit_path=deployment.unit.path,
            changes={"person": person.code, "team": team.code if team else None},
        )
    return MemberResult(m, created, warnings)


@transaction.atomic
def deployment_member_remove(*, actor: Any, deployment: Deployment, person: Person) -> None:
    """Take a person out of a batch (and its shifts) — refused once they have checked in or have entries."""
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    if (
        CheckEvent.objects.filter(
            assignment__person=person, assignment__shift__deployment=deployment
        ).exists()
        or ServiceEntry.objects.filter(person=person, deployment=deployment).exists()
    ):
        raise ValidationError(
            {"person": _("%(person)s has already served in this batch; keep them.") % {"person": person}}
        )
    Assignment.objects.filter(person=person, shift__deployment=deployment).delete()
    deleted, _n = DeploymentMember.objects.filter(deployment=deployment, person=person).delete()
    if deleted:
        log_action(
            actor,
            action="mobilize.deployment.member_removed",
            target=deployment,
            unit_path=deployment.unit.path,
            changes={"person": person.code},
        )
