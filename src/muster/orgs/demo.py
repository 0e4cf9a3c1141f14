"""The demo organization: the Shanghai tax system as the seed articles describe it (spring 2022).

``load_demo()`` builds it through the services (``muster.orgs.services``) as the command-line operator
(``access.SYSTEM``), so every row it writes is validated and audited like any other write. It is:

- deterministic: the whole organization is planned first from a seeded random generator, so every run
  (and every machine) plans the same people with the same staff numbers, ID numbers and phones;
- idempotent: each unit, person, team, partner and user is looked up by its code (user name) and only
  created when missing, so a second run writes nothing and logs no audit event.

Facts taken from the articles: the 16 district bureaus, 第一…第五稽查局, 第三税务分局, the 12366 service
center; Xuhui's 26 party branches and its 80-odd party workers; Yangpu's 31 branches; Jinshan's 243
retirees with their retired cadres' branch; the volunteer teams and the communities, test sites and
subdistricts they served.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from muster.accounts.services import user_create
from muster.orgs import services
from muster.orgs.access import SYSTEM
from muster.orgs.models import Partner, Person, RoleGrant, Team, TeamMembership, Unit
from muster.orgs.validators import id_check_digit

SEED = 20220318
DEFAULT_PASSWORD = "muster-demo-2026"  # noqa: S105 (printed demo login, overridable)
ROOT_CODE = "SH"
PARTY_ROOT_CODE = "SH-DW"

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 26 → 二十六, 31 → 三十一 (enough for branch and office numbers)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CN_DIGITS[tens]
    return head + "十" + (CN_DIGITS[ones] if ones else "")


# ---------------------------------------------------------------- the plan (pure data)


@dataclass
class UnitPlan:
    code: str
    name: str
    kind: str
    parent: str | None
    short_name: str = ""


@dataclass
class PersonPlan:
    code: str
    name: str
    unit: str
    party_unit: str | None
    gender: str
    birth_date: date
    political_status: str
    employment_status: str
    phone: str
    id_number: str
    tags: list[str]


@dataclass
class TeamPlan:
    code: str
    name: str
    unit: str
    kind: str
    description: str
    size: int
    members: list[str] = field(default_factory=list)  # staff numbers; the first one leads


@dataclass
class PartnerPlan:
    code: str
    name: str
    kind: str
    unit: str
    district: str


@dataclass(frozen=True)
class UserPlan:
    username: str
    role: str | None  # None: superuser
    unit: str | None
    note: Any  # a lazily translated description


@dataclass
class Plan:
    units: list[UnitPlan] = field(default_factory=list)
    people: list[PersonPlan] = field(default_factory=list)
    teams: list[TeamPlan] = field(default_factory=list)
    partners: list[PartnerPlan] = field(default_factory=list)
    users: list[UserPlan] = field(default_factory=list)


@dataclass(frozen=True)
class District:
    code: str
    name: str  # 徐汇区
    area: str  # ID-number area code of the district
    staff: int  # people in service
    offices: int  # 税务所
    branches: int  # party branches under the district committee


DISTRICTS = [
    District("HP", "黄浦区", "310101", 150, 4, 9),
    District("XH", "徐汇区", "310104", 190, 8, 26),
    District("CN", "长宁区", "310105", 120, 4, 8),
    District("JA", "静安区", "310106", 150, 5, 10),
    District("PT", "普陀区", "310107", 130, 4, 8),
    District("HK", "虹口区", "310109", 120, 4, 8),
    District("YP", "杨浦区", "310110", 180, 7, 31),
    District("MH", "闵行区", "310112", 170, 6, 11),
    District("BS", "宝山区", "310113", 130, 5, 9),
    District("JD", "嘉定区", "310114", 140, 5, 9),
    District("PD", "浦东新区", "310115", 220, 8, 14),
    District("JS", "金山区", "310116", 90, 3, 6),
    District("SJ", "松江区", "310117", 140, 5, 17),
    District("QP", "青浦区", "310118", 100, 4, 6),
    District("FX", "奉贤区", "310120", 100, 4, 7),
    District("CM", "崇明区", "310151", 80, 3, 6),
]
JINSHAN_RETIREES = 243  # "全面排摸243位老同志"

# Area codes of people born outside Shanghai (南京, 杭州, 合肥, 济南, 武汉, 长沙, 成都, 西安, 苏州, 宁波).
OTHER_AREAS = [
    "320102",
    "330106",
    "340104",
    "370102",
    "420106",
    "430102",
    "510104",
    "610102",
    "320506",
    "330203",
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛顾毛钱严施倪龚邵汤俞奚费"
)
# Shanghai-common surnames come up more often.
SURNAME_WEIGHTS = {s: 3 for s in "张王陈李徐朱沈周陆顾吴钱"}
GIVEN_MALE = "伟强磊军洋勇杰涛明超斌鹏辉华平健刚峰俊浩宇晨翔文博立新志国建东海波毅凯晖然昊"
GIVEN_FEMALE = "丽娜敏静燕艳芳娟霞婷玲雪琳慧莉洁颖萍佳倩瑶蕾妍婧雯欣怡晶蓉英红梅菁琦岚蕴"
MOBILE_PREFIXES = [
    "130",
    "131",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "199",
]


def _district_full(d: District) -> str:
    return f"国家税务总局上海市{d.name}税务局"


def _district_short(d: District) -> str:
    return f"{d.name}税务局"


class Planner:
    """Draws the whole organization from one seeded generator; knows nothing of the database."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.plan = Plan()
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()
        self.units: dict[str, UnitPlan] = {}
        # admin unit code → party branch code (people of that unit who are members join it)
        self.branch_of: dict[str, str] = {}
        self.branches_of_committee: dict[str, list[str]] = {}
        self.surnames = list(SURNAMES)
        self.surname_weights = [SURNAME_WEIGHTS.get(s, 1) for s in self.surnames]

    # ----- units
    def unit(self, code: str, name: str, kind: str, parent: str | None, short_name: str = "") -> str:
        u = UnitPlan(code, name, kind, parent, short_name)
        self.plan.units.append(u)
        self.units[code] = u
        return code

    def committee(self, code: str, name: str, parent: str | None, short_name: str = "") -> str:
        self.branches_of_committee[code] = []
        return self.unit(code, name, "party_committee", parent, short_name)

    def branch(self, committee: str, code: str, name: str, serves: Iterable[str] = ()) -> str:
        self.unit(code, name, "branch", committee)
        self.branches_of_committee[committee].append(code)
        for admin in serves:
            self.branch_of.setdefault(admin, code)
        return code

    def build_units(self) -> None:
        root = self.unit(ROOT_CODE, "国家税务总局上海市税务局", "city_bureau", None, "上海市税务局")
        organ = self.unit("SH-JG", "市局机关", "bureau_organ", root, "市局机关")
        organ_sections = [
            ("BGS", "办公室"),
            ("DJC", "党建处（巡察办）"),
            ("NFC", "纳税服务处"),
            ("ZGKJ", "征管科技处"),
            ("RSC", "人事处"),
            ("CWC", "财务管理处"),
            ("LTC", "离退休干部处"),
        ]
        for sc, name in organ_sections:
            self.unit(f"SH-JG-{sc}", name, "section", organ)

        party_root = self.committee(PARTY_ROOT_CODE, "中共国家税务总局上海市税务局委员会", None, "市局党委")
        organ_dw = self.committee("SH-JG-DW", "市局机关党委", party_root, "机关党委")
        for i, (sc, name) in enumerate(organ_sections, start=1):
            b = self.branch(organ_dw, f"SH-JG-B{i:02d}", f"{name}党支部", [f"SH-JG-{sc}"])
            if i <= 2:
                for g in (1, 2):
                    self.unit(f"{b}-G{g}", f"{name}党支部第{cn_number(g)}党小组", "party_group", b)
        self.branch_of.setdefault(organ, "SH-JG-B01")

        for d in DISTRICTS:
            self._district(d, root, party_root)

        for n in range(1, 6):
            code = f"JC{n}"
            self.unit(
                code,
                f"国家税务总局上海市第{cn_number(n)}稽查局",
                "inspection_bureau",
                root,
                f"第{cn_number(n)}稽查局",
            )
            sections = [("BGS", "办公室"), ("JC1", "检查一科"), ("JC2", "检查二科"), ("SL", "审理科")]
            for sc, name in sections:
                self.unit(f"{code}-{sc}", name, "section", code)
            dw = self.committee(f"{code}-DW", f"第{cn_number(n)}稽查局党委", party_root)
            for i, (sc, name) in enumerate(sections, start=1):
                self.branch(dw, f"{code}-B{i:02d}", f"第{cn_number(n)}稽查局{name}党支部", [f"{code}-{sc}"])
            self.branch_of.setdefault(code, f"{code}-B01")

        self.unit("FJ3", "国家税务总局上海市税务局第三税务分局", "sub_bureau", root, "第三税务分局")
        fj_sections = [("BGS", "办公室"), ("SY1", "税源管理一科"), ("SY2", "税源管理二科")]
        for sc, name in fj_sections:
            self.unit(f"FJ3-{sc}", name, "section", "FJ3")
        dw = self.committee("FJ3-DW", "第三税务分局党委", party_root)
        for i, (sc, name) in enumerate(fj_sections, start=1):
            self.branch(dw, f"FJ3-B{i:02d}", f"第三税务分局{name}党支部", [f"FJ3-{sc}"])
        self.branch_of.setdefault("FJ3", "FJ3-B01")

        self.unit("NF", "12366上海（国际）纳税服务中心", "service_center", root, "12366纳税服务中心")
        nf_sections = [
            ("ZX1", "热线咨询一科"),
            ("ZX2", "热线咨询二科"),
            ("GJ", "国际纳税服务科"),
            ("ZH", "综合科"),
        ]
        for sc, name in nf_sections:
            self.unit(f"NF-{sc}", name, "section", "NF")
        dw = self.committee("NF-DW", "12366纳税服务中心党委", party_root)
        for i, (sc, name) in enumerate(nf_sections, start=1):
            self.branch(dw, f"NF-B{i:02d}", f"12366纳税服务中心{name}党支部", [f"NF-{sc}"])
        self.branch_of.setdefault("NF", "NF-B01")

    def _district(self, d: District, root: str, party_root: str) -> None:
        c = self.unit(d.code, _district_full(d), "district_bureau", root, _district_short(d))
        short = _district_short(d)
        admin: list[tuple[str, str]] = [
            (f"{c}-BGS", "办公室"),
            (f"{c}-DB", "党建工作科"),
            (f"{c}-NFK", "纳税服务科"),
            (f"{c}-ZGK", "征收管理科"),
        ]
        for code, name in admin:
            self.unit(code, name, "section", c)
        for i in range(1, d.offices + 1):
            code = f"{c}-S{i}"
            self.unit(code, f"第{cn_number(i)}税务所", "tax_office", c, f"{short}第{cn_number(i)}税务所")
            admin.append((code, f"第{cn_number(i)}税务所"))
        self.unit(f"{c}-BSFWT", "办税服务厅", "service_hall", c, f"{short}办税服务厅")
        admin.append((f"{c}-BSFWT", "办税服务厅"))

        dw = self.committee(f"{c}-DW", f"{short}党委", party_root, f"{d.name}税务局党委")
        retired_branch = d.code == "JS"
        n = 0
        for code, name in admin:
            if n >= d.branches - (1 if retired_branch else 0):
                break
            n += 1
            self.branch(dw, f"{c}-B{n:02d}", f"{name}党支部", [code])
        fillers = d.branches - n - (1 if retired_branch else 0)
        for i in range(1, fillers + 1):
            n += 1
            self.branch(dw, f"{c}-B{n:02d}", f"机关第{cn_number(i)}党支部")
        if retired_branch:
            n += 1
            self.branch(dw, f"{c}-B{n:02d}", "退休干部党支部")
        self.branch_of.setdefault(c, f"{c}-B01")
        if d.code == "MH":
            # "在莘庄某封控小区内成立疫情防控志愿服务队第一临时党支部" (a branch beyond the standing ones)
            self.unit("MH-LS1", "疫情防控志愿服务队第一临时党支部", "branch", dw)
        # Party groups under the first two branches.
        for b in self.branches_of_committee[dw][:2]:
            for g in (1, 2, 3):
                self.unit(f"{b}-G{g}", f"{self.units[b].name}第{cn_number(g)}党小组", "party_group", b)

    # ----- people
    def _name(self, gender: str) -> str:
        surname = self.rng.choices(self.surnames, self.surname_weights)[0]
        pool = GIVEN_MALE if gender == "M" else GIVEN_FEMALE
        given = "".join(self.rng.choice(pool) for _ in range(self.rng.choice((1, 2, 2, 2))))
        return surname + given

    def _id_number(self, area: str, birth: date, gender: str) -> str:
        while True:
            seq = self.rng.randrange(0, 100) * 10 + self.rng.randrange(0, 5) * 2 + (1 if gender == "M" else 0)
            first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
            value = first17 + id_check_digit(first17)
            if value not in self.id_numbers:
                self.id_numbers.add(value)
                return value

    def _phone(self) -> str:
        while True:
            value = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(0, 10**8):08d}"
            if value not in self.phones:
                self.phones.add(value)
                return value

    def _birth(self, min_age: int, max_age: int) -> date:
        ref = date(2022, 3, 18)
        days = self.rng.randrange(min_age * 365, max_age * 365)
        return ref - timedelta(days=days)

    def person(
        self,
        code: str,
        unit: str,
        area: str,
        committee: str | None,
        *,
        retired: bool = False,
        party_branch: str | None = None,
    ) -> PersonPlan:
        rng = self.rng
        gender = "M" if rng.random() < 0.52 else "F"
        birth = self._birth(60, 88) if retired else self._birth(22, 60)
        age = (date(2022, 3, 18) - birth).days // 365
        if retired:
            status = rng.choices(["member", "non_party", "other_party"], [70, 27, 3])[0]
        elif age <= 28:
            status = rng.choices(["member", "probationary", "league", "non_party"], [30, 12, 45, 13])[0]
        else:
            status = rng.choices(["member", "probationary", "other_party", "non_party"], [62, 2, 3, 33])[0]
        party_unit = None
        if status in ("member", "probationary") and committee is not None:
            party_unit = (
                party_branch or self.branch_of.get(unit) or rng.choice(self.branches_of_committee[committee])
            )
        tags: list[str] = []
        if age <= 35:
            tags.append("青年")
        if gender == "M" and rng.random() < 0.05:
            tags.append("退役军人")
        if party_unit and not retired and rng.random() < 0.06:
            tags.append("党务工作者")
        if retired:
            tags.append("老同志")
            if age >= 80:
                tags.append("高龄")
        area_code = area if rng.random() < 0.7 else rng.choice(OTHER_AREAS)
        id_number = self._id_number(area_code, birth, gender) if rng.random() < 0.96 else ""
        p = PersonPlan(
            code=code,
            name=self._name(gender),
            unit=unit,
            party_unit=party_unit,
            gender=gender,
            birth_date=birth,
            political_status=status,
            employment_status="retired" if retired else ("seconded" if rng.random() < 0.01 else "active"),
            phone=self._phone() if rng.random() < 0.97 else "",
            id_number=id_number,
            tags=tags,
        )
        self.plan.people.append(p)
        return p

    def staff(
        self, prefix: str, count: int, area: str, committee: str, code_prefix: str = ""
    ) -> list[PersonPlan]:
        """``count`` people spread over ``prefix``'s unit and its sub-units (offices get more)."""
        code_prefix = code_prefix or prefix
        subs = [u.code for u in self.plan.units if u.parent == prefix and u.kind not in ("party_committee",)]
        weights = [3 if self.units[s].kind == "tax_office" else 2 for s in subs]
        out = []
        for i in range(1, count + 1):
            unit = prefix if (not subs or self.rng.random() < 0.12) else self.rng.choices(subs, weights)[0]
            out.append(self.person(f"{code_prefix}{i:04d}", unit, area, committee))
        return out

    def build_people(self) -> dict[str, list[PersonPlan]]:
        by_unit: dict[str, list[PersonPlan]] = {}
        organ_area = "310104"  # the organ sits in Xuhui (肇嘉浜路800号)
        by_unit["SH-JG"] = self.staff("SH-JG", 150, organ_area, "SH-JG-DW", "JG")
        for d in DISTRICTS:
            by_unit[d.code] = self.staff(d.code, d.staff, d.area, f"{d.code}-DW")
        # Xuhui: "全局26个支部80多位党务工作者" — make sure each branch has members and ~80 party workers.
        xh_members = [p for p in by_unit["XH"] if p.party_unit]
        xh_branches = self.branches_of_committee["XH-DW"]
        for i, b in enumerate(xh_branches):
            for p in xh_members[i * 3 : i * 3 + 3]:
                p.party_unit = b
        workers = [p for p in xh_members if "党务工作者" in p.tags]
        for p in xh_members:
            if len(workers) >= 82:
                break
            if "党务工作者" not in p.tags:
                p.tags.append("党务工作者")
                workers.append(p)
        # Jinshan's retirees, their branch is the retired cadres' branch.
        js_retired_branch = next(
            b for b in self.branches_of_committee["JS-DW"] if self.units[b].name == "退休干部党支部"
        )
        by_unit["JSR"] = [
            self.person(f"JSR{i:04d}", "JS", "310116", "JS-DW", retired=True, party_branch=js_retired_branch)
            for i in range(1, JINSHAN_RETIREES + 1)
        ]
        for n in range(1, 6):
            by_unit[f"JC{n}"] = self.staff(f"JC{n}", 70, "310104", f"JC{n}-DW", f"JC{n}-")
        by_unit["FJ3"] = self.staff("FJ3", 60, "310106", "FJ3-DW", "FJ3-")
        by_unit["NF"] = self.staff("NF", 110, "310104", "NF-DW")
        # MH's temporary branch: ten members "组织10名党员进行庄严宣誓".
        for p in [p for p in by_unit["MH"] if p.party_unit][:10]:
            p.party_unit = "MH-LS1"
        return by_unit

    # ----- teams and partners
    def build_teams(self, by_unit: dict[str, list[PersonPlan]]) -> None:
        specs = [
            # code, name, unit, kind, size, description (from the articles)
            (
                "SH-JG-T1",
                "疫情防控志愿服务预备队",
                "SH-JG",
                "reserve",
                24,
                "3月16日-17日增援宛平社区核酸筛查",
            ),
            ("HP-T1", "抗疫急先锋", "HP", "volunteer", 12, ""),
            ("HP-T2", "税青逆行者", "HP", "youth", 12, ""),
            ("HP-T3", "党员集结号", "HP", "member", 12, ""),
            ("HP-T4", "同心战役军", "HP", "volunteer", 10, ""),
            (
                "CN-T1",
                "长税机场防疫志愿队",
                "CN",
                "volunteer",
                16,
                "浦东国际机场入境人员防疫宣传、登记、测温，三班倒",
            ),
            ("PT-T1", "疫情防控志愿服务队", "PT", "youth", 27, "真如体育场、长风公园核酸检测"),
            ("HK-T1", "下沉社区防疫志愿服务队", "HK", "volunteer", 30, "虹口城区7个街道社区核酸检测"),
            ("YP-T1", "疫情防控志愿服务队（首批）", "YP", "volunteer", 26, "支援新江湾城街道全员核酸检测"),
            ("MH-T1", "青年突击队第一分队", "MH", "youth", 15, ""),
            ("MH-T2", "青年突击队第二分队", "MH", "youth", 15, ""),
            ("MH-T3", "青年突击队第三分队", "MH", "youth", 15, ""),
            ("JD-T1", "嘉家护沪", "JD", "volunteer", 30, "增援南翔、马陆、安亭等街镇"),
            ("JS-T1", "“千百十”疫情应急防控志愿队", "JS", "volunteer", 20, ""),
            ("SJ-T1", "1号先锋蓝", "SJ", "volunteer", 48, "1名党委委员、17名党支部书记、30名科级领导干部"),
            ("FX-T1", "疫情防控应急预备队", "FX", "reserve", 16, ""),
            ("FX-T2", "青年先锋队", "FX", "youth", 14, ""),
            ("JA-T1", "党团员突击队", "JA", "member", 20, "“现场+居家”热线坐席"),
            ("BS-T1", "青年突击队", "BS", "youth", 16, "支援松江、嘉定热线接听"),
            ("PD-T1", "青年先锋队", "PD", "youth", 18, "办税服务厅轮流值守、消杀测温"),
            ("CM-T1", "青年党团员服务队", "CM", "youth", 12, "办税服务厅防疫"),
            ("NF-T1", "党团员坐席先锋队", "NF", "member", 20, "7×24小时热线"),
        ]
        for code, name, unit, kind, size, description in specs:
            pool = [p for p in by_unit[unit] if p.employment_status == "active"]
            if kind == "youth":
                young = [p for p in pool if "青年" in p.tags]
                pool = young if len(young) >= size else pool
            elif kind == "member":
                members = [p for p in pool if p.political_status in ("member", "probationary", "league")]
                pool = members if len(members) >= size else pool
            chosen = self.rng.sample(pool, min(size, len(pool)))
            for p in chosen:
                if "志愿者" not in p.tags:
                    p.tags.append("志愿者")
            self.plan.teams.append(
                TeamPlan(code, name, unit, kind, description, size, [p.code for p in chosen])
            )

    def build_partners(self) -> None:
        partners = [
            ("P-WP", "宛平社区", "community", "SH-JG", "徐汇区"),
            ("P-XJWC", "新江湾城街道", "subdistrict", "YP", "杨浦区"),
            ("P-PDJC", "浦东国际机场", "airport", "CN", "浦东新区"),
            ("P-ZRTY", "真如体育场", "test_site", "PT", "普陀区"),
            ("P-CFGY", "长风公园", "test_site", "PT", "普陀区"),
            ("P-HPCDC", "黄浦区疾病预防控制中心", "health", "HP", "黄浦区"),
            ("P-NX", "南翔镇", "subdistrict", "JD", "嘉定区"),
            ("P-ML", "马陆镇", "subdistrict", "JD", "嘉定区"),
            ("P-AT", "安亭镇", "subdistrict", "JD", "嘉定区"),
            ("P-HQZJ", "虹桥镇紫晶楼宇党群工作站", "building", "MH", "闵行区"),
            ("P-G60", "G60科创走廊", "park", "SJ", "松江区"),
        ]
        for i, name in enumerate(
            [
                "欧阳路街道",
                "曲阳路街道",
                "广中路街道",
                "嘉兴路街道",
                "凉城新村街道",
                "四川北路街道",
                "北外滩街道",
            ],
            start=1,
        ):
            partners.append((f"P-HK{i}", name, "subdistrict", "HK", "虹口区"))
        for i in range(1, 5):
            partners.append(
                (f"P-XZ{i}", f"莘庄镇第{cn_number(i)}居民区", "residents_committee", "MH", "闵行区")
            )
        for code, name, kind, unit, district in partners:
            self.plan.partners.append(PartnerPlan(code, name, kind, unit, district))

    def build_users(self) -> None:
        self.plan.users = [
            UserPlan("admin", None, None, _("superuser: may do everything")),
            UserPlan("viewer", "viewer", ROOT_CODE, _("viewer on the whole city bureau")),
            UserPlan("xuhui", "manager", "XH", _("manager of the Xuhui district bureau")),
            UserPlan("xuhui_secretary", "secretary", "XH-DW", _("secretary of the Xuhui party committee")),
            UserPlan("huangpu_leader", "leader", "HP", _("team leader in the Huangpu district bureau")),
        ]

    def build(self) -> Plan:
        self.build_units()
        by_unit = self.build_people()
        self.build_teams(by_unit)
        self.build_partners()
        self.build_users()
        return self.plan


