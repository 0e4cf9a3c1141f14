"""The care ledger of the demo: 金山区税务局's 243 retirees in April 2022 ("退管服务暖人心", seed 002).

``load_care_demo()`` writes it through the care services (and the mobilization ledger's ``entry_record``
for the retirees' community service), on top of the demo organization (``muster.orgs.demo``: unit ``JS``
and its retirees ``JSR0001``…). Idempotent: when the subjects exist it writes nothing.

As of 2022-04-19 00:00 for ``JS``: 243 subjects, 243 surveyed (a complete round by phone, SMS and
WeChat), 2 deceased (two hospitalised elders, with condolence calls to their families and payments by
WeChat approved by a second person), 20 retirees with service in the ledger; supply runs of meat and
vegetable packs, medicine fetched on behalf, and the stuck retiree's urgent request closed by a delivery
within hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db import transaction

from muster.care import services as care
from muster.care.models import CareSubject, SubjectStatus
from muster.orgs.access import SystemActor
from muster.orgs.models import EmploymentStatus, Person, Unit

TZ = ZoneInfo("Asia/Shanghai")
SEED = 20220419
UNIT = "JS"
RETIREE_PREFIX = "JSR"
SUBJECTS = 243
SERVING = 20
CUTOFF = datetime(2022, 4, 19, 0, 0, tzinfo=TZ)

OFFICE = SystemActor(display_name="金山区税务局退管办")
COMMITTEE = SystemActor(display_name="金山区税务局党委")
LIAISONS = 8


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 4, day, hour, minute, tzinfo=TZ)


@dataclass
class CareDemo:
    subjects: int = 0
    deceased: int = 0
    serving: int = 0


def _say(stdout: IO[str] | Any | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def load_care_demo(stdout: IO[str] | Any | None = None) -> CareDemo | None:
    """Load the demo care ledger; ``None`` when it is there already or the demo organization is not."""
    unit = Unit.objects.filter(code=UNIT).first()
    if unit is None or CareSubject.objects.filter(code=f"{RETIREE_PREFIX}0001").exists():
        return None
    retirees = list(Person.objects.filter(code__startswith=RETIREE_PREFIX, unit=unit).order_by("code"))
    if not retirees:
        return None
    rng = random.Random(SEED)
    with transaction.atomic():
        return _load(unit, retirees, rng, stdout)


def _load(unit: Unit, retirees: list[Person], rng: random.Random, stdout: Any) -> CareDemo:
    result = CareDemo()
    liaisons = list(
        Person.objects.filter(unit__path__startswith=unit.path, employment_status=EmploymentStatus.ACTIVE)
        .exclude(code__startswith=RETIREE_PREFIX)
        .order_by("code")[:LIAISONS]
    )
    created = datetime(2022, 3, 31, 9, 0, tzinfo=TZ)
    subjects: list[CareSubject] = []
    for i, p in enumerate(retirees[:SUBJECTS]):
        subjects.append(
            care.subject_create(
                actor=OFFICE,
                unit=unit,
                code=p.code,
                person=p,
                liaison=liaisons[i % len(liaisons)] if liaisons else None,
                party_branch=p.party_unit,
                community="金山区石化街道" if i % 3 else "金山区朱泾镇",
                at=created,
            )
        )
    # A complete round: 243/243 by phone, SMS and WeChat over the first three days.
    r = care.round_open(actor=OFFICE, unit=unit, name="2022年4月老同志疫情排摸", at=at(1, 8))
    hospital = set(rng.sample(range(len(subjects)), 6))
    for i, s in enumerate(subjects):
        alone = rng.random() < 0.08
        ill = i in hospital or rng.random() < 0.05
        answers = {
            "health": "住院" if i in hospital else rng.choice(["良好", "良好", "一般", "较差"]),
            "serious_illness": "有" if ill else "无",
            "vaccine_doses": str(rng.choice([0, 2, 3, 3])),
            "test_date": date(2022, 3, rng.randint(28, 31)).isoformat(),
            "test_result": "阴性",
            "living": "独居" if alone else "与家人同住",
            "needs": rng.choice(["", "", "买菜", "配药"]) or "无",
        }
        care.survey_answer_record(
            actor=OFFICE,
            subject=s,
            round=r,
            answers=answers,
            channel=rng.choice(["phone", "phone", "sms", "wechat"]),
            at=at(1 + i % 3, 9 + i % 9, rng.randint(0, 59)),
        )
    care.round_close(actor=OFFICE, round=r, at=at(4, 18))
    # Two hospitalised elders died; their families were called and paid by WeChat.
    elders = sorted(
        (subjects[i] for i in hospital), key=lambda s: (s.birth_date or date(2000, 1, 1), s.code)
    )[:2]
    for s, day in zip(elders, (8, 12), strict=True):
        care.subject_status_set(actor=OFFICE, subject=s, status=SubjectStatus.DECEASED, on=date(2022, 4, day))
        care.consolation_record(
            actor=OFFICE,
            subject=s,
            kind="call",
            at=at(day, 10),
            to_family=True,
            note="电话慰问家属，表达哀悼",
        )
        pay = care.consolation_record(
            actor=OFFICE, subject=s, kind="payment", at=at(day, 11), to_family=True, amount="1000",
            channel="wechat", note="通过微信发放慰问金",
        )  # fmt: skip
        care.consolation_approve(actor=COMMITTEE, consolation=pay, at=at(day, 15))
    alive = [s for s in subjects if s not in elders]
    # Routine contacts: the high-risk every two days, everyone weekly.
    for s in alive:
        s.refresh_from_db()
        days = range(5, 19, 2) if s.risk_level == "high" else (10, 17)
        for d in days:
            care.contact_record(actor=OFFICE, subject=s, channel="phone", outcome="ok", at=at(d, 10 + d % 6))
    # Supplies in batches (鲜肉, 蔬菜包) and medicine fetched on behalf (代配药).
    for n, day in enumerate((6, 11, 15), start=1):
        lines = [care.LineIn(s, "蔬菜包", 1) for s in alive] + [care.LineIn(s, "鲜肉", "1.5") for s in alive]
        care.delivery_run_create(
            actor=OFFICE, unit=unit, name=f"抗疫解困物资第{n}批", kind="supplies", lines=lines,
            at=at(day, 8), delivered_at=at(day, 17),
        )  # fmt: skip
    needy = [s for s in alive if s.risk_level == "high"][:15]
    care.delivery_run_create(
        actor=OFFICE, unit=unit, name="健康管理站代配药", kind="medicine",
        lines=[care.LineIn(s, "常用药", 1, "处方: 降压药、降糖药各一月量") for s in needy],
        at=at(9, 9), delivered_at=at(9, 16),
    )  # fmt: skip
    # The stuck retiree: found out in a routine call (checking the delivery address), supplies within hours.
    stuck = next(s for s in alive if s.person and s.person.gender == "F" and s.risk_level != "high")
    care.contact_record(
        actor=OFFICE, subject=stuck, channel="phone", outcome="help", at=at(13, 9, 30),
        note="核对解困物资收货地址时得知：受托照看朋友的爱犬，独自被封控在朋友家中",
    )  # fmt: skip
    hr = care.help_request_raise(
        actor=OFFICE, unit=unit, subject=stuck, source="contact", category="food", urgency="urgent",
        description="独自被封控，没有调味品，多天进食白米饭", at=at(13, 9, 35),
    )  # fmt: skip
    care.help_request_step(
        actor=OFFICE, request=hr, status="in_progress", note="紧急调配应急物资", at=at(13, 10)
    )
    run = care.delivery_run_create(
        actor=OFFICE, unit=unit, name="应急物资爱心速递", kind="supplies",
        lines=[care.LineIn(stuck, "牛奶", 2, help_request=hr), care.LineIn(stuck, "泡面", 6),
               care.LineIn(stuck, "调味品", 1)],
        at=at(13, 11),
    )  # fmt: skip
    for line in run.lines.order_by("pk"):
        care.delivery_line_mark(actor=OFFICE, line=line, status="delivered", at=at(13, 13, 20))
    # Residents' requests at a duty post (甘南-style: "税务值班人员很快联系到我").
    for name, cat, text, day in (
        ("居民李女士", "transport", "家人需要做核酸，无车接送", 7),
        ("居民王先生", "medicine", "孩子退烧药用完", 10),
    ):
        req = care.help_request_raise(
            actor=OFFICE, unit=unit, requester_name=name, source="duty_post", category=cat, urgency="high",
            description=text, at=at(day, 19),
        )  # fmt: skip
        care.help_request_step(
            actor=OFFICE, request=req, status="resolved", note="值班人员联系并解决", at=at(day, 21)
        )
    care.donation_record(
        actor=OFFICE, unit=unit, donor="金山区税务局机关党委", kind="goods", value="5200",
        items="医用防护口罩、消毒液等防疫物资", beneficiary="共驻共建社区（石化街道）", at=at(5, 14),
    )  # fmt: skip
    result.serving = _serving(alive, rng)
    result.subjects = len(subjects)
    result.deceased = len(elders)
    _say(stdout, f"care: {result.subjects} subjects, {result.deceased} deceased, {result.serving} serving\n")
    return result


def _serving(alive: list[CareSubject], rng: random.Random) -> int:
    """近20名老同志 on the community front line: community service in the mobilization ledger."""
    from muster.mobilize import services as mob

    chosen = rng.sample([s for s in alive if s.person is not None], SERVING)
    for s in chosen:
        assert s.person is not None
        for day in rng.sample(range(2, 18), 3):
            start = at(day, 8)
            end = start + timedelta(hours=4)
            mob.entry_record(
                actor=COMMITTEE,
                person=s.person,
                kind="community",
                start=start,
                end=end,
                note="社区防控一线志愿服务",
            )
    return len(chosen)
