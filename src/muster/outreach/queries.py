"""Outreach reads: scoped lists for users, and the figures of a unit's subtree as of a cutoff.

The figures (``visits``, ``problems_raised``, ``problems_resolved``, …) take a unit and a cutoff instant
(DESIGN.md: "as of T" counts what happened before T; a day-dated record counts when its day is the cutoff's
last included day or earlier). A record belongs to a unit's subtree through its unit or its party branch.

Resolved "by the cutoff" is read from the append-only history: a problem counts as resolved when the last
step of its history dated on or before the cutoff's last day left it resolved (a problem resolved, then
reopened before the cutoff, does not count; one reopened after the cutoff still does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person, Unit
from muster.outreach import facts, rates
from muster.outreach.models import (
    CLOSED,
    Agreement,
    Enterprise,
    Indicator,
    Liaison,
    MeasureCategory,
    MeasureState,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ServiceKind,
    ServiceLogEntry,
    ServiceMeasure,
    TaxClass,
    TaxpayerHome,
    Visit,
)


def last_day(as_of: datetime) -> date:
    """The last calendar day a cutoff includes: '10月11日24时' (= 12th 00:00) includes the 11th."""
    local = as_of.astimezone(ZoneInfo(settings.TIME_ZONE))
    return (local - timedelta(microseconds=1)).date()


def subtree_q(unit: Unit) -> Q:
    return Q(unit__path__startswith=unit.path) | Q(branch__path__startswith=unit.path)


# ---------------------------------------------------------------- scoped reads


def enterprises(user: Any, perm: Perm = Perm.VIEW) -> QuerySet[Enterprise]:
    return access.scoped(Enterprise.objects.select_related("unit"), user, perm)


def enterprise_get(user: Any, credit_code: str) -> Enterprise:
    return access.get_scoped_or_404(Enterprise.objects.select_related("unit"), user, credit_code=credit_code)


def visits(user: Any) -> QuerySet[Visit]:
    return access.scoped(Visit.objects.select_related("unit", "branch"), user, Perm.VIEW)


# What a visit's people, enterprises and partners need to be checked for visibility.
VISIT_RELATED = (
    "visitors__unit",
    "visitors__party_unit",
    "enterprises__unit",
    "partners__unit",
)


def visit_get(user: Any, pk: Any) -> Visit:
    return access.get_scoped_or_404(
        Visit.objects.select_related("unit", "branch").prefetch_related(*VISIT_RELATED), user, pk=pk
    )


def problems(user: Any) -> QuerySet[Problem]:
    return access.scoped(
        Problem.objects.select_related(
            "unit", "branch", "owner__unit", "owner__party_unit", "enterprise__unit"
        ),
        user,
        Perm.VIEW,
    )


def problem_get(user: Any, pk: Any) -> Problem:
    return access.get_scoped_or_404(
        Problem.objects.select_related(
            "unit", "branch", "owner__unit", "owner__party_unit", "enterprise__unit", "visit"
        ),
        user,
        pk=pk,
    )


def overdue(user: Any, on: date) -> QuerySet[Problem]:
    """Problems not closed whose deadline passed before ``on``, the longest overdue first."""
    return problems(user).filter(deadline__lt=on).exclude(status__in=list(CLOSED)).order_by("deadline", "id")


# ---------------------------------------------------------------- what a visible record may show
# A visible visit or problem can name people, partners, enterprises and units the caller may not see (a
# visit seen through its party branch names the tax office's enterprises): each is shown only if visible.


def unit_visible(user: Any, unit: Unit | None) -> bool:
    return unit is not None and access.can(user, Perm.VIEW, unit)


def person_visible(user: Any, person: Person) -> bool:
    """Whether ``user`` may see ``person`` (the rule of ``access.scoped`` for people, on one row)."""
    pk = getattr(user, "pk", None)
    if access.is_all_powerful(user) or (pk is not None and person.user_id == pk):
        return True
    return any(access.can(user, Perm.VIEW, u) for u in access.units_of(person))


def partner_visible(user: Any, partner: Partner) -> bool:
    return access.can(user, Perm.VIEW, partner.unit)


def partner_shown(user: Any, partner: Partner | None) -> str:
    """A partner's name when ``user`` may see its unit, else "—" (out of sight is out of sight)."""
    return partner.name if partner is not None and partner_visible(user, partner) else "—"


def agreement_label(user: Any, agreement: Agreement) -> str:
    """How a co-building agreement is named to ``user``: its title, else its branch and partner (the partner's
    name only if the user may see it; ``str(agreement)`` would tell it to anyone)."""
    if agreement.title:
        return agreement.title
    return f"{agreement.branch.name} · {partner_shown(user, agreement.partner)}"


