"""A party organization's metrics, day-by-day series and published snapshots: its members' figures.

The small ``org`` fixture: 徐汇 (XH) dispatches a batch; alice (a member of the branch XH-B01 of the
committee XH-DW, no membership history: always in her current branch) serves 2 hours on 5月3日 and 3 on
5月5日, bob (XH-S1, no party member) 4 hours. No batch hangs on the party tree, so the ordinary rollup of
XH-DW is empty; its metrics, series and snapshots show what its member did, labelled ``party_members``.
An administrative unit's figures are unchanged (the dispatching units', no ``basis``).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.orgs.access import SYSTEM
from muster.reports import services
from muster.reports.members import BASIS, members_rollup, members_series
from muster.reports.metrics_contract import metrics_contract
from muster.reports.models import Snapshot
from muster.reports.rollup import Figures, rollup, series
from tests.reports.conftest import TZ, at

pytestmark = pytest.mark.django_db

CUT = at("2024-05-06 00:00")  # 5月5日24时


def serve(person: Any, deployment: Any, start: str, hours: int) -> Any:
    s = at(start)
    return svc.entry_record(
        actor=SYSTEM,
        person=person,
        kind=EntryKind.DISPATCH,
        deployment=deployment,
        start=s,
        end=s + timedelta(hours=hours),
        approve=True,
    )


@pytest.fixture
def served(org: Any) -> Any:
    dep = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui,
        title="徐汇核酸",
        start=at("2024-05-03 08:00"),
        end=at("2024-05-20 20:00"),
        people=[org.alice, org.bob],
    ).deployment
    serve(org.alice, dep, "2024-05-03 09:00", 2)
    serve(org.alice, dep, "2024-05-05 09:00", 3)
    serve(org.bob, dep, "2024-05-04 09:00", 4)
    return dep


def test_metrics_of_a_party_unit_are_its_members(org: Any, served: Any) -> None:
    assert rollup(org.xuhui_committee, CUT).total.is_empty  # nothing hangs on the party tree
    data = metrics_contract(org.xuhui_committee, CUT)
    assert data["basis"] == BASIS
    m = data["metrics"]
    assert (m["dispatch.batches"], m["dispatch.person_times"], m["dispatch.persons"]) == (1, 1, 1)
    assert str(m["dispatch.hours"]) == "5.00"
    assert m["dispatch.pending_entries"] == 0
    # the branch shows the same member; the Huangpu committee has no member who served
    assert metrics_contract(org.xuhui_branch, CUT)["metrics"]["dispatch.persons"] == 1
    assert metrics_contract(org.huangpu_committee, CUT)["metrics"]["dispatch.persons"] == 0
    # an administrative unit is unchanged: both people of its batch, no basis
    admin = metrics_contract(org.xuhui, CUT)
    assert "basis" not in admin
    assert admin["metrics"]["dispatch.persons"] == 2 == rollup(org.xuhui, CUT).total.persons
    assert str(admin["metrics"]["dispatch.hours"]) == "9.00"


def test_metrics_cli_and_api_for_a_party_unit(org: Any, served: Any, make_user: Any, login: Any) -> None:
    out = StringIO()
    call_command("metrics", "--as-of", "2024-05-05 24:00", "--unit", "XH-DW", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["basis"] == "party_members" and data["metrics"]["dispatch.persons"] == 1
    assert data["metrics"]["dispatch.hours"] == 5.0
    out = StringIO()
    call_command("metrics", "--as-of", "2024-05-05 24:00", "--unit", "XH-DW", stdout=out)
    assert "party members" in out.getvalue()
    client = login(make_user("xhdw", "secretary", org.xuhui_committee))
    r = client.get("/api/v1/reports/metrics", {"unit": "XH-DW", "as_of": "2024-05-05 24:00"})
    assert r.status_code == 200
    body = r.json()
    assert body["basis"] == "party_members" and body["metrics"]["dispatch.person_times"] == 1
    r = login(make_user("xhm", "manager", org.xuhui)).get(
        "/api/v1/reports/metrics", {"unit": "XH", "as_of": "2024-05-05 24:00"}
    )
    assert "basis" not in r.json() and r.json()["metrics"]["dispatch.persons"] == 2
    # out of scope: 404, nothing learnt
    other = login(make_user("hpdw", "secretary", org.huangpu_committee))
    assert other.get("/api/v1/reports/metrics", {"unit": "XH-DW"}).status_code == 404


def test_members_series_day_by_day(org: Any, served: Any) -> None:
    points = members_series(org.xuhui_committee, start=date(2024, 5, 2), as_of=CUT)
    assert [p.day for p in points] == [date(2024, 5, d) for d in (2, 3, 4, 5)]
    assert [p.daily.minutes for p in points] == [0, 120, 0, 180]
    assert [p.cumulative.person_times for p in points] == [0, 1, 1, 1]
    assert [p.daily.persons for p in points] == [0, 1, 0, 0]  # counted once, the first day
    assert points[-1].cumulative == members_rollup(org.xuhui_committee, CUT, pending=False).total
    # a cutoff inside a day: the last day counts up to the cutoff (alice's 09:00 shift: 1 hour by 10:00)
    mid = members_series(org.xuhui_committee, start=date(2024, 5, 5), as_of=at("2024-05-05 10:00"))
    assert [(p.day, p.daily.minutes) for p in mid] == [(date(2024, 5, 5), 60)]
    assert members_series(org.xuhui_committee, start=date(2024, 5, 7), as_of=CUT) == []
    # an administrative unit: the ordinary series, unchanged
    assert services.unit_series(org.xuhui, start=date(2024, 5, 2), as_of=CUT) == series(
        org.xuhui, start=date(2024, 5, 2), as_of=CUT
    )


def test_series_api_and_page_for_a_party_unit(org: Any, served: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("xhdw", "secretary", org.xuhui_committee))
    r = client.get(
        "/api/v1/reports/series", {"unit": "XH-DW", "start": "2024-05-03", "as_of": "2024-05-05 24:00"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["basis"] == "party_members"
    assert [d["cumulative"]["hours"] for d in body["days"]] == [2.0, 2.0, 5.0]
    admin = login(make_user("xhm", "manager", org.xuhui)).get(
        "/api/v1/reports/series", {"unit": "XH", "start": "2024-05-03", "as_of": "2024-05-05 24:00"}
    )
    assert "basis" not in admin.json() and admin.json()["days"][-1]["cumulative"]["hours"] == 9.0
    query = {"unit": "XH-DW", "date": "2024-05-05", "time": "24:00", "start": "2024-05-03"}
    page = client.get("/reports/series/", query)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="members-basis"' in html
    payload = page.context["payload"]
    assert payload["basis"] == "party_members"
    assert payload["days"][-1]["cumulative"]["person_times"] == 1
    assert [u["code"] for u in payload["units"]] == ["XH-B01"]  # rows: its branch's members
    j = client.get("/reports/series.json", query)
    assert j.status_code == 200 and j.json()["basis"] == "party_members"


def test_snapshot_of_a_party_unit_freezes_its_members(
    org: Any, served: Any, login: Any, make_user: Any
) -> None:
    secretary = make_user("xhdw", "secretary", org.xuhui_committee)
    snap = services.snapshot_publish(actor=secretary, unit=org.xuhui_committee, as_of=CUT)
    assert snap.figures["basis"] == "party_members" and snap.figures["members"] == 1
    assert snap.figures["day"] == "2024-05-05"
    contract = snap.figures["contract"]
    assert contract["basis"] == "party_members"
    assert contract["total"]["persons"] == "1" and contract["total"]["hours"] == "5.00"
    assert [r["code"] for r in snap.figures["rows"]] == ["XH-B01"]
    assert Figures.from_dict(snap.figures["total"]).batches == 1
    assert not services.snapshot_diff(snap).changed
    # a late correction of alice's entry shows against the frozen members' figures
    row = ServiceEntry.objects.filter(person=org.alice).order_by("start").first()
    assert row is not None
    svc.entry_correct(
        actor=SYSTEM, entry=row, start=at("2024-05-03 09:00"), end=at("2024-05-03 12:00"), reason="补录"
    )
    diff = services.snapshot_diff(Snapshot.objects.get(pk=snap.pk))
    assert diff.changed and diff.total.frozen.minutes == 300 and diff.total.live.minutes == 360
    client = login(secretary)
    page = client.get(f"/reports/snapshots/{snap.pk}/")
    assert page.status_code == 200 and 'id="members-basis"' in page.content.decode()
    api = client.get(f"/api/v1/reports/snapshots/{snap.pk}").json()
    assert api["figures"]["basis"] == "party_members" and api["changed"] is True
    # an administrative unit's snapshot: unchanged, no basis
    manager = make_user("xhm", "manager", org.xuhui)
    admin = services.snapshot_publish(actor=manager, unit=org.xuhui, as_of=CUT)
    assert "basis" not in admin.figures and "basis" not in admin.figures["contract"]
    assert admin.figures["contract"]["total"]["persons"] == "2"
    assert 'id="members-basis"' not in login(manager).get(f"/reports/snapshots/{admin.pk}/").content.decode()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start_day=st.integers(min_value=1, max_value=6),
    cut=st.datetimes(min_value=datetime(2024, 5, 2), max_value=datetime(2024, 5, 8)),
)
def test_members_series_adds_up(org: Any, served: Any, start_day: int, cut: datetime) -> None:
    """Whatever the start and cutoff: the daily figures add up from the start's midnight to the cutoff's
    members' figures, and the last cumulative point is the members' rollup at the cutoff."""
    as_of = cut.replace(tzinfo=TZ)
    start = date(2024, 5, start_day)
    points = members_series(org.xuhui_committee, start=start, as_of=as_of)
    base = members_rollup(org.xuhui_committee, at(f"{start.isoformat()} 00:00"), pending=False).total
    if not points:
        assert start > (as_of - timedelta(microseconds=1)).date()
        return
    assert [p.day for p in points] == [start + timedelta(days=i) for i in range(len(points))]
    total = base
    for p in points:
        total = total + p.daily
        assert total == p.cumulative
    assert points[-1].cumulative == members_rollup(org.xuhui_committee, as_of, pending=False).total


def test_metrics_read_the_members_once(org: Any, served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from muster.reports import members

    calls: list[Any] = []
    real = members.members_rollup

    def counted(party: Any, as_of: datetime, *, pending: bool = True) -> Any:
        calls.append(party.code)
        return real(party, as_of, pending=pending)

    monkeypatch.setattr(members, "members_rollup", counted)
    data = metrics_contract(org.xuhui_committee, CUT)
    assert calls == ["XH-DW"] and data["metrics"]["dispatch.persons"] == 1
    # outside a contract each metric answers on its own (nothing kept between calls)
    from muster.reports import registry

    assert registry.answer("dispatch.persons", org.xuhui_committee, CUT) == 1
    assert calls == ["XH-DW", "XH-DW"]
