"""Branch membership (党员所在党组织): start, end, and a member's committee role."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import today
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.orgs.services import person_update
from muster.partylife.membership import MEETING_UNIT_KINDS
from muster.partylife.models import BranchMembership, MembershipRole

from .common import _see_person, _text


@transaction.atomic
def branch_membership_start(
    *,
    actor: Any,
    person: Person,
    branch: Unit,
    start: date,
    role: str = MembershipRole.MEMBER,
    note: str = "",
) -> BranchMembership:
    """``person`` joins (or transfers to) ``branch`` from ``start``; an open membership elsewhere ends
    the day before.

    When the membership is current (``start`` ≤ today), ``Person.party_unit`` follows it.
    """
    access.require(actor, Perm.PARTY_RECORD, branch)
    _see_person(actor, person)
    errors: dict[str, str] = {}
    if branch.kind not in MEETING_UNIT_KINDS:
        errors["branch"] = _("A membership is held in a branch, general branch or party group.")
    if role not in MembershipRole.values:
        errors["role"] = _("Unknown role %(role)s.") % {"role": role}
    if errors:
        raise ValidationError(errors)
    person = Person.objects.select_for_update().get(pk=person.pk)
    current = (
        BranchMembership.objects.select_for_update()
        .filter(person=person)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .order_by("start", "pk")
    )
    for m in current:
        if m.start >= start:
            raise ValidationError(
                {
                    "start": _(
                        "%(person)s already has a membership from %(date)s; the new one must start later."
                    )
                    % {"person": person.name, "date": m.start.isoformat()}
                }
            )
        m.end = start - timedelta(days=1)
        m.save(update_fields=["end"])
    membership = BranchMembership.objects.create(
        person=person, branch=branch, role=role, start=start, note=_text(note)
    )
    if start <= today() and person.party_unit_id != branch.pk:
        person_update(actor=actor, person=person, party_unit=branch)
    log_action(
        actor,
        action="partylife.membership.started",
        target=membership,
        unit_path=branch.path,
        changes={"person": person.code, "branch": branch.code, "role": role, "start": start.isoformat()},
    )
    return membership


@transaction.atomic
def branch_membership_end(
    *, actor: Any, membership: BranchMembership, end: date, reason: str
) -> BranchMembership:
    """The membership ends on ``end`` (inclusive), e.g. a transfer out or a death; with a reason."""
    access.require(actor, Perm.PARTY_RECORD, membership.branch)
    membership = (
        BranchMembership.objects.select_for_update(of=("self",))
        .select_related("person", "branch")
        .get(pk=membership.pk)
    )
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    if end < membership.start:
        raise ValidationError(
            {"end": _("The end cannot be before the start (%(date)s).") % {"date": membership.start}}
        )
    membership.end = end
    membership.save(update_fields=["end"])
    person = membership.person
    if end < today() and person.party_unit_id == membership.branch_id:
        person_update(actor=actor, person=person, party_unit=None)
    log_action(
        actor,
        action="partylife.membership.ended",
        target=membership,
        unit_path=membership.branch.path,
        changes={"person": person.code, "end": end.isoformat(), "reason": _text(reason)},
    )
    return membership


@transaction.atomic
def branch_membership_set_role(
    *, actor: Any, person: Person, branch: Unit, role: str, on: date
) -> BranchMembership:
    """From ``on``, ``person`` holds ``role`` in ``branch`` (e.g. elected to the committee)."""
    return branch_membership_start(actor=actor, person=person, branch=branch, start=on, role=role)