def enterprise_visible(user: Any, enterprise: Enterprise) -> bool:
    return access.can(user, Perm.VIEW, enterprise.unit)


def liaisons_of(enterprise: Enterprise, on: date | None = None) -> QuerySet[Liaison]:
    qs = Liaison.objects.filter(enterprise=enterprise).select_related("person__unit", "person__party_unit")
    if on is not None:
        qs = qs.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gte=on))
    return qs.order_by("start", "id")


def my_enterprises(user: Any, on: date) -> list[tuple[Enterprise, Liaison]]:
    """The enterprises the user's person is liaison of on ``on`` (with the assignment)."""
    pk = getattr(user, "pk", None)
    person = Person.objects.filter(user_id=pk).first() if pk is not None else None
    if person is None:
        return []
    rows = (
        Liaison.objects.filter(person=person, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gte=on))
        .select_related("enterprise__unit")
        .order_by("enterprise__name", "id")
    )
    return [(li.enterprise, li) for li in rows]


# ---------------------------------------------------------------- figures


def visits_count(unit: Unit, as_of: datetime) -> int:
    """Visits by the cutoff, from the day buckets (``muster.outreach.facts``)."""
    return facts.totals(unit, last_day(as_of))[0]


def visits_count_straight(unit: Unit, as_of: datetime) -> int:
    """The same figure by a straight COUNT over the visits (the baseline and the check)."""
    return Visit.objects.filter(subtree_q(unit), held_on__lte=last_day(as_of)).count()


def enterprises_visited(unit: Unit, as_of: datetime) -> int:
    return (
        Visit.enterprises.through.objects.filter(
            Q(visit__unit__path__startswith=unit.path) | Q(visit__branch__path__startswith=unit.path),
            visit__held_on__lte=last_day(as_of),
        )
        .values("enterprise_id")
        .distinct()
        .count()
    )


def enterprises_with_liaison(unit: Unit, as_of: datetime) -> int:
    day = last_day(as_of)
    return (
        Liaison.objects.filter(enterprise__unit__path__startswith=unit.path, start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gte=day))
        .values("enterprise_id")
        .distinct()
        .count()
    )


def _raised(unit: Unit, day: date) -> QuerySet[Problem]:
    return Problem.objects.filter(subtree_q(unit), raised_on__lte=day)


_THEN = "status_then"  # the status a problem's history gave it on a day


def _with_status_on(qs: QuerySet[Problem], day: date) -> QuerySet[Problem]:
    last = ProblemEvent.objects.filter(problem=OuterRef("pk"), on__lte=day).order_by("-on", "-id")
    return qs.annotate(**{_THEN: Subquery(last.values("status")[:1])})


def problems_raised(unit: Unit, as_of: datetime) -> int:
    return facts.totals(unit, last_day(as_of))[1]


def problems_resolved(unit: Unit, as_of: datetime) -> int:
    return facts.totals(unit, last_day(as_of))[2]


def problems_raised_straight(unit: Unit, as_of: datetime) -> int:
    return _raised(unit, last_day(as_of)).count()


def problems_resolved_straight(unit: Unit, as_of: datetime) -> int:
    """Resolved by the cutoff read from each problem's history (the definition; the baseline)."""
    day = last_day(as_of)
    return _with_status_on(_raised(unit, day), day).filter(**{_THEN: ProblemStatus.RESOLVED}).count()


def problems_overdue(unit: Unit, as_of: datetime) -> int:
    """Raised by the cutoff, deadline before the cutoff's last day, and not closed then."""
    day = last_day(as_of)
    qs = _with_status_on(_raised(unit, day).filter(deadline__lt=day), day)
    return qs.exclude(**{f"{_THEN}__in": list(CLOSED)}).count()


def resolution_rate(unit: Unit, as_of: datetime) -> Decimal | None:
    """Resolved / raised by the cutoff, in percent cut to one decimal (``muster.outreach.rates``)."""
    _v, raised, resolved = facts.totals(unit, last_day(as_of))
    return rates.percent(resolved, raised)


def resolution_rate_straight(unit: Unit, as_of: datetime) -> Decimal | None:
    return rates.percent(problems_resolved_straight(unit, as_of), problems_raised_straight(unit, as_of))


