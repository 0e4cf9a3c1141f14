"""The care figures' day buckets equal a straight count of the records for random histories (hypothesis):
written through the services in any order (backdated contacts, answers that supersede, tags on and off,
deaths, moves, help requests, deliveries, payments, donations, a frequency change), read at any cutoff
(midnights, mid-day, future) for every level of the tree; and ``rebuild()`` gives the same buckets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.care import facts, metrics, queries
from muster.care import services as care
from muster.care.models import DayFact, DeliveryLine, HourFact, RiskTagKind
from muster.orgs.access import SYSTEM
from muster.reports import registry

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=SH)
START = NOW - timedelta(days=12)

pytestmark = pytest.mark.usefixtures("fixed_clock")

moment = st.integers(0, 12 * 24 * 60 - 1).map(lambda m: START + timedelta(minutes=m))
who = st.integers(0, 3)
op = st.one_of(
    st.tuples(st.just("contact"), who, moment, st.sampled_from(["ok", "unreached", "help"])),
    st.tuples(
        st.just("answer"),
        who,
        moment,
        st.sampled_from(["独居", "与家人同住"]),
        st.sampled_from(["有", "无"]),
    ),
    st.tuples(st.just("tag"), who, st.sampled_from(["living_alone", "watch"]), st.booleans()),
    st.tuples(st.just("status"), who, st.sampled_from(["deceased", "moved", "active"]), st.integers(0, 11)),
    st.tuples(st.just("help"), who, moment, st.sampled_from(["resolved", "cancelled", "assigned", ""])),
    st.tuples(st.just("delivery"), who, moment, st.sampled_from(["delivered", "confirmed", "failed", ""])),
    st.tuples(st.just("payment"), who, moment, st.booleans()),
    st.tuples(st.just("donation"), moment, st.integers(1, 5000)),
    st.tuples(st.just("frequency"), st.integers(1, 9)),
)
cutoff = st.one_of(
    moment,
    st.integers(0, 16).map(
        lambda d: datetime.combine(START.date() + timedelta(days=d), datetime.min.time(), SH)
    ),
)

STRAIGHT = {
    "subjects": queries.subjects_count,
    "surveyed": queries.surveyed_count,
    "deceased": queries.deceased_count,
    "high": queries.high_risk_count,
    "contacts": queries.contacts_count,
    "overdue": queries.overdue_count,
    "help_raised": queries.help_raised,
    "help_resolved": queries.help_resolved,
    "payments": lambda u, t: queries.payments(u, t).count(),
    "tag:living_alone": lambda u, t: queries.tag_count(u, t, "living_alone"),
    "tag:advanced_age": lambda u, t: queries.tag_count(u, t, "advanced_age"),
    "tag:watch": lambda u, t: queries.tag_count(u, t, "watch"),
    "deliveries:supplies": lambda u, t: queries.deliveries_count(u, t, "supplies"),
}


def _play(org: Any, ops: list[tuple[Any, ...]], births: list[int]) -> None:
    units = [org.xuhui, org.xuhui_office, org.xuhui_office, org.huangpu]
    subjects = [
        care.subject_create(
            actor=SYSTEM,
            unit=units[i],
            code=f"P{i}",
            name=f"老同志{i}",
            birth_date=date(births[i], 6, 1),
            at=START + timedelta(hours=7 * i),
        )
        for i in range(4)
    ]
    rnd = care.round_open(actor=SYSTEM, unit=org.root, name="排摸", at=START)
    for o in ops:
        kind = o[0]
        try:
            with transaction.atomic():
                if kind == "contact":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    care.contact_record(actor=SYSTEM, subject=s, channel="phone", outcome=o[3], at=o[2])
                elif kind == "answer":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    care.survey_answer_record(
                        actor=SYSTEM,
                        subject=s,
                        round=rnd,
                        answers={"living": o[3], "serious_illness": o[4]},
                        channel="phone",
                        at=o[2],
                    )
                elif kind == "tag":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    care.risk_tag_set(actor=SYSTEM, subject=s, tag=o[2], on=o[3], reason="看望")
                elif kind == "status":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    care.subject_status_set(
                        actor=SYSTEM, subject=s, status=o[2], on=START.date() + timedelta(days=o[3])
                    )
                elif kind == "help":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    r = care.help_request_raise(
                        actor=SYSTEM,
                        unit=s.unit,
                        subject=s,
                        source="hotline",
                        category="food",
                        urgency="high",
                        description="缺菜",
                        at=o[2],
                    )
                    if o[3]:
                        care.help_request_step(
                            actor=SYSTEM,
                            request=r,
                            status=o[3],
                            assignee=org.bob,
                            at=min(o[2] + timedelta(hours=5), NOW),
                        )
                elif kind == "delivery":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    run = care.delivery_run_create(
                        actor=SYSTEM,
                        unit=s.unit,
                        name="蔬菜包",
                        kind="supplies",
                        lines=[care.LineIn(s, "蔬菜包", 1)],
                        at=o[2],
                        delivered_at=o[2] if o[3] == "" else None,
                    )
                    if o[3]:
                        line = DeliveryLine.objects.get(run=run)
                        care.delivery_line_mark(
                            actor=SYSTEM, line=line, status=o[3], reason="不在家", at=o[2]
                        )
                elif kind == "payment":
                    s = subjects[o[1]]
                    s.refresh_from_db()
                    c = care.consolation_record(
                        actor=SYSTEM, subject=s, kind="payment", amount="500", channel="微信", at=o[2]
                    )
                    if o[3]:
                        care.consolation_approve(actor=org_second(), consolation=c, at=o[2])
                elif kind == "donation":
                    care.donation_record(
                        actor=SYSTEM,
                        unit=org.xuhui_office,
                        donor="爱心人士",
                        kind="money",
                        value=o[2],
                        beneficiary="社区",
                        at=o[1],
                    )
                elif kind == "frequency":
                    care.frequency_set(actor=SYSTEM, level="high", every_days=o[1])
        except ValidationError:
            pass


def org_second() -> Any:
    from muster.orgs.access import SystemActor

    return SystemActor(display_name="第二审批人")


# Every care metric by its straight definition (``muster.care.queries``).
STRAIGHT_METRICS: dict[str, Callable[[Any, datetime], Any]] = {
    "care.subjects": queries.subjects_count,
    "care.surveyed": queries.surveyed_count,
    "care.coverage": lambda u, t: (
        (Decimal(100) * queries.surveyed_count(u, t) / n).quantize(Decimal("0.1"))
        if (n := queries.subjects_count(u, t))
        else Decimal("0.0")
    ),
    "care.high_risk": queries.high_risk_count,
    "care.tag_advanced_age": STRAIGHT["tag:advanced_age"],
    "care.tag_living_alone": STRAIGHT["tag:living_alone"],
    "care.tag_serious_illness": lambda u, t: queries.tag_count(u, t, "serious_illness"),
    "care.contacts": queries.contacts_count,
    "care.contacts_overdue": queries.overdue_count,
    "care.help_requests": queries.help_raised,
    "care.help_resolved": queries.help_resolved,
    "care.help_open": queries.help_open,
    "care.help_median_hours": queries.help_median_hours,
    "care.deliveries": lambda u, t: queries.deliveries_count(u, t),
    "care.deliveries_supplies": lambda u, t: queries.deliveries_count(u, t, "supplies"),
    "care.deliveries_medicine": lambda u, t: queries.deliveries_count(u, t, "medicine"),
    "care.deceased": queries.deceased_count,
    "care.condolence_payments": lambda u, t: queries.payments(u, t).count(),
    "care.donations_value": queries.donations_value,
    "care.retirees_serving": lambda u, t: len(queries.serving_people(u, t)),
}


def _check(org: Any, cuts: list[datetime]) -> None:
    for unit in (org.root, org.xuhui, org.xuhui_office, org.huangpu):
        for t in cuts:
            for figure, straight in STRAIGHT.items():
                assert facts.count(unit, t, figure) == straight(unit, t), (figure, unit.code, t)
            assert facts.value(unit, t, "donations") == queries.donations_value(unit, t), (unit.code, t)
            assert registry.get("care.help_open").answer(unit, t) == queries.help_open(unit, t)
            # one metrics object (the contract, a section table): every figure from one grouped read
            with registry.shared_totals():
                got = {m.id: m.answer(unit, t) for m in metrics.METRICS}
            assert set(got) == set(STRAIGHT_METRICS)
            for mid, straight in STRAIGHT_METRICS.items():
                assert got[mid] == straight(unit, t), (mid, unit.code, t)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(op, max_size=14),
    births=st.lists(st.integers(1930, 1990), min_size=4, max_size=4),
    cuts=st.lists(cutoff, min_size=1, max_size=4),
)
def test_buckets_equal_a_straight_count(
    org: Any, ops: list[tuple[Any, ...]], births: list[int], cuts: list[datetime]
) -> None:
    RiskTagKind.objects.get_or_create(code="watch", defaults={"label": "关注", "high_risk": False})
    with transaction.atomic():
        _play(org, ops, births)
        _check(org, [*cuts, NOW + timedelta(days=3), NOW + timedelta(days=30)])
        before = _buckets()
        facts.rebuild()
        assert _buckets() == before
        transaction.set_rollback(True)


def _buckets() -> tuple[list[Any], list[Any]]:
    days = sorted(DayFact.objects.exclude(value=0).values_list("unit_id", "figure", "day", "value"))
    hours = sorted(HourFact.objects.exclude(value=0).values_list("unit_id", "figure", "hour", "value"))
    return days, hours


def test_metrics_read_the_buckets_not_the_records(org: Any, django_assert_max_num_queries: Any) -> None:
    _play(org, [("contact", 1, NOW - timedelta(days=1), "ok")], [1940, 1950, 1960, 1970])
    ids = [m.id for m in metrics.METRICS if m.id not in ("care.retirees_serving", "care.help_median_hours")]
    # three small reads per figure (the days before, the hours of the cutoff's day, the marks of its hour),
    # whatever the ledger's size
    with django_assert_max_num_queries(3 * 2 * len(ids) + 2):
        got = {mid: registry.get(mid).answer(org.root, NOW) for mid in ids}
    assert got["care.subjects"] == 4
    assert got["care.contacts"] == 1
    assert got["care.donations_value"] == Decimal("0.00")


def test_one_metrics_object_reads_the_buckets_once(org: Any, django_assert_max_num_queries: Any) -> None:
    _play(org, [("contact", 1, NOW - timedelta(days=1), "ok")], [1940, 1950, 1960, 1970])
    before = {m.id: m.answer(org.root, NOW) for m in metrics.METRICS}
    # the tag names, the days before, the hours of the cutoff's day, the marks of its hour; the median
    # hours; the retirees serving (their subjects, then their service): whatever the number of figures
    with django_assert_max_num_queries(7), registry.shared_totals():
        got = {m.id: m.answer(org.root, NOW) for m in metrics.METRICS}
        assert metrics.briefing(org.root, NOW) is not None
    assert got == before
    assert got["care.subjects"] == 4


def test_facts_rebuild_command(org: Any, make_user: Any) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from muster.care.models import FactMark

    _play(org, [("contact", 0, NOW - timedelta(days=2), "ok")], [1940, 1950, 1960, 1970])
    before = _buckets()
    FactMark.objects.all().delete()
    DayFact.objects.all().delete()
    HourFact.objects.all().delete()
    make_user("xh_manager", "manager", org.xuhui)
    with pytest.raises(CommandError):
        call_command("care", "--as", "xh_manager", "facts")
    assert not DayFact.objects.exists()
    out = io.StringIO()
    call_command("care", "facts", stdout=out)
    assert _buckets() == before
    assert str(len(before[0])) in out.getvalue()


def test_bulk_created_subjects_have_their_facts(org: Any) -> None:
    rows = [
        {
            "unit": org.xuhui_office if i % 2 else org.huangpu,
            "code": f"B{i}",
            "name": f"居民{i}",
            "birth_date": date(1935 + i * 7, 3, 1),
        }
        for i in range(6)
    ]
    care.subjects_create_bulk(actor=SYSTEM, rows=rows, at=NOW - timedelta(days=3))
    _check(org, [NOW - timedelta(days=3), NOW, NOW + timedelta(days=2)])
    before = _buckets()
    facts.rebuild()
    assert _buckets() == before
    assert (
        facts.count(org.root, NOW, "tag:advanced_age") == queries.tag_count(org.root, NOW, "advanced_age") > 0
    )


def test_bulk_creation_writes_set_wise(org: Any) -> None:
    """An import's subjects, tags, marks, buckets and audit events are written with a number of statements
    that does not grow with the number of subjects (the buckets: one increment per unit, figure and day
    or hour)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from muster.audit.models import AuditEvent

    def rows(prefix: str, n: int) -> list[dict[str, Any]]:
        return [
            {
                "unit": org.xuhui_office if i % 2 else org.huangpu,
                "code": f"{prefix}{i}",
                "name": f"居民{i}",
                "birth_date": date(1936 if i % 4 < 2 else 1960, 3, 1),
                "phone": f"139{i:08d}",
                "liaison": org.bob if i % 2 else None,
            }
            for i in range(n)
        ]

    with CaptureQueriesContext(connection) as few:
        care.subjects_create_bulk(actor=SYSTEM, rows=rows("F", 8), at=NOW - timedelta(days=3))
    with CaptureQueriesContext(connection) as many:
        made = care.subjects_create_bulk(actor=SYSTEM, rows=rows("M", 80), at=NOW - timedelta(days=3))
    assert len(many) == len(few)
    assert len(made) == 80 and made[0].code == "M0" and made[0].unit == org.huangpu and made[0].pk
    assert made[1].phone == "13900000001" and made[1].liaison == org.bob
    assert AuditEvent.objects.filter(action="care.subject.created").count() == 88
    _check(org, [NOW - timedelta(days=3), NOW, NOW + timedelta(days=2)])
    before = _buckets()
    facts.rebuild()
    assert _buckets() == before
