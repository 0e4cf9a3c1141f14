"""Outreach writes, second part (issue 25 §5–8): taxpayer homes and classes, the catalog of service
measures, indicators and their measured values, the service log, co-building agreements. The same rules
as ``muster.outreach.services``: keyword-only, one transaction, permission-checked, audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.orgs.models import PARTY_KINDS, Partner, Person, Unit
from muster.orgs.rules import Problems
from muster.outreach.models import (
    Agreement,
    Enterprise,
    Indicator,
    IndicatorUnit,
    IndicatorValue,
    MeasureCategory,
    MeasureState,
    ServiceKind,
    ServiceLogEntry,
    ServiceMeasure,
    TaxClass,
    TaxpayerHome,
)
from muster.outreach.services import _day, _require_write

MAX_AMOUNT = Decimal("9999999999.99")


def _amount(p: Problems, key: str, value: Any) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        p.add(key, _("Enter a number."))
        return Decimal(0)
    if not d.is_finite() or d < 0:
        p.add(key, _("The value cannot be negative."))
    elif d > MAX_AMOUNT:
        p.add(key, _("The value is too large."))
    return d


@transaction.atomic
def home_create(
    *, actor: Any, name: str, unit: Unit, opened_on: date, partner: Partner | None = None, address: str = ""
) -> TaxpayerHome:
    _require_write(actor, unit)
    p = Problems()
    name = p.text("name", name or "", max_length=120)
    if not name and "name" not in p.errors:
        p.add("name", _("A name is required."))
    address = p.text("address", address or "", max_length=200)
    _day(p, "opened_on", opened_on, future=True)
    p.raise_if_any()
    home = TaxpayerHome.objects.create(
        name=name, unit=unit, opened_on=opened_on, partner=partner, address=address
    )
    log_action(
        actor, action="outreach.home.created", target=home, unit_path=unit.path, changes={"name": name}
    )
    return home


@transaction.atomic
def class_record(
    *,
    actor: Any,
    held_on: date,
    topic: str,
    unit: Unit,
    attendees: int,
    speaker: str = "",
    branch: Unit | None = None,
    home: TaxpayerHome | None = None,
    partner: Partner | None = None,
    satisfaction: Decimal | None = None,
    enterprises: Sequence[Enterprise] = (),
) -> TaxClass:
    _require_write(actor, unit, branch)
    p = Problems()
    _day(p, "held_on", held_on)
    topic = p.text("topic", topic or "", max_length=200)
    if not topic and "topic" not in p.errors:
        p.add("topic", _("A topic is required."))
    speaker = p.text("speaker", speaker or "", max_length=60)
    attendees = int(p.integer("attendees", attendees, (0, 100000)))
    if satisfaction is not None:
        satisfaction = _amount(p, "satisfaction", satisfaction)
        if "satisfaction" not in p.errors and satisfaction > 100:
            p.add("satisfaction", _("Satisfaction is a score from 0 to 100."))
    if branch is not None and branch.kind not in PARTY_KINDS:
        p.add("branch", _("%(unit)s is not a party organization.") % {"unit": branch.name})
    p.raise_if_any()
    c = TaxClass.objects.create(
        held_on=held_on,
        topic=topic,
        speaker=speaker,
        unit=unit,
        branch=branch,
        home=home,
        partner=partner,
        attendees=attendees,
        satisfaction=satisfaction,
    )
    c.enterprises.set(enterprises)
    log_action(
        actor,
        action="outreach.class.recorded",
        target=c,
        unit_path=unit.path,
        changes={"date": held_on.isoformat(), "topic": topic, "attendees": attendees},
    )
    return c


@transaction.atomic
def category_create(*, actor: Any, unit: Unit, name: str, order: int = 0) -> MeasureCategory:
    _require_write(actor, unit)
    p = Problems()
    name = p.text("name", name or "", max_length=120)
    if not name and "name" not in p.errors:
        p.add("name", _("A name is required."))
    elif MeasureCategory.objects.filter(unit=unit, name=name).exists():
        p.add("name", _("The catalog already has a category named %(name)s.") % {"name": name})
    p.raise_if_any()
    cat = MeasureCategory.objects.create(unit=unit, name=name, order=order)
    log_action(
        actor, action="outreach.category.created", target=cat, unit_path=unit.path, changes={"name": name}
    )
    return cat


def _catalog_check(p: Problems, category: MeasureCategory, unit: Unit) -> None:
    if not unit.path.startswith(category.unit.path):
        p.add(
            "category",
            _("The category %(category)s belongs to the catalog of %(catalog)s, not of %(unit)s.")
            % {"category": category.name, "catalog": category.unit.name, "unit": unit.name},
        )


@transaction.atomic
def measure_create(
    *,
    actor: Any,
    category: MeasureCategory,
    title: str,
    unit: Unit,
    started_on: date,
    state: str = MeasureState.IN_FORCE,
) -> ServiceMeasure:
    _require_write(actor, unit)
    p = Problems()
    title = p.text("title", title or "", max_length=200)
    if not title and "title" not in p.errors:
        p.add("title", _("A title is required."))
    if state not in MeasureState.values:
        p.add("state", _("State is one of: %(choices)s.") % {"choices": ", ".join(MeasureState.values)})
    _day(p, "started_on", started_on, future=True)
    _catalog_check(p, category, unit)
    p.raise_if_any()
    m = ServiceMeasure.objects.create(
        category=category, title=title, unit=unit, started_on=started_on, state=state
    )
    log_action(
        actor,
        action="outreach.measure.created",
        target=m,
        unit_path=unit.path,
        changes={"category": category.name, "title": title, "state": state},
    )
    return m


@transaction.atomic
def measure_update(
    *, actor: Any, measure: ServiceMeasure, category: MeasureCategory | None = None, state: str | None = None
) -> ServiceMeasure:
    """Move a measure to another category of the same catalog, or change its state."""
    _require_write(actor, measure.unit)
    m = (
        ServiceMeasure.objects.select_for_update(of=("self",))
        .select_related("category__unit", "unit")
        .get(pk=measure.pk)
    )
    p = Problems()
    changes: dict[str, Any] = {}
    if category is not None and category.pk != m.category_id:
        if category.unit_id != m.category.unit_id:
            p.add(
                "category",
                _(
                    "The category %(category)s is of another unit's catalog (%(catalog)s); "
                    "a measure moves only within its own catalog."
                )
                % {"category": category.name, "catalog": category.unit.name},
            )
        changes["category"] = [m.category.name, category.name]
    if state is not None and state != m.state:
        if state not in MeasureState.values:
            p.add("state", _("State is one of: %(choices)s.") % {"choices": ", ".join(MeasureState.values)})
        changes["state"] = [m.state, state]
    p.raise_if_any()
    if category is not None:
        m.category = category
    if state is not None:
        m.state = state
    m.save()
    if changes:
        log_action(actor, action="outreach.measure.updated", target=m, unit_path=m.unit.path, changes=changes)
    return m


@transaction.atomic
def indicator_create(
    *, actor: Any, unit: Unit, name: str, measure_unit: str, baseline: Decimal, baseline_on: date
) -> Indicator:
    _require_write(actor, unit)
    p = Problems()
    name = p.text("name", name or "", max_length=120)
    if not name and "name" not in p.errors:
        p.add("name", _("A name is required."))
    if measure_unit not in IndicatorUnit.values:
        p.add(
            "measure_unit",
            _("The unit of measure is one of: %(choices)s.") % {"choices": ", ".join(IndicatorUnit.values)},
        )
    baseline = _amount(p, "baseline", baseline)
    if "baseline" not in p.errors and baseline == 0:
        p.add("baseline", _("A baseline of 0 allows no change to be computed."))
    _day(p, "baseline_on", baseline_on)
    p.raise_if_any()
    ind = Indicator.objects.create(
        unit=unit, name=name, measure_unit=measure_unit, baseline=baseline, baseline_on=baseline_on
    )
    log_action(
        actor,
        action="outreach.indicator.created",
        target=ind,
        unit_path=unit.path,
        changes={"name": name, "unit": measure_unit, "baseline": str(baseline)},
    )
    return ind


@transaction.atomic
def indicator_measure(
    *, actor: Any, indicator: Indicator, measured_on: date, value: Decimal, measure_unit: str
) -> IndicatorValue:
    """Record a measured value; ``measure_unit`` must be the indicator's (no silent conversion)."""
    _require_write(actor, indicator.unit)
    p = Problems()
    if measure_unit != indicator.measure_unit:
        p.add(
            "measure_unit",
            _("%(name)s is measured in %(unit)s, not in %(given)s.")
            % {"name": indicator.name, "unit": indicator.get_measure_unit_display(), "given": measure_unit},
        )
    value = _amount(p, "value", value)
    _day(p, "measured_on", measured_on)
    if "measured_on" not in p.errors and measured_on < indicator.baseline_on:
        p.add("measured_on", _("A value cannot be measured before the baseline date."))
    p.raise_if_any()
    v = IndicatorValue.objects.create(indicator=indicator, measured_on=measured_on, value=value)
    log_action(
        actor,
        action="outreach.indicator.measured",
        target=indicator,
        unit_path=indicator.unit.path,
        changes={"date": measured_on.isoformat(), "value": str(value)},
    )
    return v


