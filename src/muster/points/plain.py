"""Plain words for the rule table: the seeded rules carry notes written for developers ("RULES.md: …")
and a cap group code; the page shows what they mean to the people who read it (issue 27 item 10).
A note an administrator wrote is shown as written."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# the notes of the rules seeded by migration 0002 (verbatim), and what the page says instead
_LOCAL = "starting value; set by the organization (RULES.md: no national scheme)"
_AWARD = "RULES.md: bonus points for awards by level; amount " + _LOCAL
SEED_NOTES = {
    "RULES.md: typical local scheme (3 per 三会一课 attended, capped at 12 a year)": _(
        "A usual local scheme: 3 points for each meeting of the three meetings and one lesson "
        "attended, at most 12 a year."
    ),
    "RULES.md: typical local scheme (2 per 主题党日, capped at 8 a year)": _(
        "A usual local scheme: 2 points for each theme party day, at most 8 a year."
    ),
    _LOCAL: _("A starting value: the organization sets its own (there is no national scheme)."),
    "RULES.md: deductions for absences without leave; amount " + _LOCAL: _(
        "Points deducted for an absence without leave; the amount is a starting value the organization sets."
    ),
    _AWARD: _(
        "Bonus points for an award, by its level; the amount is a starting value the organization sets."
    ),
    "manual entries: the quantity is the points": _("Manual entries: the quantity entered is the points."),
}

CAP_GROUPS = {
    "three_meetings_one_lesson": _("Three meetings and one lesson (one cap for all four)"),
}


def plain_note(note: str) -> str:
    return str(SEED_NOTES.get(note, note))


def cap_group_label(code: str) -> str:
    return str(CAP_GROUPS.get(code, code))
