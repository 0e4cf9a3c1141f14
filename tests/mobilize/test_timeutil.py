"""Time parsing and interval arithmetic (pure), with hypothesis properties."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster import clock as tu

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc,arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-18 24:00", local(2022, 3, 19, 0, 0)),
        ("2022-03-18 08:00", local(2022, 3, 18, 8, 0)),
        ("2022/3/18 8:00", local(2022, 3, 18, 8, 0)),
        ("2022.3.18 8:05:30", local(2022, 3, 18, 8, 5, 30)),
        ("2022年3月18日 8时", local(2022, 3, 18, 8, 0)),
        ("2022年3月18日8时30分", local(2022, 3, 18, 8, 30)),
        ("2022年3月18日 24时", local(2022, 3, 19, 0, 0)),
        ("2022年3月18日 08:30", local(2022, 3, 18, 8, 30)),
        ("2022年3月18日", local(2022, 3, 18, 0, 0)),
        ("２０２２－０３－１８　２４：００", local(2022, 3, 19, 0, 0)),
        ("2022-03-18T08:00:00+00:00", local(2022, 3, 18, 16, 0)),
        ("2022-03-18T08:00Z", local(2022, 3, 18, 16, 0)),
        ("44638.5", local(2022, 3, 18, 12, 0)),
        ("  2022-03-18   8:00 ", local(2022, 3, 18, 8, 0)),
    ],
)
def test_parse_formats(text: str, expected: datetime) -> None:
    got = tu.parse_datetime(text, TZ)
    assert got == expected
    assert got.utcoffset() == timedelta(hours=8)


def test_parse_non_strings() -> None:
    assert tu.parse_datetime(44638.75, TZ) == local(2022, 3, 18, 18, 0)
    assert tu.parse_datetime(44638, TZ) == local(2022, 3, 18, 0, 0)
    assert tu.parse_datetime(datetime(2022, 3, 18, 8), TZ) == local(2022, 3, 18, 8)
    assert tu.parse_datetime(datetime(2022, 3, 18, 0, tzinfo=UTC), TZ) == local(2022, 3, 18, 8)
    assert tu.parse_datetime(date(2022, 3, 18), TZ) == local(2022, 3, 18)
    assert tu.parse_datetime("3月18日24时", TZ, default_year=2022) == local(2022, 3, 19)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("2022-02-30 08:00", "impossible"),
        ("2022-03-18 24:30", "bad_time"),
        ("2022-03-18 25:00", "impossible"),
        ("3月18日 8时", "no_year"),
        ("yesterday", "unreadable"),
        (-3, "bad_serial"),
        (True, "unreadable"),
        (None, "unreadable"),
        ("0001-01-01", "out_of_range"),  # used to overflow on the way to UTC (hole 6 of issue 22)
        ("9999-12-31 24:00", "out_of_range"),  # used to overflow adding the day
        ("1899-12-31 23:59", "out_of_range"),
        ("2101年1月1日 0时", "out_of_range"),
        (date(1, 1, 1), "out_of_range"),
        (datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "out_of_range"),
        (float("nan"), "bad_serial"),
    ],
)
def test_parse_refuses(value: object, code: str) -> None:
    with pytest.raises(tu.TimeParseError) as exc:
        tu.parse_datetime(value, TZ)
    assert exc.value.code == code


def test_overlap_is_half_open() -> None:
    a, b, c = local(2022, 3, 18, 8), local(2022, 3, 18, 16), local(2022, 3, 19, 0)
    assert not tu.overlaps(a, b, b, c)
    assert tu.overlaps(a, b + timedelta(minutes=1), b, c)
    assert tu.gap_minutes(a, b, b + timedelta(hours=2), c) == 120
    assert tu.gap_minutes(b + timedelta(hours=2), c, a, b) == 120


def test_split_by_day_and_hours() -> None:
    s, e = local(2022, 3, 18, 22, 0), local(2022, 3, 19, 6, 0)
    assert tu.crosses_midnight(s, e, TZ)
    assert not tu.crosses_midnight(local(2022, 3, 18, 16), local(2022, 3, 19, 0), TZ)
    assert tu.split_by_day(s, e, TZ) == [(date(2022, 3, 18), 120), (date(2022, 3, 19), 360)]
    assert str(tu.minutes_to_hours(6226 * 60)) == "6226.00"
    assert str(tu.minutes_to_hours(1)) == "0.02"
    assert str(tu.minutes_to_hours(90)) == "1.50"
    assert len(list(tu.hour_slots(s, e, TZ))) == 8


# ---------------------------------------------------------------- properties

BASE = local(2022, 3, 1)
minutes_st = st.integers(min_value=0, max_value=60 * 24 * 30)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = BASE + timedelta(minutes=draw(minutes_st))
    length = draw(st.integers(min_value=1, max_value=24 * 60))
    return start, start + timedelta(minutes=length)


@given(intervals(), minutes_st, minutes_st)
def test_clip_is_monotone_and_bounded(iv: tuple[datetime, datetime], a: int, b: int) -> None:
    s, e = iv
    t1, t2 = sorted((BASE + timedelta(minutes=a), BASE + timedelta(minutes=b)))
    c1, c2 = tu.clip_minutes(s, e, t1), tu.clip_minutes(s, e, t2)
    assert 0 <= c1 <= c2 <= tu.minutes_between(s, e)


@given(intervals(), st.lists(minutes_st, max_size=6), st.integers(min_value=0, max_value=59))
def test_clipped_parts_sum_to_total(iv: tuple[datetime, datetime], cuts: list[int], seconds: int) -> None:
    """Cutting an interval at any cutoffs (even mid-minute) and summing the parts gives the whole."""
    s, e = iv
    points = [BASE - timedelta(days=1), *sorted(BASE + timedelta(minutes=m, seconds=seconds) for m in cuts)]
    points.append(e + timedelta(days=1))
    parts = [tu.clip_between(s, e, lo, hi) for lo, hi in itertools.pairwise(points)]
    assert sum(parts) == tu.minutes_between(s, e)


@given(intervals())
def test_midnight_crossing_split_is_exact(iv: tuple[datetime, datetime]) -> None:
    s, e = iv
    days = tu.split_by_day(s, e, TZ)
    assert sum(m for _d, m in days) == tu.minutes_between(s, e)
    assert (len(days) > 1) == tu.crosses_midnight(s, e, TZ)
    for d, m in days:
        assert 0 < m <= 24 * 60
        assert tu.local_midnight(d, TZ) < e


@given(intervals(), intervals())
def test_overlap_symmetric_and_consistent_with_gap(
    a: tuple[datetime, datetime], b: tuple[datetime, datetime]
) -> None:
    assert tu.overlaps(*a, *b) == tu.overlaps(*b, *a)
    if tu.overlaps(*a, *b):
        assert tu.gap_minutes(*a, *b) == 0
        assert tu.clip_between(a[0], a[1], b[0], b[1]) > 0
    else:
        assert tu.clip_between(a[0], a[1], b[0], b[1]) == 0


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.integers(0, 24),
    st.sampled_from(["{y}-{m:02d}-{d:02d} {h}:00", "{y}/{m}/{d} {h}:00", "{y}年{m}月{d}日 {h}时"]),
)
def test_parse_roundtrip_including_24(day: date, hour: int, pattern: str) -> None:
    text = pattern.format(y=day.year, m=day.month, d=day.day, h=hour)
    assert tu.parse_datetime(text, TZ) == tu.at_local(day, hour, TZ)


@given(
    st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2023, 12, 31)),
    st.integers(min_value=0, max_value=48 * 60),
)
def test_minutes_are_elapsed_time_across_summer_time(start: datetime, minutes: int) -> None:
    """In a zone with summer time, the minutes between two local times are the elapsed minutes (a
    night shift over the spring change is an hour shorter on the wall clock than it lasts)."""
    berlin = ZoneInfo("Europe/Berlin")
    s = start.replace(second=0, microsecond=0, tzinfo=UTC).astimezone(berlin)
    e = (s.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(berlin)
    assert tu.minutes_between(s, e) == minutes
    spring = datetime(2022, 3, 26, 22, tzinfo=berlin)  # 22:00 CET → 06:00 CEST: 7 hours
    assert tu.minutes_between(spring, datetime(2022, 3, 27, 6, tzinfo=berlin)) == 7 * 60


def test_the_range_ends_are_accepted() -> None:
    assert tu.parse_datetime("1900-01-01 00:00", TZ) == local(1900, 1, 1)
    assert tu.parse_datetime("2100-12-31 24:00", TZ) == local(2101, 1, 1)  # the last cutoff
    assert tu.parse_datetime(73415, TZ) == local(2100, 12, 31)  # the last Excel serial in range
    with pytest.raises(tu.TimeParseError) as exc:
        tu.parse_datetime(73416, TZ)
    assert exc.value.code == "out_of_range"
