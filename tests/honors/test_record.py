"""The volunteer record (志愿服务记录): approved service as of a date, by batch and kind, scoped, on the web,
the API and the CLI, and as an Excel file."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError
from openpyxl import load_workbook

from muster.honors import queries
from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind, ServiceEntry
from muster.orgs.access import SYSTEM

from .conftest import add_hours, at, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(org: Any) -> Any:
    """Alice: a batch of 3 × 8 h (dispatch), 4 h of community service, one reversed 2 h entry, one pending."""
    d = svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.xuhui,
        title="支援徐汇核酸检测点",
        start=at("2025-03-10 00:00"),
        end=at("2025-03-20 00:00"),
        people=[org.alice],
    ).deployment
    for day in ("11", "12", "13"):
        svc.entry_record(
            actor=SYSTEM,
            person=org.alice,
            kind=EntryKind.DISPATCH,
            deployment=d,
            start=at(f"2025-03-{day} 08:00"),
            end=at(f"2025-03-{day} 16:00"),
        )
    svc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2025-04-01 09:00"),
        end=at("2025-04-01 13:00"),
    )
    wrong = svc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2025-04-02 09:00"),
        end=at("2025-04-02 11:00"),
    )
    svc.entry_reverse(actor=SYSTEM, entry=wrong, reason="重复录入")
    svc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2025-04-03 09:00"),
        end=at("2025-04-03 19:00"),
        approve=False,
    )
    return d


def test_record_by_batch_and_kind(org: Any, service: Any) -> None:
    rec = queries.volunteer_record(org.alice, at("2026-01-01 00:00"))
    assert rec.minutes == (24 + 4) * 60  # the reversed and the pending entries do not count
    lines = {
        (ln.deployment.code if ln.deployment else None, ln.kind): (ln.minutes, ln.entries) for ln in rec.lines
    }
    assert lines == {(service.code, "dispatch"): (24 * 60, 3), (None, "community"): (4 * 60, 1)}
    assert str(rec.period_start) == "2025-03-11" and str(rec.period_end) == "2025-04-01"
    # as of a cutoff inside the second day: the first day and half... the part before the cutoff
    rec = queries.volunteer_record(org.alice, at("2025-03-12 12:00"))
    assert rec.minutes == 8 * 60 + 4 * 60
    assert str(rec.period_end) == "2025-03-12"
    assert queries.volunteer_record(org.alice, at("2025-01-01 00:00")).lines == []


def test_record_on_the_web_scoped(org: Any, cast: Any, login: Any, service: Any) -> None:
    # a person sees their own
    page = login(cast.alice_user).get("/honors/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="record-hours">28<' in body and service.code in body
    # a leader in scope sees it, as of a date
    r = login(cast.leader).get(f"/honors/people/{org.alice.code}/", {"as_of": "2025-03-11"})
    assert r.status_code == 200 and 'id="record-hours">8<' in r.content.decode()
    # bob may not see alice's record; 黄浦's manager neither: 404, like a person who does not exist
    assert login(cast.bob_user).get(f"/honors/people/{org.alice.code}/").status_code == 404
    assert login(cast.manager_hp).get(f"/honors/people/{org.alice.code}/").status_code == 404
    assert login(cast.manager_hp).get("/honors/people/NOBODY/").status_code == 404
    # hostile dates: 4xx, never 500
    for bad in ("9999-12-31", "0001-01-01", "2025-02-30", "x\x00"):
        assert login(cast.leader).get(f"/honors/people/{org.alice.code}/", {"as_of": bad}).status_code == 400
    # a user without a person
    assert "not linked to a person" in login(cast.leader).get("/honors/").content.decode()
    # the person page links to the record
    assert (
        f"/honors/people/{org.alice.code}/"
        in login(cast.leader).get(f"/people/{org.alice.pk}/").content.decode()
    )


def test_record_excel_export(org: Any, cast: Any, login: Any, service: Any) -> None:
    r = login(cast.leader).get(f"/honors/people/{org.alice.code}/", {"as_of": "2025-12-31", "format": "xlsx"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == service.code and rows[1][-1] == 24
    assert rows[-1][-1] == 28
    assert list(wb.worksheets[1].iter_rows(values_only=True))[1][:2] == ("XH0001", "张丽")


def test_record_api(org: Any, cast: Any, login: Any, service: Any) -> None:
    r = login(cast.leader).get(f"/api/v1/honors/people/{org.alice.code}/record", {"as_of": "2025-12-31"})
    assert r.status_code == 200
    data = r.json()
    assert data["hours"] == 28 and data["tier"]["level"] == 0 and data["tier"]["next_hours"] == 100
    assert {ln["kind"] for ln in data["lines"]} == {"dispatch", "community"}
    assert login(cast.manager_hp).get(f"/api/v1/honors/people/{org.alice.code}/record").status_code == 404
    assert (
        login(cast.leader)
        .get(f"/api/v1/honors/people/{org.alice.code}/record", {"as_of": "9999-12-31"})
        .status_code
        == 422
    )
    assert login(cast.alice_user).get(f"/api/v1/honors/people/{org.alice.code}/tier").json()["hours"] == 28


def test_record_cli(org: Any, cast: Any, service: Any, tmp_path: Any, capsys: Any) -> None:
    out = tmp_path / "record.xlsx"
    call_command("honors", "record", "--person", "XH0001", "--as-of", "2025-12-31", "--xlsx", str(out))
    assert "28.00 h" in capsys.readouterr().out
    assert load_workbook(out).worksheets[0].max_row == 4  # header, two lines, total
    with pytest.raises(CommandError, match="Not found"):
        call_command("honors", "record", "--person", "XH0001", "--as", "mgr_hp")
    with pytest.raises(CommandError):
        call_command("honors", "record", "--person", "XH0001", "--as-of", "9999-12-31")


def test_reversal_written_later_counts_for_an_earlier_cutoff(org: Any) -> None:
    rows = add_hours(org.bob, 40, first_day="2025-05-01")
    before = queries.person_minutes(org.bob, at("2025-06-01 00:00"))
    svc.entry_reverse(actor=SYSTEM, entry=rows[0], reason="不属实")
    assert queries.person_minutes(org.bob, at("2025-06-01 00:00")) == before - 20 * 60
    assert ServiceEntry.objects.filter(person=org.bob).count() == 3


def test_hostile_web_input_is_a_4xx(org: Any, cast: Any, login: Any) -> None:
    c = login(cast.leader)
    for url in (
        "/honors/certificates/" + "9" * 30 + "/pdf/",
        f"/honors/certificates/{2**63}/pdf/",
        "/honors/people/%00/",
        "/honors/people/" + "x" * 3000 + "/",
        "/verify/" + "%00" * 10 + "/",
    ):
        assert 400 <= c.get(url).status_code < 500, url
    r = c.post("/honors/certificates/" + "9" * 30 + "/decide/", {"action": "revoke", "reason": "x"})
    assert 400 <= r.status_code < 500
