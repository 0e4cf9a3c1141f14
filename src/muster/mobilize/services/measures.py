"""The measure catalog and its values (admin on a root unit: ``Perm.MOBILIZE_CATALOG``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.models import Deployment, MeasureKind, MeasureValue, ServiceEntry
from muster.mobilize.policy import can_any as _can_any
from muster.mobilize.policy import deployment_units as _deployment_units
from muster.mobilize.policy import is_self as _is_self
from muster.mobilize.policy import leads as _leads
from muster.mobilize.policy import may_approve_entry, may_see_deployment, may_see_person
from muster.mobilize.queries import chain_state
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Unit
from muster.orgs.validators import normalize_text


def _require_catalog(actor: Any) -> None:
    if access.is_all_powerful(actor):
        return
    if not any(access.can(actor, Perm.MOBILIZE_CATALOG, r) for r in Unit.objects.get_root_nodes()):
        raise access.NotAllowed(Perm.MOBILIZE_CATALOG)


@transaction.atomic
def measure_kind_create(
    *, actor: Any, code: str, name: str, unit_label: str = "", order: int = 0
) -> MeasureKind:
    _require_catalog(actor)
    problems = rules.Problems()
    code = problems.code("code", code)
    name = problems.text("name", name, max_length=80)
    unit_label = problems.text("unit_label", unit_label, max_length=12)
    order = problems.integer("order", order, rules.MEASURE_ORDER)
    problems.raise_if_any()
    if MeasureKind.objects.filter(code=code).exists():
        raise ValidationError({"code": _("Another measure already has the code %(code)s.") % {"code": code}})
    kind = MeasureKind(code=code, name=name, unit_label=normalize_text(unit_label), order=order)
    kind.full_clean()
    kind.save()
    log_action(
        actor,
        action="mobilize.measure_kind.created",
        target=kind,
        changes={"code": code, "name": name, "unit_label": kind.unit_label},
    )
    return kind


@transaction.atomic
def measure_kind_update(
    *,
    actor: Any,
    kind: MeasureKind,
    name: str | None = None,
    unit_label: str | None = None,
    is_active: bool | None = None,
    order: int | None = None,
) -> MeasureKind:
    _require_catalog(actor)
    kind = MeasureKind.objects.select_for_update().get(pk=kind.pk)
    before = {
        "name": kind.name,
        "unit_label": kind.unit_label,
        "is_active": kind.is_active,
        "order": kind.order,
    }
    problems = rules.Problems()
    if name is not None:
        kind.name = problems.text("name", name, max_length=80)
    if unit_label is not None:
        kind.unit_label = problems.text("unit_label", unit_label, max_length=12)
    if is_active is not None:
        kind.is_active = is_active
    if order is not None:
        kind.order = problems.integer("order", order, rules.MEASURE_ORDER)
    problems.raise_if_any()
    kind.full_clean()
    after = {
        "name": kind.name,
        "unit_label": kind.unit_label,
        "is_active": kind.is_active,
        "order": kind.order,
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        kind.save()
        log_action(actor, action="mobilize.measure_kind.updated", target=kind, changes=changes)
    return kind


@transaction.atomic
def measure_record(
    *,
    actor: Any,
    kind: MeasureKind,
    value: int,
    deployment: Deployment | None = None,
    entry: ServiceEntry | None = None,
    on: date | None = None,
    note: str = "",
) -> MeasureValue:
    """Attach a named number to a batch or to an entry (stored on the entry's first row)."""
    if (deployment is None) == (entry is None):
        raise ValidationError({"deployment": _("A measure belongs to either a batch or a service entry.")})
    kind = MeasureKind.objects.get(pk=kind.pk)
    if not kind.is_active:
        raise ValidationError({"kind": _("The measure %(name)s is no longer in use.") % {"name": kind.name}})
    problems = rules.Problems()
    problems.integer("value", value, rules.MEASURE_VALUE)
    note = problems.text("note", note, max_length=300)
    problems.raise_if_any()
    if deployment is not None:
        if not may_see_deployment(actor, deployment):
            raise Http404
        units = _deployment_units(deployment)
        if not (
            _can_any(actor, Perm.MOBILIZE_DISPATCH, units)
            or _can_any(actor, Perm.MOBILIZE_APPROVE, units)
            or _leads(actor, deployment)
        ):
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        unit_path = deployment.unit.path
    else:
        assert entry is not None
        origin = chain_state(entry.chain).origin
        if not may_see_person(actor, origin.person):
            raise Http404
        if not (_is_self(actor, origin.person) or may_approve_entry(actor, origin)):
            raise access.NotAllowed(Perm.MOBILIZE_APPROVE)
        entry = origin
        unit_path = origin.person.unit.path
    mv = MeasureValue.objects.create(
        kind=kind,
        deployment=deployment,
        entry=entry,
        value=value,
        on=on,
        note=normalize_text(note),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    log_action(
        actor,
        action="mobilize.measure.recorded",
        target=mv,
        unit_path=unit_path,
        changes={
            "kind": kind.code,
            "value": value,
            "on": on.isoformat() if on else None,
            "deployment": deployment.code if deployment else None,
            "entry": entry.pk if entry else None,
        },
    )
    return mv


@transaction.atomic
def measure_remove(*, actor: Any, value: MeasureValue, reason: str) -> None:
    """Remove a mistaken value; the audit log keeps what it was and why it went."""
    reason = rules.check_text("reason", reason, max_length=500)
    if not normalize_text(reason):
        raise ValidationError({"reason": _("Say why the value is removed.")})
    if value.deployment is not None:
        d = value.deployment
        if not may_see_deployment(actor, d):
            raise Http404
        if not (_can_any(actor, Perm.MOBILIZE_DISPATCH, _deployment_units(d)) or _leads(actor, d)):
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        unit_path = d.unit.path
    else:
        assert value.entry is not None
        if not may_see_person(actor, value.entry.person):
            raise Http404
        if not (_is_self(actor, value.entry.person) or may_approve_entry(actor, value.entry)):
            raise access.NotAllowed(Perm.MOBILIZE_APPROVE)
        unit_path = value.entry.person.unit.path
    log_action(
        actor,
        action="mobilize.measure.removed",
        target=value,
        unit_path=unit_path,
        changes={
            "kind": value.kind.code,
            "value": value.value,
            "on": value.on.isoformat() if value.on else None,
            "reason": normalize_text(reason),
        },
    )
    value.delete()
