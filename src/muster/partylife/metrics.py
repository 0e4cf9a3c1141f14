"""Report figures of party life: ``metric_<name>(unit, as_of) -> number``, for ``unit``'s subtree.

``as_of`` is a cutoff instant (DESIGN.md): events count when they happened before it; posts and
contact points count when in force on the cutoff's last included day. The metric registry of the
registry (``muster.reports.registry``) registers ``METRICS``: each function with its id, translatable
label, unit and definition.

Figures of the seed articles they answer: meetings held per kind (三会一课); talk coverage in
person-times (近9000人次); model posts 104, vanguard posts 142, responsibility areas 93; contact
points 286; applications (12名税务干部递交了入党申请书). Awards and commendations (``partylife.awards``,
``partylife.commendations``, ids kept) are registered by the honors app (``muster.honors.metrics``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.clock import last_day
from muster.orgs.models import Unit
from muster.partylife.models import (
    ContactPoint,
    ContactVisit,
    Meeting,
    MeetingKind,
    MembershipCase,
    PartyPost,
    PostKind,
    ReviewStatus,
    TalkParticipant,
)
from muster.reports.registry import Metric


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


def metric_applications(unit: Unit, as_of: datetime) -> int:
    """Applications to join the party (入党申请书) received before the cutoff."""
    day = last_day(as_of)
    return MembershipCase.objects.filter(branch__path__startswith=unit.path, applied_on__lte=day).count()


_MEETING_KINDS: tuple[tuple[MeetingKind, Callable[[Unit, datetime], int]], ...] = (
    (MeetingKind.BRANCH_GENERAL, metric_meetings_held_branch_general),
    (MeetingKind.BRANCH_COMMITTEE, metric_meetings_held_branch_committee),
    (MeetingKind.PARTY_GROUP, metric_meetings_held_party_group),
    (MeetingKind.PARTY_LESSON, metric_meetings_held_party_lesson),
    (MeetingKind.THEME_DAY, metric_meetings_held_theme_day),
    (MeetingKind.LIFE_MEETING, metric_meetings_held_life_meeting),
    (MeetingKind.APPRAISAL, metric_meetings_held_appraisal),
)

# The figures with their labels and units in both languages. ``group="party"`` with an ``order`` makes
# a figure a column of the rollup page's party-life section (see ``muster.reports.party``).
METRICS: dict[str, Metric] = {
    m.id: m
    for m in [
        Metric(
            "partylife.meetings_held",
            _("Meetings held"),
            metric_meetings_held,
            _("Approved meetings held before the cutoff (a meeting of two kinds counts once)."),
            pgettext_lazy("metric unit", "times"),
            group="party",
            order=10,
        ),
        *(
            Metric(
                f"partylife.meetings_held.{kind.value}",
                format_lazy("{}: {}", _("Meetings held"), kind.label),
                fn,
                format_lazy(
                    "{} ({})", _("Approved meetings of this kind held before the cutoff."), kind.label
                ),
                pgettext_lazy("metric unit", "times"),
                group="party",
            )
            for kind, fn in _MEETING_KINDS
        ),
        Metric(
            "partylife.talks",
            _("Heart-to-heart talks"),
            metric_talks,
            _("Heart-to-heart talks recorded (not withdrawn) dated before the cutoff."),
            pgettext_lazy("metric unit", "times"),
            group="party",
        ),
        Metric(
            "partylife.talk_person_times",
            _("Talks (person-times)"),
            metric_talk_person_times,
            _("Talk coverage in person-times: the participants of every talk dated before the cutoff."),
            pgettext_lazy("metric unit", "person-times"),
            group="party",
            order=20,
        ),
        Metric(
            "partylife.model_posts",
            _("Model posts"),
            metric_model_posts,
            _("Model posts (党员示范岗) in force on the cutoff's last day."),
            pgettext_lazy("metric unit", "posts"),
            group="party",
            order=30,
            additive=False,
        ),
        Metric(
            "partylife.vanguard_posts",
            _("Vanguard posts"),
            metric_vanguard_posts,
            _("Vanguard posts (党员先锋岗) in force on the cutoff's last day."),
            pgettext_lazy("metric unit", "posts"),
            group="party",
            order=40,
            additive=False,
        ),
        Metric(
            "partylife.responsibility_areas",
            _("Responsibility areas"),
            metric_responsibility_areas,
            _("Responsibility areas (党员责任区) in force on the cutoff's last day."),
            pgettext_lazy("metric unit", "areas"),
            group="party",
            order=50,
            additive=False,
        ),
        Metric(
            "partylife.contact_points",
            _("Contact points"),
            metric_contact_points,
            _("Leaders' contact points (领导干部联系点) in force on the cutoff's last day."),
            pgettext_lazy("metric unit", "contact points"),  # places (个), not score points (分)
            group="party",
            order=60,
        ),
        Metric(
            "partylife.contact_visits",
            _("Contact point visits"),
            metric_contact_visits,
            _("Visits of leaders to their contact points dated before the cutoff."),
            pgettext_lazy("metric unit", "visits"),
            group="party",
        ),
        Metric(
            "partylife.applications",
            _("Applications to join"),
            metric_applications,
            _("Applications to join the party (入党申请书) received before the cutoff."),
            pgettext_lazy("metric unit", "persons"),
            group="party",
            order=80,
        ),
    ]
}
