"""The other party-life endpoint families, and the points API (rules, manual entries, recomputation)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from muster.audit.models import AuditEvent
from muster.partylife.models import AttendanceStatus
from muster.points.models import PointEntry
from muster.points.queries import facts_balances, ledger_balances
from tests.partylife.api.conftest import API, Party, hold_meeting, post


def test_talks_record_matrix_withdraw(party: Party, login: Any) -> None:
    sec, hp = login(party.sec_user), login(party.hp_user)
    r = post(
        sec,
        "/partylife/talks",
        {
            "unit": party.branch.code,
            "held_on": "2024-05-06",
            "topic": "谈心",
            "participants": [party.secretary.code, party.m1.code],
        },
    )
    assert r.status_code == 201, r.content
    talk = r.json()
    assert talk["participants"] == sorted([party.secretary.code, party.m1.code])
    bad = post(
        sec,
        "/partylife/talks",
        {"unit": party.branch.code, "held_on": "2024-05-06", "topic": "x", "participants": [party.m1.code]},
    )
    assert bad.status_code == 422 and "participants" in bad.json()["errors"]
    mx = sec.get(API + "/partylife/talks/matrix", {"branch": party.branch.code, "year": 2024}).json()
    assert {
        "a": min(party.secretary.code, party.m1.code),
        "b": max(party.secretary.code, party.m1.code),
        "talks": 1,
    } in [{"a": min(c["a"], c["b"]), "b": max(c["a"], c["b"]), "talks": c["talks"]} for c in mx["counts"]]
    assert mx["covered"] == 1 and mx["required"] == mx["covered"] + len(mx["gaps"])
    assert (
        hp.get(API + "/partylife/talks/matrix", {"branch": party.branch.code, "year": 2024}).status_code
        == 422
    )
    assert post(hp, f"/partylife/talks/{talk['id']}/withdraw", {"reason": "x"}).status_code == 404
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("1.00")}
    r = post(sec, f"/partylife/talks/{talk['id']}/withdraw", {"reason": "记错了"})
    assert r.status_code == 200 and r.json()["withdrawn"] is True
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("0.00")}
    listed = sec.get(API + "/partylife/talks", {"unit": party.branch.code, "year": 2024}).json()
    assert [t["id"] for t in listed] == [talk["id"]]


def test_membership_pipeline(party: Party, login: Any, make_user: Any) -> None:
    sec = login(party.sec_user)
    bob = party.org.bob
    r = post(
        sec, "/partylife/cases", {"person": bob.code, "branch": party.branch.code, "applied_on": "2024-01-10"}
    )
    # bob (徐汇 tax office) is outside the branch secretary's party scope
    assert r.status_code == 422 and "person" in r.json()["errors"]
    admin = login(make_user("root", is_superuser=True))
    r = post(
        admin,
        "/partylife/cases",
        {"person": bob.code, "branch": party.branch.code, "applied_on": "2024-01-10"},
    )
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["stage"] == "applicant"
    due = admin.get(
        API + "/partylife/cases/due", {"unit": party.branch.code, "as_of": "2024-03-01T00:00"}
    ).json()
    assert [(d["case"], d["milestone"], d["status"]) for d in due] == [(case["id"], "talk_due", "overdue")]
    r = post(admin, f"/partylife/cases/{case['id']}/advance", {"stage": "candidate", "on": "2024-02-01"})
    assert r.status_code == 422 and "stage" in r.json()["errors"]  # one stage at a time
    r = post(admin, f"/partylife/cases/{case['id']}/advance", {"stage": "activist", "on": "2024-02-01"})
    assert r.status_code == 200 and r.json()["stage"] == "activist"
    assert (
        post(admin, f"/partylife/cases/{case['id']}/extend", {"months": 3, "reason": "x"}).status_code == 422
    )
    r = post(admin, f"/partylife/cases/{case['id']}/close", {"reason": "本人撤回"})
    assert r.json()["closed"] is True
    assert admin.get(API + "/partylife/cases", {"unit": party.branch.code}).json() == []
    listed = admin.get(API + "/partylife/cases", {"unit": party.branch.code, "include_closed": True}).json()
    assert [c["id"] for c in listed] == [case["id"]]


def test_posts_contact_points_and_visits(party: Party, login: Any) -> None:
    sec = login(party.sec_user)
    r = post(
        sec,
        "/partylife/posts",
        {
            "kind": "vanguard",
            "name": "党员先锋岗",
            "unit": party.branch.code,
            "start": "2024-03-01",
            "person": party.m1.code,
        },
    )
    assert r.status_code == 201, r.content
    p = r.json()
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("5.00")}
    both = post(
        sec,
        "/partylife/posts",
        {"kind": "model", "name": "x", "unit": party.branch.code, "start": "2024-03-01"},
    )
    assert both.status_code == 422 and "person" in both.json()["errors"]
    assert post(sec, f"/partylife/posts/{p['id']}/end", {"end": "2024-12-31"}).json()["end"] == "2024-12-31"
    assert [x["id"] for x in sec.get(API + "/partylife/posts", {"unit": party.branch.code}).json()] == [
        p["id"]
    ]
    r = post(
        sec,
        "/partylife/contact-points",
        {"leader": party.secretary.code, "branch": party.branch.code, "start": "2024-01-01"},
    )
    assert r.status_code == 201, r.content
    cp = r.json()
    r = post(
        sec, f"/partylife/contact-points/{cp['id']}/visits", {"visited_on": "2023-06-01", "topic": "调研"}
    )
    assert r.status_code == 422 and "visited_on" in r.json()["errors"]
    r = post(
        sec, f"/partylife/contact-points/{cp['id']}/visits", {"visited_on": "2024-06-01", "topic": "调研"}
    )
    assert r.status_code == 201
    assert [v["topic"] for v in sec.get(API + f"/partylife/contact-points/{cp['id']}/visits").json()] == [
        "调研"
    ]
    assert sec.get(API + "/partylife/contact-points").json()[0]["visits"] == 1
    hp = login(party.hp_user)
    assert hp.get(API + f"/partylife/contact-points/{cp['id']}/visits").status_code == 404
    assert hp.get(API + "/partylife/contact-points").json() == []


def test_calendar_and_inactivity(party: Party, login: Any) -> None:
    committee = login(party.committee_user)
    hold_meeting(party, kinds=["theme_day"], when="2024-01-15 14:00", present=[party.m1])
    cal = committee.get(
        API + "/partylife/calendar",
        {"unit": party.branch.code, "start": "2024-01-01", "end": "2024-04-01", "as_of": "2024-02-15T00:00"},
    ).json()
    theme = [d for d in cal if d["code"] == "theme_day"]
    assert [(d["start"], d["status"]) for d in theme] == [("2024-02-01", "due"), ("2024-03-01", "upcoming")]
    warn = committee.get(
        API + "/partylife/inactivity", {"unit": party.branch.code, "as_of": "2024-06-01T00:00"}
    ).json()
    by = {w["person"]: w for w in warn}
    assert party.m1.code in by and by[party.m1.code]["last_life"] == "2024-01-15"
    assert by[party.m1.code]["months"] == 4 and by[party.m1.code]["level"] == 4
    assert party.left.code not in by  # left the branch in February


def test_rule_change_mid_year_keeps_old_points_until_an_audited_recompute(party: Party, login: Any) -> None:
    admin, sec = login(party.admin), login(party.sec_user)
    hold_meeting(party, kinds=["theme_day"], when="2024-03-05 14:00", present=[party.m1])
    r = post(sec, "/points/rules", {"kind": "meeting.theme_day", "points": "4", "valid_from": "2024-01-01"})
    assert r.status_code == 403  # a secretary does not change rules
    r = post(
        admin,
        "/points/rules",
        {"kind": "meeting.theme_day", "points": "4", "cap": "8", "valid_from": "2024-01-01"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 2
    rules = admin.get(API + "/points/rules", {"kind": "meeting.theme_day"}).json()
    assert [(x["version"], x["valid_to"]) for x in rules] == [(1, "2024-01-01"), (2, None)]
    in_force = admin.get(API + "/points/rules", {"kind": "meeting.theme_day", "on": "2023-06-01"}).json()
    assert [x["version"] for x in in_force] == [1]
    hold_meeting(party, kinds=["theme_day"], when="2024-04-05 14:00", present=[party.m1])
    # the March fact keeps version 1 (2 points), the April fact is credited with version 2 (4 points)
    st = admin.get(API + "/points/statement", {"person": party.m1.code, "year": 2024}).json()
    assert [(Decimal(e["points"]), e["rule_version"]) for e in st["entries"]] == [(2, 1), (4, 2)]
    r = post(admin, "/points/recompute", {"year": 2024, "reason": ""})
    assert r.status_code == 422 and "reason" in r.json()["errors"]
    assert post(sec, "/points/recompute", {"year": 2024, "reason": "x"}).status_code == 403
    r = post(admin, "/points/recompute", {"year": 2024, "reason": "新规则追溯适用"})
    assert r.status_code == 200, r.content
    assert r.json()["rules_repinned"] == 1 and r.json()["reversals"] == 1 and r.json()["credits"] == 1
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("8.00")}
    assert ledger_balances(2024) == facts_balances(2024)
    event = AuditEvent.objects.filter(action="points.recomputed").latest("id")
    assert event.changes["reason"] == "新规则追溯适用" and event.channel == "api"
    # running it again changes nothing
    again = post(admin, "/points/recompute", {"year": 2024, "reason": "核对"}).json()
    assert (again["credits"], again["reversals"]) == (0, 0)


def test_manual_entry_needs_a_reason_and_can_be_withdrawn(party: Party, login: Any) -> None:
    sec, viewer = login(party.sec_user), login(party.viewer)
    body = {"person": party.m1.code, "points": "5", "occurred_on": "2024-05-01", "reason": ""}
    r = post(sec, "/points/manual", body)
    assert r.status_code == 422 and "reason" in r.json()["errors"]
    assert post(viewer, "/points/manual", {**body, "reason": "x"}).status_code == 403
    r = post(sec, "/points/manual", {**body, "reason": "抗疫志愿服务表现突出"})
    assert r.status_code == 201, r.content
    fact = r.json()
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("5.00")}
    r = post(sec, f"/points/manual/{fact['id']}/retract", {"reason": "重复录入"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert ledger_balances(2024, person_ids=[party.m1.pk]) == {party.m1.pk: Decimal("0.00")}
    assert PointEntry.objects.filter(person=party.m1).count() == 2  # credit + reversal, nothing deleted


def test_leaderboards_and_own_statement(party: Party, login: Any) -> None:
    hold_meeting(
        party,
        kinds=["party_lesson"],
        when="2024-05-05 14:00",
        present=[party.m1, party.m2],
        lecturer=party.secretary,
    )
    committee, alice = login(party.committee_user), login(party.alice_user)
    board = committee.get(
        API + "/points/leaderboard", {"unit": "XH-DW", "start": "2024-01-01", "end": "2025-01-01"}
    ).json()
    assert {(r["rank"], r["key"], Decimal(r["points"])) for r in board["rows"]} == {
        (1, party.secretary.code, Decimal(5)),
        (2, party.m1.code, Decimal(3)),
        (2, party.m2.code, Decimal(3)),
    }
    by_branch = committee.get(
        API + "/points/leaderboard", {"unit": "XH-DW", "by": "branch", "start": "2024-01-01"}
    ).json()
    assert [(r["key"], Decimal(r["points"]), r["people"]) for r in by_branch["rows"]] == [
        (party.branch.code, Decimal(11), 3)
    ]
    assert login(party.hp_user).get(API + "/points/leaderboard", {"unit": "XH-DW"}).status_code == 422
    # alice (a member, no grant) sees her own statement, not others'
    mine = alice.get(API + "/points/statement", {"year": 2024})
    assert mine.status_code == 200 and mine.json()["person"] == party.org.alice.code
    assert mine.json()["rank"] == 4  # 0 points, after 5, 3, 3
    assert alice.get(API + "/points/statement", {"person": party.m1.code, "year": 2024}).status_code == 404
    assert login(party.viewer).get(API + "/points/statement").status_code == 404  # no linked person
    assert AttendanceStatus.PRESENT == "present"
    assert date(2024, 5, 5).year == 2024
