"""The rollup stays exact when the organization changes under the ledger.

A unit moved with its subtree (service ``unit_move``, the API, the roster import) and a person's home
unit changed (``person_update``, the API, the web form, the roster import): after each change the fast
path equals the straight GROUP BY over the raw ledger for every unit, every row and every figure at
several cutoffs, and the maintained facts and buckets equal what ``facts.rebuild()`` computes from
scratch. Community service counts under the person's current home unit.

The comparison is ``conftest.assert_fast_equals_straight``: every unit that holds or rolls up a row
(found again after each change: a move changes which units do) and one unit without rows at every
cutoff, the other units without rows at every third cutoff; the straight query's answers are computed
once per ledger state (the hour-depth variants of one ledger, and a move and its move back, share them).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, EntryKind, ServiceEntry
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Unit
from muster.orgs.people_io import people_import
from muster.orgs.services import person_update, unit_move
from muster.reports import facts
from muster.reports.models import (
    BatchFact,
    Bucket,
    CommunityFact,
    HourBucket,
    PairFact,
    PendingFact,
    PersonFact,
    SpanFact,
)
from muster.reports.rollup import rollup
from tests.tabular.helpers import xlsx

from .conftest import Ledger, assert_fast_equals_straight, at, random_ledger

END = at("2022-03-30 00:00")
FIXED_CUTOFFS = [
    at("2022-03-08 00:00"),
    at("2022-03-11 13:37"),
    at("2022-03-14 00:00"),
    at("2022-03-17 06:15"),
    END,
]


def _state() -> tuple[Any, ...]:
    """Every maintained fact with its attribution (unit and path) and every non-zero bucket."""
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
    return (
        buckets,
        set(BatchFact.objects.values_list("deployment_id", "unit_id", "path", "start_m")),
        set(PairFact.objects.values_list("deployment_id", "person_id", "unit_id", "path", "first_m")),
        set(PersonFact.objects.values_list("person_id", "node_id", "own", "first_m")),
        set(CommunityFact.objects.values_list("person_id", "unit_id", "path", "first_m")),
        set(
            SpanFact.objects.values_list(
                "row_id", "unit_id", "path", "community", "sign", "start_m", "end_m", "day0", "min0", "min1"
            )
        ),
        set(PendingFact.objects.values_list("row_id", "unit_id", "path", "community", "start_m", "minutes")),
    )


def _cutoffs(ledger: Ledger | None, n: int, seed: int) -> list[datetime]:
    """The fixed cutoffs, plus cutoffs in the middle and at the ends of recorded shifts."""
    rng = random.Random(seed)
    out = list(FIXED_CUTOFFS)
    rows = list(ServiceEntry.objects.order_by("id")) if ledger is None else ledger.rows
    for _ in range(n):
        r = rng.choice(rows)
        out.append(r.start + (r.end - r.start) / 2 if rng.random() < 0.6 else rng.choice([r.start, r.end]))
    return out


def assert_exact(cutoffs: list[datetime], *, rebuild: bool = True) -> int:
    """Fast == straight (rows and total) at the cutoffs (``assert_fast_equals_straight``), then the
    maintained facts == a rebuild from scratch."""
    checked = len(assert_fast_equals_straight(cutoffs))
    if rebuild:
        before = _state()
        facts.rebuild()
        assert _state() == before, "incremental maintenance differs from a rebuild"
    return checked


def by_code(unit: Unit, cut: datetime) -> dict[str, Any]:
    """A rollup's rows by code (row order follows paths, which moves change) and its total."""
    r = rollup(unit, cut)
    return {"total": r.total, **{row.code + ("/own" if row.own else ""): row.figures for row in r.rows}}


def _guaranteed_service(org: Any) -> None:
    """A batch of 徐汇's office and community service of 徐汇 people (live, corrected, pending)."""
    d = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui_office,
        title="核酸检测",
        start=at("2022-03-20 07:00"),
        end=at("2022-03-22 20:00"),
        people=[org.bob, org.carol],
    ).deployment
    svc.entry_record(
        actor=SYSTEM,
        person=org.carol,
        kind=EntryKind.DISPATCH,
        deployment=d,
        start=at("2022-03-20 22:00"),
        end=at("2022-03-21 06:00"),
        approve=True,
    )
    row = svc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2022-03-23 20:00"),
        end=at("2022-03-24 02:00"),
        approve=True,
    )
    svc.entry_correct(
        actor=SYSTEM, entry=row, start=at("2022-03-23 21:00"), end=at("2022-03-24 03:30"), reason="更正"
    )
    svc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2022-03-25 08:00"),
        end=at("2022-03-25 12:00"),
        approve=False,
    )


