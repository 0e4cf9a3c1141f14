"""Star-tier arithmetic (pure Python, no Django): which tier a balance of approved minutes reaches.

A tier is reached with *at least* its hours: 100 h exactly is 1★ under the national default (RULES.md).
Balances are exact minutes, so the comparison is in minutes (``hours × 60``), never in rounded hours.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    level: int
    min_hours: int

    @property
    def min_minutes(self) -> int:
        return self.min_hours * 60


def tier_of(minutes: int, thresholds: Iterable[Threshold]) -> int:
    """The highest level whose threshold ``minutes`` reaches (0: no tier).

    Thresholds need not be sorted; a level counts only if every lower level's threshold is reached too,
    so a misconfigured table (a higher level with fewer hours) never skips a tier.
    """
    level = 0
    for t in sorted(thresholds, key=lambda t: t.level):
        if minutes >= t.min_minutes:
            level = t.level
        else:
            break
    return level


def next_threshold(minutes: int, thresholds: Iterable[Threshold]) -> Threshold | None:
    """The next tier to reach, or None when the top one is reached."""
    current = tier_of(minutes, thresholds)
    higher = sorted((t for t in thresholds if t.level > current), key=lambda t: t.level)
    return higher[0] if higher else None


def newly_reached(before: int, after: int) -> list[int]:
    """The levels reached by going from tier ``before`` to tier ``after`` (none when going down)."""
    return list(range(before + 1, after + 1))


def check_table(rows: Sequence[tuple[int, int]]) -> list[str]:
    """Problems of a threshold table [(level, min_hours)]: levels 1..n, hours strictly rising."""
    problems = []
    levels = [lv for lv, _ in rows]
    if sorted(levels) != list(range(1, len(levels) + 1)):
        problems.append("levels")
    ordered = [h for _, h in sorted(rows)]
    if any(h <= 0 for h in ordered):
        problems.append("positive")
    if any(b <= a for a, b in itertools.pairwise(ordered)):
        problems.append("rising")
    return problems
