"""The tier-from-hours arithmetic (pure) and the threshold table as data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.honors.models import StarTier
from muster.honors.tiers import Threshold, check_table, newly_reached, next_threshold, tier_of

NATIONAL = [Threshold(1, 100), Threshold(2, 300), Threshold(3, 600), Threshold(4, 1000), Threshold(5, 1500)]
BEIJING = [Threshold(1, 100), Threshold(2, 200), Threshold(3, 500), Threshold(4, 800), Threshold(5, 1000)]

tables = st.lists(st.integers(1, 5000), min_size=1, max_size=8, unique=True).map(
    lambda hs: [Threshold(i + 1, h) for i, h in enumerate(sorted(hs))]
)


@given(tables, st.integers(0, 400_000), st.integers(0, 400_000))
def test_tier_is_monotone_in_hours(table: list[Threshold], a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert tier_of(lo, table) <= tier_of(hi, table)


@given(tables, st.data())
def test_exact_at_thresholds(table: list[Threshold], data: Any) -> None:
    t = data.draw(st.sampled_from(table))
    assert tier_of(t.min_minutes, table) == t.level  # exactly the hours: reached
    assert tier_of(t.min_minutes - 1, table) == t.level - 1  # one minute short: not yet
    assert tier_of(0, table) == 0


@given(
    tables,
    st.lists(
        st.tuples(st.integers(1, 24 * 60), st.sampled_from(["approve", "reverse", "correct"])), max_size=60
    ),
)
def test_corrections_and_reversals_count(table: list[Threshold], ops: list[tuple[int, str]]) -> None:
    """A ledger of +1/−1 rows (approvals, reversals, corrections = −1 old + 1 new): the tier is the tier
    of the signed sum, and it equals the tier of the entries still in force."""
    rows: list[tuple[int, int]] = []  # (sign, minutes)
    in_force: list[int] = []
    for minutes, op in ops:
        if op == "approve" or not in_force:
            rows.append((1, minutes))
            in_force.append(minutes)
        elif op == "reverse":
            old = in_force.pop()
            rows.append((-1, old))
        else:
            old = in_force.pop()
            rows += [(-1, old), (1, minutes)]
            in_force.append(minutes)
        balance = sum(s * m for s, m in rows)
        assert balance == sum(in_force)
        assert tier_of(balance, table) == tier_of(sum(in_force), table)


def test_national_and_beijing_defaults() -> None:
    assert tier_of(100 * 60 - 1, NATIONAL) == 0
    assert tier_of(100 * 60, NATIONAL) == 1
    assert tier_of(299 * 60, NATIONAL) == 1
    assert tier_of(1500 * 60, NATIONAL) == 5
    assert tier_of(500 * 60, BEIJING) == 3
    assert tier_of(500 * 60, NATIONAL) == 2
    assert next_threshold(150 * 60, NATIONAL) == Threshold(2, 300)
    assert next_threshold(2000 * 60, NATIONAL) is None
    assert newly_reached(1, 3) == [2, 3]
    assert newly_reached(3, 1) == []


def test_a_table_that_falls_never_skips_a_tier() -> None:
    broken = [Threshold(1, 300), Threshold(2, 100)]
    assert tier_of(150 * 60, broken) == 0
    assert check_table([(1, 300), (2, 100)]) == ["rising"]
    assert check_table([(1, 100), (3, 300)]) == ["levels"]


@pytest.mark.django_db
def test_the_data_migration_seeds_the_national_default() -> None:
    rows = list(StarTier.objects.order_by("level").values_list("level", "min_hours"))
    assert rows == [(1, 100), (2, 300), (3, 600), (4, 1000), (5, 1500)]
    assert all(t.source == "全国默认标准（按累计志愿服务时长评定星级）" for t in StarTier.objects.all())
