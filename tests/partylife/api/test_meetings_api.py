"""Meetings over the API: record, attendance, review, correction — and the issue's bad inputs."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from muster.partylife.models import Meeting, ReviewStatus
from muster.points.models import PointEntry
from muster.points.queries import facts_balances, ledger_balances
from tests.partylife.api.conftest import API, Party, patch, post


def _lesson(c: Client, party: Party, when: str = "2024-07-10T14:00:00", **extra: Any) -> dict[str, Any]:
    body = {
        "unit": party.branch.code,
        "kinds": ["party_lesson"],
        "topic": "学习党章",
        "starts_at": when,
        "held": True,
        "lecturer": party.secretary.code,
        "place": "三楼会议室",
    }
    body.update(extra)
    r = post(c, "/partylife/meetings", body)
    assert r.status_code == 201, r.content
    return r.json()


def _mark_all(c: Client, meeting: dict[str, Any], present: set[str], absent: set[str] = frozenset()) -> Any:
    marks = []
    for a in meeting["attendance"]:
        if a["person"] in present:
            marks.append({"person": a["person"], "status": "present"})
        elif a["person"] in absent:
            marks.append({"person": a["person"], "status": "absent"})
        else:
            marks.append({"person": a["person"], "status": "excused", "reason": "出差"})
    return post(c, f"/partylife/meetings/{meeting['id']}/attendance", {"marks": marks})


def test_a_party_lesson_from_record_to_points(party: Party, login: Any) -> None:
    sec, committee = login(party.sec_user), login(party.committee_user)
    m = _lesson(sec, party)
    # expected attendees come from the roster on the meeting's date (the one who left in February is not;
    # alice, a member with no history rows, counts as always in the branch)
    expected = {a["person"] for a in m["attendance"] if a["expected"]}
    members = (party.secretary, party.committee, party.m1, party.m2, party.prob, party.org.alice)
    assert expected == {p.code for p in members}
    assert m["review_status"] == "draft" and m["kinds"] == ["party_lesson"]
    r = _mark_all(sec, m, present={party.m1.code, party.m2.code, party.secretary.code})
    assert r.status_code == 200, r.content
    r = post(sec, f"/partylife/meetings/{m['id']}/submit")
    assert r.status_code == 200, r.content
    assert r.json()["meeting"]["review_status"] == "submitted"
    # the branch secretary cannot approve: that is the committee above
    assert post(sec, f"/partylife/meetings/{m['id']}/approve").status_code == 403
    queue = committee.get(API + "/partylife/review-queue").json()
    assert [q["id"] for q in queue] == [m["id"]]
    r = post(committee, f"/partylife/meetings/{m['id']}/approve", {"opinion": "同意"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["review_status"] == "approved"
    assert [(x["action"], x["opinion"]) for x in body["reviews"]] == [("submitted", ""), ("approved", "同意")]
    # points: 3 for attending, and the lecturer 5 more for giving the lesson
    st = sec.get(API + "/points/statement", {"person": party.m1.code, "year": 2024}).json()
    assert Decimal(st["total"]) == Decimal("3.00")
    assert [e["kind"] for e in st["entries"]] == ["meeting.party_lesson"]
    st = sec.get(API + "/points/statement", {"person": party.secretary.code, "year": 2024}).json()
    assert Decimal(st["total"]) == Decimal("8.00")
    assert st["rank"] == 1
    # the quarter's party-lesson line is met in the compliance dashboard
    d = committee.get(
        API + "/partylife/compliance",
        {
            "unit": party.branch.code,
            "start": "2024-07-01",
            "end": "2024-10-01",
            "as_of": "2024-10-01T00:00:00",
        },
    ).json()
    (row,) = [r for r in d["rows"] if r["unit"] == party.branch.code]
    lesson = [ln for ln in row["lines"] if ln["code"] == "party_lesson"]
    assert [(ln["held"], ln["status"]) for ln in lesson] == [(1, "met")]
    assert m["id"] in lesson[0]["meetings"]


def test_attendance_for_someone_not_in_the_branch_on_that_date(party: Party, login: Any) -> None:
    sec = login(party.sec_user)
    m = _lesson(sec, party, when="2024-03-10T14:00:00")
    # m2 joined the branch on 2024-04-01: not expected in March, and cannot be marked present
    assert party.m2.code not in {a["person"] for a in m["attendance"]}
    r = post(
        sec,
        f"/partylife/meetings/{m['id']}/attendance",
        {
            "marks": [
                {"person": party.m2.code, "status": "present"},
                {"person": party.m1.code, "status": "excused"},
            ]
        },
    )
    assert r.status_code == 422
    errors = r.json()["errors"]["attendance"]
    assert any(party.m2.name in e and "2024-03-10" in e and "observer" in e for e in errors)
    assert any(party.m1.name in e and "reason" in e for e in errors)  # every problem at once
    # nothing was written
    detail = sec.get(API + f"/partylife/meetings/{m['id']}").json()
    assert {a["status"] for a in detail["attendance"]} == {"unmarked"}
    # as an observer it is fine
    r = post(
        sec,
        f"/partylife/meetings/{m['id']}/attendance",
        {"marks": [{"person": party.m2.code, "status": "observer"}]},
    )
    assert r.status_code == 200
    row = [a for a in r.json()["attendance"] if a["person"] == party.m2.code]
    assert row == [
        {
            "person": party.m2.code,
            "name": party.m2.name,
            "expected": False,
            "voting": False,
            "committee": False,
            "status": "observer",
            "reason": "",
        }
    ]
    # a person the secretary cannot see at all is an input error, not a leak
    r = post(
        sec,
        f"/partylife/meetings/{m['id']}/attendance",
        {"marks": [{"person": "HP0001", "status": "observer"}]},
    )
    assert r.status_code == 422 and "HP0001" in r.json()["errors"]["marks"][0]


def test_a_meeting_in_the_future_cannot_be_marked_held(party: Party, login: Any) -> None:
    sec = login(party.sec_user)
    future = (timezone.now() + timedelta(days=3)).isoformat()
    r = post(
        sec,
        "/partylife/meetings",
        {
            "unit": party.branch.code,
            "kinds": ["theme_day"],
            "topic": "主题党日",
            "starts_at": future,
            "held": True,
        },
    )
    assert r.status_code == 422
    assert "future" in r.json()["errors"]["held"][0]
    assert not Meeting.objects.exists()
    # planned (not held) is fine; marking it held later is refused the same way
    r = post(
        sec,
        "/partylife/meetings",
        {"unit": party.branch.code, "kinds": ["theme_day"], "topic": "主题党日", "starts_at": future},
    )
    assert r.status_code == 201
    r = patch(sec, f"/partylife/meetings/{r.json()['id']}", {"held": True})
    assert r.status_code == 422 and "held" in r.json()["errors"]


def test_quorum_not_met_is_reported_and_the_meeting_does_not_count(party: Party, login: Any) -> None:
    sec, committee = login(party.sec_user), login(party.committee_user)
    r = post(
        sec,
        "/partylife/meetings",
        {
            "unit": party.branch.code,
            "kinds": ["branch_general"],
            "topic": "支部党员大会",
            "starts_at": "2024-08-01 09:00",
            "held": True,
        },
    )
    assert r.status_code == 201, r.content
    m = r.json()
    _mark_all(sec, m, present={party.m1.code})  # 1 of 5 voting members
    r = post(sec, f"/partylife/meetings/{m['id']}/submit")
    assert r.status_code == 200
    assert r.json()["quorum"] == {"branch_general": False}
    post(committee, f"/partylife/meetings/{m['id']}/approve")
    d = committee.get(
        API + "/partylife/compliance",
        {"unit": party.branch.code, "start": "2024-07-01", "end": "2024-10-01", "as_of": "2024-10-01 00:00"},
    ).json()
    (row,) = [r for r in d["rows"] if r["unit"] == party.branch.code]
    (line,) = [ln for ln in row["lines"] if ln["code"] == "branch_general"]
    assert (line["held"], line["gap"], line["status"], line["quorum_failures"]) == (0, 1, "missed", [m["id"]])
    assert party.branch.code in d["behind"]


def test_an_approved_meeting_is_not_edited_but_corrected(party: Party, login: Any) -> None:
    sec, committee = login(party.sec_user), login(party.committee_user)
    m = _lesson(sec, party)
    _mark_all(sec, m, present={party.m1.code})
    post(sec, f"/partylife/meetings/{m['id']}/submit")
    post(committee, f"/partylife/meetings/{m['id']}/approve")
    for r in (
        patch(sec, f"/partylife/meetings/{m['id']}", {"topic": "改一下"}),
        _mark_all(sec, m, present={party.m2.code}),
    ):
        assert r.status_code == 422
        assert "correction" in r.json()["errors"]["meeting"][0]
    assert post(sec, f"/partylife/meetings/{m['id']}/correction", {"reason": ""}).status_code == 422
    r = post(sec, f"/partylife/meetings/{m['id']}/correction", {"reason": "漏记一人"})
    assert r.status_code == 200
    assert (r.json()["review_status"], r.json()["revision"]) == ("draft", 2)
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("0.00")}
    # corrected, resubmitted, approved again: the points come back once
    assert _mark_all(sec, m, present={party.m1.code, party.m2.code}).status_code == 200
    post(sec, f"/partylife/meetings/{m['id']}/submit")
    assert post(committee, f"/partylife/meetings/{m['id']}/approve").status_code == 200
    people = [party.m1.pk, party.m2.pk]
    assert ledger_balances(2024, person_ids=people) == {p: Decimal("3.00") for p in people}
    assert ledger_balances(2024) == facts_balances(2024)
    # approving again is refused (no double points)
    r = post(committee, f"/partylife/meetings/{m['id']}/approve")
    assert r.status_code == 422 and "not waiting" in r.json()["errors"]["meeting"][0]


def test_return_with_an_opinion_then_edit(party: Party, login: Any) -> None:
    sec, committee = login(party.sec_user), login(party.committee_user)
    m = _lesson(sec, party)
    _mark_all(sec, m, present={party.m1.code})
    post(sec, f"/partylife/meetings/{m['id']}/submit")
    assert post(committee, f"/partylife/meetings/{m['id']}/return", {"opinion": ""}).status_code == 422
    r = post(committee, f"/partylife/meetings/{m['id']}/return", {"opinion": "缺会议记录"})
    assert r.json()["review_status"] == "returned"
    r = patch(sec, f"/partylife/meetings/{m['id']}", {"minutes": "会议记录……", "lecturer": None})
    assert r.status_code == 200 and r.json()["minutes"] == "会议记录……" and r.json()["lecturer"] is None
    r = post(sec, f"/partylife/meetings/{m['id']}/submit")
    assert r.status_code == 422 and "lecturer" in r.json()["errors"]


def test_scope_out_of_scope_is_404_and_visible_not_allowed_is_403(party: Party, login: Any) -> None:
    sec, hp, viewer = login(party.sec_user), login(party.hp_user), login(party.viewer)
    m = _lesson(sec, party)
    assert hp.get(API + f"/partylife/meetings/{m['id']}").status_code == 404
    assert hp.get(API + "/partylife/meetings").json()["count"] == 0
    assert patch(hp, f"/partylife/meetings/{m['id']}", {"topic": "x"}).status_code == 404
    assert post(hp, f"/partylife/meetings/{m['id']}/approve").status_code == 404
    # an out-of-scope unit code is an input error, the same as an unknown one
    r = post(
        hp,
        "/partylife/meetings",
        {"unit": party.branch.code, "kinds": ["theme_day"], "topic": "x", "starts_at": "2024-01-05 09:00"},
    )
    assert r.status_code == 422 and "unit" in r.json()["errors"]
    assert viewer.get(API + f"/partylife/meetings/{m['id']}").status_code == 200
    assert patch(viewer, f"/partylife/meetings/{m['id']}", {"topic": "x"}).status_code == 403
    listed = viewer.get(
        API + "/partylife/meetings", {"unit": party.branch.code, "kind": "party_lesson"}
    ).json()
    assert [i["id"] for i in listed["items"]] == [m["id"]]
    assert viewer.get(API + "/partylife/meetings", {"kind": "theme_day"}).json()["count"] == 0


def test_lesson_points_cap_is_hit_exactly_at_the_boundary(party: Party, login: Any) -> None:
    """3 per lesson attended, 12 a year: the 4th reaches 12 exactly, the 5th earns nothing (capped)."""
    sec, committee = login(party.sec_user), login(party.committee_user)
    for day in ("2024-06-03", "2024-06-10", "2024-06-17", "2024-06-24", "2024-07-01"):
        m = _lesson(sec, party, when=f"{day} 14:00")
        _mark_all(sec, m, present={party.m1.code})
        post(sec, f"/partylife/meetings/{m['id']}/submit")
        assert post(committee, f"/partylife/meetings/{m['id']}/approve").status_code == 200
    st = sec.get(API + "/points/statement", {"person": party.m1.code, "year": 2024}).json()
    assert [(Decimal(e["points"]), e["capped"]) for e in st["entries"]] == [
        (Decimal(3), False),
        (Decimal(3), False),
        (Decimal(3), False),
        (Decimal(3), False),
        (Decimal(0), True),
    ]
    assert [Decimal(e["balance"]) for e in st["entries"]] == [3, 6, 9, 12, 12]
    assert Decimal(st["total"]) == 12


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_one_wins_no_double_points(party: Party, login: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serializes writers; the row lock is exercised on PostgreSQL")
    sec = login(party.sec_user)
    m = _lesson(sec, party)
    _mark_all(sec, m, present={party.m1.code})
    post(sec, f"/partylife/meetings/{m['id']}/submit")
    clients = [login(party.committee_user), login(party.city_user)]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def approve(c: Client) -> None:
        barrier.wait()
        try:
            codes.append(post(c, f"/partylife/meetings/{m['id']}/approve").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 422]
    assert Meeting.objects.get(pk=m["id"]).review_status == ReviewStatus.APPROVED
    assert PointEntry.objects.filter(person=party.m1).count() == 1
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("3.00")}
