"""Through HTTP: talks and their coverage matrix, the membership pipeline, posts and contact points.
(Honors moved to the honors app: ``tests/honors/awards/test_web.py``.)"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create
from muster.partylife.models import ContactVisit, MembershipCase, PartyPost, Talk
from muster.points.queries import statement

from .conftest import Party, client_for, link


def test_record_a_talk_and_see_the_coverage_matrix(party: Party) -> None:
    sec = client_for(party.sec_user)
    r = sec.post(
        reverse("partylife:talk_create"),
        {
            "unit": party.branch.pk,
            "held_on": "2025-03-10",
            "topic": "思想交流",
            "participants": f"{party.secretary.code}，{party.m1.code}",
        },
    )
    assert r.status_code == 302
    talk = Talk.objects.get()
    assert set(talk.participants.values_list("code", flat=True)) == {party.secretary.code, party.m1.code}
    # an unknown staff number is a field error and nothing is recorded
    r = sec.post(
        reverse("partylife:talk_create"),
        {"unit": party.branch.pk, "held_on": "2025-03-11", "topic": "x", "participants": "XH0101 NOPE9"},
    )
    assert "No person with the staff number NOPE9 was found." in r.content.decode()
    assert Talk.objects.count() == 1

    body = sec.get(
        reverse("partylife:talk_matrix"), {"branch": party.branch.pk, "year": "2025"}
    ).content.decode()
    # members at the end of 2025: secretary, committee, m1, m2, probationary, alice → 15 pairs, 1 talked
    assert "1 of 15 required pairs talked (7%)." in body
    sec_row = re.search(rf'<tr data-person="{party.secretary.code}">(.*?)</tr>', body, re.S)
    assert sec_row and sec_row.group(1).count('data-count="1"') == 1
    assert sec_row.group(1).count('data-count="0"') == 4
    assert f'data-pair="{party.secretary.code}-{party.m1.code}"' not in body  # covered: not a gap
    assert f'data-pair="{party.secretary.code}-{party.committee.code}"' in body
    # another year has no talks
    body = sec.get(
        reverse("partylife:talk_matrix"), {"branch": party.branch.pk, "year": "2024"}
    ).content.decode()
    assert "0 of " in body
    listing = sec.get(reverse("partylife:talks")).content.decode()
    assert "思想交流" in listing


def test_a_member_records_their_own_talk(party: Party, make_user: Any) -> None:
    m1_user = make_user("m1")
    link(party.m1, m1_user)
    r = client_for(m1_user).post(
        reverse("partylife:talk_create"),
        {
            "unit": party.branch.pk,
            "held_on": "2025-03-10",
            "topic": "谈心",
            "participants": f"{party.m1.code} {party.committee.code}",
        },
    )
    assert r.status_code == 302 and Talk.objects.filter(topic="谈心").exists()


@pytest.mark.usefixtures("fixed_clock")  # the waiting periods count from today
def test_pipeline_open_talk_and_advance_with_waiting_periods(party: Party) -> None:
    applicant = person_create(
        actor=SYSTEM,
        code="XH0201",
        name="申请人庚",
        unit=party.org.xuhui,
        party_unit=party.branch,
        political_status="league",
    )
    today = timezone.localdate()
    applied = today - timedelta(days=500)
    sec = client_for(party.sec_user)
    r = sec.post(
        reverse("partylife:case_create"),
        {"branch": party.branch.pk, "person": applicant.code, "applied_on": applied.isoformat()},
    )
    case = MembershipCase.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("partylife:case_detail", args=[case.pk])
    listing = sec.get(reverse("partylife:pipeline"), {"unit": party.branch.pk}).content.decode()
    assert 'data-person="XH0201" data-stage="applicant"' in listing
    assert "First talk with the applicant" in listing  # overdue: more than a month since the application

    sec.post(
        reverse("partylife:case_talk", args=[case.pk]), {"on": (applied + timedelta(days=10)).isoformat()}
    )
    activist = applied + timedelta(days=20)
    r = sec.post(
        reverse("partylife:case_detail", args=[case.pk]), {"stage": "activist", "on": activist.isoformat()}
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.stage == "activist" and case.activist_on == activist and case.talked_on is not None

    too_early = activist + timedelta(days=100)
    r = sec.post(
        reverse("partylife:case_detail", args=[case.pk]), {"stage": "candidate", "on": too_early.isoformat()}
    )
    assert r.status_code == 200 and "Too early: the standard waiting period ends on" in r.content.decode()
    case.refresh_from_db()
    assert case.stage == "activist"
    ok = activist + timedelta(days=400)
    r = sec.post(
        reverse("partylife:case_detail", args=[case.pk]), {"stage": "candidate", "on": ok.isoformat()}
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.stage == "candidate" and case.candidate_on == ok
    detail = sec.get(reverse("partylife:case_detail", args=[case.pk])).content.decode()
    assert 'data-stage="candidate"' in detail and "Candidate training" in detail
    # probationary needs two full-member introducers
    r = sec.post(
        reverse("partylife:case_detail", args=[case.pk]),
        {"stage": "probationary", "on": today.isoformat(), "introducers": party.secretary.code},
    )
    assert "Two full members must be introducers (given: 1)." in r.content.decode()
    r = sec.post(
        reverse("partylife:case_detail", args=[case.pk]),
        {
            "stage": "probationary",
            "on": today.isoformat(),
            "introducers": f"{party.secretary.code} {party.committee.code}",
        },
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.stage == "probationary" and case.introducers.count() == 2
    # a viewer sees the case but cannot advance it
    assert client_for(party.viewer).get(reverse("partylife:case_detail", args=[case.pk])).status_code == 200
    r = client_for(party.viewer).post(
        reverse("partylife:case_detail", args=[case.pk]), {"stage": "full_member", "on": today.isoformat()}
    )
    assert r.status_code == 403


def test_posts_contact_points_and_visits(party: Party) -> None:
    sec = client_for(party.sec_user)
    r = sec.post(
        reverse("partylife:post_create"),
        {
            "kind": "model",
            "name": "办税服务厅党员示范岗",
            "unit": party.branch.pk,
            "person": party.m1.code,
            "start": "2025-01-01",
        },
    )
    assert r.status_code == 302
    post = PartyPost.objects.get()
    assert post.person == party.m1
    assert statement(party.sec_user, party.m1, 2025).total == 5  # post.model
    r = sec.post(
        reverse("partylife:post_create"),
        {"kind": "vanguard", "name": "无人选", "unit": party.branch.pk, "start": "2025-01-01"},
    )
    assert "Designate the post to one person or one team." in r.content.decode()
    r = sec.post(
        reverse("partylife:contact_point_create"),
        {"branch": party.branch.pk, "leader": party.org.alice.code, "start": "2025-01-01"},
    )
    assert r.status_code == 302
    cp_url = r["Location"]
    r = sec.post(cp_url, {"visited_on": "2025-03-01", "topic": "调研支部建设"})
    assert r.status_code == 302 and ContactVisit.objects.get().topic == "调研支部建设"
    # the leader (a login without any role) records their own visit; others without a role see nothing
    r = client_for(party.alice_user).post(cp_url, {"visited_on": "2025-04-01", "topic": "二次走访"})
    assert r.status_code == 302 and ContactVisit.objects.count() == 2
    assert client_for(party.hp_user).get(cp_url).status_code == 404
    listing = sec.get(reverse("partylife:posts")).content.decode()
    assert "办税服务厅党员示范岗" in listing and "张丽" in listing
