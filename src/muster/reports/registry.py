"""The metric registry: every figure a report, the dashboard, the Excel export or the briefing can show.

A metric answers one number for a unit's subtree as of a cutoff. Reports register their own
(``dispatch.*``, ``community.*``); any installed app adds figures by defining ``METRICS`` (a list of
``Metric``) or ``metric_<name>(unit, as_of)`` functions in its ``metrics`` module (``autodiscover``), so
a new module's figures appear everywhere at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from muster.orgs.models import Unit

Number = int | Decimal
T = TypeVar("T")


@dataclass(frozen=True)
class Metric:
    id: str  # "<namespace>.<name>", e.g. "dispatch.hours"
    label: str | Promise
    answer: Callable[[Unit, datetime], Number]
    definition: str | Promise = ""
    unit_label: str | Promise = ""  # 批, 人次, 小时…
    kind: str = "count"  # count | hours | score
    # Where the figure is shown: ``group`` names a section of the rollup page and the dashboard
    # ("party": 党建与组织生活); ``order`` sorts the section's columns (0: not a column of the section);
    # ``additive``: the figure of a unit is the sum of its parts (so a unit's own row is the total
    # minus its children); false for distinct counts and averages.
    group: str = ""
    order: int = 0
    additive: bool = True


_REGISTRY: dict[str, Metric] = {}
_discovered = False


def register(metric: Metric) -> Metric:
    if metric.id in _REGISTRY and _REGISTRY[metric.id] is not metric:
        raise ValueError(f"metric {metric.id} is already registered")
    _REGISTRY[metric.id] = metric
    return metric


def autodiscover() -> None:
    """Import every installed app's ``metrics`` module and register what it offers (once)."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for config in apps.get_app_configs():
        if not config.name.startswith("muster.") or config.label == "reports":
            continue
        try:
            module: Any = importlib.import_module(f"{config.name}.metrics")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.metrics":
                raise
            continue
        offered = getattr(module, "METRICS", [])
        seen = set()
        if isinstance(offered, dict):  # {"points.total": Metric(…) or metric_points_total, …}
            for mid, fn in offered.items():
                if isinstance(fn, Metric):
                    register(fn)
                    seen.add(fn.answer)
                else:
                    register(_from_function(mid, fn))
                    seen.add(fn)
        else:
            for m in offered:
                register(m)
                seen.add(m.answer)
        for name, fn in sorted(vars(module).items()):
            if name.startswith("metric_") and callable(fn) and fn not in seen:
                mid = f"{config.label}.{name[len('metric_') :]}"
                if mid not in _REGISTRY:
                    register(_from_function(mid, fn))


def _from_function(mid: str, fn: Callable[[Unit, datetime], Number]) -> Metric:
    doc = (fn.__doc__ or mid).strip().splitlines()[0]
    return Metric(mid, doc, fn, definition=doc)


def metrics() -> list[Metric]:
    autodiscover()
    return list(_REGISTRY.values())


# Briefing sentences other apps add: ``fn(unit, as_of) -> (zh, en)`` or ``None`` when there is nothing to say.
_BRIEFING: list[Callable[[Unit, datetime], tuple[str, str] | None]] = []


def register_briefing(fn: Callable[[Unit, datetime], tuple[str, str] | None]) -> None:
    if fn not in _BRIEFING:
        _BRIEFING.append(fn)


def briefing_sentences(unit: Unit, as_of: datetime) -> tuple[tuple[str, str], ...]:
    """The registered apps' sentences for a unit as of a cutoff (after the apps' metrics are found)."""
    autodiscover()
    return tuple(s for fn in _BRIEFING if (s := fn(unit, as_of)) is not None)


def section(group: str) -> list[Metric]:
    """The metrics shown as columns of a section (``group``), in their order."""
    return sorted((m for m in metrics() if m.group == group and m.order), key=lambda m: (m.order, m.id))


def get(metric_id: str) -> Metric:
    autodiscover()
    return _REGISTRY[metric_id]


def answer(metric_id: str, unit: Unit, as_of: datetime) -> Number:
    return get(metric_id).answer(unit, as_of)


# The totals computed inside ``shared_totals()``: (unit id, cutoff) → the rollup's total, so that the
# built-in metrics of one unit and cutoff read the ledger once, not once per metric; apps keep what their
# metrics share there too (``shared``), under keys that start with a name of their own.
_TOTALS: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("report_totals", default=None)


@contextmanager
def shared_totals() -> Iterator[None]:
    token = _TOTALS.set({})
    try:
        yield
    finally:
        _TOTALS.reset(token)


def sharing() -> bool:
    """Whether a ``shared_totals()`` is open (what is computed for ``shared`` is kept)."""
    return _TOTALS.get() is not None


def shared(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per ``key`` inside ``shared_totals()`` (one metrics object: the contract, a
    section table), every time outside it. ``key``: ``("<app>.<what>", unit id, cutoff, …)``."""
    memo = _TOTALS.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    value: T = memo[key]
    return value


def _total(field: str) -> Callable[[Unit, datetime], Number]:
    def run(unit: Unit, as_of: datetime) -> Number:
        # a party organization: the figures of its members (``muster.reports.members``; no batch
        # hangs on the party tree), an administrative unit: the rollup of its subtree
        from muster.reports.members import unit_rollup

        memo, key = _TOTALS.get(), (unit.pk, as_of)
        if memo is not None and key in memo:
            total = memo[key]
        else:
            total = unit_rollup(unit, as_of).total
            if memo is not None:
                memo[key] = total
        value: Number = getattr(total, field)
        return value

    run.__name__ = f"total_{field}"
    return run


def _builtin() -> None:
    from muster.reports.rollup import DEFINITIONS

    for mid, field, label, unit_label, kind, definition in (
        ("dispatch.batches", "batches", _("Batches"), _("batches"), "count", "batches"),
        (
            "dispatch.person_times",
            "person_times",
            _("Person-times"),
            _("person-times"),
            "count",
            "person_times",
        ),
        ("dispatch.persons", "persons", _("Persons"), _("persons"), "count", "persons"),
        ("dispatch.hours", "hours", _("Service hours"), _("hours"), "hours", "hours"),
        (
            "community.persons",
            "community_persons",
            _("Community service persons"),
            _("persons"),
            "count",
            "community",
        ),
        (
            "community.hours",
            "community_hours",
            _("Community service hours"),
            _("hours"),
            "hours",
            "community",
        ),
        (
            "dispatch.pending_entries",
            "pending_entries",
            _("Entries pending approval"),
            _("entries"),
            "count",
            "pending",
        ),
    ):
        register(Metric(mid, label, _total(field), DEFINITIONS[definition], unit_label, kind))


_builtin()
