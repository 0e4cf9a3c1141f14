"""Care pages: the liaison's phone page with the one-tap contact, the subject page's read audit, the
manager's overdue view and a round's coverage; out of scope is 404."""

from __future__ import annotations

from typing import Any

from muster.audit.models import AuditEvent
from muster.care import services as care
from muster.care.models import CareSubject, Contact
from muster.orgs.access import SYSTEM


def test_liaison_today_page_and_one_tap(cared: Any, login: Any) -> None:
    c = login(cared.liaison_user)
    page = c.get("/care/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-subject="C0001"' in html and 'data-subject="C0002"' in html and "tel:13611112222" in html
    assert 'name="viewport"' in html  # the phone layout of the base page
    got = c.post("/care/subjects/C0001/ok/")
    assert got.status_code == 302
    assert Contact.objects.filter(subject__code="C0001", outcome="ok").count() == 1
    assert 'data-subject="C0001"' not in c.get("/care/").content.decode()


def test_subject_page_health_needs_care_data_and_is_audited(cared: Any, login: Any) -> None:
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="r")
    care.survey_answer_record(
        actor=SYSTEM, subject=cared.old, round=r, channel="phone", answers={"health": "较差"}
    )
    plain = login(cared.manager).get("/care/subjects/C0001/").content.decode()
    assert "较差" not in plain and "136****2222" in plain
    assert not AuditEvent.objects.filter(action="care.health.viewed").exists()
    full = login(cared.nurse).get("/care/subjects/C0001/").content.decode()
    assert "较差" in full and "高龄" in full
    assert AuditEvent.objects.filter(action="care.health.viewed", actor_name="xh_nurse").count() == 1
    assert login(cared.manager).get("/care/subjects/C0003/").status_code == 404


def test_help_request_from_the_subject_page(cared: Any, login: Any) -> None:
    c = login(cared.liaison_user)
    c.post("/care/subjects/C0001/help/", {"category": "food", "urgency": "urgent", "description": "缺米"})
    assert CareSubject.objects.get(code="C0001").help_requests.get().urgency == "urgent"


def test_overdue_and_round_pages(cared: Any, login: Any) -> None:
    m = login(cared.manager)
    page = m.get("/care/overdue/", {"unit": "XH", "by": "liaison"})
    assert page.status_code == 200 and "王强" in page.content.decode()
    assert m.get("/care/overdue/", {"unit": "HP"}).status_code == 404
    r = care.round_open(actor=SYSTEM, unit=cared.org.xuhui, name="第一轮")
    care.survey_answer_record(
        actor=SYSTEM, subject=cared.old, round=r, channel="phone", answers={"health": "良好"}
    )
    html = m.get(f"/care/rounds/{r.pk}/").content.decode()
    assert "1/2" in html and "C0002" in html
    far = care.round_open(actor=SYSTEM, unit=cared.org.huangpu, name="黄浦")
    assert m.get(f"/care/rounds/{far.pk}/").status_code == 404
