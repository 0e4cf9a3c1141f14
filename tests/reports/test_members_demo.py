"""Party organizations in the reports with the seed demo (the Shanghai March 2022 ledger): a party
organization shows what its members did — never "派出0批0人次" for an organization whose people served.

The demo and the scenario are loaded once per session and put in the database for the module (the
``seeded_demo`` fixture of tests/conftest.py); after the module the database is as before it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from muster.mobilize.models import Deployment, DeploymentStatus, EntryKind, ServiceEntry
from muster.orgs.models import Unit
from muster.partylife.membership import members_on
from muster.reports import briefing as bw
from muster.reports import services
from muster.reports.members import members_rollup
from muster.reports.rollup import Figures
from muster.reports.seed import CUTOFF


@pytest.fixture
def seeded(seeded_demo: None, db: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def by_hand(party: Unit) -> Figures:
    """The members' figures counted row by row in Python (the reference)."""
    members = {e.person.pk for e in members_on(party, date(2022, 3, 18))}
    signs: dict[tuple[int, int], int] = defaultdict(int)
    minutes = c_minutes = 0
    c_signs: dict[int, int] = defaultdict(int)
    for row in ServiceEntry.objects.filter(person_id__in=members, start__lt=CUTOFF).exclude(sign=0):
        part = row.minutes if row.end <= CUTOFF else round((CUTOFF - row.start).total_seconds() / 60)
        if row.deployment_id is not None:
            signs[(row.deployment_id, row.person_id)] += row.sign
            minutes += row.sign * part
        elif row.kind == EntryKind.COMMUNITY:
            c_signs[row.person_id] += row.sign
            c_minutes += row.sign * part
    pairs = {k for k, s in signs.items() if s > 0}
    active = set(
        Deployment.objects.filter(
            pk__in={d for d, _p in pairs}, status=DeploymentStatus.ACTIVE, start__lt=CUTOFF
        ).values_list("pk", flat=True)
    )
    return Figures(
        batches=len(active),
        person_times=len(pairs),
        persons=len({p for _d, p in pairs}),
        minutes=minutes,
        community_persons=sum(1 for s in c_signs.values() if s > 0),
        community_minutes=c_minutes,
    )


@pytest.mark.parametrize("code", ["SH-DW", "XH-DW", "HP-DW"])
def test_members_figures_equal_a_count_by_hand(seeded: None, code: str) -> None:
    report = members_rollup(unit(code), CUTOFF, pending=False)
    assert report.total == by_hand(unit(code))
    assert sum(r.figures.person_times for r in report.rows) == report.total.person_times
    assert sum(r.figures.minutes for r in report.rows) == report.total.minutes


def test_the_city_party_committee_shows_its_members_service(seeded: None) -> None:
    t = members_rollup(unit("SH-DW"), CUTOFF).total
    assert t.batches > 0 and t.person_times > 0 and t.minutes > 0
    b = services.briefing_for(unit("SH-DW"), CUTOFF)
    zh = bw.write(b, "zh")
    assert zh.startswith(
        f"截至3月18日晚24点，市局党委党员已累计参加{t.batches}批{t.person_times}人次志愿服务"
        f"（共{t.persons}名党员）"
    )


def test_xuhui_party_briefing_no_longer_says_zero_batches(seeded: None) -> None:
    """徐汇 dispatched no batch in the scenario, but 22 of its party members served their communities
    from home observation (223 hours): that is what its briefing says."""
    b = services.briefing_for(unit("XH-DW"), CUTOFF)
    zh, en = bw.write(b, "zh"), bw.write(b, "en")
    assert "派出0批" not in zh and "0小时" not in zh.split("。")[0]
    assert zh.startswith(
        "截至3月18日晚24点，徐汇区税务局党委22名党员在居家观察期间参与社区疫情防控志愿服务，累计服务时长223小时。"
    )
    assert en.startswith("As of 24:00 on 18 March, 22 members of 徐汇区税务局党委 served their communities")
    out = StringIO()
    call_command("brief", "--as-of", "2022-03-18 24:00", "--unit", "XH-DW", stdout=out)
    assert "派出0批0人次" not in out.getvalue() and "22名党员" in out.getvalue()


def test_huangpu_party_committee(seeded: None) -> None:
    b = services.briefing_for(unit("HP-DW"), CUTOFF)
    assert bw.write(b, "zh").startswith(
        "截至3月18日晚24点，黄浦区税务局党委党员已累计参加4批21人次志愿服务（共21名党员），累计服务时长251小时。"
    )


def test_the_xuhui_secretary_sees_the_members_figures(seeded: None) -> None:
    client = Client()
    client.force_login(get_user_model().objects.get(username="xuhui_secretary"))
    query = {"unit": "XH-DW", "date": "2022-03-18", "time": "24:00"}
    r = client.get("/reports/", query)
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="members-basis"' in page
    total = page[page.index('id="rollup-total"') :]
    cells = [c.split("<")[0] for c in total.split('<td class="text-end">')[1:7]]
    assert cells[4:6] == ["22", "223.00"]
    r = client.get("/reports/briefing/", query)
    assert r.status_code == 200 and "派出0批0人次" not in r.content.decode()
    assert "22名党员在居家观察期间" in r.content.decode()
