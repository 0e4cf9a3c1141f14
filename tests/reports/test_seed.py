"""The seed scenario: every figure of the article holds in the ledger, the CLI prints the headline, and
loading twice writes nothing. (Slow: the demo organization and ~2,800 entries through the services, so they
are loaded once per session: the ``seeded_demo`` fixture of tests/conftest.py.)"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from muster.mobilize.models import Deployment, MeasureValue, ServiceEntry
from muster.mobilize.queries import pending_rows
from muster.orgs.models import Unit
from muster.reports import services
from muster.reports.rollup import rollup, rollup_straight
from muster.reports.seed import CUTOFF, EARLY_CUTOFF, load_seed_scenario


@pytest.fixture
def seeded(seeded_demo: None, db: Any) -> Unit:
    return Unit.objects.get(code="SH")


def test_the_article_holds(seeded: Unit) -> None:
    report = rollup(seeded, CUTOFF)
    t = report.total
    assert (t.batches, t.person_times, t.minutes) == (66, 989, 18572 * 60)
    assert (t.community_persons, t.community_minutes) == (228, 1650 * 60)
    assert t.pending_entries > 0  # waiting self-reports are shown apart, not counted
    dispatching = [r for r in report.rows if r.figures.batches]
    kinds = {r.code: Unit.objects.get(pk=r.unit_id).kind for r in dispatching}
    assert sorted(kinds.values()).count("district_bureau") == 14 and kinds["SH-JG"] == "bureau_organ"
    assert len(dispatching) == 15
    row = {r.code: r.figures for r in report.rows}
    assert (row["HP"].batches, row["HP"].persons) == (4, 31)
    assert (row["JD"].batches, row["JD"].person_times) == (6, 118)
    assert row["JS"].person_times == 59
    assert (row["FX"].batches, row["FX"].person_times) == (4, 96)
    assert (row["SJ"].batches, row["SJ"].person_times, row["SJ"].minutes) == (7, 181, 6226 * 60)
    assert row["MH"].person_times == 124 and row["PT"].persons == 27 and row["SH-JG"].persons == 17
    assert row["YP"].persons == 26
    assert (row["XH"].community_persons, row["XH"].community_minutes) == (35, 351 * 60)
    assert report == rollup_straight(seeded, CUTOFF)

    early = rollup(seeded, EARLY_CUTOFF)
    assert (early.total.persons, early.total.minutes) == (151, 6001 * 60)
    assert sorted(r.code for r in early.rows if r.figures.persons) == ["CN", "HK", "JS", "SJ"]

    details = {
        code: services.unit_details(Unit.objects.get(code=code), CUTOFF)
        for code in ("HP", "MH", "SH-JG", "PT", "HK")
    }
    assert (details["HP"].first_day.day, details["HP"].last_day.day) == (12, 18)
    assert (details["SH-JG"].first_day.day, details["SH-JG"].last_day.day) == (16, 17)
    assert "宛平社区" in details["SH-JG"].sites
    assert (details["PT"].first_day.day, details["PT"].last_day.day) == (11, 15)
    assert {"真如体育场", "长风公园"} <= set(details["PT"].sites)
    assert len(details["MH"].sites) == 18 and len(details["MH"].teams) == 3
    assert 55000 <= details["MH"].measures["residents_tested"] < 60000
    assert 1500 < details["HK"].measures["households_served"] < 1600 and len(details["HK"].sites) == 7
    assert 4500 <= details["HK"].measures["residents_tested"] < 5000
    calls = dict(
        MeasureValue.objects.filter(kind__code__startswith="calls").values_list("kind__code", "value")
    )
    assert calls == {"calls_answered": 422, "calls_transferred_remote": 381}
    assert (
        Deployment.objects.filter(code__startswith="S22-BS", supported_unit__code__in=["SJ", "JD"]).count()
        == 3
    )

    # plausible shifts: ≤ 12 h (24 h max in the ledger), no overlap per person
    rows = list(ServiceEntry.objects.exclude(sign=0).order_by("person_id", "start"))
    assert max(r.minutes for r in rows) <= 12 * 60
    assert pending_rows(ServiceEntry.objects.all()).count() == t.pending_entries


def test_cli_brief_and_report_and_idempotence(seeded: Unit) -> None:
    out = StringIO()
    call_command("brief", "--as-of", "2022-03-18 24:00", stdout=out)
    first = out.getvalue().splitlines()[0]
    assert first == (
        "截至3月18日晚24点，市局机关和14个区税务局，已累计派出66批989人次志愿者参与地方疫情防控，累计服务时长18572小时。"
        "共有228名居家观察干部参与社区疫情防控志愿服务，累计服务时长1650小时。"
    )
    assert "124人次志愿者先后奔赴18个社区，协助完成近6万居民核酸检测" in out.getvalue()
    assert "服务1500余户，协助完成近5000居民核酸检测" in out.getvalue()
    data = StringIO()
    call_command("report", "--as-of", "2022-03-10 00:00", "--json", stdout=data)
    total = json.loads(data.getvalue())["total"]
    assert total["persons"] == 151 and total["hours"] == 6001
    n = ServiceEntry.objects.count()
    assert load_seed_scenario() is False and ServiceEntry.objects.count() == n
