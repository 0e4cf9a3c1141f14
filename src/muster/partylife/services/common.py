"""What every party-life service shares: the actor in the audit log, visibility and approver checks,
text cleaning.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.partylife.membership import approval_unit

_UNSET: Any = object()


# ---------------------------------------------------------------- helpers


def _who(actor: Any) -> dict[str, Any]:
    if getattr(actor, "pk", None) is None:
        return {"actor": None, "actor_name": getattr(actor, "display_name", "") or "system"}
    return {"actor": actor, "actor_name": actor.get_username()}


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _see(actor: Any, unit: Unit) -> None:
    """404 unless the actor may see ``unit``."""
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404


def _see_person(actor: Any, person: Person) -> None:
    if not access.scoped(Person.objects.filter(pk=person.pk), actor, Perm.VIEW).exists():
        raise Http404


def _actor_person(actor: Any) -> Person | None:
    if getattr(actor, "pk", None) is None:
        return None
    return Person.objects.filter(user_id=actor.pk).first()


def _require_approver(actor: Any, unit: Unit) -> None:
    """``PARTY_APPROVE`` on the committee above ``unit`` (only the all-powerful when there is none)."""
    above = approval_unit(unit)
    if above is None:
        if not access.is_all_powerful(actor):
            raise access.NotAllowed(Perm.PARTY_APPROVE)
        return
    access.require(actor, Perm.PARTY_APPROVE, above)


def _require_global(actor: Any, perm: Perm) -> None:
    if access.is_all_powerful(actor):
        return
    if not any(access.can(actor, perm, root) for root in Unit.objects.get_root_nodes()):
        raise access.NotAllowed(perm)


def _text(value: str | None) -> str:
    return (value or "").strip()
