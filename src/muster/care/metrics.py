"""Figures of the care ledger for the metric registry: each answers for a unit's subtree as of a cutoff
(what happened before the cutoff). The ids are a contract (``muster metrics``, the API, the guide).

The figures read the day buckets of ``muster.care.facts`` (kept with every write); their straight
definitions are the functions of ``muster.care.queries`` (the property tests hold them equal). The median
time to resolve and the retirees serving read the records (a few rows: help requests; subjects linked to
the registry).

One metrics object (the contract, the section tables of the rollup page: ``registry.shared_totals()``)
reads the buckets of a unit and cutoff once, every figure at once and with the unit's children
(``facts.values_many``: three grouped reads), and the retirees serving once; outside one, each figure
reads them for itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.care import facts
from muster.care import queries as q
from muster.care.models import DeliveryKind
from muster.orgs.models import Unit
from muster.reports.registry import Metric, register_briefing, shared, sharing


def _family(unit: Unit) -> list[Unit]:
    """The unit and, within a metrics object, its children: a table of the rollup page asks for the
    unit's figures first, then for each child's, so they are read together."""
    if not sharing():
        return [unit]
    children = shared(
        ("care.children", unit.pk),
        lambda: list(Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)),
    )
    return [unit, *children]


def figures(unit: Unit, as_of: datetime) -> dict[str, Decimal]:
    """Every bucketed figure of ``unit``'s subtree as of ``as_of``, read once per metrics object (with
    its children's)."""

    def compute() -> dict[str, Decimal]:
        family = _family(unit)
        got = facts.values_many(family, as_of)
        for child in family[1:]:
            mine = got[child.pk]
            shared(("care.figures", child.pk, as_of), lambda: mine)  # kept for their turn  # noqa: B023
        return got[unit.pk]

    return shared(("care.figures", unit.pk, as_of), compute)


def serving(unit: Unit, as_of: datetime) -> int:
    """The subtree's subjects with approved service in the mobilization ledger, once per metrics object
    (with its children's)."""

    def compute() -> int:
        family = _family(unit)
        paths = q.serving_paths(unit, as_of)
        for child in family[1:]:
            n = sum(1 for p in paths if p.startswith(child.path))
            shared(("care.serving", child.pk, as_of), lambda: n)  # noqa: B023
        return len(paths)

    return shared(("care.serving", unit.pk, as_of), compute)


def _n(unit: Unit, as_of: datetime, figure: str) -> int:
    return int(figures(unit, as_of).get(figure, 0))


def _fig(figure: str) -> Callable[[Unit, datetime], int]:
    def run(unit: Unit, as_of: datetime) -> int:
        return _n(unit, as_of, figure)

    run.__name__ = figure.replace(":", "_")
    return run


def _coverage(unit: Unit, as_of: datetime) -> Decimal:
    figs = figures(unit, as_of)
    total = int(figs.get("subjects", 0))
    if not total:
        return Decimal("0.0")
    return (Decimal(100) * int(figs.get("surveyed", 0)) / total).quantize(Decimal("0.1"))


def _tag(code: str) -> Callable[[Unit, datetime], int]:
    return _fig(f"tag:{code}")


def _kind(kind: str) -> Callable[[Unit, datetime], int]:
    return _fig(f"deliveries:{kind}")


def _deliveries(unit: Unit, as_of: datetime) -> int:
    figs = figures(unit, as_of)
    return sum(int(figs.get(f"deliveries:{k}", 0)) for k in DeliveryKind.values)


def _help_open(unit: Unit, as_of: datetime) -> int:
    figs = figures(unit, as_of)
    return int(figs.get("help_raised", 0)) - int(figs.get("help_closed", 0))


def _donations(unit: Unit, as_of: datetime) -> Decimal:
    return Decimal(figures(unit, as_of).get("donations", 0)).quantize(Decimal("0.01"))


PERSONS = pgettext_lazy("metric unit", "persons")
TIMES = pgettext_lazy("metric unit", "times")
YUAN = pgettext_lazy("metric unit", "yuan")

