"""Report figures of star tiers: people at each tier in a unit's subtree as of a cutoff.

``honors.star_1`` … ``honors.star_5`` count the people whose approved hours before the cutoff put them at
exactly that tier (thresholds from the ``StarTier`` table, so a region's own thresholds count);
``honors.starred`` counts the people at any tier. A person belongs to a subtree by their unit or their
party organization (the same rule as the other people counts).

Awards and commendations keep the ids they had in party life, ``partylife.awards`` and
``partylife.commendations`` (snapshots, the 台账 and the rollup's party-life columns name them): approved
honors dated on or before the cutoff's last day, to the subtree's units and people or proposed in it (the
seed's "基层部门和个人获评各类奖项 233").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.clock import last_day
from muster.honors.models import Honor, HonorKind, HonorStatus
from muster.honors.queries import tier_counts
from muster.orgs.models import Unit
from muster.reports.registry import Metric

LEVELS = (1, 2, 3, 4, 5)


def _at_level(level: int) -> Callable[[Unit, datetime], int]:
    def answer(unit: Unit, as_of: datetime) -> int:
        return tier_counts(unit, as_of).get(level, 0)

    answer.__name__ = f"metric_star_{level}"
    return answer


def metric_starred(unit: Unit, as_of: datetime) -> int:
    """People at any star tier."""
    return sum(tier_counts(unit, as_of).values())


_LABELS = {
    1: _("1-star volunteers"),
    2: _("2-star volunteers"),
    3: _("3-star volunteers"),
    4: _("4-star volunteers"),
    5: _("5-star volunteers"),
}

METRICS: dict[str, Metric] = {
    f"honors.star_{lv}": Metric(
        f"honors.star_{lv}",
        _LABELS[lv],
        _at_level(lv),
        _("People whose approved service hours before the cutoff put them at exactly this star tier."),
        pgettext_lazy("metric unit", "persons"),
        group="honors",
        order=lv + 1,
        additive=False,
    )
    for lv in LEVELS
}
METRICS["honors.starred"] = Metric(
    "honors.starred",
    _("Star volunteers"),
    metric_starred,
    _("People at any star tier by their approved service hours before the cutoff."),
    pgettext_lazy("metric unit", "persons"),
    group="honors",
    order=1,
    additive=False,
)


def _honors(unit: Unit, as_of: datetime, kind: str) -> int:
    day = last_day(as_of)
    scope = (
        Q(branch__path__startswith=unit.path)
        | Q(unit__path__startswith=unit.path)
        | Q(person__unit__path__startswith=unit.path)
        | Q(person__party_unit__path__startswith=unit.path)
    )
    return (
        Honor.objects.filter(scope, kind=kind, status=HonorStatus.APPROVED, awarded_on__lte=day)
        .distinct()
        .count()
    )


def metric_awards(unit: Unit, as_of: datetime) -> int:
    """Approved awards to units and people dated before the cutoff (获评各类奖项)."""
    return _honors(unit, as_of, HonorKind.AWARD)


def metric_commendations(unit: Unit, as_of: datetime) -> int:
    """Approved commendations (通报表扬) dated before the cutoff."""
    return _honors(unit, as_of, HonorKind.COMMENDATION)


METRICS["partylife.awards"] = Metric(
    "partylife.awards",
    _("Awards"),
    metric_awards,
    _("Approved awards to units and people dated before the cutoff (获评各类奖项)."),
    pgettext_lazy("metric unit", "awards"),
    group="party",
    order=70,
    additive=False,
)
METRICS["partylife.commendations"] = Metric(
    "partylife.commendations",
    _("Commendations"),
    metric_commendations,
    _("Approved commendations (通报表扬) dated before the cutoff."),
    pgettext_lazy("metric unit", "awards"),
    group="party",
    additive=False,
)