@dataclass(frozen=True)
class Figures:
    unit: Unit
    as_of: datetime
    visits: int
    enterprises_visited: int
    problems: int
    resolved: int
    overdue: int

    @property
    def rate(self) -> Decimal | None:
        return rates.percent(self.resolved, self.problems)

    @property
    def rate_text(self) -> str:
        return rates.percent_text(self.resolved, self.problems)


def figures(unit: Unit, as_of: datetime) -> Figures:
    visits, raised, resolved = facts.totals(unit, last_day(as_of))
    return Figures(
        unit, as_of, visits, enterprises_visited(unit, as_of), raised, resolved, problems_overdue(unit, as_of)
    )


# ---------------------------------------------------------------- homes, classes, measures, log, agreements


def _open_on(day: date, start: str, end: str) -> Q:
    return Q(**{f"{start}__lte": day}) & (Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": day}))


def taxpayer_homes(unit: Unit, as_of: datetime) -> int:
    day = last_day(as_of)
    return TaxpayerHome.objects.filter(
        _open_on(day, "opened_on", "closed_on"), unit__path__startswith=unit.path
    ).count()


def _classes(unit: Unit, as_of: datetime) -> QuerySet[TaxClass]:
    return TaxClass.objects.filter(subtree_q(unit), held_on__lte=last_day(as_of))


def classes(unit: Unit, as_of: datetime) -> int:
    return _classes(unit, as_of).count()


def class_attendees(unit: Unit, as_of: datetime) -> int:
    return int(_classes(unit, as_of).aggregate(n=Sum("attendees"))["n"] or 0)


def measures_in_force(unit: Unit, as_of: datetime) -> int:
    day = last_day(as_of)
    return ServiceMeasure.objects.filter(
        unit__path__startswith=unit.path, started_on__lte=day, state=MeasureState.IN_FORCE
    ).count()


def measure_categories(unit: Unit, as_of: datetime) -> int:
    """Categories of the catalogs in the subtree holding a measure in force on the cutoff's last day."""
    day = last_day(as_of)
    return (
        MeasureCategory.objects.filter(
            unit__path__startswith=unit.path,
            measures__state=MeasureState.IN_FORCE,
            measures__started_on__lte=day,
        )
        .distinct()
        .count()
    )


def after_hours_services(unit: Unit, as_of: datetime) -> int:
    return ServiceLogEntry.objects.filter(
        unit__path__startswith=unit.path, at__lt=as_of, outside_hours=True
    ).count()


def agreements(unit: Unit, as_of: datetime) -> int:
    day = last_day(as_of)
    return Agreement.objects.filter(_open_on(day, "start", "end"), branch__path__startswith=unit.path).count()


@dataclass(frozen=True)
class IndicatorChange:
    indicator: Indicator
    value: Decimal | None
    change: Decimal | None  # percent, negative = shorter


def indicator_changes(unit: Unit, as_of: datetime) -> list[IndicatorChange]:
    """Each indicator of the subtree with its last value measured by the cutoff and the change."""
    day = last_day(as_of)
    out = []
    for ind in Indicator.objects.filter(unit__path__startswith=unit.path).order_by("name"):
        last = ind.values.filter(measured_on__lte=day).order_by("-measured_on", "-id").first()
        value = last.value if last is not None else None
        change = rates.change_percent(ind.baseline, value) if value is not None else None
        out.append(IndicatorChange(ind, value, change))
    return out


# ---------------------------------------------------------------- the measures page (scoped)


@dataclass(frozen=True)
class IndicatorBar:
    """An indicator as the measures page draws it: baseline and latest value as bars (percent of the
    longer one), and the change ("缩短87%")."""

    indicator: Indicator
    value: Decimal | None
    measured_on: date | None
    change: Decimal | None
    baseline_width: Decimal
    value_width: Decimal


def bar_widths(baseline: Decimal, value: Decimal | None) -> tuple[Decimal, Decimal]:
    """The two bars' lengths in percent of the longer (0–100, one decimal)."""
    top = max(baseline, value or Decimal(0))
    if top <= 0:
        return Decimal(0), Decimal(0)

    def width(v: Decimal) -> Decimal:
        return (v * 100 / top).quantize(Decimal("0.1"))

    return width(baseline), width(value or Decimal(0))


def visible_units(user: Any) -> QuerySet[Unit]:
    return access.scoped(Unit.objects.all(), user, Perm.VIEW)


def measure_catalog(user: Any) -> list[tuple[MeasureCategory, list[ServiceMeasure]]]:
    """The categories of the catalogs the user may see, each with its measures (of units they see)."""
    units = visible_units(user).values("pk")
    cats = list(
        MeasureCategory.objects.filter(unit__in=units)
        .select_related("unit")
        .order_by("unit__path", "order", "id")
    )
    by_cat: dict[int, list[ServiceMeasure]] = {c.pk: [] for c in cats}
    for m in ServiceMeasure.objects.filter(category__in=cats, unit__in=units).select_related("unit"):
        by_cat[m.category_id].append(m)
    return [(c, by_cat[c.pk]) for c in cats]


def indicator_bars(user: Any, on: date) -> list[IndicatorBar]:
    """Each indicator of a unit the user sees, with its last value measured by ``on``."""
    out = []
    for ind in Indicator.objects.filter(unit__in=visible_units(user).values("pk")).select_related("unit"):
        last = ind.values.filter(measured_on__lte=on).order_by("-measured_on", "-id").first()
        value = last.value if last is not None else None
        change = rates.change_percent(ind.baseline, value) if value is not None and ind.baseline > 0 else None
        bw, vw = bar_widths(ind.baseline, value)
        out.append(IndicatorBar(ind, value, last.measured_on if last else None, change, bw, vw))
    return out


def homes_visible(user: Any) -> QuerySet[TaxpayerHome]:
    """Taxpayer homes (纳税人之家) of units the user may see."""
    return (
        TaxpayerHome.objects.filter(unit__in=visible_units(user).values("pk"))
        .select_related("unit", "partner", "partner__unit")
        .order_by("unit__path", "opened_on", "id")
    )


def classes_visible(user: Any) -> QuerySet[TaxClass]:
    """Taxpayer classes (纳税人学堂 / 小讲堂) of units or party branches the user may see, latest first."""
    seen = visible_units(user).values("pk")
    return (
        TaxClass.objects.filter(Q(unit__in=seen) | Q(branch__in=seen))
        .select_related("unit", "home", "partner", "partner__unit")
        .order_by("-held_on", "-id")
    )


def agreements_visible(user: Any) -> QuerySet[Agreement]:
    """Co-building agreements (支部共建) of party branches the user may see."""
    return (
        Agreement.objects.filter(branch__in=visible_units(user).values("pk"))
        .select_related("branch", "partner", "partner__unit")
        .order_by("branch__path", "start", "id")
    )


def home_get(user: Any, pk: Any) -> TaxpayerHome:
    """A taxpayer home of a unit the user may see; 404 otherwise (unknown or out of scope alike)."""
    home = homes_visible(user).filter(pk=pk).first()
    if home is None:
        raise Http404
    return home


def class_get(user: Any, pk: Any) -> TaxClass:
    """A taxpayer class of a unit the user may see; 404 otherwise."""
    c = classes_visible(user).select_related("branch", "agreement").filter(pk=pk).first()
    if c is None:
        raise Http404
    return c


def agreement_get(user: Any, pk: Any) -> Agreement:
    """A co-building agreement of a party branch the user may see; 404 otherwise."""
    a = agreements_visible(user).filter(pk=pk).first()
    if a is None:
        raise Http404
    return a


def service_log_entries(
    user: Any, unit: Unit, *, start: date | None = None, end: date | None = None, kind: str = ""
) -> QuerySet[ServiceLogEntry]:
    """The service log of ``unit``'s subtree, of units the user may see, from ``start`` to ``end`` (local
    days, both included), the latest first."""
    qs = ServiceLogEntry.objects.filter(
        unit__in=visible_units(user).values("pk"), unit__path__startswith=unit.path
    ).select_related("unit", "staff", "staff__unit", "staff__party_unit", "enterprise__unit")
    tz = ZoneInfo(settings.TIME_ZONE)
    if start is not None:
        qs = qs.filter(at__gte=datetime(start.year, start.month, start.day, tzinfo=tz))
    if end is not None:
        qs = qs.filter(at__lt=datetime(end.year, end.month, end.day, tzinfo=tz) + timedelta(days=1))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-at", "-id")


@dataclass(frozen=True)
class ServiceCount:
    kind: str
    label: str
    total: int
    outside_hours: int


def service_log_counts(qs: QuerySet[ServiceLogEntry]) -> list[ServiceCount]:
    """Per kind of service (every kind, zero included): how many, and how many outside office hours."""
    rows = {
        (r["kind"], r["outside_hours"]): r["n"]
        for r in qs.order_by().values("kind", "outside_hours").annotate(n=Count("id"))
    }
    return [
        ServiceCount(
            kind=k,
            label=str(label),
            total=rows.get((k, True), 0) + rows.get((k, False), 0),
            outside_hours=rows.get((k, True), 0),
        )
        for k, label in ServiceKind.choices
    ]
