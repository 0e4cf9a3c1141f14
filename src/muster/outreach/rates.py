"""How a rate is computed and written, in one place (pure Python, no Django).

A rate is ``part / whole`` as a percentage **cut** (truncated toward zero), never rounded, to one decimal
place: the page, the Excel 台账, the briefing and the API all show the same figure. The seed's "问题解决率
91.8%" is 181 of 197 = 91.878…%, written 91.8 (rounding would give 91.9). A rate of nothing (``whole`` = 0)
is no rate at all (``None``, shown as "—"), not 0 % and not 100 %.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

PLACES = 1
_QUANTUM = Decimal(1).scaleb(-PLACES)  # 0.1


def percent(part: int, whole: int) -> Decimal | None:
    """``part / whole`` in percent, cut to one decimal (``None`` when ``whole`` is 0)."""
    if whole < 0 or part < 0:
        raise ValueError("a rate is of counts, which are never negative")
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_QUANTUM, rounding=ROUND_DOWN)


def percent_text(part: int, whole: int) -> str:
    """The rate as written: ``"91.8%"``; ``"—"`` when there is nothing to divide by."""
    value = percent(part, whole)
    return "—" if value is None else f"{value}%"


def change_percent(baseline: Decimal, value: Decimal) -> Decimal:
    """The change from ``baseline`` to ``value`` in percent, cut toward zero to one decimal: a filing time
    cut from 30 to 3.9 minutes is −87.0 ("缩短87%"). ``baseline`` must be positive."""
    if baseline <= 0:
        raise ValueError("a change is computed from a positive baseline")
    return ((value - baseline) * 100 / baseline).quantize(_QUANTUM, rounding=ROUND_DOWN)
