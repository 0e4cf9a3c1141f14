"""Care services: the "care data" permission, granted and revoked explicitly."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from muster.audit.services import log_action
from muster.care import policy
from muster.care.models import (
    CareDataGrant,
)
from muster.care.services.common import _name
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Unit

# ---------------------------------------------------------------- access


def care_grant(*, actor: Any, user: Any, unit: Unit) -> CareDataGrant:
    """Grant the care-data permission on ``unit``'s subtree (needs the grant permission there)."""
    if not access.can(actor, Perm.GRANT, unit):
        raise NotAllowed(Perm.GRANT)
    with transaction.atomic():
        grant, _created = CareDataGrant.objects.get_or_create(
            user=user, unit=unit, defaults={"granted_by_name": _name(actor)}
        )
        log_action(
            actor,
            action="care.grant.created",
            target=grant,
            unit_path=unit.path,
            changes={"user": user.get_username(), "unit": unit.code},
        )
    policy.forget(user)
    return grant


def care_grant_revoke(*, actor: Any, grant: CareDataGrant) -> None:
    if not access.can(actor, Perm.GRANT, grant.unit):
        raise NotAllowed(Perm.GRANT)
    with transaction.atomic():
        log_action(
            actor,
            action="care.grant.revoked",
            target=grant,
            unit_path=grant.unit.path,
            changes={"user": grant.user.get_username(), "unit": grant.unit.code},
        )
        grant.delete()
