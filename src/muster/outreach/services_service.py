"""Outreach writes, second part (issue 25 §5–8): taxpayer homes and classes, the catalog of service
measures, indicators and their measured values, the service log, co-building agreements (and the visits and
classes that belong to one). The same rules as ``muster.outreach.services``: keyword-only, one transaction,
permission-checked, audited; an update logs the fields that changed, before and after (``audit.diff``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from muster import dates
from muster.audit.services import diff, log_action
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
    Visit,
)
from muster.outreach.services import _day, _require_write, _see

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
    try:  # the day is the local one, whatever offset the sender wrote
        local = timezone.localtime(at) if timezone.is_aware(at) else at
    except OverflowError:
        p.add("at", dates.date_range_message())
    else:
        _day(p, "at", local.date())
        if "at" not in p.errors and local.replace(tzinfo=None) > timezone.localtime().replace(tzinfo=None):
            p.add("at", _("The time %(at)s is in the future.") % {"at": local.strftime("%Y-%m-%d %H:%M")})
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


# ------------------------------------------------ updating and closing homes, classes and agreements

_UNSET: Any = object()


def _unknown_fields(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: _("This field cannot be changed.") for k in sorted(unknown)})


def home_snapshot(h: TaxpayerHome) -> dict[str, Any]:
    return {
        "name": h.name,
        "unit": h.unit.code,
        "partner": h.partner.code if h.partner is not None else None,
        "address": h.address,
        "opened_on": h.opened_on.isoformat(),
        "closed_on": h.closed_on.isoformat() if h.closed_on else None,
    }


@transaction.atomic
def home_update(*, actor: Any, home: TaxpayerHome, **fields: Any) -> TaxpayerHome:
    """Change a taxpayer home's name, partner, address or opening day (``closed_on``: ``home_close``)."""
    _unknown_fields(fields, {"name", "partner", "address", "opened_on"})
    _require_write(actor, home.unit)
    h = TaxpayerHome.objects.select_for_update(of=("self",)).select_related("unit", "partner").get(pk=home.pk)
    p = Problems()
    if "name" in fields:
        fields["name"] = p.text("name", fields["name"] or "", max_length=120)
        if not fields["name"] and "name" not in p.errors:
            p.add("name", _("A name is required."))
    if "address" in fields:
        fields["address"] = p.text("address", fields["address"] or "", max_length=200)
    if "opened_on" in fields:
        if fields["opened_on"] is None:
            p.add("opened_on", _("The opening day is required."))
        else:
            _day(p, "opened_on", fields["opened_on"], future=True)
            if "opened_on" not in p.errors and h.closed_on is not None and fields["opened_on"] > h.closed_on:
                p.add("opened_on", _("A home cannot open after the day it closed."))
    p.raise_if_any()
    before = home_snapshot(h)
    for k, v in fields.items():
        setattr(h, k, v)
    h.save()
    changes = diff(before, home_snapshot(h))
    if changes:
        log_action(actor, action="outreach.home.updated", target=h, unit_path=h.unit.path, changes=changes)
    return h


@transaction.atomic
def home_close(*, actor: Any, home: TaxpayerHome, closed_on: date) -> TaxpayerHome:
    """Close a taxpayer home as of a day (it counts among the homes up to that day)."""
    _require_write(actor, home.unit)
    h = TaxpayerHome.objects.select_for_update(of=("self",)).select_related("unit", "partner").get(pk=home.pk)
    p = Problems()
    if h.closed_on is not None:
        p.add("closed_on", _("This home closed on %(date)s.") % {"date": h.closed_on.isoformat()})
    else:
        _day(p, "closed_on", closed_on, future=True)
        if "closed_on" not in p.errors and closed_on < h.opened_on:
            p.add("closed_on", _("A home cannot close before the day it opened."))
    p.raise_if_any()
    before = home_snapshot(h)
    h.closed_on = closed_on
    h.save(update_fields=["closed_on"])
    log_action(
        actor,
        action="outreach.home.closed",
        target=h,
        unit_path=h.unit.path,
        changes=diff(before, home_snapshot(h)),
    )
    return h