# ---------------------------------------------------------------- unit moves


@pytest.mark.parametrize("hour_depth", [1, 2, 3])
def test_move_a_district_under_another_parent_and_back(org: Any, settings: Any, hour_depth: int) -> None:
    """Hour buckets down to depth 1, 2 or 3: the move takes 徐汇 (depth 2, its office 3) one level down
    and back, so its units gain or lose hour buckets on the way."""
    settings.MUSTER_ROLLUP_HOUR_DEPTH = hour_depth
    ledger = random_ledger(org, 21)
    _guaranteed_service(org)
    cuts = _cutoffs(ledger, 8, 21)
    assert_exact(cuts)
    xh = by_code(org.xuhui, END)["total"]
    assert xh.batches > 0 and xh.person_times > 0 and xh.community_persons > 0
    hp_before = by_code(org.huangpu, END)["total"]
    root_before = {c: by_code(org.root, c) for c in cuts}

    unit_move(actor=SYSTEM, unit=org.xuhui, new_parent=org.huangpu)
    assert_exact(cuts)
    hp_after = by_code(org.huangpu, END)
    assert hp_after["XH"] == xh
    assert hp_after["total"].batches == hp_before.batches + xh.batches
    assert hp_after["total"].minutes == hp_before.minutes + xh.minutes
    assert hp_after["total"].community_minutes == hp_before.community_minutes + xh.community_minutes
    assert "XH" not in by_code(org.root, END)

    unit_move(actor=SYSTEM, unit=org.xuhui, new_parent=org.root)
    assert_exact(cuts)
    assert by_code(org.huangpu, END)["total"] == hp_before
    assert {c: by_code(org.root, c) for c in cuts} == root_before


