"""The exemption form of the compliance page (grant, list, revoke with a reason; the approver rule of
the services: 403 visible but not allowed, 404 out of scope). (Honor evidence on the web moved with the
awards to the honors app: ``tests/honors/awards/test_web.py``.)"""

from __future__ import annotations

import re
from datetime import date

from django.urls import reverse

from muster.audit.models import AuditEvent
from muster.partylife.models import Exemption

from .conftest import Party, client_for

Q4 = {"period": "quarter", "year": "2024", "number": "4", "as_of": "2024-11-20"}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def back(party: Party) -> str:
    return f"scope={party.org.xuhui_committee.pk}&period=quarter&year=2024&number=4&as_of=2024-11-20"


def cell_status(body: str, unit_code: str, code: str) -> str:
    row = re.search(rf'<tr data-unit="{unit_code}" data-status="\w+">(.*?)</tr>', body, re.S)
    assert row, f"no row for {unit_code}"
    m = re.search(rf'data-code="{code}" data-status="(\w*)"', row.group(1))
    assert m
    return m.group(1)


def test_grant_and_revoke_an_exemption_from_the_compliance_page(party: Party) -> None:
    c = client_for(party.committee_user)
    dashboard = reverse("partylife:compliance")
    params = {"scope": party.org.xuhui_committee.pk, **Q4}
    body = c.get(dashboard, params).content.decode()
    assert cell_status(body, "XH-B01", "theme_day") == "missed"  # October's theme party day
    link = re.search(
        r'<a class="btn btn-sm btn-outline-info exempt-link" href="([^"]+unit=XH-B01&[^"]+)"', body
    )
    assert link, "each row the user may exempt links to the form"
    form_url = link.group(1).replace("&amp;", "&")
    page = c.get(form_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="2024-10-01"' in html and 'value="2025-01-01"' in html  # the period of the page
    # bad input: no reason, an end before the start
    r = c.post(
        form_url,
        {
            "unit": party.branch.pk,
            "requirement_code": "theme_day",
            "start": "2024-10-01",
            "end": "2024-09-01",
        },
    )
    assert r.status_code == 200 and not Exemption.objects.exists()
    errors = r.content.decode()
    assert "This field is required." in errors and "The exemption must end after it starts." in errors
    r = c.post(
        form_url,
        {
            "unit": party.branch.pk,
            "requirement_code": "theme_day",
            "start": "2024-10-01",
            "end": "2025-01-01",
            "reason": "防汛值守",
            "back": back(party),
        },
    )
    assert r.status_code == 302 and "as_of=2024-11-20" in r["Location"]
    x = Exemption.objects.get()
    assert (x.unit, x.requirement_code, x.start, x.end, x.reason) == (
        party.branch,
        "theme_day",
        date(2024, 10, 1),
        date(2025, 1, 1),
        "防汛值守",
    )
    assert x.approved_by == party.committee_user  # the acting user is the approver
    assert AuditEvent.objects.filter(action="partylife.exemption.granted", target_id=str(x.pk)).exists()
    body = c.get(dashboard, params).content.decode()
    assert cell_status(body, "XH-B01", "theme_day") == "exempt"
    listed = re.search(rf'<li data-exemption="{x.pk}">(.*?)</li>', body, re.S)
    assert listed and "防汛值守" in listed.group(1) and "approved by xhdw" in listed.group(1)
    revoke = reverse("partylife:exemption_revoke", args=[x.pk])
    assert revoke in listed.group(1)
    # others: the branch's own secretary may not (403), 黄浦's committee does not see it (404)
    assert client_for(party.sec_user).post(revoke, {"reason": "x"}).status_code == 403
    assert client_for(party.hp_user).post(revoke, {"reason": "x"}).status_code == 404
    # a revocation needs a reason
    r = c.post(revoke, {"reason": " "}, follow=True)
    assert "A reason is required." in r.content.decode()
    x.refresh_from_db()
    assert not x.revoked
    r = c.post(
        revoke,
        {
            "reason": "值守取消",
            "back": back(party),
        },
    )
    assert r.status_code == 302
    x.refresh_from_db()
    assert x.revoked
    event = AuditEvent.objects.get(action="partylife.exemption.revoked", target_id=str(x.pk))
    assert event.changes == {"reason": "值守取消"}
    body = c.get(dashboard, params).content.decode()
    assert cell_status(body, "XH-B01", "theme_day") == "missed"
    assert re.search(rf'<li data-exemption="{x.pk}" data-revoked="1">', body)
    assert revoke not in body  # no second revocation offered
    r = c.post(revoke, {"reason": "again"}, follow=True)
    assert "This exemption was already revoked." in r.content.decode()


def test_exemption_form_permissions(party: Party) -> None:
    new = reverse("partylife:exemption_create")
    # the branch secretary approves nothing above the branch: 403, and no button on the dashboard
    sec = client_for(party.sec_user)
    assert sec.get(new).status_code == 403
    body = sec.get(reverse("partylife:compliance"), {"scope": party.branch.pk, **Q4}).content.decode()
    assert 'id="exemption-new"' not in body and "exempt-link" not in body
    # 黄浦's committee does not see 徐汇's branch: 404; a visible unit it may not exempt: 403
    hp = client_for(party.hp_user)
    assert hp.get(new, {"unit": "XH-B01"}).status_code == 404
    assert client_for(party.viewer).get(new, {"unit": "XH-B01"}).status_code == 403
    # a unit outside the form's choices is refused by the form, nothing written
    committee = client_for(party.committee_user)
    r = committee.post(
        new,
        {
            "unit": party.org.huangpu_committee.pk,
            "requirement_code": "theme_day",
            "start": "2024-10-01",
            "end": "2025-01-01",
            "reason": "x",
        },
    )
    assert r.status_code == 200 and not Exemption.objects.exists()
    # the committee itself is exempted by the committee above it, not by itself
    html = committee.get(new).content.decode()
    assert f'value="{party.branch.pk}"' in html and f'value="{party.org.xuhui_committee.pk}"' not in html