@transaction.atomic
def service_log(
    *,
    actor: Any,
    at: datetime,
    kind: str,
    unit: Unit,
    matter: str,
    staff: Person,
    enterprise: Enterprise | None = None,
    taxpayer: str = "",
    outside_hours: bool = False,
) -> ServiceLogEntry:
    _require_write(actor, unit)
    p = Problems()
    if kind not in ServiceKind.values:
        p.add("kind", _("Type is one of: %(choices)s.") % {"choices": ", ".join(ServiceKind.values)})
    matter = p.text("matter", matter or "", max_length=300)
    if not matter and "matter" not in p.errors:
        p.add("matter", _("Say what the matter was."))
    taxpayer = p.text("taxpayer", taxpayer or "", max_length=120)
    _day(p, "at", at.date())
    p.raise_if_any()
    e = ServiceLogEntry.objects.create(
        at=at,
        kind=kind,
        unit=unit,
        enterprise=enterprise,
        taxpayer=taxpayer or (enterprise.name if enterprise else ""),
        matter=matter,
        staff=staff,
        outside_hours=outside_hours,
    )
    log_action(
        actor,
        action="outreach.service.logged",
        target=e,
        unit_path=unit.path,
        changes={"kind": kind, "at": at.isoformat(), "outside_hours": outside_hours},
    )
    return e


@transaction.atomic
def agreement_create(
    *, actor: Any, branch: Unit, partner: Partner, start: date, end: date | None = None, title: str = ""
) -> Agreement:
    _require_write(actor, branch, branch)
    p = Problems()
    if branch.kind not in PARTY_KINDS:
        p.add("branch", _("%(unit)s is not a party organization.") % {"unit": branch.name})
    title = p.text("title", title or "", max_length=200)
    _day(p, "start", start, future=True)
    if end is not None and end < start:
        p.add("end", _("The period cannot end before it starts."))
    p.raise_if_any()
    a = Agreement.objects.create(branch=branch, partner=partner, start=start, end=end, title=title)
    log_action(
        actor,
        action="outreach.agreement.created",
        target=a,
        unit_path=branch.path,
        changes={"partner": partner.code, "start": start.isoformat()},
    )
    return a