@pytest.mark.parametrize("hour_depth", [2, 3])
def test_move_a_leaf_office_through_the_api(
    org: Any, make_user: Any, login: Any, settings: Any, hour_depth: int
) -> None:
    settings.MUSTER_ROLLUP_HOUR_DEPTH = hour_depth
    ledger = random_ledger(org, 22)
    _guaranteed_service(org)
    cuts = _cutoffs(ledger, 6, 22)
    office = by_code(org.xuhui_office, END)["total"]
    assert office.batches > 0 and office.minutes > 0
    client = login(make_user("boss", is_superuser=True))
    r = client.post("/api/v1/units/XH-S1/move", {"parent": "HP"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert_exact(cuts)
    assert by_code(org.huangpu, END)["XH-S1"] == office
    assert "XH-S1" not in by_code(org.xuhui, END)


def test_moves_of_the_roster_import_and_a_person_rehomed_in_the_same_file(org: Any) -> None:
    ledger = random_ledger(org, 23)
    _guaranteed_service(org)
    cuts = _cutoffs(ledger, 6, 23)
    alice_before = by_code(org.root, END)
    data = xlsx(
        {
            "units": [
                ["code", "name", "parent", "type"],
                ["XH-S1", "徐汇区税务局第一税务所", "HP", "tax_office"],
            ],
            "people": [["staff number", "name", "unit code"], ["XH0001", "张丽", "HP"]],
        }
    )
    result = people_import(actor=SYSTEM, filename="roster.xlsx", data=data)
    assert (result.units_moved, result.people_updated) == (1, 1)
    assert Person.objects.get(code="XH0001").unit_id == org.huangpu.pk
    assert_exact(cuts)
    after = by_code(org.root, END)
    assert after["total"] == alice_before["total"]  # nothing is lost or counted twice at the top
    assert after["HP"].community_persons > alice_before["HP"].community_persons


# ---------------------------------------------------------------- home units


def test_person_update_moves_community_service_to_the_new_home_unit(org: Any) -> None:
    ledger = random_ledger(org, 24)
    _guaranteed_service(org)
    cuts = _cutoffs(ledger, 8, 24)
    assert_exact(cuts, rebuild=False)
    before = by_code(org.root, END)
    person_update(actor=SYSTEM, person=org.alice, unit=org.huangpu)
    assert_exact(cuts)
    after = by_code(org.root, END)
    assert after["total"] == before["total"]
    assert after["HP"].community_persons == before["HP"].community_persons + 1
    waiting = PendingFact.objects.filter(community=True, row__person=org.alice).count()
    assert waiting >= 1
    assert after["HP"].pending_entries == before["HP"].pending_entries + waiting
    # Later rows of the same entries (approval, correction, reversal) follow the new attribution.
    head = ServiceEntry.objects.filter(person=org.alice, kind=EntryKind.COMMUNITY).order_by("-id").first()
    assert head is not None and head.sign == 0
    svc.entry_approve(actor=SYSTEM, entry=head)
    live = ServiceEntry.objects.filter(person=org.alice, kind=EntryKind.COMMUNITY, sign=1).order_by("-id")
    svc.entry_correct(
        actor=SYSTEM,
        entry=live[0],
        start=live[0].start,
        end=live[0].end + timedelta(minutes=30),
        reason="补录",
    )
    svc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2022-03-26 08:00"),
        end=at("2022-03-26 09:00"),
        approve=True,
    )
    assert_exact(cuts)
    person_update(actor=SYSTEM, person=org.alice, unit=org.xuhui_office)
    assert_exact(cuts)


def test_home_unit_changed_through_the_api_and_the_web_form(org: Any, make_user: Any, login: Any) -> None:
    ledger = random_ledger(org, 25)
    _guaranteed_service(org)
    cuts = _cutoffs(ledger, 6, 25)
    client = login(make_user("boss", is_superuser=True))
    r = client.patch("/api/v1/people/XH0001", {"unit": "SH-JG"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["unit"]["code"] == "SH-JG"
    assert_exact(cuts)
    assert by_code(org.root, END)["SH-JG"].community_persons >= 1

    alice = Person.objects.get(code="XH0001")
    form = {
        "code": alice.code,
        "name": alice.name,
        "gender": alice.gender,
        "birth_date": "",
        "unit": org.xuhui_office.pk,
        "party_unit": alice.party_unit_id or "",
        "political_status": alice.political_status,
        "employment_status": alice.employment_status,
        "phone": alice.phone,
        "id_number": alice.id_number,
        "tags": "青年",
    }
    r = client.post(reverse("web:person_edit", args=[alice.pk]), form)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Person.objects.get(pk=alice.pk).unit_id == org.xuhui_office.pk
    assert_exact(cuts)


def test_bulk_rehoming_with_no_community_service_writes_no_facts(org: Any) -> None:
    """The roster import's path for people without community service: nothing to re-attribute."""
    random_ledger(org, 26, entries=0)
    before = _state()
    data = xlsx(
        {
            "people": [
                ["staff number", "name", "unit code"],
                ["HP0001", "李娜", "XH"],
                ["JG0001", "赵伟", "HP"],
            ]
        }
    )
    assert people_import(actor=SYSTEM, filename="roster.xlsx", data=data).people_updated == 2
    assert _state() == before


def test_a_failed_move_leaves_the_facts_untouched(org: Any) -> None:
    random_ledger(org, 27)
    before = _state()
    with pytest.raises(ValidationError):
        unit_move(actor=SYSTEM, unit=org.xuhui, new_parent=org.xuhui_office)
    assert _state() == before


# ---------------------------------------------------------------- bulk writes of the ledger


def test_ledger_import_brings_its_batches_and_rows_into_the_rollup(org: Any) -> None:
    from muster.mobilize.ledger_io import ledger_import
    from tests.mobilize.ledger_io.conftest import xlsx as ledger_xlsx

    ledger = random_ledger(org, 28)
    deployments = [
        ["XH-2022-41", "XH", "协助核酸检测", "宛平社区", "2022-04-02 06:00", "2022-04-03 06:00"],
        ["XH-2022-42", "XH-S1", "卡口值守", "漕河泾", "2022-04-04 08:00", "2022-04-05 08:00"],
    ]
    service = [
        ["XH0001", "XH-2022-41", "2022-04-02 08:00", "2022-04-02 24:00", "派出", ""],
        ["XH0002", "XH-2022-41", "2022-04-02 08:00", "2022-04-02 16:00", "派出", "已审核"],
        ["XH0002", "XH-2022-42", "2022-04-04 08:00", "2022-04-04 20:30", "派出", "待审核"],
        ["XH0001", "", "2022-04-06 09:00", "2022-04-06 12:00", "居家社区服务", ""],
        ["HP0001", "", "2022-04-06 21:00", "2022-04-07 06:00", "居家社区服务", "已审核"],
    ]
    last = at("2022-04-08 00:00")
    cuts = [*_cutoffs(ledger, 4, 28), at("2022-04-02 12:00"), at("2022-04-06 23:30"), last]
    before = by_code(org.root, last)
    result = ledger_import(actor=SYSTEM, filename="台账.xlsx", data=ledger_xlsx(deployments, service))
    assert (result.deployments_created, result.entries_created) == (2, 5)
    assert_exact(cuts)
    after = by_code(org.root, last)
    assert after["XH"].batches == before["XH"].batches + 2
    assert after["XH"].minutes == before["XH"].minutes + 960 + 480  # the pending row is shown apart
    assert after["XH"].pending_entries == before["XH"].pending_entries + 1
    assert after["XH"].community_minutes == before["XH"].community_minutes + 180
    assert after["HP"].community_minutes == before["HP"].community_minutes + 540


# ---------------------------------------------------------------- a property test


PEOPLE = ["alice", "bob", "carol", "dave"]
UNITS = ["xuhui", "xuhui_office", "huangpu", "organ"]
PARENTS = ["root", "xuhui", "xuhui_office", "huangpu", "organ"]

step = st.one_of(
    st.tuples(
        st.just("record"),
        st.sampled_from(PEOPLE),
        st.booleans(),  # dispatch (in the batch) or community service
        st.integers(0, 9 * 24 * 4),  # start, in quarters of an hour from 2022-03-08
        st.sampled_from([30, 240, 600, 1440]),
        st.booleans(),  # approved at once
    ),
    st.tuples(st.just("correct"), st.integers(0, 50), st.sampled_from([-90, 45, 600])),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("approve"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.sampled_from(UNITS), st.sampled_from(PARENTS)),
    st.tuples(st.just("rehome"), st.sampled_from(PEOPLE), st.sampled_from(UNITS)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(step, min_size=3, max_size=14), cut_minutes=st.lists(st.integers(0, 14 * 1440), max_size=3)
)
def test_property_ledger_writes_corrections_moves_and_rehoming(
    org: Any, steps: list[tuple[Any, ...]], cut_minutes: list[int]
) -> None:
    with transaction.atomic():
        t0 = at("2022-03-08 00:00")
        batches = {
            u: svc.deployment_dispatch(
                actor=SYSTEM,
                unit=getattr(org, u),
                title=f"任务{u}",
                start=t0 + timedelta(hours=start),
                end=t0 + timedelta(hours=end),
                people=[getattr(org, p) for p in PEOPLE],
            ).deployment
            for u, start, end in (("xuhui_office", 0, 5 * 24), ("huangpu", 5 * 24 + 12, 11 * 24))
        }
        heads: list[ServiceEntry] = []
        for s in steps:
            try:
                if s[0] == "record":
                    _tag, who, dispatch, q, length, approve = s
                    person = Person.objects.get(pk=getattr(org, who).pk)
                    start = t0 + timedelta(minutes=15 * q)
                    dep: Deployment | None = (
                        batches["huangpu" if q >= 5 * 24 * 4 else "xuhui_office"] if dispatch else None
                    )
                    heads.append(
                        svc.entry_record(
                            actor=SYSTEM,
                            person=person,
                            kind=EntryKind.DISPATCH if dispatch else EntryKind.COMMUNITY,
                            deployment=dep,
                            start=start,
                            end=start + timedelta(minutes=length),
                            approve=approve,
                        )
                    )
                elif s[0] in ("correct", "reverse", "approve") and heads:
                    i = s[1] % len(heads)
                    head = ServiceEntry.objects.filter(chain=heads[i].chain).order_by("-id").first()
                    assert head is not None
                    if s[0] == "correct":
                        shift = timedelta(minutes=s[2])
                        heads[i] = svc.entry_correct(
                            actor=SYSTEM,
                            entry=head,
                            start=head.start + shift,
                            end=head.end + shift,
                            reason="更正",
                        )
                    elif s[0] == "reverse":
                        heads[i] = svc.entry_reverse(actor=SYSTEM, entry=head, reason="重复")
                    else:
                        heads[i] = svc.entry_approve(actor=SYSTEM, entry=head)
                elif s[0] == "move":
                    unit_move(
                        actor=SYSTEM,
                        unit=getattr(org, s[1]),
                        new_parent=Unit.objects.get(pk=getattr(org, s[2]).pk),
                    )
                elif s[0] == "rehome":
                    person_update(
                        actor=SYSTEM,
                        person=getattr(org, s[1]),
                        unit=Unit.objects.get(pk=getattr(org, s[2]).pk),
                    )
            except ValidationError:
                pass  # refused (overlap, outside the batch, a move under itself…): nothing written
        cuts = [at("2022-03-12 00:00"), END] + [t0 + timedelta(minutes=m) for m in cut_minutes]
        assert_exact(cuts)
        transaction.set_rollback(True)
