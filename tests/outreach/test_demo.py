"""The outreach demo reproduces seed 003's figures: 杨浦 2160 visits, 197 problems, 91.8 %; 松江's 19 G60
enterprises with liaisons."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create, unit_create
from muster.outreach import creditcode, demo, queries
from muster.outreach.models import Enterprise, Liaison, Visit
from muster.reports import registry

AS_OF = datetime(2018, 10, 12, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def districts(db: Any) -> dict[str, Any]:
    a = SYSTEM
    root = unit_create(actor=a, code="SH", name="上海市税务局", kind="city_bureau", parent=None)
    proot = unit_create(actor=a, code="SH-DW", name="党委", kind="party_committee", parent=None)
    out: dict[str, Any] = {}
    for code, name in (("YP", "杨浦区税务局"), ("SJ", "松江区税务局")):
        d = unit_create(actor=a, code=code, name=name, kind="district_bureau", parent=root)
        office = unit_create(actor=a, code=f"{code}-S1", name="第一税务所", kind="tax_office", parent=d)
        dw = unit_create(actor=a, code=f"{code}-DW", name=f"{name}党委", kind="party_committee", parent=proot)
        n = 31 if code == "YP" else 2
        branches = [
            unit_create(actor=a, code=f"{code}-B{i:02d}", name=f"第{i}党支部", kind="branch", parent=dw)
            for i in range(1, n + 1)
        ]
        for i in range(4):
            person_create(
                actor=a,
                code=f"{code}{i:04d}",
                name=f"干部{i}",
                unit=office,
                party_unit=branches[i % len(branches)],
                political_status="member",
            )
        out[code] = d
        out[f"{code}-DW"] = dw
    return out


def test_demo_reproduces_the_seed(districts: dict[str, Any]) -> None:
    assert demo.load_outreach_demo() is True
    yp, yp_dw = districts["YP"], districts["YP-DW"]
    for unit in (yp, yp_dw):
        assert registry.answer("outreach.visits", unit, AS_OF) == 2160
        assert registry.answer("outreach.problems", unit, AS_OF) == 197
        assert registry.answer("outreach.problems_resolved", unit, AS_OF) == 181
        assert registry.answer("outreach.resolution_rate", unit, AS_OF) == Decimal("91.8")
    assert queries.figures(yp, AS_OF).rate_text == "91.8%"
    assert Visit.objects.filter(branch__path__startswith=yp_dw.path).values("branch").distinct().count() == 31
    # 松江: 19 G60 enterprises, each with a party-building guide in force on the article's date
    sj = districts["SJ"]
    assert Enterprise.objects.filter(unit__path__startswith=sj.path, park="G60科创走廊").count() == 19
    assert registry.answer("outreach.enterprises_with_liaison", sj, AS_OF) == 19
    assert all(creditcode.is_valid(c) for c in Enterprise.objects.values_list("credit_code", flat=True))
    # idempotent
    assert demo.load_outreach_demo() is False
    assert Visit.objects.count() == 2160 and Liaison.objects.count() == 19


def test_demo_zhenjiang(db: Any) -> None:
    from muster.orgs.models import Unit
    from muster.outreach.models import ServiceLogEntry
    from muster.outreach.queries import indicator_changes

    assert demo.load_zhenjiang() is True
    root = Unit.objects.get(code="ZJKFQ")
    party = Unit.objects.get(code="ZJKFQ-DW")
    as_of = datetime(2022, 6, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert registry.answer("outreach.taxpayer_homes", root, as_of) == 13
    assert registry.answer("outreach.classes", root, as_of) == 15
    assert registry.answer("outreach.measures", root, as_of) == 69
    assert registry.answer("outreach.measure_categories", root, as_of) == 27
    assert registry.answer("outreach.after_hours_services", root, as_of) == 1
    assert registry.answer("outreach.agreements", party, as_of) == 2
    changes = {c.indicator.name: c.change for c in indicator_changes(root, as_of)}
    assert changes == {"平均办税申报时长": Decimal("-87.0"), "退税时长": Decimal("-28.0")}
    case = ServiceLogEntry.objects.get(outside_hours=True)
    assert case.at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 19 and "30" in case.matter
    assert demo.load_zhenjiang() is False