def class_snapshot(c: TaxClass) -> dict[str, Any]:
    return {
        "held_on": c.held_on.isoformat(),
        "topic": c.topic,
        "speaker": c.speaker,
        "branch": c.branch.code if c.branch is not None else None,
        "home": c.home_id,
        "partner": c.partner.code if c.partner is not None else None,
        "attendees": c.attendees,
        "satisfaction": f"{Decimal(c.satisfaction):.2f}" if c.satisfaction is not None else None,
        "agreement": c.agreement_id,
        "enterprises": sorted(e.credit_code for e in c.enterprises.all()),
    }


def _agreement_check(p: Problems, agreement: Agreement, day: date, key: str = "agreement") -> None:
    """An activity belongs to an agreement only within the agreement's period."""
    if day < agreement.start or (agreement.end is not None and day > agreement.end):
        until = agreement.end.isoformat() if agreement.end else "…"
        p.add(
            key,
            _("The activity on %(day)s is outside the agreement's period (%(start)s – %(end)s).")
            % {"day": day.isoformat(), "start": agreement.start.isoformat(), "end": until},
        )


def _locked_agreement(pk: int | None) -> Agreement | None:
    """The agreement, its row locked for the transaction (``None`` for none)."""
    if pk is None:
        return None
    return Agreement.objects.select_for_update(of=("self",)).select_related("branch", "partner").get(pk=pk)


def _of_branch(agreement: Agreement, unit: Unit, branch: Unit | None) -> bool:
    """Whether an activity of ``unit`` (party branch ``branch``) is of the agreement's branch's subtree."""
    path = agreement.branch.path
    return unit.path.startswith(path) or (branch is not None and branch.path.startswith(path))


@transaction.atomic
def class_update(*, actor: Any, tax_class: TaxClass, **fields: Any) -> TaxClass:
    """Change a taxpayer class: date, topic, speaker, branch, home, partner, attendees, satisfaction, the
    enterprises that came, the co-building agreement it belongs to (``None``: none). Not its unit. Changing
    the agreement is a detach and an attach: the same rights (writing the agreements' branches), checks (the
    period, the branch) and audit as ``agreement_detach`` and ``agreement_attach``."""
    allowed = {
        "held_on", "topic", "speaker", "branch", "home", "partner", "attendees", "satisfaction",
        "enterprises", "agreement",
    }  # fmt: skip
    _unknown_fields(fields, allowed)
    _require_write(actor, tax_class.unit, tax_class.branch)
    if fields.get("branch") is not None:
        _require_write(actor, tax_class.unit, fields["branch"])
    # The agreement the class will belong to is locked first (as agreement_attach and agreement_update do),
    # so that its period cannot change while the class's day is checked against it.
    if "agreement" in fields:
        target_id = fields["agreement"].pk if fields["agreement"] is not None else None
    else:
        target_id = TaxClass.objects.filter(pk=tax_class.pk).values_list("agreement_id", flat=True).first()
    agreement = _locked_agreement(target_id)
    c = (
        TaxClass.objects.select_for_update(of=("self",))
        .select_related("unit", "branch", "partner", "agreement", "agreement__branch")
        .get(pk=tax_class.pk)
    )
    if "agreement" not in fields and c.agreement_id != target_id:  # attached or detached meanwhile
        agreement = _locked_agreement(c.agreement_id)
    old = c.agreement
    moving = "agreement" in fields and target_id != c.agreement_id
    if moving:  # the same rights as agreement_detach and agreement_attach
        if old is not None:
            _require_write(actor, old.branch, old.branch)
        if agreement is not None:
            _require_write(actor, agreement.branch, agreement.branch)
    p = Problems()
    if "held_on" in fields:
        if fields["held_on"] is None:
            p.add("held_on", _("The date is required."))
        else:
            _day(p, "held_on", fields["held_on"])
    if "topic" in fields:
        fields["topic"] = p.text("topic", fields["topic"] or "", max_length=200)
        if not fields["topic"] and "topic" not in p.errors:
            p.add("topic", _("A topic is required."))
    if "speaker" in fields:
        fields["speaker"] = p.text("speaker", fields["speaker"] or "", max_length=60)
    if "attendees" in fields:
        fields["attendees"] = int(p.integer("attendees", fields["attendees"], (0, 100000)) or 0)
    if fields.get("satisfaction") is not None:
        fields["satisfaction"] = _amount(p, "satisfaction", fields["satisfaction"])
        if "satisfaction" not in p.errors and fields["satisfaction"] > 100:
            p.add("satisfaction", _("Satisfaction is a score from 0 to 100."))
    if fields.get("branch") is not None and fields["branch"].kind not in PARTY_KINDS:
        p.add("branch", _("%(unit)s is not a party organization.") % {"unit": fields["branch"].name})
    if agreement is not None and "held_on" not in p.errors:
        _agreement_check(p, agreement, fields.get("held_on") or c.held_on)
    if agreement is not None and (moving or fields.get("branch") is not None):
        branch = fields["branch"] if fields.get("branch") is not None else c.branch
        if not _of_branch(agreement, c.unit, branch):
            p.add(
                "agreement",
                _("The activity is not of the party branch %(branch)s.") % {"branch": agreement.branch.name},
            )
    p.raise_if_any()
    before = class_snapshot(c)
    enterprises = fields.pop("enterprises", None)
    if "agreement" in fields:
        fields["agreement"] = agreement
    for k, v in fields.items():
        setattr(c, k, v)
    c.save()
    if enterprises is not None:
        c.enterprises.set(enterprises)
    changes = diff(before, class_snapshot(c))
    if changes:
        log_action(actor, action="outreach.class.updated", target=c, unit_path=c.unit.path, changes=changes)
    if moving and old is not None:
        log_action(
            actor,
            action="outreach.agreement.activity_detached",
            target=old,
            unit_path=old.branch.path,
            changes={"tax_class": c.pk},
        )
    if moving and agreement is not None:
        log_action(
            actor,
            action="outreach.agreement.activity_attached",
            target=agreement,
            unit_path=agreement.branch.path,
            changes={"tax_class": c.pk, "held_on": c.held_on.isoformat()},
        )
    return c


