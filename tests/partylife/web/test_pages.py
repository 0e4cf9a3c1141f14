"""Every party-life page renders for a permitted user (in Simplified Chinese by default) and answers 404
for objects and scopes out of sight."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from muster.honors import awards
from muster.orgs.access import SYSTEM
from muster.partylife import services as svc

from .conftest import Party, at, client_for, hold_meeting


@pytest.fixture
def objects(party: Party) -> dict[str, int]:
    m = hold_meeting(party, kinds=["party_lesson"], when="2025-05-06 14:00", lecturer=party.secretary)
    svc.talk_record(
        actor=party.sec_user,
        unit=party.branch,
        held_on=date(2025, 3, 1),
        topic="谈心",
        participants=[party.secretary, party.m1],
    )
    from muster.orgs.services import person_create

    applicant = person_create(
        actor=SYSTEM, code="XH0201", name="申请人", unit=party.org.xuhui, party_unit=party.branch
    )
    case = svc.membership_case_open(
        actor=party.sec_user, person=applicant, branch=party.branch, applied_on=date(2025, 1, 2)
    )
    cp = svc.contact_point_create(
        actor=party.sec_user, leader=party.org.alice, branch=party.branch, start=date(2025, 1, 1)
    )
    svc.party_post_create(
        actor=party.sec_user,
        kind="vanguard",
        name="先锋岗",
        unit=party.branch,
        start=date(2025, 1, 1),
        person=party.m1,
    )
    honor = awards.honor_propose(
        actor=party.sec_user,
        kind="commendation",
        name="通报表扬",
        level="unit",
        awarded_on=date(2025, 2, 1),
        branch=party.branch,
        person=party.m1,
        evidence_note="党委文件",
    )
    draft = svc.meeting_create(
        actor=party.sec_user,
        unit=party.branch,
        kinds=["theme_day"],
        topic="草稿",
        starts_at=at("2025-06-03 14:00"),
    )
    return {"meeting": m.pk, "draft": draft.pk, "case": case.pk, "cp": cp.pk, "honor": honor.pk}


def test_every_page_renders_for_the_branch_secretary(party: Party, objects: dict[str, int]) -> None:
    c = client_for(party.sec_user, language="zh-hans")
    b = party.branch.pk
    pages = [
        reverse("partylife:meetings"),
        reverse("partylife:meeting_create"),
        reverse("partylife:meeting_detail", args=[objects["meeting"]]),
        reverse("partylife:meeting_edit", args=[objects["draft"]]),
        reverse("partylife:meeting_attendance", args=[objects["draft"]]),
        reverse("partylife:review_queue"),
        reverse("partylife:compliance") + f"?scope={b}",
        reverse("partylife:compliance"),
        reverse("partylife:compliance_calendar"),
        reverse("partylife:inactivity"),
        reverse("partylife:talks"),
        reverse("partylife:talk_create"),
        reverse("partylife:talk_matrix") + f"?branch={b}&year=2025",
        reverse("partylife:pipeline"),
        reverse("partylife:case_create"),
        reverse("partylife:case_detail", args=[objects["case"]]),
        reverse("partylife:posts"),
        reverse("partylife:post_create"),
        reverse("partylife:contact_point_create"),
        reverse("partylife:contact_point_detail", args=[objects["cp"]]),
        reverse("honors:awards"),  # awards and commendations, under party life's tabs
        reverse("honors:award_create"),
        reverse("honors:award_detail", args=[objects["honor"]]),
    ]
    for url in pages:
        r = c.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        assert '<html lang="zh-hans">' in html and 'id="nav-partylife"' in html, url
    assert c.get(reverse("partylife:index"))["Location"] == reverse("partylife:meetings")


def test_out_of_scope_is_404(party: Party, objects: dict[str, int]) -> None:
    hp = client_for(party.hp_user)  # secretary of the 黄浦 committee: 徐汇 is out of sight
    b = party.branch.pk
    for url in [
        reverse("partylife:meeting_detail", args=[objects["meeting"]]),
        reverse("partylife:meeting_edit", args=[objects["draft"]]),
        reverse("partylife:meeting_attendance", args=[objects["draft"]]),
        reverse("partylife:compliance") + f"?scope={b}",
        reverse("partylife:compliance_calendar") + f"?scope={b}",
        reverse("partylife:inactivity") + f"?scope={b}",
        reverse("partylife:talk_matrix") + f"?branch={b}",
        reverse("partylife:pipeline") + f"?unit={b}",
        reverse("partylife:case_detail", args=[objects["case"]]),
        reverse("partylife:contact_point_detail", args=[objects["cp"]]),
        reverse("honors:award_detail", args=[objects["honor"]]),
    ]:
        assert hp.get(url).status_code == 404, url
    for url in [
        reverse("partylife:meeting_submit", args=[objects["draft"]]),
        reverse("partylife:meeting_approve", args=[objects["meeting"]]),
        reverse("partylife:meeting_correction", args=[objects["meeting"]]),
    ]:
        assert hp.post(url, {"reason": "x"}).status_code == 404, url
    # lists leave out what is out of sight
    assert "草稿" not in hp.get(reverse("partylife:meetings")).content.decode()
    assert "通报表扬" not in hp.get(reverse("honors:awards")).content.decode()
    assert "先锋岗" not in hp.get(reverse("partylife:posts")).content.decode()
    assert "谈心" not in hp.get(reverse("partylife:talks")).content.decode()
    # their own committee's dashboard renders (without the 徐汇 branch)
    body = hp.get(reverse("partylife:compliance")).content.decode()
    assert 'data-unit="XH-B01"' not in body


def test_a_viewer_sees_but_may_not_record(party: Party, objects: dict[str, int]) -> None:
    v = client_for(party.viewer)
    assert v.get(reverse("partylife:meeting_detail", args=[objects["meeting"]])).status_code == 200
    assert v.get(reverse("partylife:meeting_create")).status_code == 403
    assert v.get(reverse("partylife:meeting_attendance", args=[objects["draft"]])).status_code == 403
    assert v.post(reverse("partylife:meeting_submit", args=[objects["draft"]])).status_code == 403
    assert v.get(reverse("partylife:review_queue")).status_code == 403
