"""The outreach demo (``muster demo`` loads it after the organization): the seed's figures, reproducible.

Seed 003 (澎湃新闻, 2018-10-12): "杨浦区税务局31个党支部主动'走出去'… 截至目前，已累计开展调研2160次，
发现问题197个，问题解决率91.8%" — 杨浦 (unit ``YP``)'s 31 branches ran 2,160 visits in 2018 before the
article's date, raising 197 problems of which 181 were resolved by then (181/197 = 91.878…%, written 91.8%
because a rate is cut, see ``muster.outreach.rates``); and "位于'G60科创走廊'的19家…企业… 松江区各税务所的
党支部书记、支部委员和党员业务骨干都成了这些企业的党建指导人和联络人" — 松江 (``SJ``)'s 19 G60 enterprises,
each with a party-building guide from August 2018.

Idempotent: a part already loaded (its marker rows exist) is left alone. Rows are written in bulk with one
audit event each (batch ``demo-outreach``), as the organization's own demo does.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from muster.audit.services import PendingEvent, log_actions_bulk
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Unit
from muster.orgs.services import partner_create, person_create, unit_create
from muster.outreach import creditcode, facts
from muster.outreach import services_service as svc
from muster.outreach.models import (
    Enterprise,
    Liaison,
    LiaisonRole,
    Problem,
    ProblemAction,
    ProblemEvent,
    ProblemStatus,
    Visit,
    VisitForm,
)

ARTICLE_DAY = date(2018, 10, 12)  # the cutoff "截至目前" = 2018-10-12 00:00
YP_VISITS, YP_PROBLEMS, YP_RESOLVED = 2160, 197, 181
SJ_G60 = 19
SEED = 25

INDUSTRIES = [
    "软件和信息技术服务业",
    "科技推广和应用服务业",
    "专用设备制造业",
    "商务服务业",
    "互联网和相关服务",
]
TOPICS = ["减税降费政策辅导", "发票领用与开具", "出口退税", "个税汇算", "研发费用加计扣除", "一线工作法走访"]
CATEGORIES = ["政策咨询", "发票", "申报", "退税", "信息系统"]
YP_PARKS = ["大学路创智天地", "长阳创谷", "湾谷科技园", "五角场"]


def make_code(area: str, n: int) -> str:
    """A valid credit code for demo enterprise ``n`` of a district (area code of 6 digits)."""
    body = f"91{area}MA1{n:06d}"
    return body + creditcode.check_character(body)


def _say(stdout: Any, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _enterprises(
    area: str, prefix: str, units: list[Unit], count: int, rng: random.Random, park: str = ""
) -> list[Enterprise]:
    codes = [make_code(area, i) for i in range(1, count + 1)]
    existing = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=codes)}
    new = [
        Enterprise(
            credit_code=c,
            name=f"上海{prefix}{i:02d}科技有限公司",
            industry=rng.choice(INDUSTRIES),
            park=park or rng.choice(YP_PARKS),
            size=rng.choice(["medium", "small", "small", "micro"]),
            unit=units[i % len(units)],
        )
        for i, c in enumerate(codes, start=1)
        if c not in existing
    ]
    Enterprise.objects.bulk_create(new)
    got = {e.credit_code: e for e in Enterprise.objects.filter(credit_code__in=codes).select_related("unit")}
    log_actions_bulk(
        SYSTEM,
        (PendingEvent("outreach.enterprise.created", got[e.credit_code], e.unit.path) for e in new),
        batch="demo-outreach",
    )
    return [got[c] for c in codes]


def load_yangpu(stdout: IO[str] | Any | None = None) -> bool:
    """杨浦's visits and problems; ``False`` when already loaded or the organization lacks 杨浦."""
    yp = Unit.objects.filter(code="YP").first()
    committee = Unit.objects.filter(code="YP-DW").first()
    if yp is None or committee is None:
        return False
    branches = [u for u in Unit.objects.get_children(committee).order_by("code") if u.kind == "branch"][:31]
    if not branches or Visit.objects.filter(branch__in=branches).exists():
        return False
    rng = random.Random(SEED)
    offices = list(Unit.objects.get_children(yp).order_by("code")) or [yp]
    people = list(Person.objects.filter(unit__path__startswith=yp.path).order_by("code"))
    if not people:
        return False
    by_branch: dict[int, list[Person]] = {}
    for p in people:
        if p.party_unit_id is not None:
            by_branch.setdefault(p.party_unit_id, []).append(p)
    enterprises = _enterprises("310110", "杨浦", offices, 120, rng)
    first, last = date(2018, 1, 2), ARTICLE_DAY - timedelta(days=1)
    span = (last - first).days
    batch = f"demo-outreach-{uuid.uuid4().hex[:8]}"
    with transaction.atomic():
        visits = []
        for n in range(YP_VISITS):
            branch = branches[n % len(branches)]
            visits.append(
                Visit(
                    held_on=first + timedelta(days=rng.randrange(span + 1)),
                    form=rng.choices([VisitForm.ON_SITE, VisitForm.MEETING, VisitForm.ONLINE], [6, 3, 1])[0],
                    unit=yp,
                    branch=branch,
                    topics=rng.choice(TOPICS),
                )
            )
        Visit.objects.bulk_create(visits)
        visits = list(Visit.objects.filter(branch__in=branches).select_related("branch").order_by("id"))
        vis_through, ent_through = Visit.visitors.through, Visit.enterprises.through
        vrows, erows = [], []
        for v in visits:
            pool = by_branch.get(v.branch_id or 0) or people
            for p in rng.sample(pool, min(2, len(pool))):
                vrows.append(vis_through(visit_id=v.pk, person_id=p.pk))
            for e in rng.sample(enterprises, rng.choice((1, 1, 2))):
                erows.append(ent_through(visit_id=v.pk, enterprise_id=e.pk))
        vis_through.objects.bulk_create(vrows, batch_size=2000)
        ent_through.objects.bulk_create(erows, batch_size=2000)
        log_actions_bulk(
            SYSTEM, (PendingEvent("outreach.visit.recorded", v, yp.path) for v in visits), batch=batch
        )
        with_problem = sorted(rng.sample(visits, YP_PROBLEMS), key=lambda v: (v.held_on, v.pk))
        resolved = set(rng.sample(range(YP_PROBLEMS), YP_RESOLVED))
        problems = []
        for i, v in enumerate(with_problem):
            raised = v.held_on
            deadline = raised + timedelta(days=30)
            solved_on = None
            if i in resolved:
                solved_on = min(raised + timedelta(days=rng.randrange(1, 40)), last)
            problems.append(
                Problem(
                    title=f"{rng.choice(CATEGORIES)}：{v.topics}中企业反映的问题",
                    category=rng.choice(CATEGORIES),
                    raised_on=raised,
                    unit=rng.choice(offices),
                    branch=v.branch,
                    visit=v,
                    deadline=deadline,
                    status=ProblemStatus.RESOLVED if solved_on else ProblemStatus.OPEN,
                    resolved_on=solved_on,
                    resolution="上门辅导，当场解决" if solved_on else "",
                )
            )
        Problem.objects.bulk_create(problems)
        problems = list(Problem.objects.filter(visit__in=with_problem).order_by("id"))
        events = []
        for pr in problems:
            events.append(
                ProblemEvent(
                    problem=pr,
                    action=ProblemAction.RAISED,
                    status=ProblemStatus.OPEN,
                    on=pr.raised_on,
                    actor_name="demo",
                )
            )
            if pr.resolved_on is not None:
                events.append(
                    ProblemEvent(
                        problem=pr,
                        action=ProblemAction.RESOLVED,
                        status=ProblemStatus.RESOLVED,
                        on=pr.resolved_on,
                        text=pr.resolution,
                        actor_name="demo",
                    )
                )
        ProblemEvent.objects.bulk_create(events)
        log_actions_bulk(
            SYSTEM,
            (PendingEvent("outreach.problem.raised", pr, pr.unit.path) for pr in problems),
            batch=batch,
        )
    _say(stdout, f"杨浦: {YP_VISITS} visits, {YP_PROBLEMS} problems, {YP_RESOLVED} resolved.")
    return True


