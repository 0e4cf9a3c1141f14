"""The briefing writer on its own: a pure function of the figures (no database)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from muster.reports import briefing as bw

TZ = ZoneInfo("Asia/Shanghai")
CUTOFF = datetime(2022, 3, 19, 0, 0, tzinfo=TZ)


def headline() -> bw.Headline:
    return bw.Headline(
        unit_zh="上海市税务局",
        as_of=CUTOFF,
        batches=66,
        person_times=989,
        hours=Decimal("18572.00"),
        community_persons=228,
        community_hours=Decimal("1650.00"),
        organ=True,
        districts=14,
    )


def test_headline_in_the_seed_style() -> None:
    assert bw.headline_zh(headline()) == (
        "截至3月18日晚24点，市局机关和14个区税务局，已累计派出66批989人次志愿者参与地方疫情防控，"
        "累计服务时长18572小时。共有228名居家观察干部参与社区疫情防控志愿服务，累计服务时长1650小时。"
    )
    en = bw.headline_en(headline())
    assert en.startswith(
        "As of 24:00 on 18 March, the bureau organ and 14 district bureaus had sent 66 batches"
    )
    assert "989 person-times" in en and "18572 hours" in en and "228 cadres" in en and "1650 hours" in en


@pytest.mark.parametrize(
    ("value", "style", "zh", "en"),
    [
        (58760, "near", "近6万", "nearly 60,000"),
        (4872, "near", "近5000", "nearly 5,000"),
        (1536, "over", "1500余", "over 1,500"),
        (32460, "over", "3万余", "over 30,000"),
        (32460, "several", "几万余", "tens of thousands of"),
        (58760, "exact", "58760", "58,760"),
        (60000, "near", "6万", "60,000"),  # already round: no 近
        (1500, "over", "1500", "1,500"),
    ],
)
def test_rounding_only_where_asked(value: int, style: str, zh: str, en: str) -> None:
    assert bw.number_zh(bw.Num(value, style)) == zh
    assert bw.number_en(bw.Num(value, style)) == en


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="rounding style"):
        bw.Num(1, "roughly")


def minhang(style: str = "near") -> bw.UnitNote:
    return bw.UnitNote(
        name_zh="闵行区税务局",
        batches=18,
        person_times=124,
        persons=45,
        hours=Decimal("780.50"),
        first_day=date(2022, 3, 11),
        last_day=date(2022, 3, 18),
        teams=("青年突击队第一分队", "青年突击队第二分队", "青年突击队第三分队"),
        sites=tuple(f"社区{i}" for i in range(18)),
        site_word_zh="个社区",
        site_word_en="communities",
        measures=(bw.Measure(bw.Num(58760, style), "协助完成{n}居民核酸检测", "helped test {n} residents"),),
    )


def test_unit_sentence_with_teams_sites_and_measures() -> None:
    text = bw.note_zh(minhang())
    assert text.startswith("闵行区税务局3月11日-18日，分批派出")
    assert "3支队伍18批124人次志愿者先后奔赴18个社区" in text
    assert "协助完成近6万居民核酸检测" in text
    assert "累计服务时长780.5小时" in text
    assert "协助完成58760居民核酸检测" in bw.note_zh(minhang("exact"))
    en = bw.note_en(minhang())
    assert "18 batches (124 person-times) from 3 teams from 11 to 18 March to 18 communities" in en
    assert "helped test nearly 60,000 residents" in en


def test_persons_equal_to_person_times_are_named_people() -> None:
    note = bw.UnitNote(
        "黄浦区税务局", 4, 31, 31, Decimal(345), first_day=date(2022, 3, 12), last_day=date(2022, 3, 18)
    )
    assert "分批派出4批31名志愿者" in bw.note_zh(note)
    assert "3月12日-18日" in bw.note_zh(note)
    assert "(31 volunteers)" in bw.note_en(note)


def test_community_only_unit() -> None:
    note = bw.UnitNote(
        "徐汇区税务局", 0, 0, 0, Decimal(0), community_persons=35, community_hours=Decimal(351)
    )
    assert (
        bw.note_zh(note)
        == "徐汇区税务局共计35人在居家观察期间参与社区疫情防控志愿服务，累计服务时长351小时。"
    )
    assert bw.note_en(note).startswith("35 of 徐汇区税务局's cadres under home observation")


def test_cutoffs_in_the_day_and_below_the_root() -> None:
    h = bw.Headline("松江区税务局", datetime(2022, 3, 18, 15, 30, tzinfo=TZ), 7, 181, Decimal(6226))
    assert bw.headline_zh(h).startswith("截至3月18日15时30分，松江区税务局，已累计派出7批181人次")
    assert bw.headline_en(h).startswith("As of 15:30 on 18 March, 松江区税务局 had sent 7 batches")
    assert bw.range_zh(date(2022, 3, 28), date(2022, 4, 2)) == "3月28日-4月2日"


def test_write_puts_the_headline_first() -> None:
    b = bw.Briefing(headline(), (minhang(),))
    zh = bw.write(b, "zh")
    assert zh.index("截至3月18日晚24点") == 0 and zh.index("闵行区税务局") > 0
    assert bw.write(b, "en").startswith("As of 24:00 on 18 March")
