"""Shifts (班次): create, delete, assign, take, release, unassign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.models import (
    Assignment,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    Post,
    ServiceEntry,
    Shift,
    ShiftMode,
)
from muster.mobilize.policy import can_any as _can_any
from muster.mobilize.policy import deployment_units as _deployment_units
from muster.mobilize.policy import leads as _leads
from muster.mobilize.policy import may_act_for, may_lead_shift
from muster.mobilize.queries import shift_is_visible
from muster.mobilize.shift_templates import ShiftSpec
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit

from .common import (
    ConflictWarning,
    _apply_breaches,
    _breaches,
    _check_span,
    _fmt,
    _invalid,
    _iso,
    _lock_people,
    _shift_name,
    _visible_person,
)
from .deployments import _add_member


def _owner_check(actor: Any, deployment: Deployment | None, post: Post | None) -> Unit:
    if deployment is None and post is None:
        raise ValidationError({"deployment": _("A shift belongs to a batch or a post.")})
    unit = deployment.unit if deployment is not None else post.unit  # type: ignore[union-attr]
    if deployment is not None:
        if not (
            _can_any(actor, Perm.MOBILIZE_DISPATCH, _deployment_units(deployment))
            or _leads(actor, deployment)
        ):
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        if deployment.status == DeploymentStatus.CANCELLED:
            raise ValidationError({"deployment": _("The batch is cancelled.")})
    if post is not None:
        access.require(actor, Perm.MOBILIZE_DISPATCH, post.unit)
    return unit


@transaction.atomic
def shifts_create(
    *, actor: Any, specs: Sequence[ShiftSpec], deployment: Deployment | None = None, post: Post | None = None
) -> list[Shift]:
    """Create shifts (one by one or from a template of ``mobilize.shift_templates``) for a batch or a post.

    A batch's shifts must lie within the batch's start and end.
    """
    unit = _owner_check(actor, deployment, post)
    if not specs:
        raise ValidationError({"specs": _("No shifts to create.")})
    out = []
    for i, spec in enumerate(specs, start=1):
        start, end = _check_span(spec.start, spec.end)
        problems = rules.Problems()
        problems.integer("seats", spec.seats, rules.SEATS)
        label = problems.text("label", spec.label, max_length=60)
        problems.raise_if_any()
        if deployment is not None and (start < deployment.start or end > deployment.end):
            raise ValidationError(
                {
                    "start": _(
                        "Shift %(n)s (%(start)s–%(end)s) lies outside the batch (%(bstart)s–%(bend)s)."
                    )
                    % {
                        "n": i,
                        "start": _fmt(start),
                        "end": _fmt(end),
                        "bstart": _fmt(deployment.start),
                        "bend": _fmt(deployment.end),
                    }
                }
            )
        out.append(
            Shift(
                deployment=deployment,
                post=post,
                start=start,
                end=end,
                seats=spec.seats,
                mode=ShiftMode.REMOTE if spec.remote else ShiftMode.ONSITE,
                label=label,
            )
        )
    for s in out:
        s.save()
    log_action(
        actor,
        action="mobilize.shift.created",
        target=deployment or post,
        unit_path=unit.path,
        changes={"count": len(out), "first": _iso(out[0].start), "last": _iso(out[-1].end)},
    )
    return out


def shift_create(
    *,
    actor: Any,
    start: datetime,
    end: datetime,
    deployment: Deployment | None = None,
    post: Post | None = None,
    seats: int = 1,
    remote: bool = False,
    label: str = "",
) -> Shift:
    return shifts_create(
        actor=actor, deployment=deployment, post=post, specs=[ShiftSpec(start, end, seats, label, remote)]
    )[0]


@transaction.atomic
def shift_delete(*, actor: Any, shift: Shift) -> None:
    """Delete a shift nobody is on (assignments must be removed first)."""
    _owner_check(actor, shift.deployment, shift.post)
    if shift.assignments.exists():
        raise ValidationError({"shift": _("People are on this shift; remove them first.")})
    log_action(
        actor,
        action="mobilize.shift.deleted",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"start": _iso(shift.start), "end": _iso(shift.end)},
    )
    shift.delete()


@dataclass
class AssignResult:
    assignment: Assignment
    created: bool
    warnings: list[ConflictWarning] = field(default_factory=list)


@transaction.atomic
def shift_assign(*, actor: Any, shift: Shift, person: Person) -> AssignResult:
    """Put a person on a shift (and into the shift's batch if not yet a member). Refuses conflicts."""
    if not shift_is_visible(actor, shift):
        raise Http404
    if not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    _visible_person(actor, person)
    return _assign(actor, shift, person, strict=False, week_limit_minutes=None)


def _assign(
    actor: Any, shift: Shift, person: Person, *, strict: bool, week_limit_minutes: int | None
) -> AssignResult:
    """The one way onto a shift: lock the person, then the shift (so two people cannot both take its
    last seat), judge with ``mobilize.rules``, write the assignment (and batch membership)."""
    locked = _lock_people([person])[person.pk]
    Shift.objects.select_for_update().filter(pk=shift.pk).values_list("pk").first()
    seats = Assignment.objects.filter(shift=shift).aggregate(
        taken=Count("pk"), mine=Count("pk", filter=Q(person=locked))
    )
    if seats["mine"]:
        return AssignResult(Assignment.objects.get(shift=shift, person=locked), False)
    taken = seats["taken"]
    if taken >= shift.seats:
        raise _invalid(
            "shift",
            _("All %(n)s seats of %(shift)s are taken.") % {"n": shift.seats, "shift": _shift_name(shift)},
            "full",
        )
    breaches = _breaches(
        locked,
        shift.start,
        shift.end,
        shift=shift,
        seats=shift.seats,
        taken=taken,
        week_limit_minutes=week_limit_minutes,
        actor=actor,
    )
    warnings = _apply_breaches(locked, breaches, strict=strict)
    d = shift.deployment
    if d is not None:  # into the batch too, if not yet a member
        _m, _c, w = _add_member(actor, d, locked, None)
        warnings += [x for x in w if x.message not in {y.message for y in warnings}]
    a = Assignment.objects.create(
        shift=shift, person=locked, created_by=actor if getattr(actor, "pk", None) else None
    )
    log_action(
        actor,
        action="mobilize.shift.assigned",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"person": locked.code, "start": _iso(shift.start), "end": _iso(shift.end)},
    )
    return AssignResult(a, True, warnings)


