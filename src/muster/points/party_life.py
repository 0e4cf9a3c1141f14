"""Party life → points: the facts party-life records earn, kept in step through ``partylife.signals``.

Party life announces what happened (``meeting_approved``, ``meeting_reopened``, ``talk_recorded``,
``talk_withdrawn``, ``post_designated``) inside its transaction; the receivers here
record or retract the facts in the same transaction (connected by ``PointsConfig.ready``). Party life
never imports the points app. The facts:

- every expected member present at an approved meeting: one fact per kind the meeting counts as
  (``meeting.<kind>``), source ``partylife.attendance``/attendance id;
- every expected member absent without leave: ``meeting.absent`` (a deduction), same source;
- the lecturer of an approved 党课: ``lesson.given``, source ``partylife.meeting``/meeting id;
- every participant of a talk: ``talk``, source ``partylife.talk``/talk id;
- a post designated to a person: ``post.<kind>`` on its start date, source ``partylife.post``.

Awards and commendations moved to the honors app; their facts are kept in step by ``muster.points.awards``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.http import Http404
from django.utils.translation import gettext

from muster.clock import local_date, year_bounds
from muster.orgs.models import Person
from muster.partylife import extensions, signals
from muster.partylife.extensions import MeetingPoints
from muster.partylife.models import (
    AttendanceStatus,
    Meeting,
    MeetingKind,
    PartyPost,
    ReviewStatus,
    Talk,
)
from muster.points import kinds
from muster.points.facts import Fact, register_source
from muster.points.models import PointEntry
from muster.points.queries import statement
from muster.points.services import facts_record, facts_retract

ATTENDANCE = "partylife.attendance"
MEETING = "partylife.meeting"
TALK = "partylife.talk"
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


def post_facts(post: PartyPost) -> list[Fact]:
    if post.person_id is None:
        return []
    branch = post.person.party_unit_id if post.person else None
    return [
        Fact(post.person_id, kinds.post(post.kind), ONE, post.start, POST, str(post.pk), branch, post.name)
    ]


# ---------------------------------------------------------------- providers (recompute from the sources)


def _meetings(year: int) -> Iterable[Meeting]:
    start, end = year_bounds(year)
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


def _post_provider(year: int) -> Iterator[Fact]:
    for p in PartyPost.objects.filter(start__year=year, person__isnull=False).select_related("person"):
        yield from post_facts(p)


# ---------------------------------------------------------------- receivers (``partylife.signals``)


def _on_meeting_approved(sender: Any, *, actor: Any, meeting: Meeting, **_: Any) -> None:
    facts_record(
        actor=actor,
        facts=meeting_facts(meeting),
        reason=gettext("Meeting approved: %(topic)s") % {"topic": meeting.topic},
    )


def _on_meeting_reopened(sender: Any, *, actor: Any, meeting: Meeting, reason: str, **_: Any) -> None:
    att_ids, meeting_ids = meeting_source_ids(meeting)
    why = gettext("Correction of an approved meeting: %(reason)s") % {"reason": reason}
    facts_retract(actor=actor, source_kind=ATTENDANCE, source_ids=att_ids, reason=why)
    facts_retract(actor=actor, source_kind=MEETING, source_ids=meeting_ids, reason=why)


def _on_talk_recorded(sender: Any, *, actor: Any, talk: Talk, **_: Any) -> None:
    facts_record(actor=actor, facts=talk_facts(talk), reason=gettext("Heart-to-heart talk"))


def _on_talk_withdrawn(sender: Any, *, actor: Any, talk: Talk, reason: str, **_: Any) -> None:
    facts_retract(actor=actor, source_kind=TALK, source_ids=[str(talk.pk)], reason=reason)


def _on_post_designated(sender: Any, *, actor: Any, post: PartyPost, **_: Any) -> None:
    if post.person_id is None:  # a team's post earns no one points
        return
    facts_record(actor=actor, facts=post_facts(post), reason=post.name)


# ---------------------------------------------------------------- the meeting page's points columns


def meeting_points(user: Any, meeting: Meeting, people: Sequence[Person], year: int) -> MeetingPoints:
    """What the meeting earned each person (attendance, lesson given) and the balances of ``year`` the
    viewer may see (``partylife.extensions``)."""
    att_ids, meeting_ids = meeting_source_ids(meeting)
    rows = (
        PointEntry.objects.filter(
            Q(fact__source_kind=ATTENDANCE, fact__source_id__in=att_ids)
            | Q(fact__source_kind=MEETING, fact__source_id__in=meeting_ids)
        )
        .values("person_id")
        .annotate(total=Sum("points"))
        .order_by()
    )
    balances: dict[int, Decimal] = {}
    for person in people:
        try:
            balances[person.pk] = statement(user, person, year).total
        except Http404:
            continue
    return MeetingPoints(earned={r["person_id"]: r["total"] for r in rows}, balances=balances)


def register() -> None:
    """Register the sources for recomputation and listen to party life (``PointsConfig.ready``)."""
    register_source(ATTENDANCE, _attendance_provider)
    register_source(MEETING, _lesson_provider)
    register_source(TALK, _talk_provider)
    register_source(POST, _post_provider)
    uid = "points.party_life."
    signals.meeting_approved.connect(_on_meeting_approved, dispatch_uid=uid + "meeting_approved")
    signals.meeting_reopened.connect(_on_meeting_reopened, dispatch_uid=uid + "meeting_reopened")
    signals.talk_recorded.connect(_on_talk_recorded, dispatch_uid=uid + "talk_recorded")
    signals.talk_withdrawn.connect(_on_talk_withdrawn, dispatch_uid=uid + "talk_withdrawn")
    signals.post_designated.connect(_on_post_designated, dispatch_uid=uid + "post_designated")
    extensions.provide_meeting_points(meeting_points)
