"""Who may do what in mobilization: the ``may_*`` permission helpers the services, queries, views and
API share (on top of ``muster.orgs.access``, the one scoping authority). Reads only, no writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from muster.mobilize.models import Deployment, ServiceEntry, Shift
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit, UnitKind


def is_self(actor: Any, person: Person) -> bool:
    pk = getattr(actor, "pk", None)
    return pk is not None and person.user_id == pk


def deployment_units(d: Deployment) -> list[Unit]:
    return [u for u in (d.unit, d.supported_unit) if u is not None]


def shift_units(shift: Shift) -> list[Unit]:
    units: list[Unit] = []
    if shift.deployment_id and shift.deployment is not None:
        units += deployment_units(shift.deployment)
    if shift.post_id and shift.post is not None:
        units.append(shift.post.unit)
    return units


def leads(actor: Any, deployment: Deployment | None) -> bool:
    """Whether the actor is the batch's leader (through their linked person)."""
    if deployment is None or deployment.leader_id is None or getattr(actor, "pk", None) is None:
        return False
    assert deployment.leader is not None
    return deployment.leader.user_id == actor.pk


def can_any(actor: Any, perm: Perm, units: Iterable[Unit]) -> bool:
    return any(access.can(actor, perm, u) for u in units)


def may_lead_shift(actor: Any, shift: Shift) -> bool:
    """Roll-call and fixes on a shift: dispatch rights on its units, or the batch's leader."""
    return can_any(actor, Perm.MOBILIZE_DISPATCH, shift_units(shift)) or leads(actor, shift.deployment)


def approver_units(person: Person, deployment: Deployment | None, shift: Shift | None) -> list[Unit]:
    if deployment is not None:
        return deployment_units(deployment)
    if shift is not None and shift.post is not None:
        return [shift.post.unit]
    return [u for u in (person.unit, person.party_unit) if u is not None]


def may_approve(actor: Any, person: Person, deployment: Deployment | None, shift: Shift | None) -> bool:
    if is_self(actor, person):
        return False
    return can_any(actor, Perm.MOBILIZE_APPROVE, approver_units(person, deployment, shift)) or leads(
        actor, deployment
    )


def may_approve_entry(actor: Any, row: ServiceEntry) -> bool:
    """Whether ``actor`` may approve, reject, correct or reverse the entry of ``row``."""
    return may_approve(actor, row.person, row.deployment, row.shift)


def may_see_person(actor: Any, person: Person) -> bool:
    """The person themself, or anyone whose scope holds them."""
    return is_self(actor, person) or access.scoped(Person.objects.filter(pk=person.pk), actor).exists()


def may_see_deployment(actor: Any, d: Deployment) -> bool:
    """A batch in the actor's scope, or one the actor's linked person is a member of."""
    return access.scoped(Deployment.objects.filter(pk=d.pk), actor).exists() or (
        getattr(actor, "pk", None) is not None and d.memberships.filter(person__user_id=actor.pk).exists()
    )


def may_act_for(actor: Any, person: Person) -> bool:
    """The person themself, or a coordinator with dispatch rights on the person's unit or party unit."""
    return is_self(actor, person) or can_any(
        actor, Perm.MOBILIZE_DISPATCH, [u for u in (person.unit, person.party_unit) if u is not None]
    )


def supportable_unit(user: Any, code: str) -> Unit | None:
    """The unit ``code`` names if the dispatcher may name it as a batch's supported unit: one they may see,
    or any district bureau (supporting another district, 宝山 → 松江, is what the field is for; the districts
    are no secret). Any other code — unknown, or a unit they may not see — is ``None`` alike, so the web form
    and the API answer both the same and tell nothing of units out of the dispatcher's scope."""
    units = Unit.objects.filter(code=code, is_active=True)
    seen = access.scoped(units, user, Perm.VIEW).first()
    return seen or units.filter(kind=UnitKind.DISTRICT_BUREAU).first()
