"""The fast path and the straight query agree, at every cutoff, for every unit (incl. mid-shift cutoffs
and late corrections), and a rebuild from scratch gives the same buckets as incremental maintenance."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from muster.orgs.models import Unit
from muster.reports import facts
from muster.reports.models import Bucket, PairFact, PersonFact, SpanFact
from muster.reports.rollup import rollup, rollup_straight

from .conftest import at, random_ledger


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_path_equals_straight_query(org: Any, seed: int) -> None:
    ledger = random_ledger(org, seed)
    rng = random.Random(seed)
    units = list(Unit.objects.all())
    checked = 0
    for cut in _cutoffs(rng, ledger, 25):
        for unit in units:
            fast, slow = rollup(unit, cut), rollup_straight(unit, cut)
            assert fast.rows == slow.rows, (unit.code, cut)
            assert fast.total == slow.total, (unit.code, cut)
            checked += 1
    assert checked > 100
    root = Unit.objects.get(code="SH")
    final = rollup(root, at("2022-03-30 00:00"))
    assert final.total.person_times > 0 and final.total.minutes > 0 and final.total.community_minutes > 0


def _state() -> tuple[Any, ...]:
    buckets = {
        (b.node_id, b.own, b.day): tuple(getattr(b, f) for f in facts.FIGURES)
        for b in Bucket.objects.all()
        if any(getattr(b, f) for f in facts.FIGURES)
    }
    pairs = set(PairFact.objects.values_list("deployment_id", "person_id", "first_m"))
    people = set(PersonFact.objects.values_list("person_id", "node_id", "own", "first_m"))
    spans = set(SpanFact.objects.values_list("row_id", "sign", "start_m", "end_m", "min0", "min1"))
    return buckets, pairs, people, spans


def test_rebuild_equals_incremental(org: Any) -> None:
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
