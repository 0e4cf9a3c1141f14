"""Compliance rules (meeting requirements), exemptions, and frozen compliance snapshots."""

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
from muster.orgs.models import Unit
from muster.partylife.models import (
    ComplianceSnapshot,
    Exemption,
    MeetingKind,
    MeetingRequirement,
    MembershipRole,
    Period,
    Quorum,
)
from muster.partylife.queries import compliance_rows, rows_to_json

from .common import _require_approver, _require_global, _see, _text, _user_or_none, _who


@transaction.atomic
def requirement_change(
    *,
    actor: Any,
    code: str,
    kind: str,
    period: str,
    count: int,
    valid_from: date,
    quorum: str = "",
    lecturer_role: str = "",
    applies_to: str = "branch",
    usual_month: int | None = None,
    unit: Unit | None = None,
    source: str = "",
) -> MeetingRequirement:
    """Open a new version of the requirement ``code`` (everywhere, or for ``unit``'s subtree) from
    ``valid_from``.

    ``count`` 0 switches the requirement off from that date.
    """
    if unit is None:
        _require_global(actor, Perm.PARTY_RULES)
    else:
        access.require(actor, Perm.PARTY_RULES, unit)
    errors: dict[str, str] = {}
    code = _text(code)
    if not code:
        errors["code"] = _("A code is required.")
    if kind not in MeetingKind.values:
        errors["kind"] = _("Unknown kind of meeting %(kind)s.") % {"kind": kind}
    if period not in Period.values:
        errors["period"] = _("Unknown period %(period)s.") % {"period": period}
    if quorum not in Quorum.values:
        errors["quorum"] = _("Unknown quorum %(quorum)s.") % {"quorum": quorum}
    if count < 0:
        errors["count"] = _("The number of meetings cannot be negative.")
    if lecturer_role and lecturer_role not in MembershipRole.values:
        errors["lecturer_role"] = _("Unknown role %(role)s.") % {"role": lecturer_role}
    if errors:
        raise ValidationError(errors)
    same = MeetingRequirement.objects.select_for_update().filter(code=code, unit=unit)
    if same.filter(valid_from__gte=valid_from).exists():
        raise ValidationError(
            {"valid_from": _("A version of this requirement already starts on or after that date.")}
        )
    previous = (
        same.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)).order_by("-valid_from").first()
    )
    before: dict[str, Any] = {}
    if previous is not None:
        before = {
            "count": previous.count,
            "period": previous.period,
            "valid_from": previous.valid_from.isoformat(),
        }
        previous.valid_to = valid_from
        previous.save(update_fields=["valid_to", "updated_at"])
    req = MeetingRequirement.objects.create(
        code=code,
        kind=kind,
        period=period,
        count=count,
        quorum=quorum,
        lecturer_role=lecturer_role,
        applies_to=applies_to,
        usual_month=usual_month,
        unit=unit,
        valid_from=valid_from,
        source=_text(source)[:300],
        is_active=count > 0,
    )
    log_action(
        actor,
        action="partylife.requirement.changed",
        target=req,
        unit_path=unit.path if unit else "",
        changes={
            "code": code,
            "kind": kind,
            "period": period,
            "count": count,
            "quorum": quorum,
            "valid_from": valid_from.isoformat(),
            "previous": before,
        },
    )
    return req


@transaction.atomic
def exemption_grant(
    *, actor: Any, unit: Unit, requirement_code: str, start: date, end: date, reason: str
) -> Exemption:
    """Exempt ``unit`` from a requirement for [start, end), with the reason; the actor is the approver
    (``PARTY_APPROVE`` on the committee above)."""
    _see(actor, unit)
    _require_approver(actor, unit)
    errors: dict[str, str] = {}
    if not MeetingRequirement.objects.filter(code=requirement_code).exists():
        errors["requirement_code"] = _("Unknown requirement %(code)s.") % {"code": requirement_code}
    if end <= start:
        errors["end"] = _("The exemption must end after it starts.")
    if not _text(reason):
        errors["reason"] = _("An exemption needs a reason.")
    if errors:
        raise ValidationError(errors)
    ex = Exemption.objects.create(
        unit=unit,
        requirement_code=requirement_code,
        start=start,
        end=end,
        reason=_text(reason)[:300],
        approved_by=_user_or_none(actor),
        approved_by_name=_who(actor)["actor_name"],
    )
    log_action(
        actor,
        action="partylife.exemption.granted",
        target=ex,
        unit_path=unit.path,
        changes={
            "requirement": requirement_code,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": ex.reason,
        },
    )
    return ex


@transaction.atomic
def exemption_revoke(*, actor: Any, exemption: Exemption, reason: str) -> Exemption:
    _see(actor, exemption.unit)
    _require_approver(actor, exemption.unit)
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    exemption = Exemption.objects.select_for_update().get(pk=exemption.pk)
    if exemption.revoked:
        raise ValidationError({"reason": _("This exemption was already revoked.")})
    exemption.revoked = True
    exemption.save(update_fields=["revoked"])
    log_action(
        actor,
        action="partylife.exemption.revoked",
        target=exemption,
        unit_path=exemption.unit.path,
        changes={"reason": _text(reason)},
    )
    return exemption


@transaction.atomic
def compliance_freeze(*, actor: Any, unit: Unit, start: date, end: date) -> ComplianceSnapshot:
    """Freeze the compliance of every organization under ``unit`` for the closed period [start, end)."""
    _see(actor, unit)
    access.require(actor, Perm.PARTY_APPROVE, unit)
    if end <= start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    if end > today():
        raise ValidationError(
            {"end": _("Only a closed period can be frozen (it ends %(date)s).") % {"date": end}}
        )
    if ComplianceSnapshot.objects.filter(unit=unit, start=start, end=end).exists():
        raise ValidationError({"end": _("This period is already frozen for %(unit)s.") % {"unit": unit.name}})
    rows = compliance_rows(unit, start, end, through=end - timedelta(days=1))
    snap = ComplianceSnapshot.objects.create(
        unit=unit,
        start=start,
        end=end,
        data=rows_to_json(rows),
        frozen_by=_user_or_none(actor),
        frozen_by_name=_who(actor)["actor_name"],
    )
    log_action(
        actor,
        action="partylife.compliance.frozen",
        target=snap,
        unit_path=unit.path,
        changes={"start": start.isoformat(), "end": end.isoformat(), "organizations": len(rows)},
    )
    return snap
