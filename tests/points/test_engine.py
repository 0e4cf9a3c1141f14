"""The pure points arithmetic: caps (at the boundary), deductions, rule resolution, ranks."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from muster.points import engine as e

D = Decimal


def rule(points: str, cap: str | None = None, **kw: object) -> e.RuleVersion:
    return e.RuleVersion(
        id=1, kind="k", points=D(points), valid_from=date(2000, 1, 1), cap=D(cap) if cap else None, **kw
    )  # type: ignore[arg-type]


def facts(r: e.RuleVersion, n: int, start: date = date(2024, 1, 1), person: int = 1) -> list[e.FactIn]:
    return [e.FactIn(i + 1, person, start + timedelta(days=i), D(1), r) for i in range(n)]


def test_cap_hit_exactly_at_the_boundary() -> None:
    r = rule("3", "12")
    alloc = e.allocate(facts(r, 5))
    assert [alloc[i].points for i in range(1, 6)] == [D(3), D(3), D(3), D(3), D(0)]
    assert [alloc[i].capped for i in range(1, 6)] == [False, False, False, False, True]
    odd = e.allocate(facts(rule("5", "12"), 3))
    assert [(a.raw, a.points, a.capped) for a in odd.values()] == [
        (D(5), D(5), False),
        (D(5), D(5), False),
        (D(5), D(2), True),
    ]


def test_caps_reset_each_period_and_groups_share_a_cap() -> None:
    q = rule("3", "6", cap_period=e.QUARTER)
    fs = facts(q, 3, date(2024, 3, 30))  # 3-30, 3-31 in Q1; 4-01 in Q2
    assert [a.points for a in e.allocate(fs).values()] == [D(3), D(3), D(3)]
    a = e.RuleVersion(1, "meeting.a", D(3), date(2000, 1, 1), cap=D(6), cap_group="g")
    b = e.RuleVersion(2, "meeting.b", D(3), date(2000, 1, 1), cap=D(6), cap_group="g")
    mixed = [
        e.FactIn(1, 1, date(2024, 1, 1), D(1), a),
        e.FactIn(2, 1, date(2024, 1, 2), D(1), b),
        e.FactIn(3, 1, date(2024, 1, 3), D(1), a),
    ]
    assert [x.points for x in e.allocate(mixed).values()] == [D(3), D(3), D(0)]
    # another person has their own cap
    assert e.balances(
        [*facts(rule("3", "6"), 3, person=1), e.FactIn(9, 2, date(2024, 1, 1), D(1), rule("3", "6"))]
    ) == {(1, 2024): D(6), (2, 2024): D(3)}


def test_deductions_are_never_capped_and_years_reset() -> None:
    r = rule("-2", "4")
    fs = [*facts(r, 3), e.FactIn(10, 1, date(2025, 1, 1), D(1), r)]
    assert e.balances(fs) == {(1, 2024): D(-6), (1, 2025): D(-2)}


@given(
    st.lists(st.integers(min_value=1, max_value=20), min_size=0, max_size=30),
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=0, max_value=100),
    st.randoms(use_true_random=False),
)
def test_capped_total_is_min_of_raw_and_cap_in_any_order(
    quantities: list[int], points: int, cap: int, rnd: random.Random
) -> None:
    r = rule(str(points), str(cap))
    fs = [
        e.FactIn(i + 1, 1, date(2024, 1, 1) + timedelta(days=i % 300), D(q), r)
        for i, q in enumerate(quantities)
    ]
    raw = sum(D(q * points) for q in quantities)
    alloc = e.allocate(fs)
    total = sum((a.points for a in alloc.values()), D(0))
    assert total == min(raw, D(cap))
    assert all(D(0) <= a.points <= a.raw for a in alloc.values())
    shuffled = fs[:]
    rnd.shuffle(shuffled)
    assert sum((a.points for a in e.allocate(shuffled).values()), D(0)) == total
    # the cap is filled by the earliest facts: once one is cut, every later one gets nothing
    ordered = sorted(fs, key=lambda f: (f.occurred_on, f.id))
    cut = [alloc[f.id].capped for f in ordered]
    if True in cut:
        first = cut.index(True)
        assert all(alloc[f.id].points == 0 for f in ordered[first + 1 :])


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(-3, 5)), max_size=25), st.integers(0, 30))
def test_mixed_credits_and_deductions(items: list[tuple[int, int]], cap: int) -> None:
    fs = [
        e.FactIn(
            i + 1,
            1,
            date(2024, 1, 1) + timedelta(days=i),
            D(q),
            e.RuleVersion(i + 1, "k", D(p), date(2000, 1, 1), cap=D(cap)),
        )
        for i, (q, p) in enumerate(items)
    ]
    alloc = e.allocate(fs)
    positives = sum((a.points for a in alloc.values() if a.raw > 0), D(0))
    negatives = sum((a.raw for a in alloc.values() if a.raw < 0), D(0))
    assert positives == min(sum((a.raw for a in alloc.values() if a.raw > 0), D(0)), D(cap))
    assert e.balances(fs).get((1, 2024), D(0)) == positives + negatives


def test_resolution_prefers_the_deepest_organization_then_the_latest_version() -> None:
    v1 = e.RuleVersion(1, "talk", D(1), date(2000, 1, 1), valid_to=date(2024, 7, 1))
    v2 = e.RuleVersion(2, "talk", D(2), date(2024, 7, 1))
    local = e.RuleVersion(3, "talk", D(5), date(2024, 1, 1), unit_path="00010002")
    rules = [v1, v2, local]
    assert e.resolve(rules, kind="talk", on=date(2024, 6, 30)) == v1
    assert e.resolve(rules, kind="talk", on=date(2024, 7, 1)) == v2
    assert e.resolve(rules, kind="talk", on=date(2024, 7, 1), branch_path="000100020003") == local
    assert e.resolve(rules, kind="talk", on=date(2023, 7, 1), branch_path="000100020003") == v1
    assert e.resolve(rules, kind="other", on=date(2024, 7, 1)) is None


def test_competition_ranks() -> None:
    assert e.competition_ranks([("a", D(5)), ("b", D(9)), ("c", D(5)), ("d", D(1))]) == {
        "b": 1,
        "a": 2,
        "c": 2,
        "d": 4,
    }
