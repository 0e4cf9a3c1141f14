"""Point-earning facts of party life (fed to ``muster.points``) and their providers for recomputation.

- every expected member present at an approved meeting: one fact per kind the meeting counts as
  (``meeting.<kind>``), source ``partylife.attendance``/attendance id;
- every expected member absent without leave: ``meeting.absent`` (a deduction), same source;
- the lecturer of an approved 党课: ``lesson.given``, source ``partylife.meeting``/meeting id;
- every participant of a talk: ``talk``, source ``partylife.talk``/talk id;
- an approved honor to a person: ``award.<level>`` or ``commendation``, source ``partylife.honor``;
- a post designated to a person: ``post.<kind>`` on its start date, source ``partylife.post``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from muster.partylife.models import (
    AttendanceStatus,
    Honor,
    HonorKind,
    HonorStatus,
    Meeting,
    MeetingKind,
    PartyPost,
    ReviewStatus,
    Talk,
)
from muster.partylife.roster import local_date
from muster.points import kinds
from muster.points.facts import Fact, register_source

ATTENDANCE = "partylife.attendance"
MEETING = "partylife.meeting"
TALK = "partylife.talk"
HONOR = "partylife.honor"
POST = "partylife.post"
ONE = Decimal(1)


def meeting_facts(meeting: Meeting) -> list[Fact]:
    on = local_date(meeting.starts_at)
    meeting_kinds = sorted(meeting.kinds)
    out: list[Fact] = []
    for att in meeting.attendance.all():
        if not att.expected:
            continue
        if att.status == AttendanceStatus.PRESENT:
            for k in meeting_kinds:
                out.append(
                    Fact(
                        att.person_id,
                        kinds.meeting(k),
                        ONE,
                        on,
                        ATTENDANCE,
                        str(att.pk),
                        meeting.unit_id,
                        meeting.topic,
                    )
                )
        elif att.status == AttendanceStatus.ABSENT:
            out.append(
                Fact(
                    att.person_id,
                    kinds.MEETING_ABSENT,
                    ONE,
                    on,
                    ATTENDANCE,
                    str(att.pk),
                    meeting.unit_id,
                    meeting.topic,
                )
            )
    if meeting.lecturer_id and MeetingKind.PARTY_LESSON in meeting_kinds:
        out.append(
            Fact(
                meeting.lecturer_id,
                kinds.LESSON_GIVEN,
                ONE,
                on,
                MEETING,
                str(meeting.pk),
                meeting.unit_id,
                meeting.topic,
            )
        )
    return out


def meeting_source_ids(meeting: Meeting) -> tuple[list[str], list[str]]:
    """(attendance ids, [meeting id]) — every source id the meeting's facts may have."""
    return [str(pk) for pk in meeting.attendance.values_list("pk", flat=True)], [str(meeting.pk)]


def talk_facts(talk: Talk) -> list[Fact]:
    return [
        Fact(pid, kinds.TALK, ONE, talk.held_on, TALK, str(talk.pk), talk.unit_id, talk.topic)
        for pid in talk.participations.values_list("person_id", flat=True)
    ]


def honor_facts(honor: Honor) -> list[Fact]:
    if honor.person_id is None or honor.status != HonorStatus.APPROVED:
        return []
    kind = kinds.COMMENDATION if honor.kind == HonorKind.COMMENDATION else kinds.award(honor.level)
    branch = honor.person.party_unit_id if honor.person else None
    return [Fact(honor.person_id, kind, ONE, honor.awarded_on, HONOR, str(honor.pk), branch, honor.name)]


def post_facts(post: PartyPost) -> list[Fact]:
    if post.person_id is None:
        return []
    branch = post.person.party_unit_id if post.person else None
    return [
        Fact(post.person_id, kinds.post(post.kind), ONE, post.start, POST, str(post.pk), branch, post.name)
    ]


# ---------------------------------------------------------------- providers (recompute from the sources)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(date(year, 1, 1), time(), tz), datetime.combine(date(year + 1, 1, 1), time(), tz)


def _meetings(year: int) -> Iterable[Meeting]:
    start, end = _year_bounds(year)
    return (
        Meeting.objects.filter(
            review_status=ReviewStatus.APPROVED, held=True, starts_at__gte=start, starts_at__lt=end
        )
        .prefetch_related("kind_links", "attendance")
        .order_by("pk")
    )


def _attendance_provider(year: int) -> Iterator[Fact]:
    for m in _meetings(year):
        yield from (f for f in meeting_facts(m) if f.source_kind == ATTENDANCE)


def _lesson_provider(year: int) -> Iterator[Fact]:
    for m in _meetings(year):
        yield from (f for f in meeting_facts(m) if f.source_kind == MEETING)


def _talk_provider(year: int) -> Iterator[Fact]:
    for t in Talk.objects.filter(held_on__year=year, withdrawn=False).order_by("pk"):
        yield from talk_facts(t)


def _honor_provider(year: int) -> Iterator[Fact]:
    for h in Honor.objects.filter(awarded_on__year=year, status=HonorStatus.APPROVED).select_related(
        "person"
    ):
        yield from honor_facts(h)


def _post_provider(year: int) -> Iterator[Fact]:
    for p in PartyPost.objects.filter(start__year=year, person__isnull=False).select_related("person"):
        yield from post_facts(p)


def register() -> None:
    register_source(ATTENDANCE, _attendance_provider)
    register_source(MEETING, _lesson_provider)
    register_source(TALK, _talk_provider)
    register_source(HONOR, _honor_provider)
    register_source(POST, _post_provider)
