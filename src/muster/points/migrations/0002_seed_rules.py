"""Seed default point rules (version 1, valid from 2000-01-01); an administrator changes them as new versions.

RULES.md names only the typical shape: 3 points per 三会一课 attended, capped at 12 a year; 2 per 主题党日,
capped at 8; bonus points for awards by level; deductions for absence without leave. The other amounts
are neutral starting values for an organization to set.
"""

import datetime
from decimal import Decimal

from django.db import migrations

FROM = datetime.date(2000, 1, 1)
SAMPLE = "RULES.md: typical local scheme (3 per 三会一课 attended, capped at 12 a year)"
THEME = "RULES.md: typical local scheme (2 per 主题党日, capped at 8 a year)"
LOCAL = "starting value; set by the organization (RULES.md: no national scheme)"

RULES = [
    # kind, points, cap, cap group, note
    ("meeting.branch_general", "3", "12", "three_meetings_one_lesson", SAMPLE),
    ("meeting.branch_committee", "3", "12", "three_meetings_one_lesson", SAMPLE),
    ("meeting.party_group", "3", "12", "three_meetings_one_lesson", SAMPLE),
    ("meeting.party_lesson", "3", "12", "three_meetings_one_lesson", SAMPLE),
    ("meeting.theme_day", "2", "8", "", THEME),
    ("meeting.life_meeting", "2", "4", "", LOCAL),
    ("meeting.appraisal", "2", "2", "", LOCAL),
    ("meeting.absent", "-2", None, "", "RULES.md: deductions for absences without leave; amount " + LOCAL),
    ("lesson.given", "5", "20", "", LOCAL),
    ("talk", "1", "10", "", LOCAL),
    ("service.hour", "0.5", "20", "", LOCAL),
    ("award.national", "20", None, "", "RULES.md: bonus points for awards by level; amount " + LOCAL),
    ("award.provincial", "15", None, "", "RULES.md: bonus points for awards by level; amount " + LOCAL),
    ("award.city", "10", None, "", "RULES.md: bonus points for awards by level; amount " + LOCAL),
    ("award.district", "6", None, "", "RULES.md: bonus points for awards by level; amount " + LOCAL),
    ("award.unit", "3", None, "", "RULES.md: bonus points for awards by level; amount " + LOCAL),
    ("commendation", "3", None, "", LOCAL),
    ("post.model", "5", None, "", LOCAL),
    ("post.vanguard", "5", None, "", LOCAL),
    ("post.responsibility_area", "3", None, "", LOCAL),
    ("manual", "1", None, "", "manual entries: the quantity is the points"),
]


def seed(apps, schema_editor):
    PointRule = apps.get_model("points", "PointRule")
    for kind, points, cap, group, note in RULES:
        if not PointRule.objects.filter(kind=kind).exists():
            PointRule.objects.create(
                kind=kind,
                points=Decimal(points),
                cap=Decimal(cap) if cap else None,
                cap_period="year",
                cap_group=group,
                valid_from=FROM,
                version=1,
                note=note,
            )


def unseed(apps, schema_editor):
    PointRule = apps.get_model("points", "PointRule")
    PointRule.objects.filter(valid_from=FROM, version=1, facts__isnull=True, unit__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
