"""The volunteer side of the demo (``muster demo``): 黄浦's "党员集结号" team answering a call-up, volunteer
profiles, shifts of a test-site batch opened for sign-up, sign-ups and a waiting list.

Dates are relative to the day the demo is loaded (open shifts and call-ups only make sense ahead of
today): the batch runs from the 3rd to the 4th day after loading, the call-up is for the 7th day. Written
through the services as the system (audited like any other write); loading twice changes nothing (the
batch's code marks the load).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from muster.clock import local_tz
from muster.mobilize import services as msvc
from muster.mobilize.models import Deployment
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Team, Unit
from muster.volunteers import services as vsvc
from muster.volunteers.models import CallUpInvite, Skill
from muster.volunteers.services import PreferenceIn, QualificationIn, WindowIn

BATCH_CODE = "HP-JJH-DEMO"
CALLUP_TITLE = "“党员集结号”：方舱医院志愿服务"

SKILLS = (
    ("medic", "医护"),
    ("driver", "驾驶"),
    ("counsel", "心理疏导"),
    ("language", "外语"),
    ("commando", "党员突击队"),
)

# (skills held, weekly windows or None, no nights, home observation) by position in the 黄浦 people list
PROFILES: tuple[tuple[tuple[str, ...], bool, bool, bool], ...] = (
    (("medic", "commando"), False, False, False),
    (("medic",), True, False, False),
    (("driver", "commando"), False, True, False),
    (("counsel",), True, False, False),
    (("language",), False, False, True),  # under home observation: remote seats only
    (("medic", "driver"), False, False, False),
    (("commando",), False, True, False),
    ((), True, False, False),
    (("driver",), False, False, False),
    (("counsel", "language"), False, False, False),
    (("medic",), False, False, False),
    (("commando",), False, False, False),
)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), local_tz())


def _say(stdout: IO[str] | Any | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def load_volunteers_demo(stdout: IO[str] | Any | None = None, *, today: date | None = None) -> bool:
    """Load the volunteer demo into 黄浦 (``HP``); ``False`` when it is loaded already or 黄浦 is missing."""
    hp = Unit.objects.filter(code="HP").first()
    if hp is None or Deployment.objects.filter(code=BATCH_CODE).exists():
        return False
    today = today or timezone.localdate()
    with transaction.atomic():
        _load(hp, today, stdout)
    return True


def _load(hp: Unit, today: date, stdout: IO[str] | Any | None) -> None:
    have = set(Skill.objects.values_list("code", flat=True))
    for i, (code, name) in enumerate(SKILLS):
        if code not in have:
            vsvc.skill_save(actor=SYSTEM, code=code, name=name, order=i)
    team = Team.objects.filter(code="HP-T3").first()
    crowd = list(
        Person.objects.filter(team_memberships__team=team).order_by("code")
        if team is not None
        else Person.objects.filter(unit__path__startswith=hp.path).order_by("code")[:12]
    )
    people = crowd[: len(PROFILES)]
    for person, (skills, windows, no_nights, observed) in zip(people, PROFILES, strict=False):
        vsvc.profile_set(
            actor=SYSTEM,
            person=person,
            available_from=today,
            available_until=today + timedelta(days=90),
            max_hours_week=40,
            no_nights=no_nights,
            windows=[WindowIn(wd, 7 * 60, 22 * 60) for wd in range(7)] if windows else [],
            home_observation=[(today, today + timedelta(days=13))] if observed else [],
            qualifications=[
                QualificationIn(s, today + timedelta(days=365) if s == "medic" else None) for s in skills
            ],
            preferences=[PreferenceIn("time", "morning", True, 3)] if windows else [],
        )
    _say(stdout, f"volunteer profiles: {len(people)}")

    # a test-site batch of two days: morning and afternoon on site (one 医护 each), evening hotline remote
    first = today + timedelta(days=3)
    coordinator = (
        Person.objects.filter(unit=hp).exclude(pk__in=[p.pk for p in crowd]).order_by("code").first()
        or crowd[-1]
    )
    batch = msvc.deployment_dispatch(
        actor=SYSTEM,
        unit=hp,
        title="核酸检测点支援（志愿者报名）",
        start=_at(first, 6),
        end=_at(first + timedelta(days=1), 23),
        site="黄浦区半淞园路街道",
        code=BATCH_CODE,
        people=[coordinator],
        leader=coordinator,
    ).deployment
    shifts = []
    for d in (first, first + timedelta(days=1)):
        for start, end, seats, remote, label in ((8, 12, 3, False, "早班"), (13, 17, 3, False, "中班")):
            s = msvc.shift_create(
                actor=SYSTEM,
                deployment=batch,
                start=_at(d, start),
                end=_at(d, end),
                seats=seats,
                remote=remote,
                label=label,
            )
            vsvc.need_set(actor=SYSTEM, shift=s, min_skill="medic", min_skill_count=1)
            shifts.append(s)
        shifts.append(
            msvc.shift_create(
                actor=SYSTEM,
                deployment=batch,
                start=_at(d, 18),
                end=_at(d, 21),
                seats=2,
                remote=True,
                label="居家坐席",
            )
        )
    openings = vsvc.shifts_open(
        actor=SYSTEM,
        shifts=shifts,
        unit=hp,
        deadline=_at(first - timedelta(days=1), 18),
        cancel_cutoff=_at(first - timedelta(days=1), 12),
    )
    signed = waiting = 0
    plan = [(0, p) for p in people[:4]] + [(1, p) for p in people[5:8]] + [(2, people[4])]
    for index, person in plan:
        try:
            su = vsvc.signup_create(actor=SYSTEM, opening=openings[index], person=person, wait=True)
        except ValidationError:
            continue  # does not fit (the same rules as for anyone): left out of the demo
        if su.status == "waiting":
            waiting += 1
        else:
            signed += 1
    _say(stdout, f"open shifts: {len(openings)}, sign-ups: {signed}, waiting: {waiting}")

    # the call-up: 黄浦's "党员集结号" team called for a shelter hospital, answered in the app
    callup = vsvc.callup_create(
        actor=SYSTEM,
        unit=hp,
        title=CALLUP_TITLE,
        place="世博方舱医院",
        start=_at(today + timedelta(days=7), 8),
        end=_at(today + timedelta(days=7), 20),
        people_needed=6,
        deadline=_at(today + timedelta(days=2), 20),
        skills=["commando"],
        team=team,
        audience_unit=None if team is not None else hp,
    )
    invites = list(
        CallUpInvite.objects.filter(callup=callup).select_related("person").order_by("person__code")
    )
    reasons = ("本人发热，正在居家观察", "家中老人住院需陪护")
    for i, inv in enumerate(invites[:10]):
        if i < len(invites[:10]) - len(reasons):
            vsvc.callup_answer(actor=SYSTEM, invite=inv, answer="yes")
        else:
            vsvc.callup_answer(actor=SYSTEM, invite=inv, answer="no", reason=reasons[i % len(reasons)])
    _say(stdout, f"call-up {callup.code}: {len(invites)} invited, {min(10, len(invites))} answered")
