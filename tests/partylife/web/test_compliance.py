"""The compliance pages: a branch red, then green after an approved meeting; frozen periods; the
calendar of what is due; the six-month-rule warnings."""

from __future__ import annotations

import re
from datetime import date

from django.urls import reverse

from muster.partylife import services as svc
from muster.partylife.models import ComplianceSnapshot

from .conftest import Party, client_for, hold_meeting

Q2 = {"period": "quarter", "year": "2025", "number": "2", "as_of": "2025-07-15"}
OTHER_CODES = (
    "branch_general",
    "branch_committee",
    "secretary_lesson",
    "theme_day",
    "life_meeting",
    "appraisal",
)


def row(body: str, unit_code: str) -> str:
    m = re.search(rf'<tr data-unit="{unit_code}" data-status="(\w+)">(.*?)</tr>', body, re.S)
    assert m, f"no row for {unit_code}"
    return m.group(0)


def cell_status(body: str, unit_code: str, code: str) -> str:
    m = re.search(rf'data-code="{code}" data-status="(\w*)"', row(body, unit_code))
    assert m
    return m.group(1)


def test_a_branch_turns_from_red_to_green_after_an_approved_meeting(party: Party) -> None:
    # the committee above exempts the branch from everything but the quarterly party lesson in 2025
    for code in OTHER_CODES:
        svc.exemption_grant(
            actor=party.committee_user,
            unit=party.branch,
            requirement_code=code,
            start=date(2025, 1, 1),
            end=date(2026, 1, 1),
            reason="试点调整",
        )
    c = client_for(party.committee_user)
    params = {"scope": party.org.xuhui_committee.pk, **Q2}
    body = c.get(reverse("partylife:compliance"), params).content.decode()
    assert cell_status(body, "XH-B01", "party_lesson") == "missed"
    assert 'data-status="behind"' in row(body, "XH-B01") and "text-bg-danger" in row(body, "XH-B01")
    assert cell_status(body, "XH-B01", "theme_day") == "exempt"
    assert "试点调整" in body  # the exemptions are listed with their reason and approver
    assert "2 organizations are behind." in body  # the branch, and its party group (no group meetings)
    assert cell_status(body, "XH-B01-G1", "party_group") == "missed"
    assert "0 of 3 · gap 3" in row(body, "XH-B01-G1")  # a group meeting each of April, May, June

    hold_meeting(
        party, kinds=["party_lesson"], when="2025-05-06 14:00", present=[party.m1], lecturer=party.secretary
    )
    body = c.get(reverse("partylife:compliance"), params).content.decode()
    assert cell_status(body, "XH-B01", "party_lesson") == "met"
    assert 'data-status="ok"' in row(body, "XH-B01") and "text-bg-success" in row(body, "XH-B01")
    assert "1 organization is behind." in body


def test_a_meeting_not_yet_approved_does_not_count_and_the_cutoff_matters(party: Party) -> None:
    m = hold_meeting(
        party, kinds=["party_lesson"], when="2025-05-06 14:00", lecturer=party.secretary, approve=False
    )
    c = client_for(party.sec_user)
    params = {"scope": party.branch.pk, **Q2}
    body = c.get(reverse("partylife:compliance"), params).content.decode()
    assert cell_status(body, "XH-B01", "party_lesson") == "missed"
    svc.meeting_approve(actor=party.committee_user, meeting=m)
    body = c.get(reverse("partylife:compliance"), params).content.decode()
    assert cell_status(body, "XH-B01", "party_lesson") == "met"
    # as of the end of April the lesson had not happened yet; the quarter was still open
    body = c.get(reverse("partylife:compliance"), {**params, "as_of": "2025-04-30"}).content.decode()
    assert cell_status(body, "XH-B01", "party_lesson") == "due"


def test_freeze_a_closed_period_then_the_snapshot_is_shown(party: Party) -> None:
    c = client_for(party.committee_user)
    scope = party.org.xuhui_committee
    params = {"scope": scope.pk, **Q2}
    body = c.get(reverse("partylife:compliance"), params).content.decode()
    assert 'id="freeze-form"' in body
    # a branch secretary may not freeze the committee's period (no form; the POST is refused)
    sec_body = (
        client_for(party.sec_user)
        .get(reverse("partylife:compliance"), {"scope": party.branch.pk, **Q2})
        .content.decode()
    )
    assert 'id="freeze-form"' in sec_body  # their own branch: secretaries hold PARTY_APPROVE there
    r = client_for(party.viewer).post(
        reverse("partylife:compliance_freeze"),
        {"scope": party.branch.pk, "start": "2025-04-01", "end": "2025-07-01"},
    )
    assert r.status_code == 403
    r = c.post(
        reverse("partylife:compliance_freeze"),
        {"scope": scope.pk, "start": "2025-04-01", "end": "2025-07-01", "back": "x=1"},
    )
    assert r.status_code == 302
    assert ComplianceSnapshot.objects.filter(unit=scope, start=date(2025, 4, 1)).exists()
    # a meeting approved afterwards does not change the frozen figures
    hold_meeting(party, kinds=["party_lesson"], when="2025-05-06 14:00", lecturer=party.secretary)
    body = c.get(reverse("partylife:compliance"), params).content.decode()
    assert 'id="frozen-badge"' in body and 'id="freeze-form"' not in body
    assert cell_status(body, "XH-B01", "party_lesson") == "missed"
    # freezing twice is refused with a message
    r = c.post(
        reverse("partylife:compliance_freeze"),
        {"scope": scope.pk, "start": "2025-04-01", "end": "2025-07-01"},
    )
    assert "This period is already frozen" in c.get(r["Location"]).content.decode()


def test_calendar_and_inactivity_warnings(party: Party) -> None:
    c = client_for(party.sec_user)
    body = c.get(
        reverse("partylife:compliance_calendar"),
        {"scope": party.branch.pk, "period": "year", "year": "2025", "as_of": "2025-05-20"},
    ).content.decode()
    # May's theme day is due by 2025-05-31; the April one was missed; the December ones are upcoming
    assert re.search(r'data-unit="XH-B01" data-code="theme_day">\s*<td[^>]*>by 2025-05-31', body)
    assert "2025-04" in body and "2025-12" in body
    hold_meeting(party, kinds=["theme_day"], when="2025-01-07 14:00", present=[party.m1])
    body = c.get(
        reverse("partylife:inactivity"), {"scope": party.branch.pk, "as_of": "2025-06-30", "year": "2025"}
    ).content.decode()
    # m1 attended in January: five months without organizational life by the end of June
    assert re.search(rf'data-person="{party.m1.code}" data-level="5"', body)
    # the secretary attended nothing since joining in 2023: past the six-month line
    assert re.search(rf'data-person="{party.secretary.code}" data-level="6"', body)
