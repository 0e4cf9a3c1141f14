"""The briefing writer (简报): a paragraph in Chinese or English written from the figures alone.

Pure Python (no Django): ``write(briefing, lang)`` turns a ``Briefing`` — the headline figures of the
reporting unit and a ``UnitNote`` per notable unit — into text in the style of the seed articles:

    截至3月18日晚24点，市局机关和14个区税务局，已累计派出66批989人次志愿者参与地方疫情防控，累计服务
    时长18572小时。…闵行区税务局3月11日-18日，分批派出3支队伍124人次先后奔赴18个社区，协助完成近6万居民
    核酸检测…

Numbers are written exactly unless the caller asks for a rounding style for that figure (``Num``):

- ``exact``: 58760 / 58,760;
- ``near`` (近): up to the next round number of one significant figure: 近6万 / nearly 60,000;
- ``over`` (余): down to two significant figures (one for 万): 1500余 / over 1,500;
- ``several`` (几…余): 几万余 / tens of thousands of.

An optional party-life sentence (``PartyLife``) closes the paragraph, in the style of the 上海 article:
"2024年全年，共开展“三会一课”等组织生活X次，开展谈心谈话近9000人次，设立党员示范岗104个、党员先锋岗142个、
党员责任区93个，建立领导干部联系点286个，233个基层部门和个人获评各类奖项。" Zero figures are left out.

Dates: a cutoff at midnight is the end of the previous day ("3月18日晚24点", "24:00 on 18 March").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

STYLES = ("exact", "near", "over", "several")


@dataclass(frozen=True)
class Num:
    value: int | Decimal
    style: str = "exact"

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown rounding style {self.style!r}")


@dataclass(frozen=True)
class Measure:
    """A named number with its sentence in each language, ``{n}`` standing for the number."""

    value: Num
    zh: str  # "协助完成{n}居民核酸检测"
    en: str  # "helped test {n} residents"


@dataclass(frozen=True)
class UnitNote:
    name_zh: str
    batches: int
    person_times: int
    persons: int
    hours: Decimal
    name_en: str = ""
    first_day: date | None = None
    last_day: date | None = None
    teams: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    site_word_zh: str = "个点位"  # for "18个社区"
    site_word_en: str = "sites"
    measures: tuple[Measure, ...] = ()
    community_persons: int = 0
    community_hours: Decimal = Decimal(0)
    members: bool = False  # the figures of a party organization's members (其党员), not of its batches


@dataclass(frozen=True)
class Headline:
    unit_zh: str
    as_of: datetime
    batches: int
    person_times: int
    hours: Decimal
    community_persons: int = 0
    community_hours: Decimal = Decimal(0)
    unit_en: str = ""
    organ: bool = False  # the bureau organ dispatched (市局机关)
    districts: int = 0  # district bureaus that dispatched
    others: int = 0  # other units that dispatched
    # A party organization dispatches nothing: its headline gives what its members (其党员) did, in
    # whichever unit's batches (``persons``: the distinct members who served).
    members: bool = False
    persons: int = 0


@dataclass(frozen=True)
class PartyLife:
    """Party-life figures of the reporting organization: meetings, talks, awards and applications over
    the cutoff's calendar year; posts and contact points in force on the cutoff. A zero is left out."""

    as_of: datetime
    meetings: Num = Num(0)
    talk_person_times: Num = Num(0)
    model_posts: Num = Num(0)
    vanguard_posts: Num = Num(0)
    responsibility_areas: Num = Num(0)
    contact_points: Num = Num(0)
    awards: Num = Num(0)
    applications: Num = Num(0)

    @property
    def is_empty(self) -> bool:
        return not any(
            n.value
            for n in (
                self.meetings,
                self.talk_person_times,
                self.model_posts,
                self.vanguard_posts,
                self.responsibility_areas,
                self.contact_points,
                self.awards,
                self.applications,
            )
        )


@dataclass(frozen=True)
class Briefing:
    headline: Headline
    notes: tuple[UnitNote, ...] = field(default_factory=tuple)
    party: PartyLife | None = None
    # Sentences other apps add (``registry.register_briefing``): (zh, en) pairs, in registration order.
    extras: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- numbers


