"""Report figures of the points ledger: ``metric_<name>(unit, as_of) -> number``.

``unit``'s subtree (party tree: by the branch at the fact's date; administrative tree: by the person's
unit); ``as_of`` is a cutoff instant; a fact counts when its date is before the cutoff. Scores restart
each year, so the figures cover the calendar year of the cutoff.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.clock import last_day
from muster.orgs.models import Unit
from muster.points.models import PointEntry
from muster.points.queries import points_total, scope_q
from muster.reports.registry import Metric


def metric_points_total(unit: Unit, as_of: datetime) -> Decimal:
    """Points earned in the cutoff's year up to the cutoff (党建积分总分)."""
    day = last_day(as_of)
    return points_total(unit, start=date(day.year, 1, 1), end_inclusive=day)


def metric_points_people(unit: Unit, as_of: datetime) -> int:
    """People with a non-zero score in the cutoff's year up to the cutoff."""
    day = last_day(as_of)
    rows = (
        PointEntry.objects.filter(scope_q(unit), occurred_on__gte=date(day.year, 1, 1), occurred_on__lte=day)
        .values("person_id")
        .annotate(t=Sum("points"))
        .order_by()
    )
    return sum(1 for r in rows if r["t"])


def metric_points_average(unit: Unit, as_of: datetime) -> Decimal:
    """Average score of the people scored (0 when nobody is)."""
    n = metric_points_people(unit, as_of)
    return (metric_points_total(unit, as_of) / n).quantize(Decimal("0.01")) if n else Decimal("0.00")


METRICS: dict[str, Metric] = {
    m.id: m
    for m in [
        Metric(
            "points.total",
            _("Points earned"),
            metric_points_total,
            _("Party-building points earned in the cutoff's year up to the cutoff (党建积分总分)."),
            pgettext_lazy("metric unit", "points"),
            kind="score",
            group="party",
            order=90,
        ),
        Metric(
            "points.people",
            _("People scored"),
            metric_points_people,
            _("People with a non-zero score in the cutoff's year up to the cutoff."),
            pgettext_lazy("metric unit", "persons"),
            group="party",
            additive=False,
        ),
        Metric(
            "points.average",
            _("Average points"),
            metric_points_average,
            _("The average score of the people scored in the cutoff's year (0 when nobody is)."),
            pgettext_lazy("metric unit", "points"),
            kind="score",
            group="party",
            order=100,
            additive=False,
        ),
    ]
}
