"""Posts, contact points and the party-life metrics. (Awards and commendations: ``tests/honors/awards``.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from muster.orgs.access import SYSTEM
from muster.orgs.models import Team
from muster.partylife import metrics
from muster.partylife import services as svc
from muster.points.queries import ledger_balances

from .conftest import Party, at, hold_meeting


def test_posts_are_designated_to_a_person_or_a_team_and_counted(party: Party) -> None:
    team = Team.objects.get(code="XH-T1")
    with pytest.raises(ValidationError, match="one person or one team"):
        svc.party_post_create(
            actor=party.sec_user, kind="model", name="示范岗", unit=party.branch, start=date(2024, 1, 1)
        )
    svc.party_post_create(
        actor=party.sec_user,
        kind="model",
        name="办税服务示范岗",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.m1,
    )
    svc.party_post_create(
        actor=party.sec_user,
        kind="vanguard",
        name="先锋岗",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.secretary,
    )
    ended = svc.party_post_create(
        actor=party.sec_user,
        kind="vanguard",
        name="先锋岗二",
        unit=party.branch,
        start=date(2024, 1, 1),
        person=party.committee,
    )
    svc.party_post_end(actor=party.sec_user, post=ended, end=date(2024, 2, 29))
    svc.party_post_create(
        actor=SYSTEM,
        kind="responsibility_area",
        name="责任区",
        unit=party.org.xuhui,
        start=date(2024, 2, 1),
        team=team,
    )
    as_of = at("2024-03-19 00:00")
    assert metrics.metric_model_posts(party.org.xuhui_committee, as_of) == 1
    assert metrics.metric_vanguard_posts(party.org.xuhui_committee, as_of) == 1
    assert metrics.metric_vanguard_posts(party.org.xuhui_committee, at("2024-02-15 00:00")) == 2
    assert metrics.metric_responsibility_areas(party.org.xuhui, as_of) == 1
    assert metrics.metric_responsibility_areas(party.org.xuhui, at("2024-01-15 00:00")) == 0
    assert metrics.metric_model_posts(party.org.huangpu_committee, as_of) == 0
    assert ledger_balances(2024)[party.m1.pk] == Decimal("5.00")  # a post held earns points


def test_contact_points_and_visits(party: Party) -> None:
    leader = party.org.dave
    # dave (bureau organ) is outside 徐汇's scope: the city committee links him
    with pytest.raises(Http404):
        svc.contact_point_create(
            actor=party.committee_user, leader=leader, branch=party.branch, start=date(2024, 1, 1)
        )
    cp = svc.contact_point_create(actor=SYSTEM, leader=leader, branch=party.branch, start=date(2024, 1, 1))
    svc.contact_visit_record(
        actor=party.sec_user, contact_point=cp, visited_on=date(2024, 3, 1), topic="调研"
    )
    with pytest.raises(ValidationError, match="outside"):
        svc.contact_visit_record(
            actor=party.sec_user, contact_point=cp, visited_on=date(2023, 12, 1), topic="调研"
        )
    assert metrics.metric_contact_points(party.org.party_root, at("2024-03-19 00:00")) == 1
    assert metrics.metric_contact_visits(party.org.party_root, at("2024-03-01 00:00")) == 0
    assert metrics.metric_contact_visits(party.org.party_root, at("2024-03-02 00:00")) == 1
    svc.contact_point_end(actor=party.sec_user, contact_point=cp, end=date(2024, 6, 30))
    assert metrics.metric_contact_points(party.org.party_root, at("2024-07-02 00:00")) == 0


def test_meeting_and_talk_metrics(party: Party) -> None:
    hold_meeting(
        party,
        kinds=["theme_day", "party_lesson"],
        when="2024-03-05 14:00",
        present=[party.m1],
        lecturer=party.secretary,
    )
    hold_meeting(party, kinds=["theme_day"], when="2024-03-18 14:00", present=[party.m1])
    hold_meeting(party, kinds=["theme_day"], when="2024-03-19 09:00", present=[party.m1])
    hold_meeting(party, kinds=["theme_day"], when="2024-03-12 14:00", present=[party.m1], approve=False)
    cutoff = at("2024-03-19 00:00")  # "3月18日24时"
    assert metrics.metric_meetings_held(party.org.xuhui_committee, cutoff) == 2
    assert metrics.metric_meetings_held_theme_day(party.org.xuhui_committee, cutoff) == 2
    assert metrics.metric_meetings_held_party_lesson(party.org.xuhui_committee, cutoff) == 1
    assert metrics.metric_meetings_held_branch_general(party.org.xuhui_committee, cutoff) == 0
    assert metrics.metric_meetings_held(party.org.huangpu_committee, cutoff) == 0
    svc.talk_record(
        actor=party.sec_user,
        unit=party.branch,
        held_on=date(2024, 3, 18),
        topic="谈心",
        participants=[party.secretary, party.m1, party.prob],
    )
    svc.talk_record(
        actor=party.sec_user,
        unit=party.branch,
        held_on=date(2024, 3, 19),
        topic="谈心",
        participants=[party.secretary, party.committee],
    )
    assert metrics.metric_talk_person_times(party.org.party_root, cutoff) == 3
    assert metrics.metric_talks(party.org.party_root, cutoff) == 1
    assert metrics.metric_talk_person_times(party.org.party_root, at("2024-03-20 00:00")) == 5
    assert set(metrics.METRICS) >= {
        "partylife.meetings_held.theme_day",
        "partylife.contact_points",
    }


def test_application_metric(party: Party) -> None:
    from muster.orgs.services import person_create

    for i in range(3):
        p = person_create(
            actor=SYSTEM, code=f"XH03{i:02d}", name=f"干部{i}", unit=party.org.xuhui, party_unit=party.branch
        )
        svc.membership_case_open(
            actor=party.sec_user, person=p, branch=party.branch, applied_on=date(2024, 3, 10 + i)
        )
    assert metrics.metric_applications(party.org.xuhui_committee, at("2024-03-12 00:00")) == 2
    assert metrics.metric_applications(party.org.huangpu_committee, at("2024-04-01 00:00")) == 0
