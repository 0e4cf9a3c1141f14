"""The service log on the web (issue 25 §7): a unit's after-hours, appointment and green-channel services
with the counts per kind and outside office hours, and the form to log one on a phone; per-field errors
(422, nothing written), out of scope as unknown, no right 403."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.outreach import services_service as ss
from muster.outreach.models import ServiceLogEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]

SH = ZoneInfo("Asia/Shanghai")
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"


def _en(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


@pytest.fixture
def manager(org: Any, make_user: Any, login: Any) -> Any:
    return _en(login(make_user("m", "manager", org.xuhui)))


def _log(org: Any, unit: Any, at: datetime, kind: str, outside: bool, staff: Any = None) -> Any:
    return ss.service_log(
        actor=SYSTEM,
        at=at,
        kind=kind,
        unit=unit,
        matter="更正申报",
        staff=staff or org.bob,
        taxpayer="某公司",
        outside_hours=outside,
    )


def test_list_counts_per_kind_and_outside_hours(org: Any, manager: Any) -> None:
    _log(org, org.xuhui_office, datetime(2026, 2, 2, 19, 0, tzinfo=SH), "after_hours", True)
    _log(org, org.xuhui, datetime(2026, 2, 3, 19, 30, tzinfo=SH), "after_hours", True)
    _log(org, org.xuhui, datetime(2026, 2, 4, 10, 0, tzinfo=SH), "appointment", False)
    _log(org, org.xuhui, datetime(2026, 3, 1, 8, 0, tzinfo=SH), "green_channel", True)
    _log(org, org.huangpu, datetime(2026, 2, 2, 19, 0, tzinfo=SH), "after_hours", True, staff=org.carol)
    r = manager.get("/outreach/service-log/?unit=XH", HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200
    page = r.content.decode()
    assert 'name="viewport"' in page and 'id="service-counts"' in page

    def cells(page: str, kind: str) -> tuple[str, str]:
        row = page.split(f'data-kind="{kind}"')[1].split("</tr>")[0]
        return (
            row.split("data-total>")[1].split("<")[0],
            row.split("data-outside>")[1].split("<")[0],
        )

    assert cells(page, "after_hours") == ("2", "2")
    assert cells(page, "appointment") == ("1", "0")
    assert cells(page, "green_channel") == ("1", "1")
    assert cells(page, "all") == ("4", "3")
    assert page.count("data-entry=") == 4 and "李娜" not in page  # 黄浦's entry is not there
    # a period (local days, both ends included) and a kind
    page = manager.get("/outreach/service-log/?unit=XH&start=2026-02-03&end=2026-02-04").content.decode()
    assert cells(page, "all") == ("2", "1")
    page = manager.get("/outreach/service-log/?unit=XH-S1").content.decode()
    assert cells(page, "all") == ("1", "1")
    page = manager.get("/outreach/service-log/?unit=XH&kind=after_hours").content.decode()
    assert page.count("data-entry=") == 2 and cells(page, "all") == ("4", "3")
    # out of scope reads as unknown; bad query values are a 400
    assert manager.get("/outreach/service-log/?unit=HP").status_code == 404
    assert manager.get("/outreach/service-log/?unit=XH&start=2026-02-31").status_code == 400
    assert manager.get("/outreach/service-log/?unit=XH&start=9999-12-31").status_code == 400
    assert manager.get("/outreach/service-log/?unit=XH&start=2026-03-01&end=2026-02-01").status_code == 400


def test_log_a_service_on_a_phone(org: Any, manager: Any, make_user: Any, login: Any, ent: Any) -> None:
    r = manager.get("/outreach/service-log/new/", HTTP_USER_AGENT=PHONE)
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="service-log-form"' in page and 'type="datetime-local"' in page
    good = {
        "at": "2026-03-03T19:00",
        "kind": "after_hours",
        "unit": org.xuhui_office.pk,
        "enterprise": ent.credit_code,
        "taxpayer": "",
        "matter": "30人工资薪金申报有误，晚7点更正",
        "staff": "XH0002",
        "outside_hours": "on",
    }
    for bad, field_words in (
        ({"staff": "HP0001"}, "No person with the staff number HP0001 was found."),  # out of sight
        ({"staff": "NOPE"}, "No person with the staff number NOPE was found."),
        ({"enterprise": "91110000802100433B"}, "There is no enterprise with the credit code"),
        ({"enterprise": "", "taxpayer": ""}, "Name the taxpayer, or give the enterprise"),
        ({"matter": ""}, "required"),
        ({"matter": "a\x00b"}, ""),
        ({"kind": "midnight"}, "Select a valid choice"),
        ({"at": "2026-03-05T10:00"}, "in the future"),
        ({"at": "9999-12-31T23:59"}, ""),
        ({"at": "2026-02-31T10:00"}, "Enter a valid date/time"),
        ({"unit": org.huangpu.pk}, "Select a valid choice"),
    ):
        r = manager.post("/outreach/service-log/new/", {**good, **bad})
        assert r.status_code == 422 and field_words in r.content.decode(), bad
    assert not ServiceLogEntry.objects.exists()
    r = manager.post("/outreach/service-log/new/", good)
    assert r.status_code == 302 and r["Location"] == "/outreach/service-log/?unit=XH-S1"
    e = ServiceLogEntry.objects.get()
    assert (e.at, e.outside_hours, e.taxpayer, e.staff) == (
        datetime(2026, 3, 3, 19, 0, tzinfo=SH),
        True,
        ent.name,
        org.bob,
    )
    assert AuditEvent.objects.filter(action="outreach.service.logged").count() == 1
    page = manager.get("/outreach/service-log/?unit=XH").content.decode()
    assert "30人工资薪金申报有误" in page and 'id="new-service"' in page
    viewer = _en(login(make_user("v", "viewer", org.xuhui)))
    assert 'id="new-service"' not in viewer.get("/outreach/service-log/?unit=XH").content.decode()
    assert viewer.get("/outreach/service-log/new/").status_code == 403
    assert viewer.post("/outreach/service-log/new/", good).status_code == 403
    assert ServiceLogEntry.objects.count() == 1