def agreement_snapshot(a: Agreement) -> dict[str, Any]:
    return {
        "title": a.title,
        "partner": a.partner.code,
        "start": a.start.isoformat(),
        "end": a.end.isoformat() if a.end else None,
    }


def _activities_outside(a: Agreement, start: date, end: date | None) -> int:
    """How many of the agreement's visits and classes would fall outside the period ``start``–``end``."""
    out = Q(held_on__lt=start)
    if end is not None:
        out |= Q(held_on__gt=end)
    # The activities are locked with the agreement (the callers lock its row first): none moves meanwhile.
    for model in (Visit, TaxClass):
        list(model.objects.select_for_update().filter(agreement=a).values_list("pk", flat=True))
    return Visit.objects.filter(out, agreement=a).count() + TaxClass.objects.filter(out, agreement=a).count()


def _period_check(p: Problems, a: Agreement, start: date, end: date | None) -> None:
    if end is not None and end < start:
        p.add("end", _("The period cannot end before it starts."))
        return
    n = _activities_outside(a, start, end)
    if n:
        p.add(
            "end" if end is not None else "start",
            ngettext(
                "%(n)d activity of this agreement would fall outside the period; detach it first.",
                "%(n)d activities of this agreement would fall outside the period; detach them first.",
                n,
            )
            % {"n": n},
        )


@transaction.atomic
def agreement_update(*, actor: Any, agreement: Agreement, **fields: Any) -> Agreement:
    """Change a co-building agreement's title, partner, start or end (not its branch)."""
    _unknown_fields(fields, {"title", "partner", "start", "end"})
    _require_write(actor, agreement.branch, agreement.branch)
    a = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("branch", "partner")
        .get(pk=agreement.pk)
    )
    p = Problems()
    if "title" in fields:
        fields["title"] = p.text("title", fields["title"] or "", max_length=200)
    if "partner" in fields and fields["partner"] is None:
        p.add("partner", _("A partner is required."))
    if "start" in fields:
        if fields["start"] is None:
            p.add("start", _("The start date is required."))
        else:
            _day(p, "start", fields["start"], future=True)
    if fields.get("end") is not None:
        _day(p, "end", fields["end"], future=True)
    if not p:
        _period_check(p, a, fields.get("start", a.start), fields.get("end", a.end))
    p.raise_if_any()
    before = agreement_snapshot(a)
    for k, v in fields.items():
        setattr(a, k, v)
    a.save()
    changes = diff(before, agreement_snapshot(a))
    if changes:
        log_action(
            actor, action="outreach.agreement.updated", target=a, unit_path=a.branch.path, changes=changes
        )
    return a


