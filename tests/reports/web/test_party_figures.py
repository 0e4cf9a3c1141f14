"""Party-life and points figures in the reports through HTTP: the rollup page's section "党建与组织生活"
(exact values for the scenario of ``party_scenario``, English and Chinese labels from the metric
registry, which party organization an administrative unit shows, scoping), the home page card and the
briefing page."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from muster.orgs.access import SYSTEM
from muster.orgs.services import role_grant
from muster.reports import registry

from .party_scenario import CUTOFF, seed_party_year
from .test_pages import text

pytestmark = pytest.mark.django_db

PARTY_COLUMNS = [
    "partylife.meetings_held",
    "partylife.talk_person_times",
    "partylife.model_posts",
    "partylife.vanguard_posts",
    "partylife.responsibility_areas",
    "partylife.contact_points",
    "partylife.awards",
    "partylife.applications",
    "points.total",
    "points.average",
]


def section(page: str) -> str:
    m = re.search(r'<section class="mb-4" id="party-section">(.*?)</section>', page, re.S)
    assert m, "no party section"
    return m.group(1)


def party_row(page: str, code: str) -> list[str]:
    m = re.search(rf'<tr data-code="{re.escape(code)}"[^>]*>(.*?)</tr>', section(page), re.S)
    assert m, f"no party row {code}"
    return [text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", m.group(1), re.S)]


def party_total(page: str) -> list[str]:
    m = re.search(r'<tr[^>]*id="party-total"[^>]*>(.*?)</tr>', section(page), re.S)
    assert m
    return [text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", m.group(1), re.S)]


def headers(page: str) -> list[tuple[str, str]]:
    return [
        (mid, text(label))
        for mid, label in re.findall(
            r'<th class="text-end" data-metric="([^"]+)"[^>]*>(.*?)</th>', section(page), re.S
        )
    ]


def english(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_columns_come_from_the_registry() -> None:
    assert [m.id for m in registry.section("party")] == PARTY_COLUMNS
    m = registry.get("partylife.talk_person_times")
    assert (m.group, m.additive) == ("party", True)
    assert registry.get("points.average").additive is False


def test_rollup_party_section_exact_values_in_english(party: Any, login: Any) -> None:
    seed_party_year(party)
    client = english(login(party.admin))
    r = client.get("/reports/", {"unit": "SH-DW", **CUTOFF})
    assert r.status_code == 200
    page = r.content.decode()
    assert [mid for mid, _label in headers(page)] == PARTY_COLUMNS
    labels = dict(headers(page))
    assert labels["partylife.meetings_held"] == "Meetings held times"
    assert labels["partylife.talk_person_times"] == "Talks (person-times) person-times"
    assert labels["points.average"] == "Average points points"
    # meetings · talks · model · vanguard · areas · contact points · awards · applications · points · average
    assert party_row(page, "XH-DW")[1:] == ["3", "5", "1", "1", "0", "1", "1", "1", "40.00", "10.00"]
    assert party_row(page, "HP-DW")[1:] == ["0", "0", "0", "0", "0", "0", "0", "0", "0.00", "0.00"]
    own = party_row(page, "SH-DW")  # the committee's own row: non-additive figures show —
    assert own[1:] == ["0", "0", "—", "—", "—", "0", "—", "0", "0.00", "—"]
    assert party_total(page)[1:] == ["3", "5", "1", "1", "0", "1", "1", "1", "40.00", "10.00"]
    assert "party-mapped" not in section(page)  # a party unit shows its own figures
    # a cutoff before the second meeting and talk; the year's points restart on 1 January
    r = client.get("/reports/", {"unit": "SH-DW", "date": "2024-03-31", "time": "24:00"})
    assert party_total(r.content.decode())[1:4] == ["2", "2", "1"]
    # drill down: the committee's branches
    r = client.get("/reports/", {"unit": "XH-DW", **CUTOFF})
    page = r.content.decode()
    assert party_row(page, "XH-B01")[1:3] == ["3", "5"]
    assert 'href="?unit=XH-B01' in section(page)


def test_rollup_party_section_in_chinese(party: Any, login: Any) -> None:
    seed_party_year(party)
    r = login(party.admin).get("/reports/", {"unit": "SH-DW", **CUTOFF})
    page = r.content.decode()
    assert "党建与组织生活" in page
    labels = dict(headers(page))
    assert labels["partylife.talk_person_times"] == "谈心谈话 人次"
    assert labels["partylife.model_posts"] == "党员示范岗 个"
    assert party_total(page)[1:3] == ["3", "5"]


def test_an_administrative_unit_shows_the_party_organization_of_most_of_its_members(
    party: Any, login: Any, make_user: Any
) -> None:
    seed_party_year(party)
    boss = make_user("boss", "viewer", party.org.root)
    role_grant(actor=SYSTEM, user=boss, unit=party.org.party_root, role="viewer")
    client = english(login(boss))
    page = client.get("/reports/", {"unit": "XH", **CUTOFF}).content.decode()
    part = section(page)
    assert "Figures of 第一税务所党支部, the party organization of most of this unit" in text(part)
    assert 'id="party-switch"' in part and "unit=XH-B01" in part
    assert party_total(page)[1:3] == ["3", "5"]
    assert party_row(page, "XH-B01-G1")[0] == "第一党小组"
    # a manager of the administrative unit only: the branch is out of their sight, no figures
    manager = make_user("xhmgr", "manager", party.org.xuhui)
    page = english(login(manager)).get("/reports/", {"unit": "XH", **CUTOFF}).content.decode()
    assert 'id="party-hidden"' in section(page)
    assert "party-table" not in page
    # 黄浦 has no party members: no organization
    page = client.get("/reports/", {"unit": "HP", **CUTOFF}).content.decode()
    assert 'id="party-none"' in section(page)
    # the party tree is scoped as usual
    hp = english(login(party.hp_user))
    assert hp.get("/reports/", {"unit": "XH-DW", **CUTOFF}).status_code == 404


def test_home_page_shows_party_life_figures(party: Any, login: Any) -> None:
    seed_party_year(party)
    tz = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2024, 11, 20, 10, 0, tzinfo=tz), tick=False):
        r = english(login(party.committee_user)).get("/")
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="home-party"' in page
    assert "徐汇区税务局党委: party life as of" in text(page)
    # Q4 2024 as of 20 November: October's branch committee meeting, theme party day and party group
    # meeting were missed, so the branch and its party group are behind
    assert re.search(r'id="home-party-behind">2<', page)
    behind = re.search(r'id="home-party-behind-list">(.*?)</ul>', page, re.S)
    assert behind and re.findall(r'data-code="([^"]+)"', behind.group(1)) == ["XH-B01", "XH-B01-G1"]
    assert re.search(r'id="home-party-meetings">2<', page)  # the two approved meetings of 2024
    assert re.search(r'id="home-party-points">40.00<', page)
    leaders = re.search(r'id="home-party-leaders">(.*?)</ol>', page, re.S)
    assert leaders
    # 书记甲: vanguard post 5 + lesson 3 + lesson given 5 + 2 talks + committee meeting 3 = 18;
    # 党员丙: model post 5 + lesson 3 + talk 1 + award 3 = 12; 委员乙: post 5 + lesson 3 + talk 1 = 9
    assert [text(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", leaders.group(1), re.S)][:3] == [
        "书记甲 (XH0101) · 18.00",
        "党员丙 (XH0103) · 12.00",
        "委员乙 (XH0102) · 9.00",
    ]


def test_home_page_without_party_scope_has_no_party_card(org: Any, make_user: Any, login: Any) -> None:
    page = login(make_user("hp", "manager", org.huangpu)).get("/").content.decode()
    assert 'id="home-party"' not in page


def test_briefing_page_ends_with_the_party_sentence(party: Any, login: Any) -> None:
    seed_party_year(party)
    page = login(party.admin).get("/reports/briefing/", {"unit": "XH-DW", **CUTOFF}).content.decode()
    zh = re.search(r'<p id="briefing-zh"[^>]*>(.*?)</p>', page, re.S)
    en = re.search(r'<p id="briefing-en"[^>]*>(.*?)</p>', page, re.S)
    assert zh and en
    assert text(zh.group(1)).endswith(
        "2024年1月1日至6月30日，共开展“三会一课”等组织生活2次，开展谈心谈话5人次，设立党员示范岗1个、"
        "党员先锋岗1个，建立领导干部联系点1个，1个基层部门和个人获评各类奖项，1名同志递交了入党申请书。"
    )
    assert text(en.group(1)).endswith(
        "From 1 January to 30 June 2024, branches held 2 meetings of organizational life; heart-to-heart "
        "talks reached 5 person-times; there were 1 model post and 1 vanguard post; leaders kept 1 contact "
        "point; 1 unit or person received an award; 1 person applied to join the Party."
    )
