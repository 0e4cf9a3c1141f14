"""The demo care ledger reproduces the seed's figures, through the ``muster metrics`` contract."""

from __future__ import annotations

import json
from datetime import datetime
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from muster.care.demo import load_care_demo
from muster.care.models import CareSubject, HelpRequest
from muster.orgs.demo import load_demo
from muster.orgs.models import Unit


@pytest.fixture
def demo(db: Any) -> None:
    load_demo()
    assert load_care_demo() is not None


def test_metrics_as_of_2022_04_19_for_jinshan(demo: None) -> None:
    out = StringIO()
    call_command("metrics", "--as-of", "2022-04-19 00:00", "--unit", "JS", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["as_of"] == "2022-04-19T00:00:00+08:00"
    assert data["unit"]["code"] == "JS"
    m = data["metrics"]
    assert m["care.subjects"] == 243
    assert m["care.surveyed"] == 243
    assert m["care.coverage"] == 100.0
    assert m["care.deceased"] == 2
    assert m["care.condolence_payments"] == 2
    assert 18 <= m["care.retirees_serving"] <= 22
    assert m["care.help_requests"] == 3 and m["care.help_resolved"] == 3
    assert m["care.deliveries_medicine"] == 15
    assert m["care.donations_value"] == 5200
    assert m["care.high_risk"] > 0 and m["care.contacts"] > 243
    assert "dispatch.batches" in m  # every registered metric, not only care's
    # before the lockdown nothing was surveyed yet
    early = StringIO()
    call_command("metrics", "--as-of", "2022-04-01 00:00", "--unit", "JS", "--json", stdout=early)
    e = json.loads(early.getvalue())["metrics"]
    assert (e["care.subjects"], e["care.surveyed"], e["care.deceased"], e["care.retirees_serving"]) == (
        243,
        0,
        0,
        0,
    )
    # (one test: loading the demo takes a while) the stuck retiree got supplies within hours
    hr = HelpRequest.objects.get(category="food", urgency="urgent")
    assert hr.status == "resolved" and hr.resolved_at is not None
    assert (hr.resolved_at - hr.raised_at).total_seconds() < 6 * 3600
    assert [s.status for s in hr.steps.order_by("pk")] == ["new", "in_progress", "resolved"]
    # the briefing carries the care sentence in the seed's style, zh and en
    from muster.reports import briefing as bw
    from muster.reports.services import briefing_for

    js = Unit.objects.get(code="JS")
    b = briefing_for(js, datetime(2022, 4, 19, tzinfo=ZoneInfo("Asia/Shanghai")))
    zh, en = bw.write(b, "zh"), bw.write(b, "en")
    assert "全面排摸243位老同志" in zh and "2位老同志过世" in zh and "名老同志投身社区防控一线" in zh
    assert "243 of 243 retirees were surveyed (100.0%)" in en
    # loading twice changes nothing
    assert load_care_demo() is None
    assert CareSubject.objects.count() == 243
