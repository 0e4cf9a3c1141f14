"""The point ledger: facts in, append-only entries out; reversals; recompute = same balances; rule
versions; manual entries; statements and leaderboards."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.models import Person
from muster.orgs.services import person_create
from muster.points import kinds
from muster.points.facts import Fact
from muster.points.models import EntryOp, PointEntry, PointFact, PointRule
from muster.points.queries import facts_balances, leaderboard, ledger_balances, statement
from muster.points.services import (
    facts_record,
    facts_retract,
    point_manual_add,
    point_manual_retract,
    point_rule_change,
    points_recompute,
)

D = Decimal


def lesson(
    person: Person, on: date, sid: str | None = None, kind: str = "meeting.party_lesson", q: str = "1"
) -> Fact:
    return Fact(
        person.pk, kind, D(q), on, "test.source", sid or uuid.uuid4().hex, person.party_unit_id, "学习"
    )


def test_recording_is_idempotent_and_changes_reverse_then_recredit(org: Any) -> None:
    alice = org.alice
    f = lesson(alice, date(2024, 3, 1), "s1")
    facts_record(actor=SYSTEM, facts=[f])
    facts_record(actor=SYSTEM, facts=[f])  # the same fact again: nothing new
    assert PointEntry.objects.count() == 1
    facts_record(actor=SYSTEM, facts=[Fact(**{**f.__dict__, "kind": "service.hour", "quantity": D("3")})])
    hours = Fact(**{**f.__dict__, "kind": "service.hour", "quantity": D("5")})
    facts_record(actor=SYSTEM, facts=[hours], reason="corrected hours")
    rows = list(PointEntry.objects.filter(kind="service.hour").values_list("op", "points", "reason"))
    assert rows == [
        ("credit", D("1.50"), ""),
        ("reverse", D("-1.50"), "corrected hours"),
        ("credit", D("2.50"), "corrected hours"),
    ]
    assert facts_retract(actor=SYSTEM, source_kind="test.source", source_ids=["s1"], reason="withdrawn") == 2
    assert ledger_balances(2024) == {alice.pk: D("0.00")}
    assert facts_balances(2024) == {}
    assert AuditEvent.objects.filter(action="points.facts.retracted").count() == 1


def test_the_ledger_is_append_only_and_a_credit_cannot_be_written_twice(org: Any) -> None:
    facts_record(actor=SYSTEM, facts=[lesson(org.alice, date(2024, 3, 1), "s1")])
    e = PointEntry.objects.get()
    with pytest.raises(TypeError):
        e.save()
    with pytest.raises(TypeError):
        e.delete()
    with pytest.raises(TypeError):
        PointEntry.objects.all().update(points=D(100))
    with pytest.raises(IntegrityError), transaction.atomic():
        PointEntry.objects.create(
            fact=e.fact,
            generation=e.generation,
            op=EntryOp.CREDIT,
            person=e.person,
            kind=e.kind,
            occurred_on=e.occurred_on,
            quantity=e.quantity,
            raw_points=e.raw_points,
            points=e.points,
        )


def test_caps_at_the_boundary_and_a_back_dated_fact_reallocates(org: Any) -> None:
    alice = org.alice
    for m in (2, 3, 4, 5):  # four lessons × 3 = 12, the cap exactly
        facts_record(actor=SYSTEM, facts=[lesson(alice, date(2024, m, 1), f"m{m}")])
    assert ledger_balances(2024)[alice.pk] == D("12.00")
    assert not any(e.capped for e in PointEntry.objects.all())
    facts_record(actor=SYSTEM, facts=[lesson(alice, date(2024, 6, 1), "m6")])
    june = PointEntry.objects.get(fact__source_id="m6")
    assert (june.raw_points, june.points, june.capped) == (D("3.00"), D("0.00"), True)
    # a January lesson recorded late takes its place; June is re-valued to 0, May stays
    facts_record(actor=SYSTEM, facts=[lesson(alice, date(2024, 1, 10), "m1")])
    assert ledger_balances(2024)[alice.pk] == D("12.00") == facts_balances(2024)[alice.pk]
    live = {
        e.fact.source_id: e.points for e in PointEntry.objects.filter(op="credit", reversed_by__isnull=True)
    }
    assert live == {"m1": D(3), "m2": D(3), "m3": D(3), "m4": D(3), "m5": D(0), "m6": D(0)}
    assert PointEntry.objects.filter(fact__source_id="m5", op="reverse").get().reason == "Cap reallocated"
    # retracting one gives the room back to the next in order
    facts_retract(actor=SYSTEM, source_kind="test.source", source_ids=["m2"], reason="x")
    live = {
        e.fact.source_id: e.points for e in PointEntry.objects.filter(op="credit", reversed_by__isnull=True)
    }
    assert live == {"m1": D(3), "m3": D(3), "m4": D(3), "m5": D(3), "m6": D(0)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["record", "retract", "move"]),
            st.integers(0, 5),  # which source record
            st.integers(0, 1),  # which person
            st.integers(1, 360),  # day of the year (2024) for record/move
            st.sampled_from(["meeting.party_lesson", "meeting.theme_day", "meeting.absent", "service.hour"]),
            st.integers(1, 6),
        ),
        max_size=25,
    )
)
def test_recompute_from_facts_gives_the_same_balances(org: Any, ops: list[tuple[Any, ...]]) -> None:
    people = [org.alice, org.bob]
    with transaction.atomic():
        for op, sid, who, day, kind, q in ops:
            on = date(2024, 1, 1) + timedelta(days=day)
            if op == "retract":
                facts_retract(actor=SYSTEM, source_kind="prop", source_ids=[str(sid)], reason="r")
            else:
                if op == "move":
                    on = date(2023, 12, 31) + timedelta(days=day)  # may cross into another year
                facts_record(actor=SYSTEM, facts=[Fact(people[who].pk, kind, D(q), on, "prop", str(sid))])
        for year in (2023, 2024, 2025):
            ledger = {k: v for k, v in ledger_balances(year).items() if v}
            assert ledger == {k: v for k, v in facts_balances(year).items() if v}
        before = PointEntry.objects.count()
        points_recompute(actor=SYSTEM, year=2024, reason="check", from_sources=False)
        assert PointEntry.objects.count() == before  # nothing to fix
        transaction.set_rollback(True)


def test_a_rule_change_mid_year_keeps_old_facts_until_an_audited_recompute(org: Any, make_user: Any) -> None:
    alice = org.alice
    facts_record(actor=SYSTEM, facts=[lesson(alice, date(2024, 3, 1), "a", kind="talk")])
    admin = make_user("root", "admin", org.party_root)
    with pytest.raises(NotAllowed):
        point_rule_change(
            actor=make_user("sec", "secretary", org.xuhui_branch),
            kind="talk",
            points="2",
            valid_from=date(2024, 7, 1),
        )
    v2 = point_rule_change(actor=admin, kind="talk", points="2", cap="10", valid_from=date(2024, 7, 1))
    assert v2.version == 2
    assert PointRule.objects.get(kind="talk", version=1).valid_to == date(2024, 7, 1)
    facts_record(actor=SYSTEM, facts=[lesson(alice, date(2024, 8, 1), "b", kind="talk")])
    assert ledger_balances(2024)[alice.pk] == D("3.00")  # 1 (old rule) + 2 (new rule)
    # a retroactive version: the old fact keeps its points …
    point_rule_change(actor=admin, kind="talk", points="4", valid_from=date(2024, 9, 1))
    with pytest.raises(ValidationError, match="must start later"):
        point_rule_change(actor=admin, kind="talk", points="4", valid_from=date(2024, 1, 1))
    local = point_rule_change(
        actor=admin, kind="talk", points="3", valid_from=date(2024, 1, 1), unit=org.xuhui_committee
    )
    assert ledger_balances(2024)[alice.pk] == D("3.00")
    # … until an administrator recomputes, with a reason that is audited
    with pytest.raises(ValidationError, match="reason"):
        points_recompute(actor=admin, year=2024, reason="  ")
    with pytest.raises(NotAllowed):
        points_recompute(actor=make_user("xh", "admin", org.xuhui_committee), year=2024, reason="x")
    res = points_recompute(actor=admin, year=2024, reason="徐汇 talks are worth 3")
    assert (res.rules_repinned, res.reversals, res.credits) == (2, 2, 2)
    assert ledger_balances(2024)[alice.pk] == D("6.00") == facts_balances(2024)[alice.pk]
    assert set(PointFact.objects.values_list("rule_id", flat=True)) == {local.pk}
    ev = AuditEvent.objects.get(action="points.recomputed")
    assert ev.changes["reason"] == "徐汇 talks are worth 3" and ev.actor_name == "root"
    assert PointEntry.objects.filter(batch=res.batch).count() == 4
    again = points_recompute(actor=admin, year=2024, reason="again")
    assert (again.reversals, again.credits) == (0, 0)


def test_manual_entries_need_a_reason_and_the_role(org: Any, make_user: Any) -> None:
    sec = make_user("sec", "secretary", org.xuhui_branch)
    with pytest.raises(ValidationError) as exc:
        point_manual_add(actor=sec, person=org.alice, points="0", occurred_on=date(2024, 5, 1), reason="")
    assert set(exc.value.message_dict) == {"points", "reason"}
    with pytest.raises(NotAllowed):
        point_manual_add(
            actor=make_user("v", "viewer", org.xuhui_branch),
            person=org.alice,
            points="5",
            occurred_on=date(2024, 5, 1),
            reason="x",
        )
    with pytest.raises(NotAllowed):  # carol is not in the secretary's branch
        point_manual_add(actor=sec, person=org.carol, points="5", occurred_on=date(2024, 5, 1), reason="x")
    fact = point_manual_add(
        actor=sec, person=org.alice, points="-4.5", occurred_on=date(2024, 5, 1), reason="无故缺席志愿服务"
    )
    e = PointEntry.objects.get(fact=fact)
    assert (e.points, e.actor_name, e.reason) == (D("-4.50"), "sec", "无故缺席志愿服务")
    point_manual_retract(actor=sec, fact=fact, reason="误录")
    assert ledger_balances(2024)[org.alice.pk] == D("0.00")


def test_statement_running_balance_rank_and_leaderboards(org: Any, make_user: Any) -> None:
    a = SYSTEM
    b = org.xuhui_branch
    m2 = person_create(
        actor=a, code="XH0090", name="党员乙", unit=org.xuhui_office, party_unit=b, political_status="member"
    )
    m3 = person_create(
        actor=a, code="XH0091", name="党员丙", unit=org.xuhui_office, party_unit=b, political_status="member"
    )
    facts_record(
        actor=a,
        facts=[
            lesson(org.alice, date(2024, 3, 1)),
            lesson(org.alice, date(2024, 4, 1)),
            lesson(org.alice, date(2024, 4, 2), kind="meeting.absent"),
            lesson(m2, date(2024, 3, 1)),
            lesson(m2, date(2025, 1, 5)),
        ],
    )
    st_ = statement(make_user("sec", "secretary", b), org.alice, 2024)
    assert [ln.balance for ln in st_.lines] == [D(3), D(6), D(4)]
    assert (st_.total, st_.rank, st_.branch_size) == (D(4), 1, 3)
    assert statement(a, m3, 2024).rank == 3 and statement(a, m2, 2024).rank == 2
    with pytest.raises(Http404):
        statement(make_user("hp", "secretary", org.huangpu_committee), org.alice, 2024)
    board = leaderboard(a, org.party_root, start=date(2024, 1, 1), end=date(2025, 1, 1), by="person")
    assert [(r.rank, r.label, r.points) for r in board] == [(1, str(org.alice), D(4)), (2, str(m2), D(3))]
    by_branch = leaderboard(a, org.party_root, start=date(2024, 1, 1), end=date(2026, 1, 1), by="branch")
    assert [(r.label, r.points, r.people) for r in by_branch] == [(b.name, D(10), 2)]
    by_unit = leaderboard(a, org.xuhui, start=date(2024, 1, 1), end=date(2025, 1, 1), by="unit")
    assert [(r.label, r.points) for r in by_unit] == [(org.xuhui.name, D(4)), (org.xuhui_office.name, D(3))]
    assert leaderboard(a, org.huangpu_committee, start=date(2024, 1, 1), end=date(2025, 1, 1)) == []
    with pytest.raises(Http404):
        leaderboard(
            make_user("hp2", "secretary", org.huangpu_committee),
            org.xuhui_committee,
            start=date(2024, 1, 1),
            end=date(2025, 1, 1),
        )


def test_points_metrics(org: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from muster.points import metrics

    facts_record(
        actor=SYSTEM,
        facts=[
            lesson(org.alice, date(2024, 3, 18)),
            lesson(org.alice, date(2024, 3, 19)),
            lesson(org.alice, date(2023, 12, 1)),
        ],
    )
    cutoff = datetime(2024, 3, 19, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert metrics.metric_points_total(org.xuhui_committee, cutoff) == D(3)
    assert metrics.metric_points_people(org.xuhui_committee, cutoff) == 1
    assert metrics.metric_points_total(org.huangpu_committee, cutoff) == D(0)
    assert metrics.metric_points_total(org.xuhui, cutoff) == D(3)  # by the person's administrative unit
    assert kinds.label("meeting.party_lesson") == "Attended a party lesson"
