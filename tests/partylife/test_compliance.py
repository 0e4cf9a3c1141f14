"""The compliance engine (pure) and its service side: dashboard, exemptions, frozen snapshots, warnings."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from muster.orgs.access import SYSTEM, NotAllowed
from muster.partylife import compliance as c
from muster.partylife import queries
from muster.partylife import services as svc
from muster.partylife.models import ComplianceSnapshot

from .conftest import Party, at, hold_meeting

# ---------------------------------------------------------------- pure engine


def test_windows_are_aligned_calendar_periods() -> None:
    assert c.windows(c.QUARTER, date(2024, 2, 10), date(2024, 7, 1)) == [
        (date(2024, 1, 1), date(2024, 4, 1)),
        (date(2024, 4, 1), date(2024, 7, 1)),
    ]
    assert c.windows(c.YEAR, date(2024, 4, 1), date(2024, 7, 1)) == [(date(2024, 1, 1), date(2025, 1, 1))]
    assert c.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert c.months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert c.months_between(date(2024, 1, 15), date(2024, 4, 14)) == 2
    assert c.months_between(date(2024, 1, 15), date(2024, 4, 15)) == 3


@given(
    st.sampled_from(c.PERIODS),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    st.integers(min_value=1, max_value=800),
)
def test_windows_tile_the_range_without_gaps(period: str, start: date, days: int) -> None:
    end = start + timedelta(days=days)
    ws = c.windows(period, start, end)
    assert ws[0][0] <= start < ws[0][1] and ws[-1][0] < end <= ws[-1][1]
    assert all(a[1] == b[0] for a, b in pairwise(ws))


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)), st.integers(min_value=0, max_value=120)
)
def test_months_between_inverts_add_months(d: date, n: int) -> None:
    assert c.months_between(d, c.add_months(d, n)) == n


def test_evaluate_statuses_quorum_lecturer_and_exemption() -> None:
    reqs = [
        c.Requirement("branch_general", "branch_general", c.QUARTER, 1, c.MAJORITY_VOTING),
        c.Requirement("secretary_lesson", "party_lesson", c.YEAR, 1, lecturer_role="secretary"),
        c.Requirement("theme_day", "theme_day", c.MONTH),
    ]
    meetings = [
        c.MeetingFact(
            1, date(2024, 2, 1), frozenset({"branch_general"}), expected_voting=4, present_voting=2
        ),
        c.MeetingFact(
            2,
            date(2024, 5, 1),
            frozenset({"branch_general", "party_lesson"}),
            expected_voting=4,
            present_voting=3,
            lecturer_roles=frozenset({"committee"}),
        ),
        c.MeetingFact(3, date(2024, 1, 9), frozenset({"theme_day"})),
    ]
    exemptions = [c.ExemptionFact("theme_day", date(2024, 2, 1), date(2024, 3, 1))]
    lines = c.evaluate(
        reqs, meetings, exemptions, start=date(2024, 1, 1), end=date(2024, 7, 1), through=date(2024, 5, 20)
    )
    by = {(ln.code, ln.start): ln for ln in lines}
    q1 = by[("branch_general", date(2024, 1, 1))]
    assert (q1.held, q1.status, q1.quorum_failures, q1.gap) == (0, c.MISSED, (1,), 1)
    assert by[("branch_general", date(2024, 4, 1))].status == c.MET
    assert (
        by[("secretary_lesson", date(2024, 1, 1))].status == c.DUE
    )  # a committee member's lesson does not count
    assert by[("theme_day", date(2024, 1, 1))].status == c.MET
    assert by[("theme_day", date(2024, 2, 1))].status == c.EXEMPT
    assert by[("theme_day", date(2024, 3, 1))].status == c.MISSED
    assert by[("theme_day", date(2024, 5, 1))].status == c.DUE
    assert by[("theme_day", date(2024, 6, 1))].status == c.UPCOMING
    assert c.overall(lines) == c.BEHIND


def test_six_month_rule_warning_levels() -> None:
    assert [c.warning_level(m) for m in range(8)] == [None, None, None, 3, 4, 5, 6, 6]
    assert c.inactivity_months(date(2024, 1, 10), date(2023, 1, 1), date(2024, 5, 9)) == 3
    assert c.inactivity_months(None, date(2024, 3, 1), date(2024, 5, 9)) == 2  # counted from joining


def test_pair_coverage_categories_and_gaps() -> None:
    people = {1: True, 2: True, 3: False, 4: False}
    cov = c.pair_coverage(people, [[1, 2], [1, 3], [3, 4, 99], [1, 2]])
    assert (cov.required, cov.covered) == (6, 3)
    assert cov.by_category == {c.CC: (1, 1), c.CM: (4, 1), c.MM: (1, 1)}
    assert [(g.a, g.b) for g in cov.gaps] == [(1, 4), (2, 3), (2, 4)]
    assert cov.counts[(1, 2)] == 2


# ---------------------------------------------------------------- service side


def q1_dashboard(party: Party, user: object = None) -> queries.Dashboard:
    return queries.compliance_dashboard(
        user or party.committee_user,
        party.org.xuhui_committee,
        start=date(2024, 1, 1),
        end=date(2024, 4, 1),
        as_of=at("2024-04-01 00:00"),
    )


def branch_row(d: queries.Dashboard, code: str = "XH-B01") -> dict:
    return next(r for r in d.rows if r["unit_code"] == code)


def test_dashboard_shows_behind_and_exemption_turns_a_line_exempt(party: Party) -> None:
    row = branch_row(q1_dashboard(party))
    assert row["status"] == "behind"
    lesson = next(ln for ln in row["lines"] if ln["code"] == "party_lesson")
    assert (lesson["required"], lesson["held"], lesson["gap"], lesson["status"]) == (1, 0, 1, "missed")
    hold_meeting(
        party, kinds=["party_lesson"], when="2024-03-05 14:00", present=[party.m1], lecturer=party.committee
    )
    lesson = next(ln for ln in branch_row(q1_dashboard(party))["lines"] if ln["code"] == "party_lesson")
    assert (lesson["held"], lesson["status"]) == (1, "met")
    with pytest.raises(NotAllowed):  # the branch cannot exempt itself
        svc.exemption_grant(
            actor=party.sec_user,
            unit=party.branch,
            requirement_code="theme_day",
            start=date(2024, 1, 1),
            end=date(2024, 4, 1),
            reason="新组建",
        )
    with pytest.raises(ValidationError, match="reason"):
        svc.exemption_grant(
            actor=party.committee_user,
            unit=party.branch,
            requirement_code="theme_day",
            start=date(2024, 1, 1),
            end=date(2024, 4, 1),
            reason="",
        )
    ex = svc.exemption_grant(
        actor=party.committee_user,
        unit=party.branch,
        requirement_code="theme_day",
        start=date(2024, 1, 1),
        end=date(2024, 4, 1),
        reason="新组建支部",
    )
    assert ex.approved_by_name == "xhdw"
    theme = [ln for ln in branch_row(q1_dashboard(party))["lines"] if ln["code"] == "theme_day"]
    assert {ln["status"] for ln in theme} == {"exempt"} and len(theme) == 3


def test_branch_turns_green_when_every_requirement_is_met_or_exempt(party: Party) -> None:
    for code in ("branch_committee", "theme_day", "branch_general"):
        svc.exemption_grant(
            actor=party.committee_user,
            unit=party.branch,
            requirement_code=code,
            start=date(2024, 1, 1),
            end=date(2024, 4, 1),
            reason="试点",
        )
    for code in ("secretary_lesson", "life_meeting", "appraisal"):
        svc.exemption_grant(
            actor=party.committee_user,
            unit=party.branch,
            requirement_code=code,
            start=date(2024, 1, 1),
            end=date(2025, 1, 1),
            reason="试点",
        )
    assert branch_row(q1_dashboard(party))["status"] == "behind"
    hold_meeting(
        party, kinds=["party_lesson"], when="2024-03-05 14:00", present=[party.m1], lecturer=party.secretary
    )
    assert branch_row(q1_dashboard(party))["status"] == "ok"


@pytest.mark.usefixtures("fixed_clock")  # "today" below is the service's today
def test_a_closed_period_is_frozen_and_later_changes_do_not_alter_it(party: Party) -> None:
    with pytest.raises(Http404):  # the branch secretary does not see the committee's tree
        svc.compliance_freeze(
            actor=party.sec_user, unit=party.org.xuhui_committee, start=date(2024, 1, 1), end=date(2024, 4, 1)
        )
    with pytest.raises(NotAllowed):  # a viewer sees the branch but may not freeze it
        svc.compliance_freeze(
            actor=party.viewer, unit=party.branch, start=date(2024, 1, 1), end=date(2024, 4, 1)
        )
    snap = svc.compliance_freeze(
        actor=party.committee_user,
        unit=party.org.xuhui_committee,
        start=date(2024, 1, 1),
        end=date(2024, 4, 1),
    )
    assert isinstance(snap, ComplianceSnapshot)
    hold_meeting(
        party, kinds=["party_lesson"], when="2024-03-05 14:00", present=[party.m1], lecturer=party.secretary
    )
    d = q1_dashboard(party)
    assert d.frozen
    lesson = next(ln for ln in branch_row(d)["lines"] if ln["code"] == "party_lesson")
    assert lesson["held"] == 0  # as it was when the period closed
    with pytest.raises(ValidationError, match="already frozen"):
        svc.compliance_freeze(
            actor=party.committee_user,
            unit=party.org.xuhui_committee,
            start=date(2024, 1, 1),
            end=date(2024, 4, 1),
        )
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="closed period"):
        svc.compliance_freeze(
            actor=party.committee_user,
            unit=party.org.xuhui_committee,
            start=today.replace(day=1),
            end=today + timedelta(days=40),
        )


def test_dashboard_is_scoped(party: Party) -> None:
    with pytest.raises(Http404):
        q1_dashboard(party, party.hp_user)
    # the branch secretary sees the branch only, not the committee's whole tree
    d = queries.compliance_dashboard(
        party.sec_user,
        party.branch,
        start=date(2024, 1, 1),
        end=date(2024, 4, 1),
        as_of=at("2024-04-01 00:00"),
    )
    assert {r["unit_code"] for r in d.rows} == {"XH-B01", "XH-B01-G1"}


def test_requirements_are_data_with_versions_and_subtree_overrides(party: Party) -> None:
    with pytest.raises(NotAllowed):
        svc.requirement_change(
            actor=party.committee_user,
            code="party_lesson",
            kind="party_lesson",
            period="quarter",
            count=2,
            valid_from=date(2024, 4, 1),
        )
    svc.requirement_change(
        actor=party.admin,
        code="party_lesson",
        kind="party_lesson",
        period="quarter",
        count=2,
        valid_from=date(2024, 4, 1),
    )
    lines = [
        ln
        for ln in queries.compliance_lines(
            party.branch, date(2024, 1, 1), date(2024, 7, 1), through=date(2024, 6, 30)
        )
        if ln.code == "party_lesson"
    ]
    assert [ln.required for ln in lines] == [1, 2]
    # a stricter rule for 徐汇 only: monthly lessons
    svc.requirement_change(
        actor=party.admin,
        code="party_lesson",
        kind="party_lesson",
        period="month",
        count=1,
        valid_from=date(2024, 1, 1),
        unit=party.org.xuhui_committee,
    )
    lines = [
        ln
        for ln in queries.compliance_lines(
            party.branch, date(2024, 1, 1), date(2024, 4, 1), through=date(2024, 3, 31)
        )
        if ln.code == "party_lesson"
    ]
    assert [(ln.period, ln.start.month) for ln in lines] == [("month", 1), ("month", 2), ("month", 3)]
    with pytest.raises(ValidationError, match="already starts"):
        svc.requirement_change(
            actor=party.admin,
            code="party_lesson",
            kind="party_lesson",
            period="quarter",
            count=1,
            valid_from=date(2024, 2, 1),
        )


def test_calendar_lists_what_is_due(party: Party) -> None:
    due = queries.compliance_calendar(
        party.sec_user,
        party.branch,
        start=date(2024, 4, 1),
        end=date(2024, 7, 1),
        as_of=at("2024-05-10 00:00"),
    )
    first = due[0]
    assert first.unit == party.branch and first.due_on == date(2024, 4, 30) and first.line.status == "missed"
    assert any(d.line.code == "party_group" and d.unit == party.group for d in due)
    assert any(d.line.code == "life_meeting" and d.line.status == "due" for d in due)


def test_members_without_organizational_life_are_warned(party: Party) -> None:
    hold_meeting(party, kinds=["theme_day"], when="2024-01-09 14:00", present=[party.m1, party.secretary])
    hold_meeting(party, kinds=["theme_day"], when="2024-03-05 14:00", present=[party.secretary])
    warnings = queries.inactivity_warnings(party.sec_user, party.branch, as_of=at("2024-06-05 00:00"))
    by = {w.person.code: (w.months, w.level) for w in warnings}
    assert by["XH0103"] == (4, 4)  # m1: last on 2024-01-09
    assert "XH0101" not in by  # secretary: 2024-03-05, three months not yet complete on 06-04
    assert by["XH0105"][1] == 6  # probationary member since 2023-06-01, never attended: six-month line
    assert "XH0104" not in by  # joined on 2024-04-01
    later = {
        w.person.code: (w.months, w.level)
        for w in queries.inactivity_warnings(SYSTEM, party.branch, as_of=at("2024-06-10 00:00"))
    }
    assert later["XH0101"] == (3, 3) and later["XH0103"] == (5, 5)