METRICS: list[Metric] = [
    Metric(
        "care.subjects",
        _("Care subjects"),
        _fig("subjects"),
        _("Care subjects on the ledger before the cutoff, whatever their status."),
        PERSONS,
        group="care",
        order=10,
    ),
    Metric(
        "care.surveyed",
        _("Surveyed"),
        _fig("surveyed"),
        _("Care subjects with at least one survey answer before the cutoff."),
        PERSONS,
        group="care",
        order=20,
    ),
    Metric(
        "care.coverage",
        _("Survey coverage %"),
        _coverage,
        _("Surveyed subjects as a percentage of the subjects."),
        "%",
        kind="score",
        additive=False,
    ),
    Metric(
        "care.high_risk",
        _("High-risk subjects"),
        _fig("high"),
        _("Subjects alive and present with a high-risk tag (高龄, 独居, 重病…) at the cutoff."),
        PERSONS,
        group="care",
        order=30,
    ),
    Metric(
        "care.tag_advanced_age",
        _("Advanced age (高龄)"),
        _tag("advanced_age"),
        _("Subjects tagged 高龄 at the cutoff."),
        PERSONS,
    ),
    Metric(
        "care.tag_living_alone",
        _("Living alone (独居)"),
        _tag("living_alone"),
        _("Subjects tagged 独居 at the cutoff."),
        PERSONS,
    ),
    Metric(
        "care.tag_serious_illness",
        _("Serious illness (重病)"),
        _tag("serious_illness"),
        _("Subjects tagged 重病 at the cutoff."),
        PERSONS,
    ),
    Metric(
        "care.contacts",
        _("Contacts"),
        _fig("contacts"),
        _("Times a subject was reached (calls, messages, visits, survey answers) before the cutoff."),
        TIMES,
        group="care",
        order=40,
    ),
    Metric(
        "care.contacts_overdue",
        _("Overdue contacts"),
        _fig("overdue"),
        _("Active subjects whose next planned contact fell due before the cutoff's day."),
        PERSONS,
        group="care",
        order=50,
    ),
    Metric(
        "care.help_requests",
        _("Help requests"),
        _fig("help_raised"),
        _("Help requests raised before the cutoff."),
        TIMES,
        group="care",
        order=60,
    ),
    Metric(
        "care.help_resolved",
        _("Help requests resolved"),
        _fig("help_resolved"),
        _("Help requests resolved before the cutoff."),
        TIMES,
        group="care",
        order=70,
    ),
    Metric(
        "care.help_open",
        _("Help requests open"),
        _help_open,
        _("Help requests raised and neither resolved nor cancelled at the cutoff."),
        TIMES,
    ),
    Metric(
        "care.help_median_hours",
        _("Median hours to resolve"),
        q.help_median_hours,
        _("The median time from raising to resolving a help request, in hours."),
        pgettext_lazy("metric unit", "hours"),
        kind="hours",
        additive=False,
    ),
    Metric(
        "care.deliveries",
        _("Deliveries"),
        _deliveries,
        _("Delivery lines delivered or confirmed before the cutoff (supplies and medicine)."),
        TIMES,
        group="care",
        order=80,
    ),
    Metric(
        "care.deliveries_supplies",
        _("Supply deliveries"),
        _kind(DeliveryKind.SUPPLIES),
        _("Supply delivery lines delivered before the cutoff."),
        TIMES,
    ),
    Metric(
        "care.deliveries_medicine",
        _("Medicine errands (代配药)"),
        _kind(DeliveryKind.MEDICINE),
        _("Medicine fetched on a subject's behalf before the cutoff."),
        TIMES,
    ),
    Metric(
        "care.deceased",
        _("Deceased"),
        _fig("deceased"),
        _("Subjects who died on or before the cutoff's day."),
        PERSONS,
        group="care",
        order=90,
    ),
    Metric(
        "care.condolence_payments",
        _("Consolation payments"),
        _fig("payments"),
        _("Consolation payments (慰问金) approved before the cutoff."),
        TIMES,
        group="care",
        order=100,
    ),
    Metric(
        "care.donations_value",
        _("Donations value"),
        _donations,
        _("The value of money and goods donated before the cutoff, in yuan."),
        YUAN,
        kind="score",
        group="care",
        order=110,
    ),
    Metric(
        "care.retirees_serving",
        _("Retirees serving"),
        serving,
        _("Care subjects with approved service in the mobilization ledger before the cutoff."),
        PERSONS,
        group="care",
        order=120,
        additive=False,
    ),
]


def briefing(unit: Unit, as_of: datetime) -> tuple[str, str] | None:
    """The care sentence of the briefing, in the seed's style ("全面排摸243位老同志……"), or ``None``."""
    from muster.reports.briefing import Num, number_en, number_zh

    figs = figures(unit, as_of)

    def n(figure: str) -> int:
        return int(figs.get(figure, 0))

    subjects = n("subjects")
    if not subjects:
        return None
    surveyed, high = n("surveyed"), n("high")
    supplies, medicine = n(f"deliveries:{DeliveryKind.SUPPLIES}"), n(f"deliveries:{DeliveryKind.MEDICINE}")
    resolved, deceased = n("help_resolved"), n("deceased")
    paid, served = n("payments"), serving(unit, as_of)
    pct = (Decimal(100) * surveyed / subjects).quantize(Decimal("0.1"))
    zh = [f"全面排摸{subjects}位老同志，已排摸{surveyed}位（{pct}%）"]
    en = [f"{surveyed} of {subjects} retirees were surveyed ({pct}%)"]
    if high:
        zh.append(f"锁定高龄、独居和患重大疾病的{high}位老同志加大联系密度")
        en.append(f"{high} of advanced age, living alone or seriously ill are contacted more often")
    if supplies or medicine:
        zh.append(f"配送生活物资{supplies}人次、代配药{medicine}人次")
        en.append(f"supplies were delivered {supplies} times and medicine fetched {medicine} times")
    if resolved:
        zh.append(f"解决求助{resolved}件")
        en.append(f"{resolved} help requests were resolved")
    if deceased:
        zh.append(f"{deceased}位老同志过世，第一时间慰问家属" + (f"并发放慰问金{paid}笔" if paid else ""))
        en.append(
            f"the families of {deceased} who died were consoled" + (f" and paid ({paid})" if paid else "")
        )
    if served:
        zh.append(f"{number_zh(Num(served, 'near'))}名老同志投身社区防控一线")
        en.append(f"{number_en(Num(served, 'near'))} retirees served on the community front line")
    return "；".join(zh) + "。", "In the care ledger, " + "; ".join(en) + "."


register_briefing(briefing)
