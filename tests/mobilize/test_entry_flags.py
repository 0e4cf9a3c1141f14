"""The check-in window and the approvals' flags (``muster.mobilize.entry_flags``): pure time arithmetic,
with hypothesis properties against brute-force definitions, across zones and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.mobilize.entry_flags import (
    Flag,
    Span,
    Thresholds,
    checkin_window,
    entry_flags,
    minutes,
    overlaps,
)

SH = ZoneInfo("Asia/Shanghai")
BASE = datetime(2022, 3, 11, 0, 0, tzinfo=SH)
ZONES = st.sampled_from([SH, UTC, timezone(timedelta(hours=-9, minutes=-30)), ZoneInfo("Europe/Berlin")])
minute_offsets = st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60)
lengths = st.integers(min_value=0, max_value=30 * 60)
thresholds = st.builds(
    Thresholds,
    early=st.integers(0, 600),
    late=st.integers(0, 600),
    short=st.integers(0, 120),
    long_extra=st.integers(0, 600),
    long_alone=st.integers(0, 24 * 60),
)


def at(m: int, tz: object = SH) -> datetime:
    return (BASE + timedelta(minutes=m)).astimezone(tz)  # type: ignore[arg-type]


def test_the_issue_case_two_days_early_and_one_minute_is_flagged() -> None:
    shift = (at(2 * 24 * 60 + 8 * 60), at(2 * 24 * 60 + 16 * 60))
    span = Span(1, "bob", at(9 * 60), at(9 * 60 + 1), *shift)
    hits = entry_flags([span], thresholds=Thresholds()).of(1)
    assert [h.flag for h in hits] == [Flag.OUTSIDE_SHIFT, Flag.SHORT]
    assert hits[0].window is not None and hits[0].window.opens == at(2 * 24 * 60 + 7 * 60)
    assert (hits[1].minutes, hits[1].limit) == (1, 15)


def test_an_ordinary_entry_has_no_flag() -> None:
    span = Span(1, "bob", at(8 * 60 - 10), at(16 * 60 + 5), at(8 * 60), at(16 * 60), at(0), at(3 * 24 * 60))
    assert entry_flags([span], thresholds=Thresholds()).hits == {}


def test_outside_batch_when_no_shift() -> None:
    span = Span(1, "bob", at(-300), at(-100), batch_start=at(0), batch_end=at(600))
    assert [h.flag for h in entry_flags([span], thresholds=Thresholds()).of(1)] == [Flag.OUTSIDE_BATCH]


def test_long_against_shift_length_and_alone() -> None:
    t = Thresholds()
    shifted = Span(1, "bob", at(-60), at(8 * 60 + 120), at(0), at(8 * 60))
    alone = Span(2, "amy", at(0), at(12 * 60 + 1))
    ok = Span(3, "cat", at(0), at(12 * 60))
    flags = entry_flags([shifted, alone, ok], thresholds=t)
    assert [(h.flag, h.limit) for h in flags.of(1)] == [(Flag.LONG, 8 * 60 + 120)]
    assert [(h.flag, h.limit) for h in flags.of(2)] == [(Flag.LONG, 720)]
    assert not flags.flagged(3)


def test_touching_entries_do_not_overlap_and_others_count() -> None:
    a = Span("a", "bob", at(0), at(60))
    b = Span("b", "bob", at(60), at(120))
    c = Span("c", "bob", at(90), at(100))
    other_person = Span("d", "amy", at(0), at(200))
    flags = entry_flags([a, b], thresholds=Thresholds(short=0), others=[c, other_person])
    assert not flags.flagged("a")
    assert [(h.flag, h.other) for h in flags.of("b")] == [(Flag.OVERLAP, "c")]
    assert "c" not in flags.hits  # others are not reported


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Thresholds(early=-1)
    with pytest.raises(ValueError):
        Thresholds(late=True)
    with pytest.raises(ValueError):
        Thresholds(short=10**9)
    with pytest.raises(ValueError):
        checkin_window(at(10), at(0), early=0, late=0)


@settings(max_examples=300, deadline=None)
@given(
    start=minute_offsets,
    length=lengths,
    early=st.integers(0, 600),
    late=st.integers(0, 600),
    probe=minute_offsets,
    tz=ZONES,
)
def test_window_holds_exactly_the_times_between_its_ends(
    start: int, length: int, early: int, late: int, probe: int, tz: object
) -> None:
    w = checkin_window(at(start, tz), at(start + length, tz), early=early, late=late)
    assert w.holds(at(probe, SH)) == (start - early <= probe <= start + length + late)
    assert minutes(w.opens, w.closes) == early + length + late


@settings(max_examples=300, deadline=None)
@given(start=minute_offsets, length=lengths, s_start=minute_offsets, s_len=lengths, t=thresholds, tz=ZONES)
def test_flags_match_their_definitions(
    start: int, length: int, s_start: int, s_len: int, t: Thresholds, tz: object
) -> None:
    span = Span(1, "p", at(start, tz), at(start + length, tz), at(s_start), at(s_start + s_len))
    got = {h.flag for h in entry_flags([span], thresholds=t).of(1)}
    outside = start < s_start - t.early or start + length > s_start + s_len + t.late
    assert (Flag.OUTSIDE_SHIFT in got) == outside
    assert (Flag.SHORT in got) == (length < t.short)
    assert (Flag.LONG in got) == (length >= t.short and length > s_len + t.long_extra)
    assert Flag.OVERLAP not in got
    # An entry inside its shift (as a check-in/out inside the window gives) is never outside it.
    if s_start - t.early <= start and start + length <= s_start + s_len + t.late:
        assert Flag.OUTSIDE_SHIFT not in got


intervals = st.lists(
    st.tuples(st.sampled_from(["p", "q"]), st.integers(-600, 600), st.integers(1, 300)), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(rows=intervals, tz=ZONES)
def test_overlap_is_symmetric_and_matches_brute_force(rows: list[tuple[str, int, int]], tz: object) -> None:
    spans = [Span(i, p, at(s, tz), at(s + n, tz)) for i, (p, s, n) in enumerate(rows)]
    found = overlaps(spans)
    for a in spans:
        partners = {
            b.key
            for b in spans
            if b.key != a.key and b.person == a.person and a.start < b.end and b.start < a.end
        }
        assert (a.key in found) == bool(partners)
        if a.key in found:
            assert found[a.key] in partners
    flags = entry_flags(spans, thresholds=Thresholds(short=0, long_alone=24 * 60))
    assert {k for k, hs in flags.hits.items() if any(h.flag == Flag.OVERLAP for h in hs)} == set(found)


@settings(max_examples=200, deadline=None)
@given(start=minute_offsets, length=lengths)
def test_minutes_do_not_depend_on_the_zone_or_midnight(start: int, length: int) -> None:
    values = {minutes(at(start, tz), at(start + length, tz2)) for tz in (SH, UTC) for tz2 in (SH, UTC)}
    assert values == {length}
