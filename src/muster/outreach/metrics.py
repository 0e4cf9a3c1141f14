"""Report figures of outreach, registered in the metric registry (``muster.reports.registry``): each
answers one number for a unit's subtree (through a record's unit or party branch) as of a cutoff.

The seed's figures they answer (2018-10-12, 杨浦): 调研2160次 (``outreach.visits``), 发现问题197个
(``outreach.problems``), 181 resolved (``outreach.problems_resolved``), 问题解决率91.8%
(``outreach.resolution_rate``: cut, not rounded, see ``muster.outreach.rates``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.orgs.models import Unit
from muster.outreach import queries
from muster.reports.registry import Metric


def metric_resolution_rate(unit: Unit, as_of: datetime) -> Decimal:
    """Problems resolved / raised by the cutoff, percent cut to one decimal (0 when none was raised)."""
    rate = queries.resolution_rate(unit, as_of)
    return rate if rate is not None else Decimal("0.0")


METRICS: dict[str, Metric] = {
    m.id: m
    for m in [
        Metric(
            "outreach.visits",
            _("Visits and surveys"),
            queries.visits_count,
            _("Visits and surveys (调研/走访) held on or before the cutoff's last day."),
            pgettext_lazy("metric unit", "visits"),
            group="outreach",
            order=10,
        ),
        Metric(
            "outreach.enterprises_visited",
            _("Enterprises visited"),
            queries.enterprises_visited,
            _("Distinct enterprises visited on or before the cutoff's last day."),
            pgettext_lazy("metric unit", "enterprises"),
            group="outreach",
            order=20,
            additive=False,
        ),
        Metric(
            "outreach.enterprises_with_liaison",
            _("Enterprises with a liaison"),
            queries.enterprises_with_liaison,
            _("Enterprises of the subtree with a liaison or party-building guide on the cutoff's last day."),
            pgettext_lazy("metric unit", "enterprises"),
            group="outreach",
            additive=False,
        ),
        Metric(
            "outreach.problems",
            _("Problems raised"),
            queries.problems_raised,
            _("Problems of the problem list raised on or before the cutoff's last day."),
            pgettext_lazy("metric unit", "problems"),
            group="outreach",
            order=30,
        ),
        Metric(
            "outreach.problems_resolved",
            _("Problems resolved"),
            queries.problems_resolved,
            _("Problems whose history left them resolved on the cutoff's last day."),
            pgettext_lazy("metric unit", "problems"),
            group="outreach",
            order=40,
        ),
        Metric(
            "outreach.problems_overdue",
            _("Problems overdue"),
            queries.problems_overdue,
            _("Problems open on the cutoff's last day whose deadline was before it."),
            pgettext_lazy("metric unit", "problems"),
            group="outreach",
            order=50,
        ),
        Metric(
            "outreach.resolution_rate",
            _("Problem resolution rate"),
            metric_resolution_rate,
            _(
                "Problems resolved by the cutoff / problems raised by the cutoff, in percent, cut (not "
                "rounded) to one decimal: 181 of 197 is 91.8 %."
            ),
            "%",
            kind="score",
            group="outreach",
            order=60,
            additive=False,
        ),
        *[
            Metric(mid, label, fn, definition, unit_label, group="outreach", additive=additive)
            for mid, label, fn, definition, unit_label, additive in (
                (
                    "outreach.taxpayer_homes",
                    _("Taxpayer homes"),
                    queries.taxpayer_homes,
                    _("Taxpayer homes (纳税人之家) open on the cutoff's last day."),
                    pgettext_lazy("metric unit", "homes"),
                    True,
                ),
                (
                    "outreach.classes",
                    _("Taxpayer classes"),
                    queries.classes,
                    _("Taxpayer classes (纳税人学堂) held on or before the cutoff's last day."),
                    pgettext_lazy("metric unit", "classes"),
                    True,
                ),
                (
                    "outreach.class_attendees",
                    _("Class attendees"),
                    queries.class_attendees,
                    _("Attendees of those classes (person-times)."),
                    pgettext_lazy("metric unit", "person-times"),
                    True,
                ),
                (
                    "outreach.measures",
                    _("Service measures in force"),
                    queries.measures_in_force,
                    _("Service measures (便民办税举措) in force on the cutoff's last day."),
                    pgettext_lazy("metric unit", "measures"),
                    True,
                ),
                (
                    "outreach.measure_categories",
                    _("Categories of service measures"),
                    queries.measure_categories,
                    _("Categories holding a measure in force on the cutoff's last day."),
                    pgettext_lazy("metric unit", "categories"),
                    True,
                ),
                (
                    "outreach.after_hours_services",
                    _("After-hours services"),
                    queries.after_hours_services,
                    _("Services of the service log given outside office hours before the cutoff."),
                    pgettext_lazy("metric unit", "services"),
                    True,
                ),
                (
                    "outreach.agreements",
                    _("Co-building agreements"),
                    queries.agreements,
                    _("Co-building agreements (支部共建) in force on the cutoff's last day."),
                    pgettext_lazy("metric unit", "agreements"),
                    True,
                ),
            )
        ],
    ]
}
