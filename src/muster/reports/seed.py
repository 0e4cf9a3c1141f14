"""The seed scenario: the Shanghai tax system's volunteer ledger of March 2022, as the article
"微光成炬，照亮守沪战疫之路" reports it.

``load_seed_scenario()`` writes it through the mobilization services (``deployment_dispatch``,
``entry_record``, ``measure_record``, ``post_create``…) as the command-line operator, on top of the demo
organization (``muster.orgs.demo``: its unit codes, teams, partners and people). It is idempotent: when
the scenario's batches exist it writes nothing.

Every figure the article gives holds, by construction (``plan()`` solves the allocation and asserts it):

- as of 2022-03-18 24:00 the organ (市局机关) and 14 district bureaus dispatched 66 batches, 989
  person-times and 18572 hours; 228 people under home observation served their communities 1650 hours;
- as of 2022-03-10 00:00, 4 district bureaus had 151 volunteers out, with 6001 hours;
- 市局机关 17 people 3月16日-17日 at 宛平社区; 黄浦 4 batches, 31 people, 3月12日-18日; 长宁 two people a
  batch at the airport, three-shift; 普陀 27 people 3月11日-15日 at 真如体育场 and 长风公园 (4 days of
  service); 虹口 7 subdistricts, 1536 households, 4872 residents (1500余户, 近5000位居民); 杨浦 26 people
  at 新江湾城街道 from 3月14日; 闵行 3 youth task forces, 124 person-times, 18 communities, 58,760
  residents tested (近6万); 嘉定 6 batches 118 person-times; 金山 59 person-times; 松江 7 batches 181
  person-times 6226 hours; 奉贤 2 teams, 4 batches, 96 person-times; 宝山 supports 松江's and 嘉定's
  hotlines from 3月15日; 徐汇 35 people, 351 hours of community service; 静安's hotline took 422 calls on
  its first day, 381 of them through remote seats.

Shifts are whole hours between 07:00 and 22:00 (长宁's airport shifts 08:00–16:00 and 16:00–24:00), at
most 12 hours, one a day per person, and a person is never in two overlapping batches. A late
correction (an entry moved by an hour, its length unchanged) and a few pending self-reports show that
late fixes and waiting entries leave the article's figures as they are.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from muster.mobilize import services as mob
from muster.mobilize.models import Deployment, EntryKind, MeasureKind, PostKind
from muster.orgs import services as org_services
from muster.orgs.access import SYSTEM
from muster.orgs.models import Partner, Person, Team, TeamMembership, Unit

TZ = ZoneInfo("Asia/Shanghai")
SEED = 20220318
CODE_PREFIX = "S22"  # batch codes: S22-<unit>-<NN>

CUTOFF = datetime(2022, 3, 19, 0, 0, tzinfo=TZ)  # 2022-03-18 24:00
EARLY_CUTOFF = datetime(2022, 3, 10, 0, 0, tzinfo=TZ)
TOTALS = {
    "batches": 66,
    "person_times": 989,
    "hours": 18572,
    "community_persons": 228,
    "community_hours": 1650,
}
EARLY = {"units": 4, "persons": 151, "hours": 6001}

# Hours of the adjustable groups (entries are scaled to hit them exactly); 长宁's airport shifts are fixed.
SJ_EARLY_HOURS = 3000
SJ_HOURS = 6226


def d(day: int) -> date:
    return date(2022, 3, day) if day > 0 else date(2022, 2, 28 + day)


@dataclass
class BatchPlan:
    unit: str
    seq: int
    title: str
    days: list[date]
    size: int
    partner: str | None = None
    site: str = ""
    supported: str | None = None
    fresh: bool = False  # only people not in an earlier batch of the unit
    start_hour: int = 8
    hours: int = 8
    measures: dict[str, int] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"{CODE_PREFIX}-{self.unit}-{self.seq:02d}"

    @property
    def window(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.days[0], time(0), tzinfo=TZ),
            datetime.combine(self.days[-1] + timedelta(days=1), time(0), tzinfo=TZ),
        )


@dataclass
class EntryPlan:
    person: str
    start: datetime
    minutes: int
    batch: BatchPlan | None = None  # None: community service
    group: str = ""  # which exact total the entry belongs to ("" = fixed length)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def _span(first: int, last: int) -> list[date]:
    return [d(x) for x in range(first, last + 1)]


def batch_plans() -> list[BatchPlan]:
    """The 66 batches. Sizes are person-times; ``fresh`` batches take people new to the unit."""
    b: list[BatchPlan] = []

    def add(unit: str, title: str, days: list[date], size: int, **kw: Any) -> BatchPlan:
        p = BatchPlan(unit, sum(1 for x in b if x.unit == unit) + 1, title, days, size, **kw)
        b.append(p)
        return p

    add("SH-JG", "增援宛平社区核酸筛查", _span(16, 17), 17, partner="P-WP", site="宛平社区", fresh=True)
    # 黄浦: 4 batches, 31 people, 3月12日-18日
    for days, size, site in (
        (_span(12, 13), 8, "街道核酸检测点"),
        (_span(14, 15), 8, "社区核酸检测点"),
        (_span(16, 16), 7, "区疾控中心"),
        (_span(17, 18), 8, "街道、社区核酸检测点"),
    ):
        add("HP", "奔赴一线参与抗疫", days, size, partner="P-HPCDC", site=site, fresh=True)
    # 长宁: two people a batch at the airport, 8-hour shifts in rotation
    for days in (_span(1, 7), _span(8, 14), _span(15, 21)):
        add("CN", "浦东国际机场入境人员防疫", days, 2, partner="P-PDJC", site="浦东国际机场", fresh=True)
    # 普陀: 27 people, 3月11日-15日, 4 days of service
    for partner, site, size in (("P-ZRTY", "真如体育场", 14), ("P-CFGY", "长风公园", 13)):
        add("PT", "协助核酸检测", [d(11), d(12), d(14), d(15)], size, partner=partner, site=site, fresh=True)
    # 虹口: 7 subdistricts; 3 batches before 3月10日 (40 people), then 4 more
    hk_days = [
        _span(2, 5),
        _span(4, 7),
        _span(6, 9),
        _span(11, 12),
        _span(13, 14),
        _span(15, 16),
        _span(17, 18),
    ]
    households = [212, 198, 236, 220, 205, 231, 234]  # 1536: 1500余户
    residents = [668, 702, 655, 730, 688, 712, 717]  # 4872: 近5000位居民
    for i, days in enumerate(hk_days):
        add(
            "HK",
            "下沉社区协助核酸检测",
            days,
            [14, 13, 13, 30, 30, 30, 30][i],
            partner=f"P-HK{i + 1}",
            fresh=i < 3,
            hours=10,
            measures={"households_served": households[i], "residents_tested": residents[i]},
        )
    add(
        "YP",
        "支援新江湾城街道全员核酸检测",
        _span(14, 16),
        26,
        partner="P-XJWC",
        site="新江湾城街道",
        fresh=True,
    )
    # 闵行: 18 batches to 18 communities, 124 person-times, 58,760 residents tested (近6万)
    mh_sizes = [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6]
    mh_days = [11, 11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 16, 16, 16, 17, 17, 18, 18]
    mh_tested = [
        3260,
        3410,
        3185,
        3320,
        3275,
        3190,
        3340,
        3265,
        3300,
        3240,
        3355,
        3280,
        3215,
        3330,
        3250,
        3290,
        3205,
        3245,
    ]
    for i in range(18):
        add(
            "MH",
            "社区全员核酸检测",
            [d(mh_days[i])],
            mh_sizes[i],
            partner=f"P-MHC{i + 1:02d}",
            start_hour=7,
            measures={"residents_tested": mh_tested[i]},
        )
    # 嘉定: 6 batches, 118 person-times, 南翔、马陆、安亭
    for i, (days, size) in enumerate(
        (
            (_span(11, 12), 20),
            (_span(12, 13), 19),
            (_span(14, 14), 20),
            (_span(15, 16), 20),
            (_span(16, 17), 19),
            (_span(18, 18), 20),
        )
    ):
        add(
            "JD",
            "增援街镇核酸检测、物资搬运",
            days,
            size,
            partner=["P-NX", "P-ML", "P-AT"][i % 3],
            start_hour=10,
        )
    # 金山: 59 person-times; 2 batches before 3月10日 (32 people)
    for days, size, fresh in (
        (_span(2, 5), 16, True),
        (_span(6, 9), 16, True),
        (_span(11, 12), 14, False),
        (_span(15, 16), 13, False),
    ):
        add("JS", "“千百十”三级疫情应急防控", days, size, site="区核酸检测点位", fresh=fresh, hours=10)
    # 松江: 7 batches, 181 person-times, 6226 hours; 3 batches before 3月10日 (75 people)
    for days, size, fresh in (
        (_span(2, 5), 25, True),
        (_span(4, 7), 25, True),
        (_span(6, 9), 25, True),
        (_span(10, 12), 27, False),
        (_span(12, 14), 27, False),
        (_span(14, 16), 26, False),
        (_span(16, 18), 26, False),
    ):
        add(
            "SJ",
            "“1号先锋蓝”参与防疫志愿工作",
            days,
            size,
            partner="P-G60",
            site="松江区社区核酸检测点",
            fresh=fresh,
            hours=10,
        )
    # 奉贤: 2 teams, 4 batches, 96 person-times
    for days, size in ((_span(11, 12), 24), (_span(13, 14), 24), (_span(15, 16), 24), (_span(17, 18), 24)):
        add("FX", "社区核酸检测点引导、居民小区疫情管控", days, size, site="社区核酸检测点")
    # 宝山 (hotline support for 松江 and 嘉定), 浦东, 青浦, 崇明
    for days, size, sup in ((_span(15, 16), 12, "SJ"), (_span(16, 17), 12, "JD"), (_span(17, 18), 12, "SJ")):
        add("BS", "支援兄弟单位热线接听", days, size, supported=sup, site="12366热线远程坐席", start_hour=9)
    for days, size in ((_span(13, 14), 20), (_span(16, 17), 20)):
        add("PD", "社区核酸检测志愿服务", days, size, site="浦东新区社区核酸检测点")
    for days, size in ((_span(12, 13), 18), (_span(16, 17), 18)):
        add("QP", "社区核酸检测志愿服务", days, size, site="青浦区社区核酸检测点")
    for days, size in ((_span(14, 15), 16), (_span(17, 18), 16)):
        add("CM", "社区核酸检测志愿服务", days, size, site="崇明区社区核酸检测点")
    return b


TEAMS_OF = {
    "SH-JG": ["SH-JG-T1"],
    "HP": ["HP-T1", "HP-T2", "HP-T3", "HP-T4"],
    "CN": ["CN-T1"],
    "PT": ["PT-T1"],
    "HK": ["HK-T1"],
    "YP": ["YP-T1"],
    "MH": ["MH-T1", "MH-T2", "MH-T3"],
    "JD": ["JD-T1"],
    "JS": ["JS-T1"],
    "SJ": ["SJ-T1"],
    "FX": ["FX-T1", "FX-T2"],
    "BS": ["BS-T1"],
    "PD": ["PD-T1"],
    "CM": ["CM-T1"],
}
ONLY_TEAMS = {"PT", "YP", "SH-JG", "CN"}  # these batches come from the teams alone

COMMUNITY = [  # (unit, persons, hours)
    ("XH", 35, 351),
    ("SH-JG", 30, 205),
    ("QP", 35, 236),
    ("FJ3", 25, 168),
    ("JC1", 25, 170),
    ("JC3", 25, 166),
    ("JC4", 25, 172),
    ("JC5", 28, 182),
]


@dataclass
class Plan:
    batches: list[BatchPlan]
    entries: list[EntryPlan]
    pending: list[EntryPlan]
    mh_partners: list[tuple[str, str]]


def _adjust(entries: list[EntryPlan], target_minutes: int, lo: int = 120, hi: int = 720) -> None:
    """Change entry lengths by whole hours, round-robin, until they sum to ``target_minutes`` exactly."""
    diff = target_minutes - sum(e.minutes for e in entries)
    assert diff % 60 == 0, diff
    step = 60 if diff > 0 else -60
    i = 0
    guard = 0
    while diff:
        e = entries[i % len(entries)]
        if lo <= e.minutes + step <= hi:
            e.minutes += step
            diff -= step
            guard = 0
        else:
            guard += 1
            assert guard <= len(entries), "the group cannot reach its target within the shift bounds"
        i += 1


def plan(staff: dict[str, list[str]], teams: dict[str, list[str]], seed: int = SEED) -> Plan:
    """Choose every batch's members and every entry's times so that the article's figures hold.

    ``staff``: unit code (a district or the organ) → staff numbers of its active people, in order;
    ``teams``: team code → staff numbers of its members.
    """
    rng = random.Random(seed)
    batches = batch_plans()
    assert len(batches) == TOTALS["batches"]
    assert sum(b.size for b in batches if b.days[0] < CUTOFF.date()) == TOTALS["person_times"]

    busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    used: dict[str, dict[str, int]] = defaultdict(dict)  # unit → person → batches so far
    for b in batches:
        team_people = [p for t in TEAMS_OF.get(b.unit, []) for p in teams.get(t, [])]
        pool = list(dict.fromkeys(team_people + ([] if b.unit in ONLY_TEAMS else staff[b.unit])))
        lo, hi = b.window
        rest = timedelta(hours=9)
        free = [p for p in pool if not any(s < hi + rest and lo - rest < e for s, e in busy[p])]
        if b.fresh:
            free = [p for p in free if p not in used[b.unit]]
        else:
            in_team = set(team_people)
            free.sort(key=lambda p: (p not in in_team, used[b.unit].get(p, 0), rng.random()))
        assert len(free) >= b.size, (b.code, len(free), b.size)
        b.members = free[: b.size]
        for p in b.members:
            busy[p].append((lo, hi))
            used[b.unit][p] = used[b.unit].get(p, 0) + 1

    # one shift a day per member and day of the batch
    entries: list[EntryPlan] = []
    for b in batches:
        for day in b.days:
            for i, p in enumerate(b.members):
                if b.unit == "CN":  # the airport: 08:00–16:00 and 16:00–24:00, fixed
                    start = datetime.combine(day, time(8 if i == 0 else 16), tzinfo=TZ)
                    entries.append(EntryPlan(p, start, 480, b))
                    continue
                start = datetime.combine(day, time(b.start_hour + rng.choice((0, 0, 1))), tzinfo=TZ)
                early = day < EARLY_CUTOFF.date()
                group = ("sj-" if b.unit == "SJ" else "other-") + ("early" if early else "late")
                entries.append(EntryPlan(p, start, b.hours * 60, b, group))
    counted = [e for e in entries if e.start < CUTOFF]
    fixed = [e for e in counted if not e.group]
    fixed_early = sum(e.minutes for e in fixed if e.start < EARLY_CUTOFF)
    fixed_late = sum(e.minutes for e in fixed if e.start >= EARLY_CUTOFF)
    groups: dict[str, list[EntryPlan]] = defaultdict(list)
    for e in counted:
        if e.group:
            groups[e.group].append(e)
    for g in groups.values():
        rng.shuffle(g)
    _adjust(groups["sj-early"], SJ_EARLY_HOURS * 60)
    _adjust(groups["sj-late"], (SJ_HOURS - SJ_EARLY_HOURS) * 60)
    _adjust(groups["other-early"], (EARLY["hours"] - SJ_EARLY_HOURS) * 60 - fixed_early)
    _adjust(
        groups["other-late"], (TOTALS["hours"] - EARLY["hours"] - SJ_HOURS + SJ_EARLY_HOURS) * 60 - fixed_late
    )
    for e in entries:  # shifts end by 22:00 (24:00 at the airport), never past the cutoff
        assert e.minutes <= 12 * 60 and (e.end.hour <= 22 or e.end.time() == time(0)), e

    # community service during home observation: people of the unit in no batch
    dispatched = {p for b in batches for p in b.members}
    community: list[EntryPlan] = []
    pending: list[EntryPlan] = []
    for unit, persons, hours in COMMUNITY:
        pool = [p for p in staff[unit] if p not in dispatched]
        people = pool[:persons]
        assert len(people) == persons, unit
        mine: list[EntryPlan] = []
        per_person = max(1, round(hours / persons / 3.5))
        for p in people:
            k = max(1, per_person + rng.choice((-1, 0, 0, 1)))
            for n in sorted(rng.sample(range(12, 19), k)):
                start = datetime.combine(d(n), time(rng.choice((8, 9, 13, 14))), tzinfo=TZ)
                mine.append(EntryPlan(p, start, rng.choice((2, 3, 4)) * 60, None, "community"))
        _adjust(mine, hours * 60, lo=60, hi=6 * 60)
        community += mine
        extra = pool[persons]  # one self-report still waiting for the branch secretary
        pending.append(EntryPlan(extra, datetime.combine(d(18), time(14), tzinfo=TZ), 180, None))

    mh_partners = [(f"P-MHC{i:02d}", name) for i, name in enumerate(MH_COMMUNITIES, start=1)]
    return Plan(batches, entries + community, pending, mh_partners)


MH_COMMUNITIES = [
    "莘庄镇第一居民区",
    "莘庄镇第二居民区",
    "莘庄镇第三居民区",
    "莘庄镇第四居民区",
    "莘庄镇康城社区",
    "莘庄镇沁园春社区",
    "莘庄镇莘城苑社区",
    "莘庄镇西湖苑社区",
    "莘庄镇绿梅社区",
    "莘庄镇水清社区",
    "古美路街道古美社区",
    "古美路街道平阳社区",
    "江川路街道东风社区",
    "江川路街道鹤庆社区",
    "虹桥镇虹桥社区",
    "虹桥镇龙柏社区",
    "七宝镇九星社区",
    "七宝镇航华社区",
]


# ---------------------------------------------------------------- applying the plan


def is_loaded() -> bool:
    return Deployment.objects.filter(code__startswith=f"{CODE_PREFIX}-").exists()


def _say(out: IO[str] | Any | None, text: str) -> None:
    if out is not None:
        out.write(text + "\n")


def _staff() -> dict[str, list[str]]:
    units = [
        "SH-JG",
        "HP",
        "CN",
        "JA",
        "PT",
        "HK",
        "YP",
        "MH",
        "BS",
        "JD",
        "PD",
        "JS",
        "SJ",
        "QP",
        "FX",
        "CM",
        "XH",
    ]
    units += ["FJ3", "JC1", "JC3", "JC4", "JC5"]
    out: dict[str, list[str]] = {}
    for code in units:
        unit = Unit.objects.get(code=code)
        out[code] = list(
            Person.objects.filter(unit__path__startswith=unit.path, employment_status="active")
            .order_by("code")
            .values_list("code", flat=True)
        )
    return out


def _teams() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for team, person in TeamMembership.objects.order_by("team__code", "person__code").values_list(
        "team__code", "person__code"
    ):
        out[team].append(person)
    return out


def load_seed_scenario(stdout: IO[str] | Any | None = None) -> bool:
    """Write the scenario (once). Returns whether anything was written. Needs the demo organization."""
    if is_loaded():
        return False
    if not Unit.objects.filter(code="SJ").exists():
        raise RuntimeError("The seed scenario needs the demo organization (muster.orgs.demo.load_demo).")
    p = plan(_staff(), _teams())
    actor = SYSTEM
    with transaction.atomic():
        units = {u.code: u for u in Unit.objects.all()}
        people = {x.code: x for x in Person.objects.all()}
        partners = {x.code: x for x in Partner.objects.all()}
        for code, name in p.mh_partners:
            if code not in partners:
                partners[code] = org_services.partner_create(
                    actor=actor, code=code, name=name, kind="community", unit=units["MH"], district="闵行区"
                )
        kinds = {k.code: k for k in MeasureKind.objects.all()}
        deployments: dict[str, Deployment] = {}
        for b in p.batches:
            lo, hi = b.window
            dep = mob.deployment_dispatch(
                actor=actor,
                unit=units[b.unit],
                title=b.title,
                start=lo,
                end=hi,
                people=[people[c] for c in b.members],
                leader=people[b.members[0]],
                partner=partners[b.partner] if b.partner else None,
                site=b.site,
                supported_unit=units[b.supported] if b.supported else None,
                code=b.code,
            ).deployment
            deployments[b.code] = dep
            for kind, value in b.measures.items():
                mob.measure_record(actor=actor, kind=kinds[kind], value=value, deployment=dep)
        _say(stdout, f"batches: {len(deployments)}")
        written = []
        for e in sorted(p.entries, key=lambda e: (e.start, e.person)):
            written.append(
                mob.entry_record(
                    actor=actor,
                    person=people[e.person],
                    kind=EntryKind.DISPATCH if e.batch else EntryKind.COMMUNITY,
                    deployment=deployments[e.batch.code] if e.batch else None,
                    start=e.start,
                    end=e.end,
                    source="import" if e.batch else "self",
                    note="" if e.batch else "居家观察期间参与社区疫情防控志愿服务",
                )
            )
        _say(stdout, f"service entries: {len(written)}")
        for e in p.pending:
            mob.entry_record(
                actor=actor,
                person=people[e.person],
                kind=EntryKind.COMMUNITY,
                start=e.start,
                end=e.end,
                source="self",
                approve=False,
                note="居家观察期间参与社区疫情防控志愿服务（待支部书记确认）",
            )
        # A late correction: an SJ shift recorded an hour early is moved, its length unchanged.
        sj = next(
            r
            for r in written
            if r.deployment is not None and r.deployment.unit.code == "SJ" and r.start.day == 13
        )
        mob.entry_correct(
            actor=actor,
            entry=sj,
            start=sj.start + timedelta(hours=1),
            end=sj.end + timedelta(hours=1),
            reason="签到时间录入有误，按点位记录更正",
        )
        _hotline(actor, units["JA"], [people[c] for c in _staff()["JA"][:6]], kinds)
    if connection.vendor == "postgresql":
        # a bulk load: give the planner its statistics now rather than at autovacuum's next round
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _say(stdout, "seed scenario loaded")
    return True


def _hotline(actor: Any, unit: Unit, people: list[Person], kinds: dict[str, MeasureKind]) -> None:
    """静安: the "现场+居家" hotline seats; on the first day 422 calls, 381 through remote seats."""
    post = mob.post_create(
        actor=actor, unit=unit, code="S22-JA-RX", name="热线坐席（现场+居家）", kind=PostKind.HOTLINE
    )
    day = d(14)
    first = None
    for i, person in enumerate(people):
        remote = i >= 2
        start = datetime.combine(day, time(8 if i % 2 == 0 else 13), tzinfo=TZ)
        shift = mob.shift_create(
            actor=actor, post=post, start=start, end=start + timedelta(hours=5), seats=1, remote=remote
        )
        mob.shift_assign(actor=actor, shift=shift, person=person)
        row = mob.entry_record(
            actor=actor, person=person, kind=EntryKind.HOTLINE, shift=shift, start=shift.start, end=shift.end
        )
        first = first or row
    assert first is not None
    mob.measure_record(actor=actor, kind=kinds["calls_answered"], value=422, entry=first, on=day)
    mob.measure_record(actor=actor, kind=kinds["calls_transferred_remote"], value=381, entry=first, on=day)


def team_codes_of(unit_code: str) -> list[str]:
    return list(Team.objects.filter(unit__code=unit_code).order_by("code").values_list("code", flat=True))
