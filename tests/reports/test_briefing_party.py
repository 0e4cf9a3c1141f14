"""The briefing writer's party-life sentence on its own (pure; no database), and through ``muster brief``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from muster.reports import briefing as bw

TZ = ZoneInfo("Asia/Shanghai")
YEAR_END = datetime(2022, 1, 1, 0, 0, tzinfo=TZ)  # 2021-12-31 24:00


def seed_article(as_of: datetime = YEAR_END, talks_style: str = "near") -> bw.PartyLife:
    return bw.PartyLife(
        as_of=as_of,
        meetings=bw.Num(1325),
        talk_person_times=bw.Num(8957, talks_style),
        model_posts=bw.Num(104),
        vanguard_posts=bw.Num(142),
        responsibility_areas=bw.Num(93),
        contact_points=bw.Num(286),
        awards=bw.Num(233),
    )


def test_party_sentence_in_the_style_of_the_seed_article() -> None:
    assert bw.party_zh(seed_article()) == (
        "2021年全年，共开展“三会一课”等组织生活1325次，开展谈心谈话近9000人次，设立党员示范岗104个、"
        "党员先锋岗142个、党员责任区93个，建立领导干部联系点286个，233个基层部门和个人获评各类奖项。"
    )
    assert bw.party_en(seed_article()) == (
        "In 2021, branches held 1,325 meetings of organizational life; heart-to-heart talks reached nearly "
        "9,000 person-times; there were 104 model posts, 142 vanguard posts and 93 responsibility areas; "
        "leaders kept 286 contact points; 233 units and people received awards."
    )


def test_rounding_only_where_asked_and_zeros_left_out() -> None:
    exact = seed_article(talks_style="exact")
    assert "开展谈心谈话8957人次" in bw.party_zh(exact)
    assert "reached 8,957 person-times" in bw.party_en(exact)
    mid_year = bw.PartyLife(
        as_of=datetime(2024, 7, 1, 0, 0, tzinfo=TZ),
        vanguard_posts=bw.Num(1),
        applications=bw.Num(12),
    )
    assert bw.party_zh(mid_year) == "2024年1月1日至6月30日，设立党员先锋岗1个，12名同志递交了入党申请书。"
    assert bw.party_en(mid_year) == (
        "From 1 January to 30 June 2024, there was 1 vanguard post; 12 people applied to join the Party."
    )
    empty = bw.PartyLife(as_of=YEAR_END)
    assert empty.is_empty and bw.party_zh(empty) == "" and bw.party_en(empty) == ""


def test_write_appends_the_party_sentence_after_the_notes() -> None:
    head = bw.Headline(
        unit_zh="徐汇区税务局", as_of=YEAR_END, batches=1, person_times=2, hours=Decimal("3.00")
    )
    b = bw.Briefing(head, (), seed_article())
    zh = bw.write(b, "zh")
    assert zh.startswith(bw.headline_zh(head)) and zh.endswith(bw.party_zh(seed_article()))
    assert bw.write(b, "en") == bw.headline_en(head) + " " + bw.party_en(seed_article())
    assert bw.write(bw.Briefing(head), "zh") == bw.headline_zh(head)  # no party figures: no sentence
    assert bw.write(bw.Briefing(head, (), bw.PartyLife(as_of=YEAR_END)), "en") == bw.headline_en(head)


@pytest.mark.django_db
def test_brief_command_ends_with_the_party_sentence(party: Any) -> None:
    from tests.reports.web.party_scenario import seed_party_year

    seed_party_year(party)
    out = StringIO()
    call_command("brief", "--as-of", "2024-06-30 24:00", "--unit", "XH-DW", stdout=out)
    lines = out.getvalue().strip().splitlines()
    # a party organization dispatches nothing: its headline says what its members did (issue 27 item 11)
    assert lines[0].startswith("截至6月30日晚24点，徐汇区税务局党委党员尚无经审核的志愿服务记录。")
    assert "派出0批" not in out.getvalue()
    assert lines[-1] == (
        "2024年1月1日至6月30日，共开展“三会一课”等组织生活2次，开展谈心谈话5人次，设立党员示范岗1个、"
        "党员先锋岗1个，建立领导干部联系点1个，1个基层部门和个人获评各类奖项，1名同志递交了入党申请书。"
    )
    out = StringIO()
    call_command("brief", "--as-of", "2024-06-30 24:00", "--unit", "XH-DW", "--lang", "en", stdout=out)
    assert (
        out.getvalue()
        .strip()
        .splitlines()[-1]
        .startswith("From 1 January to 30 June 2024, branches held 2 meetings of organizational life; ")
    )
    # --headline: the headline only
    out = StringIO()
    call_command("brief", "--as-of", "2024-06-30 24:00", "--unit", "XH-DW", "--headline", stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 1
