"""The fact kinds points are earned (or lost) for, with their labels. Rules are keyed by these codes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

MEETING_PREFIX = "meeting."
MEETING_ABSENT = "meeting.absent"  # absent without leave (a deduction)
LESSON_GIVEN = "lesson.given"  # gave a party lesson
TALK = "talk"  # took part in a heart-to-heart talk
SERVICE_HOUR = "service.hour"  # one approved service hour (mobilize ledger)
AWARD_PREFIX = "award."
COMMENDATION = "commendation"
POST_PREFIX = "post."
MANUAL = "manual"  # manual entry: the quantity is the points


def meeting(kind: str) -> str:
    """The fact kind for attending a meeting of ``kind`` (a partylife MeetingKind value)."""
    return MEETING_PREFIX + kind


def award(level: str) -> str:
    return AWARD_PREFIX + level


def post(kind: str) -> str:
    return POST_PREFIX + kind


LABELS: dict[str, Any] = {
    "meeting.branch_general": _("Attended a branch general meeting"),
    "meeting.branch_committee": _("Attended a branch committee meeting"),
    "meeting.party_group": _("Attended a party group meeting"),
    "meeting.party_lesson": _("Attended a party lesson"),
    "meeting.theme_day": _("Took part in a theme party day"),
    "meeting.life_meeting": _("Attended an organizational life meeting"),
    "meeting.appraisal": _("Took part in the democratic appraisal"),
    MEETING_ABSENT: _("Absent from a meeting without leave"),
    LESSON_GIVEN: _("Gave a party lesson"),
    TALK: _("Heart-to-heart talk"),
    SERVICE_HOUR: _("Service hours"),
    "award.national": _("National award"),
    "award.provincial": _("Provincial award"),
    "award.city": _("City award"),
    "award.district": _("District award"),
    "award.unit": _("Unit award"),
    COMMENDATION: _("Commendation"),
    "post.model": _("Model post held"),
    "post.vanguard": _("Vanguard post held"),
    "post.responsibility_area": _("Responsibility area held"),
    MANUAL: _("Manual entry"),
}


def label(kind: str) -> str:
    return str(LABELS.get(kind, kind))
