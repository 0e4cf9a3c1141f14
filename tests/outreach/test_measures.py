"""Homes, classes, the measure catalog, indicators, the service log, co-building: the bad inputs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from hypothesis import given
from hypothesis import strategies as st

from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create
from muster.outreach import rates
from muster.outreach import services_service as svc
from muster.outreach.models import IndicatorValue, ServiceMeasure
from muster.reports import registry

AS_OF = datetime(2030, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_measure_cannot_move_to_another_units_catalog(org: Any) -> None:
    xh_cat = svc.category_create(actor=SYSTEM, unit=org.xuhui, name="智能办税")
    xh_cat2 = svc.category_create(actor=SYSTEM, unit=org.xuhui, name="绿色通道")
    hp_cat = svc.category_create(actor=SYSTEM, unit=org.huangpu, name="智能办税")
    m = svc.measure_create(
        actor=SYSTEM,
        category=xh_cat,
        title="智能导税区预审",
        unit=org.xuhui_office,
        started_on=date(2022, 3, 1),
    )
    with pytest.raises(ValidationError) as exc:
        svc.measure_update(actor=SYSTEM, measure=m, category=hp_cat)
    assert "another unit's catalog" in exc.value.message_dict["category"][0]
    assert ServiceMeasure.objects.get().category == xh_cat
    svc.measure_update(actor=SYSTEM, measure=m, category=xh_cat2)
    with pytest.raises(ValidationError) as exc:
        svc.measure_create(
            actor=SYSTEM, category=hp_cat, title="x", unit=org.xuhui, started_on=date(2022, 3, 1)
        )
    assert "catalog of" in exc.value.message_dict["category"][0]
    with pytest.raises(ValidationError):
        svc.category_create(actor=SYSTEM, unit=org.xuhui, name="智能办税")
    assert registry.answer("outreach.measures", org.xuhui, AS_OF) == 1
    assert registry.answer("outreach.measure_categories", org.xuhui, AS_OF) == 1
    svc.measure_update(actor=SYSTEM, measure=m, state="retired")
    assert registry.answer("outreach.measures", org.root, AS_OF) == 0


def test_indicator_value_wrong_unit_or_negative(org: Any) -> None:
    ind = svc.indicator_create(
        actor=SYSTEM,
        unit=org.xuhui,
        name="平均办税申报时长",
        measure_unit="minutes",
        baseline=Decimal("30"),
        baseline_on=date(2021, 12, 31),
    )
    with pytest.raises(ValidationError) as exc:
        svc.indicator_measure(
            actor=SYSTEM,
            indicator=ind,
            measured_on=date(2022, 5, 1),
            value=Decimal("4"),
            measure_unit="hours",
        )
    assert "measured in minutes, not in hours" in exc.value.message_dict["measure_unit"][0]
    with pytest.raises(ValidationError) as exc:
        svc.indicator_measure(
            actor=SYSTEM,
            indicator=ind,
            measured_on=date(2022, 5, 1),
            value=Decimal("-1"),
            measure_unit="minutes",
        )
    assert "negative" in exc.value.message_dict["value"][0]
    with pytest.raises(ValidationError):
        svc.indicator_measure(
            actor=SYSTEM,
            indicator=ind,
            measured_on=date(2021, 1, 1),
            value=Decimal("4"),
            measure_unit="minutes",
        )
    assert not IndicatorValue.objects.exists()
    with pytest.raises(ValidationError):
        svc.indicator_create(
            actor=SYSTEM,
            unit=org.xuhui,
            name="x",
            measure_unit="minutes",
            baseline=0,
            baseline_on=date(2021, 1, 1),
        )


@given(
    st.decimals(min_value=1, max_value=10**6, places=2), st.decimals(min_value=0, max_value=10**6, places=2)
)
def test_change_is_cut_toward_zero(baseline: Decimal, value: Decimal) -> None:
    c = rates.change_percent(baseline, value)
    exact = (value - baseline) * 100 / baseline
    assert abs(c) <= abs(exact) < abs(c) + Decimal("0.1")
    assert rates.change_percent(Decimal(30), Decimal("3.9")) == Decimal("-87.0")


def test_classes_homes_agreements_and_log(org: Any, make_user: Any) -> None:
    home = svc.home_create(actor=SYSTEM, name="纳税人之家", unit=org.xuhui, opened_on=date(2021, 1, 1))
    with pytest.raises(ValidationError) as exc:
        svc.class_record(
            actor=SYSTEM,
            held_on=date(2022, 1, 1),
            topic="政策",
            unit=org.xuhui,
            attendees=-1,
            satisfaction=101,
        )
    assert set(exc.value.message_dict) == {"attendees", "satisfaction"}
    svc.class_record(
        actor=SYSTEM, held_on=date(2022, 1, 1), topic="政策", unit=org.xuhui, attendees=40, home=home
    )
    partner = partner_create(actor=SYSTEM, code="P-1", name="社区", kind="community", unit=org.xuhui)
    with pytest.raises(ValidationError):
        svc.agreement_create(actor=SYSTEM, branch=org.xuhui, partner=partner, start=date(2021, 1, 1))
    svc.agreement_create(actor=SYSTEM, branch=org.xuhui_branch, partner=partner, start=date(2021, 1, 1))
    svc.service_log(
        actor=SYSTEM,
        at=datetime(2022, 4, 20, 19, tzinfo=ZoneInfo("Asia/Shanghai")),
        kind="after_hours",
        unit=org.xuhui_office,
        matter="更正申报",
        staff=org.bob,
        outside_hours=True,
    )
    with pytest.raises(ValidationError):
        svc.service_log(
            actor=SYSTEM, at=AS_OF, kind="x", unit=org.xuhui, matter="", staff=org.bob, outside_hours=True
        )
    for mid, n in (
        ("outreach.taxpayer_homes", 1),
        ("outreach.classes", 1),
        ("outreach.class_attendees", 40),
        ("outreach.after_hours_services", 1),
    ):
        assert registry.answer(mid, org.xuhui, AS_OF) == n
        assert registry.answer(mid, org.huangpu, AS_OF) == 0
    assert registry.answer("outreach.agreements", org.party_root, AS_OF) == 1
    hp = make_user("hp", "manager", org.huangpu)
    with pytest.raises(Http404):
        svc.home_create(actor=hp, name="x", unit=org.xuhui, opened_on=date(2021, 1, 1))


def test_contract_metric_ids_are_registered() -> None:
    ids = {m.id for m in registry.metrics()}
    assert {
        "outreach.visits",
        "outreach.enterprises_visited",
        "outreach.problems",
        "outreach.problems_resolved",
        "outreach.problems_overdue",
        "outreach.classes",
        "outreach.class_attendees",
        "outreach.taxpayer_homes",
        "outreach.measures",
        "outreach.measure_categories",
        "outreach.after_hours_services",
        "outreach.agreements",
    } <= ids
