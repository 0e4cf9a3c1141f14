"""Fixtures for reports: a small random ledger written through the mobilization services."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, EntryKind, ServiceEntry
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Unit
from muster.orgs.services import person_create
from muster.reports.rollup import Rollup, rollup, rollup_straight
from tests.partylife.conftest import party  # noqa: F401  (the party-life fixture, for the party figures)

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """'2022-03-12 08:00' in Shanghai time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Ledger:
    people: list[Person]
    batches: list[Deployment]
    rows: list[ServiceEntry] = field(default_factory=list)


def random_ledger(org: Any, seed: int, *, people: int = 12, batches: int = 8, entries: int = 70) -> Ledger:
    """People in 徐汇 (and its office), 黄浦 and the organ; batches of those units; entries of every kind,
    approved, pending, rejected, corrected (some corrections long after the fact) and reversed."""
    rng = random.Random(seed)
    units = [org.xuhui, org.xuhui_office, org.huangpu, org.organ]
    crowd = [org.alice, org.bob, org.carol, org.dave]
    for i in range(people):
        crowd.append(
            person_create(
                actor=SYSTEM, code=f"RP{seed}{i:03d}", name=f"志愿者{i}", unit=rng.choice(units), gender="F"
            )
        )
    t0 = at("2022-03-08 00:00")
    deps = []
    windows: dict[int, list[tuple[datetime, datetime]]] = {}
    for b in range(batches):
        unit = rng.choice(units)
        start = t0 + timedelta(hours=rng.randrange(0, 24 * 10))
        end = start + timedelta(days=rng.randrange(1, 5))
        free = [
            p
            for p in crowd
            if not any(
                s < end + timedelta(hours=9) and start - timedelta(hours=9) < e
                for s, e in windows.get(p.pk, [])
            )
        ]
        if not free:
            continue
        members = rng.sample(free, min(len(free), rng.randrange(1, 6)))
        for p in members:
            windows.setdefault(p.pk, []).append((start, end))
        deps.append(
            svc.deployment_dispatch(
                actor=SYSTEM, unit=unit, title=f"任务{b}", start=start, end=end, people=members
            ).deployment
        )
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    ledger = Ledger(crowd, deps)
    chains: list[ServiceEntry] = []
    for _ in range(entries):
        d = rng.choice([*deps, None, None])
        if d is not None:
            person = rng.choice(list(d.members.all()))
            lo, hi = d.start, d.end
        else:
            person = rng.choice(crowd)
            lo, hi = t0, t0 + timedelta(days=12)
        span = int((hi - lo).total_seconds() // 60)
        length = rng.choice([30, 90, 240, 480, 600, 720, 1440])
        if span <= length:
            continue
        start = lo + timedelta(minutes=rng.randrange(0, span - length))
        end = start + timedelta(minutes=length)
        if any(s < end and start < e for s, e in busy.get(person.pk, [])):
            continue
        busy.setdefault(person.pk, []).append((start, end))
        row = svc.entry_record(
            actor=SYSTEM,
            person=person,
            kind=EntryKind.DISPATCH if d is not None else EntryKind.COMMUNITY,
            deployment=d,
            start=start,
            end=end,
            approve=rng.random() < 0.75,
        )
        chains.append(row)
    for row in chains:
        head = ServiceEntry.objects.filter(chain=row.chain).order_by("-id").first()
        assert head is not None
        r = rng.random()
        if head.sign == 0 and r < 0.4:
            svc.entry_approve(actor=SYSTEM, entry=head)
        elif head.sign == 0 and r < 0.55:
            svc.entry_reject(actor=SYSTEM, entry=head, reason="不符")
        elif head.sign == 1 and r < 0.3:
            shift = timedelta(minutes=rng.choice([-120, -30, 45, 180]))
            busy_other = [(s, e) for s, e in busy.get(head.person_id, []) if (s, e) != (head.start, head.end)]
            ns, ne = head.start + shift, head.end + shift
            if not any(s < ne and ns < e for s, e in busy_other) and ne <= at("2022-03-30 00:00"):
                svc.entry_correct(actor=SYSTEM, entry=head, start=ns, end=ne, reason="更正时间")
                busy[head.person_id] = [*busy_other, (ns, ne)]
        elif head.sign == 1 and r < 0.38:
            svc.entry_reverse(actor=SYSTEM, entry=head, reason="重复")
    if deps and rng.random() < 0.9:
        svc.deployment_cancel(actor=SYSTEM, deployment=deps[-1], reason="取消")
    if len(deps) > 1:
        d = deps[0]
        svc.deployment_update(actor=SYSTEM, deployment=d, start=d.start - timedelta(hours=5))
    ledger.rows = list(ServiceEntry.objects.order_by("id"))
    return ledger


# ---------------------------------------------------------------- the fast path held to the straight query

# The units that neither hold nor roll up a ledger row are compared at every SAMPLE_EVERY-th cutoff only
# (each at its own offset, so that together they see every cutoff). Odd, so that a unit's sample is not
# all of one kind when the cutoffs alternate kinds (on the hour / half past, a minute before / after).
SAMPLE_EVERY = 3

# rollup_straight's answers by (ledger state, unit, cutoff): the straight query reads the raw ledger and
# the organization only, never the facts, the buckets or MUSTER_ROLLUP_HOUR_DEPTH, so one answer serves
# every test (and every hour depth) that builds the same ledger. Cleared after each module.
ROW_READ = ("kind", "op", "sign", "start", "end", "minutes", "refers_to")
_STATES: dict[tuple[Any, ...], int] = {}
_STRAIGHT: dict[tuple[int, int, datetime], Rollup] = {}


@pytest.fixture(autouse=True, scope="module")
def _forget_straight_answers() -> Any:
    yield
    _STATES.clear()
    _STRAIGHT.clear()


def ledger_state() -> int:
    """A number for everything ``rollup_straight`` reads (the zone, the units, the people's home units,
    the batches and every ledger row with what makes it pending): equal numbers, equal answers."""
    from django.conf import settings

    state = (
        settings.TIME_ZONE,
        tuple(
            Unit.objects.order_by("pk").values_list(
                "pk", "path", "depth", "code", "name", "is_active", "numchild"
            )
        ),
        tuple(Person.objects.order_by("pk").values_list("pk", "unit_id")),
        tuple(Deployment.objects.order_by("pk").values_list("pk", "unit_id", "status", "start")),
        tuple(ServiceEntry.objects.order_by("pk").values_list("pk", "person_id", "deployment_id", *ROW_READ)),
    )
    return _STATES.setdefault(state, len(_STATES))


def straight(unit: Unit, cut: datetime, *, state: int | None = None) -> Rollup:
    """``rollup_straight(unit, cut)``, computed once per ledger state (``state``: ``ledger_state()``,
    taken after the last write)."""
    key = (ledger_state() if state is None else state, unit.pk, cut)
    if key not in _STRAIGHT:
        _STRAIGHT[key] = rollup_straight(unit, cut)
    return _STRAIGHT[key]


def units_with_rows() -> set[int]:
    """The units that hold or roll up a row: those on the path of a batch's dispatching unit or of the
    home unit of a person with a ledger row."""
    paths = set(Deployment.objects.values_list("unit__path", flat=True))
    paths |= set(ServiceEntry.objects.values_list("person__unit__path", flat=True))
    units = Unit.objects.values_list("pk", "path")
    return {pk for pk, path in units if any(p.startswith(path) for p in paths)}


def assert_fast_equals_straight(
    cuts: list[datetime], *, full_at: Collection[datetime] = (), every: int = SAMPLE_EVERY
) -> set[tuple[str, datetime]]:
    """``rollup == rollup_straight`` (rows and total) at every cutoff for every unit that holds or rolls up
    a row and for the first unit without (in path order); the other units without rows at every
    ``every``-th cutoff and at the cutoffs ``full_at``. Returns the (unit code, cutoff) pairs checked."""
    state = ledger_state()
    units = list(Unit.objects.order_by("path"))
    full = units_with_rows()
    empty = [u for u in units if u.pk not in full]
    full |= {u.pk for u in empty[:1]}
    offset = {u.pk: i for i, u in enumerate(empty[1:])}
    checked: set[tuple[str, datetime]] = set()
    for i, cut in enumerate(cuts):
        for unit in units:
            if unit.pk not in full and (i + offset[unit.pk]) % every and cut not in full_at:
                continue
            fast, slow = rollup(unit, cut), straight(unit, cut, state=state)
            assert fast.rows == slow.rows, (unit.code, cut, fast.rows, slow.rows)
            assert fast.total == slow.total, (unit.code, cut, fast.total, slow.total)
            checked.add((unit.code, cut))
    return checked
