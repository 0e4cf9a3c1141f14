"""A party organization's report: the dispatch and service figures of its members (其党员).

The ``party`` fixture (tests/partylife/conftest.py): branch XH-B01 of the committee XH-DW with a party
group, members with a history (one left on 2024-02-29, one joined on 2024-04-01) and alice, a member with
no history (taken as always in her current branch). Batches are dispatched by administrative units (黄浦,
徐汇); the party organization shows what its members did in them.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind
from muster.orgs.access import SYSTEM
from muster.orgs.services import unit_create
from muster.reports import briefing as bw
from muster.reports import services
from muster.reports.members import members_on, members_rollup
from muster.reports.rollup import rollup
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db

CUTOFF = at("2024-05-11 00:00")  # 5月10日24时


def serve(person: Any, deployment: Any, start: str, hours: int, *, approve: bool = True) -> Any:
    s = at(start)
    return svc.entry_record(
        actor=SYSTEM,
        person=person,
        kind=EntryKind.DISPATCH,
        deployment=deployment,
        start=s,
        end=s + timedelta(hours=hours),
        approve=approve,
    )


@pytest.fixture
def served(party: Any) -> Any:
    """黄浦 sends m1, prob, left and bob (no party member); 徐汇 sends m1 and alice. m1's second shift
    runs across the cutoff (4 of its 8 hours count); m2's entry waits for approval; left served in May,
    after leaving the branch (not a member on the cutoff's day); carol served in 黄浦's batch too."""
    org = party.org
    hp = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.huangpu,
        title="黄浦支援",
        start=at("2024-05-01 08:00"),
        end=at("2024-05-02 20:00"),
        people=[party.m1, party.prob, party.left, org.bob, org.carol],
    ).deployment
    xh = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui,
        title="徐汇核酸",
        start=at("2024-05-03 08:00"),
        end=at("2024-05-20 20:00"),
        people=[party.m1, org.alice, party.m2],
    ).deployment
    serve(party.m1, hp, "2024-05-01 08:00", 8)
    serve(party.prob, hp, "2024-05-01 08:00", 6)
    serve(party.left, hp, "2024-05-01 08:00", 5)
    serve(org.bob, hp, "2024-05-01 08:00", 7)
    serve(org.carol, hp, "2024-05-01 08:00", 3)
    serve(party.m1, xh, "2024-05-10 20:00", 8)  # 20:00 → 04:00: 4 hours before the cutoff
    serve(org.alice, xh, "2024-05-03 09:00", 2)
    serve(party.m2, xh, "2024-05-04 09:00", 3, approve=False)  # pending
    svc.entry_record(
        actor=SYSTEM,
        person=party.committee,
        kind=EntryKind.COMMUNITY,
        start=at("2024-05-05 09:00"),
        end=at("2024-05-05 12:30"),
        approve=True,
    )
    return hp, xh


def test_members_on_the_cutoffs_day(party: Any) -> None:
    day = CUTOFF.date() - timedelta(days=1)
    members = members_on(party.org.xuhui_committee, day)
    assert set(members) == {
        party.secretary.pk,
        party.committee.pk,
        party.m1.pk,
        party.m2.pk,
        party.prob.pk,
        party.org.alice.pk,
    }
    assert members[party.m1.pk] == party.group.path  # in the branch's party group
    assert party.left.pk in members_on(party.org.xuhui_committee, at("2024-02-01 00:00").date())


def test_the_members_figures_of_a_committee_and_its_branch(party: Any, served: Any) -> None:
    org = party.org
    # the ordinary rollup of a party organization finds no batch: none hangs on the party tree
    assert rollup(org.xuhui_committee, CUTOFF).total.person_times == 0
    report = members_rollup(org.xuhui_committee, CUTOFF)
    assert report.extras["basis"] == "party_members" and report.extras["members"] == 6
    t = report.total
    # m1 in both batches, prob in 黄浦's, alice in 徐汇's (left, bob and carol are not members)
    assert (t.batches, t.person_times, t.persons) == (2, 4, 3)
    assert t.minutes == (8 + 6 + 4 + 2) * 60
    assert (t.community_persons, t.community_minutes) == (1, 210)
    assert (t.pending_entries, t.pending_minutes) == (1, 180)
    assert [r.code for r in report.rows] == ["XH-B01"]
    assert report.rows[0].figures == t  # every member belongs to the one branch
    # the branch: its party group is a row of its own
    branch = members_rollup(org.xuhui_branch, CUTOFF)
    rows = {r.code: r.figures for r in branch.rows}
    assert rows["XH-B01-G1"].person_times == 2 and rows["XH-B01-G1"].minutes == 12 * 60  # m1
    assert rows["XH-B01"].person_times == 2  # the branch's own members: prob and alice
    assert branch.rows[0].own and branch.total == t
    # the root committee holds the same people; 黄浦's committee has no member who served
    assert members_rollup(org.party_root, CUTOFF).total == t
    assert members_rollup(org.huangpu_committee, CUTOFF).total.is_empty


def test_membership_is_taken_on_the_cutoffs_day(party: Any, served: Any) -> None:
    hp, _xh = served
    before = at("2024-02-20 00:00")
    serve(party.left, hp, "2024-02-10 08:00", 2)  # served while still a member (entry outside the batch)
    early = members_rollup(party.org.xuhui_committee, before)
    assert early.extras["members"] == 6  # left is still a member; m2 is not yet
    assert early.total.person_times == 1 and early.total.minutes == 120


def test_briefing_of_a_party_organization_says_what_its_members_did(party: Any, served: Any) -> None:
    b = services.briefing_for(party.org.xuhui_committee, CUTOFF)
    zh, en = bw.write(b, "zh"), bw.write(b, "en")
    assert "派出0批" not in zh and "sent 0 batches" not in en
    assert zh.startswith(
        "截至5月10日晚24点，徐汇区税务局党委党员已累计参加2批4人次志愿服务（共3名党员），累计服务时长20小时。"
        "另有1名党员在居家观察期间参与社区疫情防控志愿服务，累计服务时长3.5小时。"
    )
    assert "第一税务所党支部党员参加2批4人次志愿服务，累计服务时长20小时；1人在居家观察期间" in zh
    assert en.startswith(
        "As of 24:00 on 10 May, the members of 徐汇区税务局党委 had served in 2 batches, 4 person-times "
        "(3 members), with 20 hours of service. 1 of its members served their communities under home "
        "observation, for 3.5 hours."
    )


def test_briefing_with_no_service_never_says_zero_batches(party: Any) -> None:
    b = services.briefing_for(party.org.xuhui_committee, CUTOFF)
    assert bw.write(b, "zh").startswith("截至5月10日晚24点，徐汇区税务局党委党员尚无经审核的志愿服务记录。")
    assert bw.write(b, "en").startswith("As of 24:00 on 10 May, no approved service of the members of ")
    admin = services.briefing_for(party.org.huangpu, CUTOFF)
    assert bw.write(admin, "zh").startswith("截至5月10日晚24点，黄浦区税务局尚未派出志愿者。")
    assert "had sent no volunteers." in bw.write(admin, "en")


def test_rollup_page_shows_the_members_figures_labelled(
    party: Any, served: Any, login: Any, make_user: Any
) -> None:
    client = login(party.committee_user)
    r = client.get("/reports/", {"unit": "XH-DW", "date": "2024-05-10", "time": "24:00"})
    assert r.status_code == 200
    page = r.content.decode()
    # the page speaks the UI's default language (Simplified Chinese)
    from django.utils import translation

    with translation.override("zh-hans"):
        labels = [
            translation.gettext(t) for t in ("Figures of its party members", "Service of its party members")
        ]
    assert 'id="members-basis"' in page and labels[0] in page
    assert labels[1] in page
    total = page[page.index('id="rollup-total"') :]
    cells = [c.split("<")[0] for c in total.split('<td class="text-end">')[1:5]]
    assert cells == ["2", "4", "3", "20.00"]
    # an administrative unit keeps its own table (no members' label)
    viewer = login(make_user("xhv", "viewer", party.org.xuhui))
    r = viewer.get("/reports/", {"unit": "XH", "date": "2024-05-10", "time": "24:00"})
    assert r.status_code == 200 and 'id="members-basis"' not in r.content.decode()


def test_briefing_page_and_cli(party: Any, served: Any, login: Any) -> None:
    client = login(party.committee_user)
    r = client.get("/reports/briefing/", {"unit": "XH-DW", "date": "2024-05-10", "time": "24:00"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "徐汇区税务局党委党员已累计参加2批4人次志愿服务" in page and "派出0批" not in page
    out = StringIO()
    call_command("brief", "--as-of", "2024-05-10 24:00", "--unit", "XH-DW", stdout=out)
    assert out.getvalue().startswith("截至5月10日晚24点，徐汇区税务局党委党员已累计参加2批4人次")
    out = StringIO()
    call_command("report", "--as-of", "2024-05-10 24:00", "--unit", "XH-DW", "--json", stdout=out)
    assert '"basis": "party_members"' in out.getvalue() and '"person_times": 4' in out.getvalue()


def test_api_rollup_of_a_party_organization_and_scope(party: Any, served: Any, login: Any) -> None:
    client = login(party.committee_user)
    r = client.get("/api/v1/reports/rollup", {"unit": "XH-DW", "as_of": "2024-05-10 24:00"})
    assert r.status_code == 200
    data = r.json()
    assert data["basis"] == "party_members"
    assert data["total"]["person_times"] == 4 and data["total"]["hours"] == 20
    # 黄浦's committee secretary never learns 徐汇's committee exists
    other = login(party.hp_user)
    assert other.get("/api/v1/reports/rollup", {"unit": "XH-DW"}).status_code == 404
    assert other.get("/reports/", {"unit": "XH-DW"}).status_code == 404
    assert other.get("/reports/briefing/", {"unit": "XH-DW"}).status_code == 404
    # the branch secretary sees the branch, not the committee above it
    branch = login(party.sec_user)
    assert branch.get("/reports/", {"unit": "XH-DW"}).status_code == 404
    r = branch.get("/reports/", {"unit": "XH-B01", "date": "2024-05-10", "time": "24:00"})
    assert r.status_code == 200 and 'id="members-basis"' in r.content.decode()


def test_a_new_branch_with_no_members_shows_zero_rows_not_an_error(party: Any, served: Any) -> None:
    unit_create(
        actor=SYSTEM, code="XH-B02", name="第二党支部", kind="branch", parent=party.org.xuhui_committee
    )
    report = members_rollup(party.org.xuhui_committee, CUTOFF)
    assert [r.code for r in report.rows] == ["XH-B01", "XH-B02"]
    assert report.rows[1].figures.is_empty


def test_home_card_of_a_party_secretary(party: Any, served: Any) -> None:
    from django.utils import translation

    from muster.reports.views import home_report

    with translation.override("zh-hans"):
        card = home_report(party.committee_user)
    assert card is not None and card["unit"].code == "XH-DW" and card["members"] is True
    assert (
        card["headline"].startswith("截至")
        and "徐汇区税务局党委党员已累计参加2批4人次志愿服务" in card["headline"]
    )
    assert "派出0批" not in card["headline"]