def build_plan(seed: int = SEED) -> Plan:
    return Planner(seed).build()


# ---------------------------------------------------------------- applying the plan


CREATED_LABELS = {
    "units": _("units"),
    "people": _("people"),
    "teams": _("teams"),
    "team_members": _("team members"),
    "partners": _("partners"),
    "users": _("users"),
    "grants": _("role grants"),
}


@dataclass
class DemoSummary:
    created: dict[str, int]
    totals: dict[str, int]
    password: str
    logins: list[UserPlan]

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def demo_password() -> str:
    return os.environ.get("MUSTER_DEMO_PASSWORD") or DEFAULT_PASSWORD


def _say(stdout: IO[str] | Any | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + ("" if text.endswith("\n") else "\n"))


def load_demo(stdout: IO[str] | Any | None = None, *, seed: int = SEED) -> DemoSummary:
    """Create whatever of the demo organization is missing (all of it, the first time)."""
    plan = build_plan(seed)
    password = demo_password()
    created = {"units": 0, "people": 0, "teams": 0, "team_members": 0, "partners": 0, "users": 0, "grants": 0}
    actor = SYSTEM
    with transaction.atomic():
        units: dict[str, Unit] = {u.code: u for u in Unit.objects.all()}
        for up in plan.units:
            if up.code in units:
                continue
            parent = units[up.parent] if up.parent else None
            units[up.code] = services.unit_create(
                actor=actor, code=up.code, name=up.name, kind=up.kind, parent=parent, short_name=up.short_name
            )
            created["units"] += 1
        _say(
            stdout,
            gettext("Units: %(n)d created of %(total)d.") % {"n": created["units"], "total": len(plan.units)},
        )

        existing_people = set(Person.objects.values_list("code", flat=True))
        missing = [pp for pp in plan.people if pp.code not in existing_people]
        for start in range(0, len(missing), 1000):
            chunk = missing[start : start + 1000]
            services.person_create_many(
                actor=actor,
                people=[
                    {
                        "code": pp.code,
                        "name": pp.name,
                        "unit": units[pp.unit],
                        "party_unit": units[pp.party_unit] if pp.party_unit else None,
                        "gender": pp.gender,
                        "birth_date": pp.birth_date,
                        "political_status": pp.political_status,
                        "employment_status": pp.employment_status,
                        "phone": pp.phone,
                        "id_number": pp.id_number,
                        "tags": pp.tags,
                    }
                    for pp in chunk
                ],
            )
            created["people"] += len(chunk)
            _say(
                stdout,
                gettext("People: %(n)d of %(total)d…") % {"n": created["people"], "total": len(missing)},
            )
        _say(
            stdout,
            gettext("People: %(n)d created of %(total)d.")
            % {"n": created["people"], "total": len(plan.people)},
        )

        teams = {t.code: t for t in Team.objects.all()}
        people = {
            p.code: p for p in Person.objects.filter(code__in={c for t in plan.teams for c in t.members})
        }
        memberships = set(TeamMembership.objects.values_list("team__code", "person__code"))
        for tp in plan.teams:
            if tp.code not in teams:
                teams[tp.code] = services.team_create(
                    actor=actor,
                    code=tp.code,
                    name=tp.name,
                    unit=units[tp.unit],
                    kind=tp.kind,
                    description=tp.description,
                )
                created["teams"] += 1
            for i, member in enumerate(tp.members):
                if (tp.code, member) in memberships:
                    continue
                services.team_member_add(
                    actor=actor,
                    team=teams[tp.code],
                    person=people[member],
                    role="leader" if i == 0 else "member",
                )
                created["team_members"] += 1

        partner_codes = set(Partner.objects.values_list("code", flat=True))
        for pa in plan.partners:
            if pa.code in partner_codes:
                continue
            services.partner_create(
                actor=actor,
                code=pa.code,
                name=pa.name,
                kind=pa.kind,
                unit=units[pa.unit],
                district=pa.district,
            )
            created["partners"] += 1

        User = get_user_model()
        for us in plan.users:
            user: Any = User.objects.filter(username=us.username).first()
            if user is None:
                user = user_create(
                    actor=actor, username=us.username, password=password, is_superuser=us.role is None
                )
                created["users"] += 1
            if us.role and us.unit:
                unit = units[us.unit]
                if not RoleGrant.objects.filter(user=user, unit=unit, role=us.role).exists():
                    services.role_grant(actor=actor, user=user, unit=unit, role=us.role)
                    created["grants"] += 1

    return DemoSummary(created=created, totals=demo_totals(), password=password, logins=plan.users)


def demo_totals() -> dict[str, int]:
    """What the database holds now (after every app's demo data)."""
    return {
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "teams": Team.objects.count(),
        "partners": Partner.objects.count(),
    }
