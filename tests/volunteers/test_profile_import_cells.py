"""The volunteer-profile importer's text cells (a skill's note, a preference's value), checked by the shared
``TextCells`` (issue 23): the same words, values shown and order as before, in Chinese and English. A cell
gets one problem: a control character (the raw cell shown), else too long (the clean text shown); a blank
preference value is "a value is required" before anything else (a cell of white space and a control
character counts as blank there)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from muster.tabular.errors import TabularError
from muster.tabular.writer import csv_bytes
from muster.volunteers import profile_io
from muster.volunteers.models import Preference, Qualification

pytestmark = pytest.mark.django_db

SKILLS_ZH = ["工号", "技能资质", "有效期至", "备注"]
SKILLS_EN = ["Staff number", "Skill", "Valid until", "Note"]
PREFS_ZH = ["工号", "类别", "内容", "意愿", "权重"]
PREFS_EN = ["Staff number", "About", "Value", "Wish", "Weight"]

SKILL_ROWS = [
    ["XH0001", "医护", "", "备\x07注"],
    ["XH0001", "驾驶", "", " " + "注" * 201],
    ["XH0009", "医护", "", " 　" + "注" * 200 + " "],
]
PREF_ROWS = [
    ["XH0001", "地点", "地\x1b点", "希望", 1],
    ["XH0001", "班次类型", "点" * 101, "希望", 1],
    ["XH0001", "地点", "   ", "希望", 1],
    ["XH0001", "地点", " \x1c ", "希望", 1],
    ["XH0009", "地点", "　" + "点" * 100, "不希望", 2],
]


def _errors(actor: Any, headers: list[str], rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    with pytest.raises(TabularError) as exc:
        profile_io.volunteer_import(actor=actor, filename="profiles.csv", data=csv_bytes(headers, rows))
    assert not Qualification.objects.exists() and not Preference.objects.exists()
    return [(e.row, e.column, e.value, e.reason) for e in exc.value.errors]


def test_a_skills_note_in_chinese_and_english(world: Any) -> None:
    with translation.override("zh-hans"):
        assert _errors(world.leader, SKILLS_ZH, SKILL_ROWS) == [
            (2, "备注", "备\x07注", "备注含有控制字符（U+0007），不允许使用。"),
            (3, "备注", "注" * 201, "过长（最多 200 个字符）"),
        ]
    with translation.override("en"):
        assert _errors(world.leader, SKILLS_EN, SKILL_ROWS) == [
            (2, "Note", "备\x07注", "Note contains a control character (U+0007), which is not allowed."),
            (3, "Note", "注" * 201, "too long (at most 200 characters)"),
        ]


def test_a_preferences_value_in_chinese_and_english(world: Any) -> None:
    with translation.override("zh-hans"):
        assert _errors(world.leader, PREFS_ZH, PREF_ROWS) == [
            (2, "内容", "地\x1b点", "数值含有控制字符（U+001B），不允许使用。"),
            (3, "内容", "点" * 101, "过长（最多 100 个字符）"),
            (4, "内容", "", "必须填写"),
            (5, "内容", "", "必须填写"),
        ]
    with translation.override("en"):
        assert _errors(world.leader, PREFS_EN, PREF_ROWS) == [
            (2, "Value", "地\x1b点", "Value contains a control character (U+001B), which is not allowed."),
            (3, "Value", "点" * 101, "too long (at most 100 characters)"),
            (4, "Value", "", "a value is required"),
            (5, "Value", "", "a value is required"),
        ]


def test_text_at_the_limits_is_written_clean(world: Any) -> None:
    profile_io.volunteer_import(
        actor=world.leader, filename="skills.csv", data=csv_bytes(SKILLS_ZH, SKILL_ROWS[2:])
    )
    assert Qualification.objects.get().note == "注" * 200
    profile_io.volunteer_import(
        actor=world.leader, filename="prefs.csv", data=csv_bytes(PREFS_ZH, PREF_ROWS[4:])
    )
    assert list(Preference.objects.values_list("value", flat=True)) == ["点" * 100]
