"""The points arithmetic, pure Python (no Django): rule resolution, caps, balances.

Everything the ledger writes is what ``allocate`` says, so "recompute a period from the facts" is just
``allocate`` over the facts again, and the sums must agree with the ledger.

Definitions
-----------
- A *rule version* gives ``points`` per unit of quantity for one fact kind, valid on
  ``[valid_from, valid_to)`` (``valid_to`` ``None`` = open), optionally for one unit subtree
  (``unit_path``; empty = everywhere). For a fact, the version in force is the one valid on the fact's
  date whose ``unit_path`` is the longest prefix of the fact's branch path (the most specific
  organization wins); ties go to the latest ``valid_from``, then the highest id.
- *Raw points* of a fact = quantity × points, rounded half-up to 0.01.
- *Caps*: facts whose rules share a ``cap_group`` share one cap per person and cap period (calendar
  year, quarter or month of the fact's date). Within a bucket (person, cap group, period) facts are
  taken in order (date, fact id); a positive raw amount gets ``min(raw, cap − used)`` (never below 0);
  the cap of the fact's own rule version applies. Deductions (negative raw) are never capped.
- Scores restart each year: a *balance* is the sum over the facts of one calendar year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

YEAR, QUARTER, MONTH = "year", "quarter", "month"
CAP_PERIODS = (YEAR, QUARTER, MONTH)


def q2(value: Decimal) -> Decimal:
    """Round half-up to 0.01 (points are shown and stored with two decimals)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def period_key(period: str, on: date) -> str:
    """The cap period containing ``on``: '2024', '2024Q3' or '2024-07'."""
    if period == YEAR:
        return f"{on.year}"
    if period == QUARTER:
        return f"{on.year}Q{(on.month - 1) // 3 + 1}"
    if period == MONTH:
        return f"{on.year}-{on.month:02d}"
    raise ValueError(f"unknown cap period {period!r}")


@dataclass(frozen=True)
class RuleVersion:
    id: int
    kind: str
    points: Decimal
    valid_from: date
    valid_to: date | None = None
    cap: Decimal | None = None
    cap_period: str = YEAR
    cap_group: str = ""
    unit_path: str = ""

    @property
    def group(self) -> str:
        return self.cap_group or self.kind

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on < self.valid_to)


def resolve(
    rules: Iterable[RuleVersion], *, kind: str, on: date, branch_path: str = ""
) -> RuleVersion | None:
    """The rule version in force for a fact of ``kind`` on ``on`` in the branch at ``branch_path``."""
    best: RuleVersion | None = None
    for r in rules:
        if r.kind != kind or not r.valid_on(on):
            continue
        if r.unit_path and not branch_path.startswith(r.unit_path):
            continue
        if best is None or (len(r.unit_path), r.valid_from, r.id) > (
            len(best.unit_path),
            best.valid_from,
            best.id,
        ):
            best = r
    return best


@dataclass(frozen=True)
class FactIn:
    """One point-earning fact as the engine sees it, with the rule version pinned to it."""

    id: int
    person_id: int
    occurred_on: date
    quantity: Decimal
    rule: RuleVersion


@dataclass(frozen=True)
class Allocation:
    raw: Decimal  # quantity × points
    points: Decimal  # after the cap
    capped: bool  # the cap cut it (fully or partly)


def bucket_of(f: FactIn) -> tuple[int, str, str]:
    return (f.person_id, f.rule.group, period_key(f.rule.cap_period, f.occurred_on))


def allocate(facts: Iterable[FactIn]) -> dict[int, Allocation]:
    """Points of each fact (by fact id) after caps."""
    buckets: dict[tuple[int, str, str], list[FactIn]] = defaultdict(list)
    for f in facts:
        buckets[bucket_of(f)].append(f)
    out: dict[int, Allocation] = {}
    for items in buckets.values():
        used = ZERO
        for f in sorted(items, key=lambda x: (x.occurred_on, x.id)):
            raw = q2(f.quantity * f.rule.points)
            if raw > 0 and f.rule.cap is not None:
                room = max(ZERO, f.rule.cap - used)
                pts = min(raw, room)
                out[f.id] = Allocation(raw, pts, pts != raw)
                used += pts
            else:
                out[f.id] = Allocation(raw, raw, False)
    return out


def balances(facts: Sequence[FactIn]) -> dict[tuple[int, int], Decimal]:
    """{(person id, year): points} over ``facts`` (after caps)."""
    alloc = allocate(facts)
    out: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for f in facts:
        out[(f.person_id, f.occurred_on.year)] += alloc[f.id].points
    return dict(out)


def competition_ranks(scores: Sequence[tuple[object, Decimal]]) -> dict[object, int]:
    """Standard competition ranking ("1224"): equal scores share a rank, the next rank skips."""
    ordered = sorted(scores, key=lambda kv: kv[1], reverse=True)
    ranks: dict[object, int] = {}
    prev: Decimal | None = None
    rank = 0
    for i, (key, score) in enumerate(ordered, start=1):
        if prev is None or score != prev:
            rank = i
            prev = score
        ranks[key] = rank
    return ranks
