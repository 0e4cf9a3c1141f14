"""Every export of a list page is audited: the list, the format, the filters and the number of rows."""

from __future__ import annotations

import pytest

from muster.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_list_export_writes_one_audit_event_with_its_filters(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    r = c.get(f"/people/?unit={org.xuhui.pk}&export=xlsx")
    assert r.status_code == 200
    events = list(AuditEvent.objects.filter(action="web.list.exported"))
    assert len(events) == 1
    ev = events[0]
    assert ev.changes["list"] and ev.changes["format"] == "xlsx"
    assert ev.changes["rows"] >= 1
    assert ev.unit_path == org.xuhui.path


def test_viewing_a_list_page_writes_no_export_event(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    assert c.get("/people/").status_code == 200
    assert not AuditEvent.objects.filter(action="web.list.exported").exists()
