"""A year of party life in 徐汇's branch (2024), written through the party-life services, for the party
figures of the reports (rollup section, home card, briefing); the awards through the honors app's services.

As of 2024-06-30 24:00, under 徐汇区税务局党委 (XH-DW → XH-B01 → its party group XH-B01-G1):
- meetings approved and held: a party lesson (2024-03-05) and a branch committee meeting (2024-04-10) in
  XH-B01, and a branch general meeting of 2023-11-10 (before the year); a meeting of 2024-05-06 still
  waiting for review does not count → 3 before the cutoff, 2 in 2024;
- talks: 2024-03-19 (2 participants) and 2024-05-20 (3 participants) → 2 talks, 5 person-times;
- posts in force: 1 model post (m1), 1 vanguard post (the secretary); a vanguard post ended 2024-02-29;
- 1 leaders' contact point (2024-01-01); 1 approved unit-level award to m1 (2024-06-01), and a
  district commendation still in approval; 1 application to join (2024-03-10).
黄浦's committee HP-DW has nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from muster.honors import awards
from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create
from muster.partylife import services as svc
from tests.partylife.conftest import Party, hold_meeting

CUTOFF = {"date": "2024-06-30", "time": "24:00"}


def seed_party_year(party: Party) -> dict[str, Any]:
    sec = party.sec_user
    hold_meeting(
        party,
        kinds=["party_lesson"],
        when="2024-03-05 14:00",
        present=[party.secretary, party.committee, party.m1],
        lecturer=party.secretary,
    )
    hold_meeting(party, kinds=["branch_committee"], when="2024-04-10 09:00", present=[party.secretary])
    hold_meeting(party, kinds=["branch_general"], when="2023-11-10 09:00", present=[party.secretary])
    hold_meeting(party, kinds=["theme_day"], when="2024-05-06 09:00", present=[party.m1], approve=False)
    svc.talk_record(
        actor=sec,
        unit=party.branch,
        held_on=date(2024, 3, 19),
        topic="谈心",
        participants=[party.secretary, party.committee],
    )
    svc.talk_record(
        actor=sec,
        unit=party.branch,
        held_on=date(2024, 5, 20),
        topic="谈心谈话",
        participants=[party.secretary, party.m1, party.m2],
    )
    svc.party_post_create(
        actor=sec,
        kind="model",
        name="办税服务示范岗",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.m1,
    )
    svc.party_post_create(
        actor=sec,
        kind="vanguard",
        name="先锋岗",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.secretary,
    )
    ended = svc.party_post_create(
        actor=sec,
        kind="vanguard",
        name="先锋岗二",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.committee,
    )
    svc.party_post_end(actor=sec, post=ended, end=date(2024, 2, 29))
    svc.contact_point_create(actor=sec, leader=party.committee, branch=party.branch, start=date(2024, 1, 1))
    award = awards.honor_propose(
        actor=sec,
        kind="award",
        name="优秀共产党员",
        level="unit",
        awarded_on=date(2024, 6, 1),
        branch=party.branch,
        person=party.m1,
        evidence_note="徐税党〔2024〕3号",
    )
    awards.honor_decide(actor=party.committee_user, honor=award, approve=True)
    pending = awards.honor_propose(
        actor=sec,
        kind="commendation",
        name="通报表扬",
        level="district",
        awarded_on=date(2024, 6, 2),
        branch=party.branch,
        person=party.committee,
        evidence_note="文件",
    )
    applicant = person_create(
        actor=SYSTEM, code="XH0190", name="申请人", unit=party.org.xuhui, party_unit=party.branch
    )
    svc.membership_case_open(actor=sec, person=applicant, branch=party.branch, applied_on=date(2024, 3, 10))
    return {"award": award, "pending": pending, "applicant": applicant}