def load_songjiang(stdout: IO[str] | Any | None = None) -> bool:
    """松江's 19 G60 enterprises, each with a party-building guide and liaison from 2018-08-01."""
    sj = Unit.objects.filter(code="SJ").first()
    if sj is None:
        return False
    rng = random.Random(SEED + 1)
    offices = [u for u in Unit.objects.get_children(sj).order_by("code") if u.kind == "tax_office"] or [sj]
    enterprises = _enterprises("310117", "松江G60", offices, SJ_G60, rng, park="G60科创走廊")
    if Liaison.objects.filter(enterprise__in=enterprises).exists():
        return False
    guides = list(
        Person.objects.filter(unit__path__startswith=sj.path, party_unit__isnull=False).order_by("code")
    ) or list(Person.objects.filter(unit__path__startswith=sj.path).order_by("code"))
    if not guides:
        return False
    rows = [
        Liaison(
            enterprise=e,
            person=guides[i % len(guides)],
            role=LiaisonRole.PARTY_GUIDE,
            start=date(2018, 8, 1),
        )
        for i, e in enumerate(enterprises)
    ]
    Liaison.objects.bulk_create(rows)
    saved = Liaison.objects.filter(enterprise__in=enterprises).select_related("enterprise__unit", "person")
    log_actions_bulk(
        SYSTEM,
        (PendingEvent("outreach.liaison.assigned", li, li.enterprise.unit.path) for li in saved),
        batch="demo-outreach",
    )
    _say(stdout, f"松江: {SJ_G60} G60 enterprises with liaisons.")
    return True


