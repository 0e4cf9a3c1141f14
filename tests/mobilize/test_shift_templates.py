"""Shift templates and the coverage grid (pure)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.clock import at_local, minutes_between, overlaps
from muster.mobilize import shift_templates as tpl

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2022, 3, 14)  # a Monday


def test_three_rotations_cross_midnight() -> None:
    specs = tpl.three_rotations(DAY, 2, TZ)
    assert len(specs) == 6
    assert [(s.start.hour, s.end.hour) for s in specs[:3]] == [(8, 16), (16, 0), (0, 8)]
    assert specs[2].start == at_local(DAY + timedelta(days=1), 0, TZ)
    assert all(minutes_between(s.start, s.end) == 480 for s in specs)
    assert all(a.end == b.start for a, b in itertools.pairwise(specs))  # no gap, no overlap


def test_duty_24h() -> None:
    specs = tpl.duty_24h(DAY, 3, TZ, start_hour=9, seats=2)
    assert next((s.start, s.end) for s in specs) == (
        at_local(DAY, 9, TZ),
        at_local(DAY + timedelta(days=1), 9, TZ),
    )
    assert all(s.seats == 2 and minutes_between(s.start, s.end) == 1440 for s in specs)


def test_template_bad_parameters() -> None:
    with pytest.raises(ValueError):
        tpl.three_rotations(DAY, 0, TZ)
    with pytest.raises(ValueError):
        tpl.duty_24h(DAY, 1, TZ, start_hour=24)
    with pytest.raises(ValueError):
        tpl.hotline_curve(DAY, 1, TZ, [1] * 23)
    with pytest.raises(ValueError):
        tpl.hotline_curve(DAY, 1, TZ, [-1] * 24)


curves = st.lists(st.integers(min_value=0, max_value=5), min_size=24, max_size=24)


@given(curves, st.integers(min_value=1, max_value=6))
def test_hotline_curve_reproduces_the_curve(curve: list[int], max_hours: int) -> None:
    specs = tpl.hotline_curve(DAY, 1, TZ, curve, max_hours=max_hours, remote=True)
    assert all(s.remote and minutes_between(s.start, s.end) <= max_hours * 60 for s in specs)
    for a, b in itertools.pairwise(specs):
        assert not overlaps(a.start, a.end, b.start, b.end)
    grid = tpl.coverage_grid(
        at_local(DAY, 0, TZ),
        at_local(DAY, 24, TZ),
        TZ,
        [tpl.ShiftCover(s.start, s.end, s.seats, s.seats) for s in specs],
    )
    assert [g.required for g in grid] == curve
    assert all(g.state in ("green", "idle") for g in grid)


def test_hotline_curve_per_weekday() -> None:
    week = [[0] * 24 for _ in range(7)]
    week[0][9] = 3  # Monday 09–10
    week[1][20] = 1  # Tuesday 20–21
    specs = tpl.hotline_curve(DAY, 2, TZ, week)
    assert [(s.start.day, s.start.hour, s.seats) for s in specs] == [(14, 9, 3), (15, 20, 1)]


def test_coverage_grid_red_where_empty() -> None:
    curve = [0] * 8 + [2] * 10 + [0] * 6
    shifts = [
        tpl.ShiftCover(at_local(DAY, 8, TZ), at_local(DAY, 12, TZ), 2, 2),
        tpl.ShiftCover(at_local(DAY, 12, TZ), at_local(DAY, 18, TZ), 2, 1),
        tpl.ShiftCover(at_local(DAY, 12, TZ), at_local(DAY, 13, TZ) + timedelta(minutes=30), 1, 1),
    ]
    grid = tpl.coverage_grid(at_local(DAY, 0, TZ), at_local(DAY, 24, TZ), TZ, shifts, curve)
    assert len(grid) == 24
    states = {g.start.hour: g.state for g in grid}
    assert states[0] == "idle"
    assert [states[h] for h in range(8, 12)] == ["green"] * 4
    assert states[12] == "green"  # 1 + the half-extra shift covering 12–13 whole
    assert states[13] == "red"  # the extra shift ends 13:30: it does not cover 13–14 whole
    assert grid[13].missing == 1
    no_curve = tpl.coverage_grid(at_local(DAY, 8, TZ), at_local(DAY, 18, TZ), TZ, shifts)
    assert [g.required for g in no_curve][:5] == [2, 2, 2, 2, 3]