@transaction.atomic
def agreement_close(*, actor: Any, agreement: Agreement, end: date) -> Agreement:
    """End an open-ended (or later-ending) co-building agreement on a day."""
    _require_write(actor, agreement.branch, agreement.branch)
    a = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("branch", "partner")
        .get(pk=agreement.pk)
    )
    p = Problems()
    if a.end is not None and a.end <= end:
        p.add("end", _("This agreement already ends on %(date)s.") % {"date": a.end.isoformat()})
    else:
        _day(p, "end", end, future=True)
        if not p:
            _period_check(p, a, a.start, end)
    p.raise_if_any()
    before = agreement_snapshot(a)
    a.end = end
    a.save(update_fields=["end"])
    log_action(
        actor,
        action="outreach.agreement.closed",
        target=a,
        unit_path=a.branch.path,
        changes=diff(before, agreement_snapshot(a)),
    )
    return a


@transaction.atomic
def agreement_attach(
    *, actor: Any, agreement: Agreement, visit: Visit | None = None, tax_class: TaxClass | None = None
) -> Agreement:
    """Count a visit or a taxpayer class as an activity of a co-building agreement. The activity must fall
    within the agreement's period and belong to the agreement's branch (as its party branch or its unit's
    subtree); the caller writes both the agreement and the activity."""
    if (visit is None) == (tax_class is None):
        raise ValidationError({"activity": _("Choose one visit or one class.")})
    activity: Visit | TaxClass = visit if visit is not None else tax_class  # type: ignore[assignment]
    _require_write(actor, agreement.branch, agreement.branch)
    _see(actor, activity.unit, activity.branch)
    _require_write(actor, activity.unit, activity.branch)
    # the agreement first (its period cannot change meanwhile), then the activity: the order of class_update
    agreement = _locked_agreement(agreement.pk) or agreement
    model = Visit if visit is not None else TaxClass
    row = model.objects.select_for_update(of=("self",)).select_related("unit", "branch").get(pk=activity.pk)
    key = "visit" if visit is not None else "tax_class"
    p = Problems()
    if row.agreement_id is not None:
        p.add(key, _("This activity already belongs to a co-building agreement."))
    else:
        _agreement_check(p, agreement, row.held_on, key)
        branch = agreement.branch
        if not _of_branch(agreement, row.unit, row.branch):
            p.add(key, _("The activity is not of the party branch %(branch)s.") % {"branch": branch.name})
    p.raise_if_any()
    row.agreement = agreement
    row.save(update_fields=["agreement"])
    log_action(
        actor,
        action="outreach.agreement.activity_attached",
        target=agreement,
        unit_path=agreement.branch.path,
        changes={key: row.pk, "held_on": row.held_on.isoformat()},
    )
    return agreement


@transaction.atomic
def agreement_detach(
    *, actor: Any, agreement: Agreement, visit: Visit | None = None, tax_class: TaxClass | None = None
) -> Agreement:
    """No longer count a visit or a class as an activity of the agreement."""
    if (visit is None) == (tax_class is None):
        raise ValidationError({"activity": _("Choose one visit or one class.")})
    _require_write(actor, agreement.branch, agreement.branch)
    model = Visit if visit is not None else TaxClass
    key = "visit" if visit is not None else "tax_class"
    pk = (visit or tax_class).pk  # type: ignore[union-attr]
    n = model.objects.filter(pk=pk, agreement=agreement).update(agreement=None)
    if not n:
        raise ValidationError({key: _("This activity does not belong to this agreement.")})
    log_action(
        actor,
        action="outreach.agreement.activity_detached",
        target=agreement,
        unit_path=agreement.branch.path,
        changes={key: pk},
    )
    return agreement
