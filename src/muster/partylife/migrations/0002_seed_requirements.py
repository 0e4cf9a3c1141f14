"""Seed the organizational-life requirements of RULES.md (editable afterwards, as new versions).

Source: 《中国共产党支部工作条例（试行）》(2018) and common local implementing rules, as RULES.md states.
"""

import datetime

from django.db import migrations

FROM = datetime.date(2018, 1, 1)
SRC = "《中国共产党支部工作条例（试行）》(2018); RULES.md"
LOCAL = "local implementing rules; RULES.md"

REQUIREMENTS = [
    # code, kind, applies to, period, count, quorum, lecturer role, usual month, source
    ("branch_general", "branch_general", "branch", "quarter", 1, "majority_voting", "", None, SRC),
    ("branch_committee", "branch_committee", "branch", "month", 1, "majority_committee", "", None, SRC),
    ("party_group", "party_group", "party_group", "month", 1, "", "", None, SRC),
    ("party_lesson", "party_lesson", "branch", "quarter", 1, "", "", None, LOCAL),
    ("secretary_lesson", "party_lesson", "branch", "year", 1, "", "secretary", None, SRC),
    ("theme_day", "theme_day", "branch", "month", 1, "", "", None, LOCAL),
    ("life_meeting", "life_meeting", "branch", "year", 1, "", "", 12, SRC),
    ("appraisal", "appraisal", "branch", "year", 1, "", "", 12, SRC),
]


def seed(apps, schema_editor):
    MeetingRequirement = apps.get_model("partylife", "MeetingRequirement")
    for code, kind, applies_to, period, count, quorum, role, month, source in REQUIREMENTS:
        if not MeetingRequirement.objects.filter(code=code).exists():
            MeetingRequirement.objects.create(
                code=code,
                kind=kind,
                applies_to=applies_to,
                period=period,
                count=count,
                quorum=quorum,
                lecturer_role=role,
                usual_month=month,
                valid_from=FROM,
                source=source,
            )


def unseed(apps, schema_editor):
    MeetingRequirement = apps.get_model("partylife", "MeetingRequirement")
    MeetingRequirement.objects.filter(valid_from=FROM, unit__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("partylife", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