def _group(n: int) -> str:
    return f"{n:,}"


def _zh_plain(n: int | Decimal) -> str:
    if isinstance(n, Decimal):
        return _hours_text(n)
    if n >= 10000 and n % 1000 == 0:
        w = Decimal(n) / Decimal(10000)
        return f"{w.normalize():f}万"
    return str(n)


def _hours_text(h: Decimal) -> str:
    """18572.00 → 18572; 351.50 → 351.5."""
    text = f"{h:.2f}".rstrip("0").rstrip(".")
    return text


def _round_up_1(n: int) -> int:
    if n <= 0:
        return 0
    mag = 10 ** math.floor(math.log10(n))
    return math.ceil(n / mag) * mag


def _round_down(n: int, digits: int) -> int:
    if n <= 0:
        return 0
    mag = 10 ** max(0, math.floor(math.log10(n)) - digits + 1)
    return (n // mag) * mag


def number_zh(num: Num) -> str:
    v = int(num.value) if not isinstance(num.value, Decimal) else num.value
    if num.style == "exact" or isinstance(v, Decimal):
        return _zh_plain(v)
    if num.style == "near":
        r = _round_up_1(v)
        return "近" + _zh_plain(r) if r != v else _zh_plain(v)
    if num.style == "over":
        r = _round_down(v, 1 if v >= 10000 else 2)
        return _zh_plain(r) + "余" if r != v else _zh_plain(v)
    # several: 几万余 / 几千
    if v >= 10000:
        return "几万余"
    if v >= 1000:
        return "几千余"
    return "数百"


def number_en(num: Num) -> str:
    v = num.value
    if isinstance(v, Decimal):
        return _hours_text(v)
    if num.style == "exact":
        return _group(v)
    if num.style == "near":
        r = _round_up_1(v)
        return f"nearly {_group(r)}" if r != v else _group(v)
    if num.style == "over":
        r = _round_down(v, 1 if v >= 10000 else 2)
        return f"over {_group(r)}" if r != v else _group(v)
    if v >= 10000:
        return "tens of thousands of"
    if v >= 1000:
        return "thousands of"
    return "hundreds of"


# ---------------------------------------------------------------- dates


def _end_day(as_of: datetime) -> tuple[date, str | None]:
    """(day, time text or None for the end of the day)."""
    if as_of.hour == 0 and as_of.minute == 0:
        return (as_of - timedelta(minutes=1)).date(), None
    return as_of.date(), f"{as_of:%H:%M}"


def cutoff_zh(as_of: datetime) -> str:
    day, hm = _end_day(as_of)
    if hm is None:
        return f"截至{day.month}月{day.day}日晚24点"
    h, m = as_of.hour, as_of.minute
    return f"截至{day.month}月{day.day}日{h}时" + (f"{m}分" if m else "")


def cutoff_en(as_of: datetime) -> str:
    day, hm = _end_day(as_of)
    return f"As of {hm or '24:00'} on {day.day} {day:%B}"


def range_zh(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return ""
    if first == last:
        return f"{first.month}月{first.day}日"
    if first.month == last.month:
        return f"{first.month}月{first.day}日-{last.day}日"
    return f"{first.month}月{first.day}日-{last.month}月{last.day}日"


def range_en(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return ""
    if first == last:
        return f"on {first.day} {first:%B}"
    if first.month == last.month:
        return f"from {first.day} to {last.day} {last:%B}"
    return f"from {first.day} {first:%B} to {last.day} {last:%B}"


# ---------------------------------------------------------------- sentences


def _who_zh(h: Headline) -> str:
    parts = []
    if h.organ:
        parts.append("市局机关")
    if h.districts:
        parts.append(f"{h.districts}个区税务局")
    if h.others:
        parts.append(f"{h.others}家其他单位")
    if not parts:
        return h.unit_zh
    return "和".join(parts) if len(parts) <= 2 else "、".join(parts[:-1]) + "和" + parts[-1]


def _who_en(h: Headline) -> str:
    parts = []
    if h.organ:
        parts.append("the bureau organ")
    if h.districts:
        parts.append(f"{h.districts} district bureau" + ("s" if h.districts != 1 else ""))
    if h.others:
        parts.append(f"{h.others} other unit" + ("s" if h.others != 1 else ""))
    if not parts:
        return h.unit_en or h.unit_zh
    return " and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _members_headline_zh(h: Headline) -> str:
    if not (h.person_times or h.community_persons):
        return f"{cutoff_zh(h.as_of)}，{h.unit_zh}党员尚无经审核的志愿服务记录。"
    text = f"{cutoff_zh(h.as_of)}，{h.unit_zh}"
    if h.person_times:
        text += (
            f"党员已累计参加{h.batches}批{h.person_times}人次志愿服务（共{h.persons}名党员），"
            f"累计服务时长{_hours_text(h.hours)}小时。"
        )
        if h.community_persons:
            text += "另有"
    if h.community_persons:
        text += (
            f"{h.community_persons}名党员在居家观察期间参与社区疫情防控志愿服务，"
            f"累计服务时长{_hours_text(h.community_hours)}小时。"
        )
    return text


def _members_headline_en(h: Headline) -> str:
    name = h.unit_en or h.unit_zh
    if not (h.person_times or h.community_persons):
        return f"{cutoff_en(h.as_of)}, no approved service of the members of {name} is recorded."
    parts = []
    if h.person_times:
        parts.append(
            f"{cutoff_en(h.as_of)}, the members of {name} had served in {h.batches} "
            f"batch{'es' if h.batches != 1 else ''}, {h.person_times:,} person-times ({h.persons:,} "
            f"member{'s' if h.persons != 1 else ''}), with {_hours_text(h.hours)} hours of service."
        )
    if h.community_persons:
        who = (
            f"{h.community_persons:,} of its members"
            if parts
            else (f"{cutoff_en(h.as_of)}, {h.community_persons:,} members of {name}")
        )
        parts.append(
            f"{who} served their communities under home observation, "
            f"for {_hours_text(h.community_hours)} hours."
        )
    return " ".join(parts)


def headline_zh(h: Headline) -> str:
    if h.members:
        return _members_headline_zh(h)
    if not (h.batches or h.person_times):
        text = f"{cutoff_zh(h.as_of)}，{_who_zh(h)}尚未派出志愿者。"
        if h.community_persons:
            text += (
                f"共有{h.community_persons}名居家观察干部参与社区疫情防控志愿服务，"
                f"累计服务时长{_hours_text(h.community_hours)}小时。"
            )
        return text
    text = (
        f"{cutoff_zh(h.as_of)}，{_who_zh(h)}，已累计派出{h.batches}批{h.person_times}人次志愿者参与地方疫情防控，"
        f"累计服务时长{_hours_text(h.hours)}小时。"
    )
    if h.community_persons:
        text += (
            f"共有{h.community_persons}名居家观察干部参与社区疫情防控志愿服务，"
            f"累计服务时长{_hours_text(h.community_hours)}小时。"
        )
    return text


def headline_en(h: Headline) -> str:
    if h.members:
        return _members_headline_en(h)
    if not (h.batches or h.person_times):
        text = f"{cutoff_en(h.as_of)}, {_who_en(h)} had sent no volunteers."
        if h.community_persons:
            text += (
                f" {h.community_persons:,} cadres under home observation served their communities, "
                f"for {_hours_text(h.community_hours)} hours."
            )
        return text
    text = (
        f"{cutoff_en(h.as_of)}, {_who_en(h)} had sent {h.batches} batches, {h.person_times:,} person-times "
        f"of volunteers to local epidemic prevention, with {_hours_text(h.hours)} hours of service."
    )
    if h.community_persons:
        text += (
            f" {h.community_persons:,} cadres under home observation served their communities, "
            f"for {_hours_text(h.community_hours)} hours."
        )
    return text


def _quoted_zh(names: tuple[str, ...]) -> str:
    return "".join(n if n.startswith("“") and n.endswith("”") else f"“{n}”" for n in names)


def _members_note_zh(n: UnitNote) -> str:
    out = f"{n.name_zh}党员"
    if n.person_times:
        out += f"参加{n.batches}批{n.person_times}人次志愿服务，累计服务时长{_hours_text(n.hours)}小时"
    if n.community_persons:
        out += "；" if n.person_times else ""
        out += (
            f"{n.community_persons}人在居家观察期间参与社区疫情防控志愿服务，"
            f"累计服务时长{_hours_text(n.community_hours)}小时"
        )
    return out + "。"


def _members_note_en(n: UnitNote) -> str:
    name = n.name_en or n.name_zh
    parts = []
    if n.person_times:
        parts.append(
            f"members of {name} served in {n.batches} batch{'es' if n.batches != 1 else ''} "
            f"({n.person_times:,} person-times), {_hours_text(n.hours)} hours of service"
        )
    if n.community_persons:
        who = f"{n.community_persons:,} of them" if parts else f"{n.community_persons:,} members of {name}"
        parts.append(f"{who} served their communities for {_hours_text(n.community_hours)} hours")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def note_zh(n: UnitNote) -> str:
    if n.members:
        return _members_note_zh(n)
    out = n.name_zh
    when = range_zh(n.first_day, n.last_day)
    if n.batches:
        teams = ""
        if len(n.teams) == 1:
            teams = _quoted_zh(n.teams)
        elif n.teams:
            shown = n.teams if len(n.teams) <= 4 else n.teams[:2]
            teams = _quoted_zh(shown) + ("等" if len(shown) < len(n.teams) else "") + f"{len(n.teams)}支队伍"
        people = f"{n.person_times}名" if n.persons == n.person_times else f"{n.person_times}人次"
        out += f"{when}，" if when else "，"
        batches = f"{n.batches}批" if n.batches > 1 else ""
        out += f"{'分批' if n.batches > 1 else ''}派出{teams}{batches}{people}志愿者"
        if n.sites:
            out += "先后奔赴" if n.batches > 1 else "奔赴"
            out += "、".join(n.sites) if len(n.sites) <= 3 else f"{len(n.sites)}{n.site_word_zh}"
        for m in n.measures:
            out += "，" + m.zh.format(n=number_zh(m.value))
        out += f"，累计服务时长{_hours_text(n.hours)}小时"
    if n.community_persons:
        out += "；" if n.batches else ""
        out += (
            f"共计{n.community_persons}人在居家观察期间参与社区疫情防控志愿服务，"
            f"累计服务时长{_hours_text(n.community_hours)}小时"
        )
    return out + "。"


def note_en(n: UnitNote) -> str:
    if n.members:
        return _members_note_en(n)
    name = n.name_en or n.name_zh
    parts: list[str] = []
    if n.batches:
        people = (
            f"{n.persons:,} volunteers" if n.persons == n.person_times else f"{n.person_times:,} person-times"
        )
        s = f"{name} sent {n.batches} batch{'es' if n.batches != 1 else ''} ({people})"
        if n.teams:
            s += f" from {len(n.teams)} team{'s' if len(n.teams) != 1 else ''}"
        when = range_en(n.first_day, n.last_day)
        if when:
            s += f" {when}"
        if n.sites:
            s += " to " + (", ".join(n.sites) if len(n.sites) <= 3 else f"{len(n.sites)} {n.site_word_en}")
        s += f", {_hours_text(n.hours)} hours of service"
        for m in n.measures:
            s += "; they " + m.en.format(n=number_en(m.value))
        parts.append(s)
    if n.community_persons:
        whose = "its" if parts else f"{name}'s"
        parts.append(
            f"{n.community_persons:,} of {whose} cadres under home observation served their communities "
            f"for {_hours_text(n.community_hours)} hours"
        )
    return "; ".join(parts) + "."


def _year_zh(as_of: datetime) -> str:
    day, _hm = _end_day(as_of)
    if (day.month, day.day) == (12, 31):
        return f"{day.year}年全年"
    if (day.month, day.day) == (1, 1):
        return f"{day.year}年1月1日"
    return f"{day.year}年1月1日至{day.month}月{day.day}日"


def _year_en(as_of: datetime) -> str:
    day, _hm = _end_day(as_of)
    if (day.month, day.day) == (12, 31):
        return f"In {day.year}"
    if (day.month, day.day) == (1, 1):
        return f"On 1 January {day.year}"
    return f"From 1 January to {day.day} {day:%B} {day.year}"


def _and_en(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def party_zh(p: PartyLife) -> str:
    """全年共开展“三会一课”等组织生活X次，开展谈心谈话近9000人次，设立党员示范岗104个、党员先锋岗142个、
    党员责任区93个，建立领导干部联系点286个，233个基层部门和个人获评各类奖项，12名同志递交了入党申请书。"""
    if p.is_empty:
        return ""
    clauses: list[str] = []
    if p.meetings.value:
        clauses.append(f"共开展“三会一课”等组织生活{number_zh(p.meetings)}次")
    if p.talk_person_times.value:
        clauses.append(f"开展谈心谈话{number_zh(p.talk_person_times)}人次")
    posts = [
        f"{name}{number_zh(n)}个"
        for name, n in (
            ("党员示范岗", p.model_posts),
            ("党员先锋岗", p.vanguard_posts),
            ("党员责任区", p.responsibility_areas),
        )
        if n.value
    ]
    if posts:
        clauses.append("设立" + "、".join(posts))
    if p.contact_points.value:
        clauses.append(f"建立领导干部联系点{number_zh(p.contact_points)}个")
    if p.awards.value:
        clauses.append(f"{number_zh(p.awards)}个基层部门和个人获评各类奖项")
    if p.applications.value:
        clauses.append(f"{number_zh(p.applications)}名同志递交了入党申请书")
    return f"{_year_zh(p.as_of)}，" + "，".join(clauses) + "。"


def _one(n: Num) -> bool:
    return n.value == 1 and n.style == "exact"


def party_en(p: PartyLife) -> str:
    """In 2024, branches held 120 meetings of organizational life; heart-to-heart talks reached nearly
    9,000 person-times; there were 104 model posts, 142 vanguard posts and 93 responsibility areas; …"""
    if p.is_empty:
        return ""
    clauses: list[str] = []
    if p.meetings.value:
        clauses.append(
            f"branches held {number_en(p.meetings)} meeting{'' if _one(p.meetings) else 's'} "
            "of organizational life"
        )
    if p.talk_person_times.value:
        clauses.append(f"heart-to-heart talks reached {number_en(p.talk_person_times)} person-times")
    posts = [
        f"{number_en(n)} {name}{'' if _one(n) else 's'}"
        for name, n in (
            ("model post", p.model_posts),
            ("vanguard post", p.vanguard_posts),
            ("responsibility area", p.responsibility_areas),
        )
        if n.value
    ]
    if posts:
        clauses.append(
            f"there {'was' if len(posts) == 1 and posts[0].startswith('1 ') else 'were'} " + _and_en(posts)
        )
    if p.contact_points.value:
        clauses.append(
            f"leaders kept {number_en(p.contact_points)} contact point{'' if _one(p.contact_points) else 's'}"
        )
    if p.awards.value:
        clauses.append(
            "1 unit or person received an award"
            if _one(p.awards)
            else f"{number_en(p.awards)} units and people received awards"
        )
    if p.applications.value:
        clauses.append(
            "1 person applied to join the Party"
            if _one(p.applications)
            else f"{number_en(p.applications)} people applied to join the Party"
        )
    return f"{_year_en(p.as_of)}, " + "; ".join(clauses) + "."


def write(briefing: Briefing, lang: str = "zh") -> str:
    """The paragraph: the headline, one sentence per notable unit, then the party-life sentence."""
    party = briefing.party
    if lang.startswith("zh"):
        text = headline_zh(briefing.headline) + "".join(note_zh(n) for n in briefing.notes)
        return text + (party_zh(party) if party else "") + "".join(zh for zh, _en in briefing.extras)
    parts = [headline_en(briefing.headline), *(note_en(n) for n in briefing.notes)]
    if party and not party.is_empty:
        parts.append(party_en(party))
    parts.extend(en for _zh, en in briefing.extras)
    return " ".join(parts)
