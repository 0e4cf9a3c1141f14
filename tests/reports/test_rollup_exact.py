"""The fast path and the straight query agree, at every cutoff, for every unit (incl. mid-shift cutoffs
and late corrections), and a rebuild from scratch gives the same buckets as incremental maintenance.

What it costs and why it is still exhaustive where it matters (``conftest.assert_fast_equals_straight``):

- ``rollup_straight`` (the reference) reads only the raw ledger and the organization, never the facts,
  the buckets or ``MUSTER_ROLLUP_HOUR_DEPTH``; it costs about six fast rollups (Django compiles its ORM
  queries per call). Its answer is computed once per ledger state (a key over everything it reads), so
  the hour-depth variants of one ledger share it while each fast path is still compared in full.
- What differs per unit in the fast path is its depth (whether it reads hour buckets, and so whether
  its window is the last hour or the whole day), its own row versus its children's subtree rows, and
  the rows under it. The units that hold or roll up rows (the administrative tree here: the root, the
  districts, the office, the organ) are compared at every cutoff, and so is one unit without rows (the
  party tree's root). The other units without rows (the rest of the party tree: the same statements
  over subtrees where nothing matches) are compared at every third cutoff, each at its own offset, and
  at the cutoffs a test lists as edges (midnight, the summer-time change): every unit is still compared
  at every kind of edge, which the tests assert.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from muster.orgs.models import Unit
from muster.reports import facts
from muster.reports.models import Bucket, HourBucket, PairFact, PersonFact, SpanFact
from muster.reports.rollup import rollup, rollup_straight

from .conftest import assert_fast_equals_straight, at, random_ledger


def _cutoffs(rng: random.Random, ledger: Any, n: int) -> list[Any]:
    out = [at("2022-03-08 00:00"), at("2022-03-12 00:00"), at("2022-03-30 00:00")]
    rows = ledger.rows
    for _ in range(n):
        r = rng.choice(rows)
        pick = rng.random()
        if pick < 0.4:  # in the middle of a shift
            out.append(r.start + (r.end - r.start) / 2)
        elif pick < 0.6:  # exactly at a boundary
            out.append(rng.choice([r.start, r.end]))
        else:
            out.append(at("2022-03-08 00:00") + timedelta(minutes=rng.randrange(0, 60 * 24 * 22)))
    return out


@pytest.mark.parametrize(("seed", "hour_depth"), [(1, 3), (2, 3), (3, 2), (4, 0)])
def test_fast_path_equals_straight_query(org: Any, settings: Any, seed: int, hour_depth: int) -> None:
    """With hour buckets for every level of the test tree (3), for the top two (2: the districts'
    rollups read a whole day's window) and none (0)."""
    settings.MUSTER_ROLLUP_HOUR_DEPTH = hour_depth
    ledger = random_ledger(org, seed)
    rng = random.Random(seed)
    checked = assert_fast_equals_straight(_cutoffs(rng, ledger, 25))
    assert len(checked) > 100
    assert {code for code, _cut in checked} == set(Unit.objects.values_list("code", flat=True))
    root = Unit.objects.get(code="SH")
    final = rollup(root, at("2022-03-30 00:00"))
    assert final.total.person_times > 0 and final.total.minutes > 0 and final.total.community_minutes > 0


def _state() -> tuple[Any, ...]:
    facts.fold_pending()  # the maintained facts as every report reads them: queued rows folded
    buckets: dict[tuple[Any, ...], tuple[int, ...]] = {
        (b.node_id, b.own, b.day): tuple(getattr(b, f) for f in facts.FIGURES)
        for b in Bucket.objects.all()
        if any(getattr(b, f) for f in facts.FIGURES)
    }
    buckets.update(
        {
            (h.node_id, h.own, h.day, h.slot): tuple(getattr(h, f) for f in facts.FIGURES)
            for h in HourBucket.objects.all()
            if any(getattr(h, f) for f in facts.FIGURES)
        }
    )
    pairs = set(PairFact.objects.values_list("deployment_id", "person_id", "first_m"))
    people = set(PersonFact.objects.values_list("person_id", "node_id", "own", "first_m"))
    spans = set(SpanFact.objects.values_list("row_id", "sign", "start_m", "end_m", "min0", "min1"))
    return buckets, pairs, people, spans


@pytest.mark.parametrize("hour_depth", [2, 3])
def test_rebuild_equals_incremental(org: Any, settings: Any, hour_depth: int) -> None:
    settings.MUSTER_ROLLUP_HOUR_DEPTH = hour_depth
    random_ledger(org, 7)
    before = _state()
    counts = facts.rebuild()
    assert counts["spans"] > 0
    assert _state() == before


def test_rebuild_after_maintenance_was_off(org: Any, settings: Any) -> None:
    settings.MUSTER_ROLLUP_MAINTENANCE = False
    ledger = random_ledger(org, 11)
    root = Unit.objects.get(code="SH")
    cut = ledger.rows[len(ledger.rows) // 2].end
    assert rollup(root, cut).total.minutes == 0  # nothing maintained
    facts.rebuild()
    assert rollup(root, cut) == rollup_straight(root, cut)


@pytest.mark.parametrize("hour_depth", [0, 2, 3])
def test_shifts_on_the_hour_at_every_edge(org: Any, settings: Any, hour_depth: int) -> None:
    """Shifts as rosters write them — on the hour, across midnight, back to back, 24 h — and cutoffs on
    every half hour of two days and a minute either side of each edge: rows starting or ending exactly
    at a bucket edge are where a window count can be off by one."""
    from muster.mobilize import services as svc
    from muster.mobilize.models import EntryKind
    from muster.orgs.access import SYSTEM

    settings.MUSTER_ROLLUP_HOUR_DEPTH = hour_depth
    t0 = at("2022-03-10 00:00")
    d = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui_office,
        title="三班倒",
        start=t0 - timedelta(hours=2),
        end=t0 + timedelta(days=3),
        people=[org.alice, org.bob, org.carol],
    ).deployment
    h = timedelta(hours=1)
    rows = []
    for person, spans in (
        (org.alice, [(-2, 6), (6, 14), (22, 30), (38, 46)]),  # across midnight, back to back
        (org.bob, [(0, 8), (8, 16), (24, 48)]),  # midnight to midnight (24 h)
        (org.carol, [(16, 24), (47, 48)]),
    ):
        for a, b in spans:
            rows.append(
                svc.entry_record(
                    actor=SYSTEM,
                    person=person,
                    kind=EntryKind.DISPATCH,
                    deployment=d,
                    start=t0 + a * h,
                    end=t0 + b * h,
                    approve=True,
                )
            )
    for a, b in ((1, 9), (9, 10), (23, 25)):  # community service of the organ's dave
        svc.entry_record(
            actor=SYSTEM,
            person=org.dave,
            kind=EntryKind.COMMUNITY,
            start=t0 + a * h,
            end=t0 + b * h,
            approve=True,
        )
    svc.entry_correct(actor=SYSTEM, entry=rows[1], start=t0 + 7 * h, end=t0 + 15 * h, reason="晚到一小时")
    svc.entry_record(  # pending, on the hour
        actor=SYSTEM,
        person=org.carol,
        kind=EntryKind.DISPATCH,
        deployment=d,
        start=t0 + 30 * h,
        end=t0 + 38 * h,
        approve=False,
    )
    cuts = [t0 + timedelta(minutes=30 * i) for i in range(-6, 2 * 48 + 2)]
    cuts += [t0 + i * h + timedelta(minutes=m) for i in range(0, 49) for m in (-1, 1)]
    midnights = [t0 + i * h + timedelta(minutes=m) for i in (0, 24, 48) for m in (-1, 0, 1)]
    checked = assert_fast_equals_straight(cuts, full_at=midnights)

    def edge(cut: datetime) -> str:
        local = cut.astimezone(t0.tzinfo)
        if local.hour == 0 and local.minute == 0:
            return "midnight"
        return {0: "on the hour", 30: "mid-shift", 59: "a minute before", 1: "a minute after"}[local.minute]

    kinds = {"midnight", "on the hour", "mid-shift", "a minute before", "a minute after"}
    for code in Unit.objects.values_list("code", flat=True):
        assert {edge(cut) for c, cut in checked if c == code} == kinds, code
    root = Unit.objects.get(code="SH")
    assert rollup(root, t0 + 48 * h).total.minutes == 60 * (4 * 8 + (8 + 8 + 24) + (8 + 1))
    assert rollup(root, t0 + 48 * h).total.community_minutes == 60 * (8 + 1 + 2)
    assert rollup(root, t0 + 48 * h).total.pending_entries == 1


@pytest.mark.parametrize("hour_depth", [0, 3])
def test_summer_time_days_in_a_zone_that_has_them(org: Any, settings: Any, hour_depth: int) -> None:
    """Europe/Berlin: the 23-hour day of 27 March 2022 and the 25-hour day of 30 October 2022 (its hour
    slots run 0–24). Night shifts across both changes; cutoffs every 20 minutes around them."""
    from zoneinfo import ZoneInfo

    from muster.mobilize import services as svc
    from muster.mobilize.models import EntryKind
    from muster.orgs.access import SYSTEM

    settings.TIME_ZONE = "Europe/Berlin"
    settings.MUSTER_ROLLUP_HOUR_DEPTH = hour_depth
    berlin = ZoneInfo("Europe/Berlin")
    h = timedelta(hours=1)
    for day in ((2022, 3, 26), (2022, 10, 29)):
        t0 = datetime(*day, 18, 0, tzinfo=berlin)  # the evening before the change
        d = svc.deployment_dispatch(
            actor=SYSTEM,
            unit=org.xuhui,
            title="夜班",
            start=t0,
            end=t0 + 24 * h,
            people=[org.alice, org.carol],
        ).deployment
        for person, a, b in ((org.alice, 0, 8), (org.alice, 8, 16), (org.carol, 4, 12), (org.carol, 12, 13)):
            svc.entry_record(
                actor=SYSTEM,
                person=person,
                kind=EntryKind.DISPATCH,
                deployment=d,
                start=t0 + a * h,
                end=t0 + b * h,
                approve=True,
            )
        svc.entry_record(
            actor=SYSTEM,
            person=org.dave,
            kind=EntryKind.COMMUNITY,
            start=t0 + 5 * h,
            end=t0 + 10 * h,
            approve=True,
        )
        cuts = [t0 + timedelta(minutes=20 * i) for i in range(0, 3 * 24 + 1)]
        local = [c.astimezone(berlin) for c in cuts]
        change_night = [c for c, lc in zip(cuts, local, strict=True) if lc.day == day[2] + 1 and lc.hour < 4]
        assert len(change_night) == 12  # wall-clock 00:00–03:40 (aware + timedelta adds wall-clock time)
        checked = assert_fast_equals_straight(cuts, full_at=change_night)
        for code in Unit.objects.values_list("code", flat=True):
            assert {cut for c, cut in checked if c == code} >= set(change_night), code
    long_day = facts.calendar().hours(
        facts.minute_of(datetime(2022, 10, 30, tzinfo=berlin)),
        facts.minute_of(datetime(2022, 10, 31, tzinfo=berlin)),
    )
    assert [slot for _day, slot, _m in long_day] == list(range(25))  # 25 hours, slots 0–24
    assert all(m == 60 for _day, _slot, m in long_day)


def test_a_long_night_across_the_short_summer_time_day(org: Any, settings: Any) -> None:
    """23:30 on 26 March to 00:15 on 28 March in Europe/Berlin is 23 h 45 min: one entry over three
    local days (the 27th has 23 hours). Recorded, rebuilt and reported exactly."""
    from zoneinfo import ZoneInfo

    from muster.mobilize import services as svc
    from muster.mobilize.models import EntryKind
    from muster.orgs.access import SYSTEM

    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    start, end = datetime(2022, 3, 26, 23, 30, tzinfo=berlin), datetime(2022, 3, 28, 0, 15, tzinfo=berlin)
    d = svc.deployment_dispatch(
        actor=SYSTEM, unit=org.huangpu, title="通宵", start=start, end=end, people=[org.carol]
    ).deployment
    row = svc.entry_record(
        actor=SYSTEM,
        person=org.carol,
        kind=EntryKind.DISPATCH,
        deployment=d,
        start=start,
        end=end,
        approve=True,
    )
    assert row.minutes == 23 * 60 + 45
    before = _state()
    facts.rebuild()
    assert _state() == before
    root = Unit.objects.get(code="SH")
    for cut in [start + timedelta(minutes=15 * i) for i in range(0, 4 * 25)]:
        assert rollup(root, cut) == rollup_straight(root, cut), cut
    assert rollup(root, end).total.minutes == 23 * 60 + 45


def test_raising_the_hour_depth_takes_effect_at_the_rebuild(org: Any, settings: Any) -> None:
    """The rollup reads hour buckets only as deep as the facts were built with: raising the setting
    without a rebuild stays exact (the new hour buckets have no history yet), and so does lowering it."""
    settings.MUSTER_ROLLUP_HOUR_DEPTH = 1
    ledger = random_ledger(org, 31)
    facts.rebuild()  # built with depth 1
    settings.MUSTER_ROLLUP_HOUR_DEPTH = 3
    assert facts.hour_depth_read() == 1
    from muster.mobilize import services as svc
    from muster.mobilize.models import EntryKind
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import person_create

    late = person_create(actor=SYSTEM, code="LATE01", name="新志愿者", unit=org.xuhui_office, gender="F")
    t = at("2022-03-12 07:20")
    d = svc.deployment_dispatch(
        actor=SYSTEM, unit=org.xuhui_office, title="新批次", start=t, end=t + timedelta(days=1), people=[late]
    ).deployment
    for a, b in ((0, 8), (9, 17)):  # recorded with hour buckets kept down to depth 3 from now on
        svc.entry_record(
            actor=SYSTEM,
            person=late,
            kind=EntryKind.DISPATCH,
            deployment=d,
            start=t + timedelta(hours=a),
            end=t + timedelta(hours=b),
            approve=True,
        )
    cuts = [r.start + (r.end - r.start) / 3 for r in ledger.rows[::5]]
    cuts += [t + timedelta(minutes=50 * i) for i in range(24)]
    assert_fast_equals_straight(cuts)
    facts.rebuild()
    assert facts.hour_depth_read() == 3
    settings.MUSTER_ROLLUP_HOUR_DEPTH = 2
    assert facts.hour_depth_read() == 2
    assert_fast_equals_straight(cuts)