@transaction.atomic(savepoint=False)  # a refusal fails the caller's transaction (or its own savepoint)
def shift_take(
    *, actor: Any, shift: Shift, person: Person, week_limit_minutes: int | None = None
) -> AssignResult:
    """A seat taken by sign-up (报名): the person themself, or their coordinator for someone without an
    account. The same rules as ``shift_assign`` (``mobilize.rules``), stricter: a short rest or a weekly
    limit passed is refused, not warned. Whether the shift is open to the person is the caller's check."""
    if not may_act_for(actor, person):
        raise Http404
    return _assign(actor, shift, person, strict=True, week_limit_minutes=week_limit_minutes)


@transaction.atomic
def shift_release(*, actor: Any, shift: Shift, person: Person) -> bool:
    """A seat given back (a sign-up cancelled): refused once the person has checked in. Returns whether
    there was an assignment. The batch membership stays unless no other shift of the batch holds them."""
    if not (may_act_for(actor, person) or may_lead_shift(actor, shift)):
        raise Http404
    a = Assignment.objects.filter(shift=shift, person=person).first()
    if a is None:
        return False
    if a.check_events.exists():
        raise _invalid(
            "person", _("%(person)s has already checked in on this shift.") % {"person": person}, "checked_in"
        )
    a.delete()
    d = shift.deployment
    if (
        d is not None
        and not Assignment.objects.filter(person=person, shift__deployment=d).exists()
        and not ServiceEntry.objects.filter(person=person, deployment=d).exists()
    ):
        DeploymentMember.objects.filter(deployment=d, person=person).delete()
    log_action(
        actor,
        action="mobilize.shift.unassigned",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"person": person.code},
    )
    return True


@transaction.atomic
def shift_unassign(*, actor: Any, shift: Shift, person: Person) -> None:
    if not shift_is_visible(actor, shift):
        raise Http404
    if not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    a = Assignment.objects.filter(shift=shift, person=person).first()
    if a is None:
        return
    if a.check_events.exists():
        raise ValidationError(
            {"person": _("%(person)s has already checked in on this shift.") % {"person": person}}
        )
    a.delete()
    log_action(
        actor,
        action="mobilize.shift.unassigned",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"person": person.code},
    )
