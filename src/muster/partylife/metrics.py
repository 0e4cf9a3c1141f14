"""Report figures of party life: ``metric_<name>(unit, as_of) -> number``, for ``unit``'s subtree.

``as_of`` is a cutoff instant (DESIGN.md): events count when they happened before it; posts and
contact points count when in force on the cutoff's last included day. The metric registry of the
reports work will register these functions; ``METRICS`` lists them with their ids.

Figures of the seed articles they answer: meetings held per kind (三会一课); talk coverage in
person-times (近9000人次); model posts 104, vanguard posts 142, responsibility areas 93; contact
points 286; awards 233 (基层部门和个人获评各类奖项); applications (12名税务干部递交了入党申请书).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.db.models import Q, QuerySet

from muster.orgs.models import Unit
from muster.partylife.models import (
    ContactPoint,
    ContactVisit,
    Honor,
    HonorKind,
    HonorStatus,
    Meeting,
    MeetingKind,
    MembershipCase,
    PartyPost,
    PostKind,
    ReviewStatus,
    TalkParticipant,
)
from muster.points.queries import last_day


def _held_meetings(unit: Unit, as_of: datetime) -> QuerySet[Meeting]:
    return Meeting.objects.filter(
        unit__path__startswith=unit.path, review_status=ReviewStatus.APPROVED, held=True, starts_at__lt=as_of
    )


def metric_meetings_held(unit: Unit, as_of: datetime, kind: str | None = None) -> int:
    """Approved meetings held before the cutoff (of one kind, or all; a meeting of two kinds counts once)."""
    qs = _held_meetings(unit, as_of)
    if kind is not None:
        qs = qs.filter(kind_links__kind=kind)
    return qs.distinct().count()


def _meetings_of(kind: str) -> Callable[[Unit, datetime], int]:
    def metric(unit: Unit, as_of: datetime) -> int:
        return metric_meetings_held(unit, as_of, kind)

    metric.__name__ = f"metric_meetings_held_{kind}"
    metric.__doc__ = f"Approved meetings of kind {kind} held before the cutoff."
    return metric


metric_meetings_held_branch_general = _meetings_of(MeetingKind.BRANCH_GENERAL)
metric_meetings_held_branch_committee = _meetings_of(MeetingKind.BRANCH_COMMITTEE)
metric_meetings_held_party_group = _meetings_of(MeetingKind.PARTY_GROUP)
metric_meetings_held_party_lesson = _meetings_of(MeetingKind.PARTY_LESSON)
metric_meetings_held_theme_day = _meetings_of(MeetingKind.THEME_DAY)
metric_meetings_held_life_meeting = _meetings_of(MeetingKind.LIFE_MEETING)
metric_meetings_held_appraisal = _meetings_of(MeetingKind.APPRAISAL)


def metric_talks(unit: Unit, as_of: datetime) -> int:
    """Heart-to-heart talks recorded (not withdrawn) dated before the cutoff."""
    day = last_day(as_of)
    return (
        TalkParticipant.objects.filter(
            talk__unit__path__startswith=unit.path, talk__withdrawn=False, talk__held_on__lte=day
        )
        .values("talk_id")
        .distinct()
        .count()
    )


def metric_talk_person_times(unit: Unit, as_of: datetime) -> int:
    """Talk coverage in person-times (人次): Σ participants over the talks dated before the cutoff."""
    day = last_day(as_of)
    return TalkParticipant.objects.filter(
        talk__unit__path__startswith=unit.path, talk__withdrawn=False, talk__held_on__lte=day
    ).count()


def _in_force(day: date) -> Q:
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def _posts(unit: Unit, as_of: datetime, kind: str) -> int:
    day = last_day(as_of)
    scope = Q(unit__path__startswith=unit.path) | Q(person__party_unit__path__startswith=unit.path)
    return PartyPost.objects.filter(scope, _in_force(day), kind=kind).distinct().count()


def metric_model_posts(unit: Unit, as_of: datetime) -> int:
    """Model posts (党员示范岗) in force on the cutoff."""
    return _posts(unit, as_of, PostKind.MODEL)


def metric_vanguard_posts(unit: Unit, as_of: datetime) -> int:
    """Vanguard posts (党员先锋岗) in force on the cutoff."""
    return _posts(unit, as_of, PostKind.VANGUARD)


def metric_responsibility_areas(unit: Unit, as_of: datetime) -> int:
    """Responsibility areas (党员责任区) in force on the cutoff."""
    return _posts(unit, as_of, PostKind.RESPONSIBILITY_AREA)


def metric_contact_points(unit: Unit, as_of: datetime) -> int:
    """Leaders' contact points (基层党建联系点) in force on the cutoff."""
    day = last_day(as_of)
    return ContactPoint.objects.filter(_in_force(day), branch__path__startswith=unit.path).count()


def metric_contact_visits(unit: Unit, as_of: datetime) -> int:
    """Visits of leaders to their contact points dated before the cutoff."""
    day = last_day(as_of)
    return ContactVisit.objects.filter(
        contact_point__branch__path__startswith=unit.path, visited_on__lte=day
    ).count()


def _honors(unit: Unit, as_of: datetime, kind: str) -> int:
    day = last_day(as_of)
    scope = (
        Q(branch__path__startswith=unit.path)
        | Q(unit__path__startswith=unit.path)
        | Q(person__unit__path__startswith=unit.path)
        | Q(person__party_unit__path__startswith=unit.path)
    )
    return (
        Honor.objects.filter(scope, kind=kind, status=HonorStatus.APPROVED, awarded_on__lte=day)
        .distinct()
        .count()
    )


def metric_awards(unit: Unit, as_of: datetime) -> int:
    """Approved awards to units and people dated before the cutoff (获评各类奖项)."""
    return _honors(unit, as_of, HonorKind.AWARD)


def metric_commendations(unit: Unit, as_of: datetime) -> int:
    """Approved commendations (通报表扬) dated before the cutoff."""
    return _honors(unit, as_of, HonorKind.COMMENDATION)


def metric_applications(unit: Unit, as_of: datetime) -> int:
    """Applications to join the party (入党申请书) received before the cutoff."""
    day = last_day(as_of)
    return MembershipCase.objects.filter(branch__path__startswith=unit.path, applied_on__lte=day).count()


METRICS: dict[str, Callable[[Unit, datetime], int]] = {
    "partylife.meetings_held": metric_meetings_held,
    **{
        f"partylife.meetings_held.{k}": _f
        for k, _f in (
            (MeetingKind.BRANCH_GENERAL.value, metric_meetings_held_branch_general),
            (MeetingKind.BRANCH_COMMITTEE.value, metric_meetings_held_branch_committee),
            (MeetingKind.PARTY_GROUP.value, metric_meetings_held_party_group),
            (MeetingKind.PARTY_LESSON.value, metric_meetings_held_party_lesson),
            (MeetingKind.THEME_DAY.value, metric_meetings_held_theme_day),
            (MeetingKind.LIFE_MEETING.value, metric_meetings_held_life_meeting),
            (MeetingKind.APPRAISAL.value, metric_meetings_held_appraisal),
        )
    },
    "partylife.talks": metric_talks,
    "partylife.talk_person_times": metric_talk_person_times,
    "partylife.model_posts": metric_model_posts,
    "partylife.vanguard_posts": metric_vanguard_posts,
    "partylife.responsibility_areas": metric_responsibility_areas,
    "partylife.contact_points": metric_contact_points,
    "partylife.contact_visits": metric_contact_visits,
    "partylife.awards": metric_awards,
    "partylife.commendations": metric_commendations,
    "partylife.applications": metric_applications,
}