ZJ_CODE = "ZJKFQ"
ZJ_CATEGORIES, ZJ_MEASURES, ZJ_HOMES, ZJ_CLASSES = 27, 69, 13, 15


def load_zhenjiang(stdout: IO[str] | Any | None = None) -> bool:
    """Seed 004 (经济参考网, 2022-06-14): 镇江经济技术开发区税务局, a second organization (a root of its own):
    13 纳税人之家; 15 纳税人学堂 with 圌山学堂 and 知行学堂; 支部共建 with 丁卯潘宗社区 and 姚桥镇石桥村;
    27类共69条便民办税举措; 平均办税申报时长缩短87%, 退税时长缩短28%; a green channel; and the after-hours
    case (晚上7点, 王成宇, 江苏卓特电气科技有限公司's ~30 wrong payroll filings fixed)."""
    if Unit.objects.filter(code=ZJ_CODE).exists():
        return False
    a = SYSTEM
    root = unit_create(
        actor=a, code=ZJ_CODE, name="镇江经济技术开发区税务局", kind="district_bureau", parent=None
    )
    nfk = unit_create(actor=a, code=f"{ZJ_CODE}-NFK", name="纳税服务科", kind="section", parent=root)
    hall = unit_create(actor=a, code=f"{ZJ_CODE}-BSFWT", name="办税服务厅", kind="service_hall", parent=root)
    committee = unit_create(
        actor=a,
        code=f"{ZJ_CODE}-DW",
        name="镇江经济技术开发区税务局党委",
        kind="party_committee",
        parent=None,
    )
    branch = unit_create(
        actor=a, code=f"{ZJ_CODE}-B01", name="纳税服务科党支部", kind="branch", parent=committee
    )
    wang = person_create(
        actor=a,
        code="ZJ0001",
        name="王成宇",
        unit=nfk,
        party_unit=branch,
        political_status="member",
    )
    schools = [
        partner_create(actor=a, code="ZJ-P-CSXT", name="镇江新区圌山学堂", kind="other", unit=root),
        partner_create(actor=a, code="ZJ-P-ZXXT", name="街道知行学堂", kind="other", unit=root),
    ]
    community = partner_create(
        actor=a, code="ZJ-P-DMPZ", name="镇江新区丁卯潘宗社区", kind="community", unit=root
    )
    village = partner_create(actor=a, code="ZJ-P-SQC", name="姚桥镇石桥村", kind="village", unit=root)
    homes = [
        svc.home_create(
            actor=a, name=f"纳税人之家（第{i}站）", unit=nfk, opened_on=date(2021, 1, 1) + timedelta(days=i)
        )
        for i in range(1, ZJ_HOMES + 1)
    ]
    for i in range(ZJ_CLASSES):
        svc.class_record(
            actor=a,
            held_on=date(2021, 3, 1) + timedelta(days=30 * i),
            topic=["专业政策解读", "重点风险提示", "税收优惠辅导"][i % 3],
            unit=nfk,
            branch=branch,
            home=homes[i % len(homes)],
            partner=schools[i % 2],
            attendees=30 + i,
            satisfaction=Decimal("98.50"),
        )
    for partner in (community, village):
        svc.agreement_create(
            actor=a, branch=branch, partner=partner, start=date(2021, 1, 1), title="支部共建"
        )
    n = 0
    for c in range(1, ZJ_CATEGORIES + 1):
        cat = svc.category_create(actor=a, unit=root, name=f"第{c}类便民办税举措", order=c)
        count = 3 if c <= ZJ_MEASURES - 2 * ZJ_CATEGORIES else 2  # 15 categories of 3, 12 of 2 = 69
        for _m in range(count):
            n += 1
            svc.measure_create(
                actor=a, category=cat, title=f"便民办税举措第{n}条", unit=nfk, started_on=date(2022, 3, 1)
            )
    for name, unit_, base, now in (
        ("平均办税申报时长", "minutes", Decimal("30"), Decimal("3.9")),
        ("退税时长", "days", Decimal("10"), Decimal("7.2")),
    ):
        ind = svc.indicator_create(
            actor=a, unit=hall, name=name, measure_unit=unit_, baseline=base, baseline_on=date(2021, 12, 31)
        )
        svc.indicator_measure(
            actor=a, indicator=ind, measured_on=date(2022, 5, 31), value=now, measure_unit=unit_
        )
    zhuote = Enterprise.objects.create(
        credit_code=make_code("321100", 1),
        name="江苏卓特电气科技有限公司",
        unit=nfk,
        industry="电气机械和器材制造业",
    )
    svc.service_log(
        actor=a,
        at=datetime(2022, 4, 20, 19, 0, tzinfo=ZoneInfo(settings.TIME_ZONE)),
        kind="after_hours",
        unit=hall,
        matter="近30名员工个人所得税申报信息错误，逐条核对更正",
        staff=wang,
        enterprise=zhuote,
        outside_hours=True,
    )
    svc.service_log(
        actor=a,
        at=datetime(2022, 4, 21, 10, 0, tzinfo=ZoneInfo(settings.TIME_ZONE)),
        kind="green_channel",
        unit=hall,
        matter="特殊群体绿色通道：老年人办理涉税事项",
        staff=wang,
        taxpayer="老年纳税人",
    )
    _say(stdout, f"镇江: {ZJ_HOMES} homes, {ZJ_CLASSES} classes, {n} measures in {ZJ_CATEGORIES} categories.")
    return True


def load_outreach_demo(stdout: IO[str] | Any | None = None) -> bool:
    """Load what is missing of the outreach demo; ``True`` when something was loaded."""
    with transaction.atomic():
        a = load_yangpu(stdout)
        b = load_songjiang(stdout)
        c = load_zhenjiang(stdout)
        if a:  # 杨浦's rows went in bulk, past the services: bring the day buckets in step
            facts.rebuild()
    return a or b or c
