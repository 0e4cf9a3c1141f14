"""The audit log page: scoped to the units the user may audit, with filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from muster.orgs.access import SYSTEM
from muster.orgs.services import unit_update


def _actions(response) -> list[tuple[str, str]]:
    return [(e.action, e.target_repr) for e in response.context["page"].object_list]


@pytest.mark.django_db
def test_audit_log_is_scoped_to_the_subtree(org, as_role) -> None:
    c = as_role("admin", org.xuhui)
    r = c.get(reverse("web:audit"))
    assert r.status_code == 200
    targets = {t for _a, t in _actions(r)}
    assert "张丽 (XH0001)" in targets and "徐汇区税务局第一税务所" in targets
    assert "李娜 (HP0001)" not in targets and "黄浦区税务局" not in targets
    html = r.content.decode()
    assert "李娜" not in html


@pytest.mark.django_db
def test_audit_log_needs_the_audit_permission(org, as_role) -> None:
    for role in ["manager", "secretary", "leader", "member", "viewer"]:
        c = as_role(role, org.xuhui)
        assert c.get(reverse("web:audit")).status_code == 403, role
        assert reverse("web:audit") not in c.get(reverse("web:home")).content.decode(), role


@pytest.mark.django_db
@pytest.mark.usefixtures("fixed_clock")  # the date filters below are around today
def test_audit_filters(org, as_role) -> None:
    unit_update(actor=SYSTEM, unit=org.xuhui_office, name="徐汇一所")
    c = as_role("admin", org.xuhui)
    url = reverse("web:audit")
    r = c.get(url, {"action": "orgs.unit.updated"})
    assert _actions(r) == [("orgs.unit.updated", "徐汇一所")]
    html = r.content.decode()
    assert "徐汇区税务局第一税务所 → 徐汇一所" in html  # the change, old → new
    assert [a for a, _t in _actions(c.get(url, {"target": "XH0002"}))] == ["orgs.person.created"]
    assert _actions(c.get(url, {"actor": "nobody"})) == []
    assert len(_actions(c.get(url, {"actor": "system"}))) > 3
    today = timezone.localdate()
    assert _actions(c.get(url, {"date_from": today.isoformat(), "action": "orgs.unit.updated"}))
    assert _actions(c.get(url, {"date_to": (today - timedelta(days=1)).isoformat()})) == []
    assert _actions(c.get(url, {"date_from": (today + timedelta(days=1)).isoformat()})) == []
    part = c.get(url, {"action": "orgs.unit.updated"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-results")
    assert "<html" not in part.content.decode() and "徐汇一所" in part.content.decode()


@pytest.mark.django_db
def test_audit_log_shows_address_and_channel(org, as_role) -> None:
    c = as_role("admin", org.xuhui)
    c.post(
        reverse("web:unit_edit", args=[org.xuhui_office.pk]),
        {"code": "XH-S1", "name": "一所", "short_name": "", "kind": "tax_office"},
        REMOTE_ADDR="10.1.2.3",
    )
    r = c.get(reverse("web:audit"), {"action": "orgs.unit.updated"})
    (event,) = r.context["page"].object_list
    assert (event.ip, event.channel, event.actor_name) == ("10.1.2.3", "web", c.user.username)
    html = r.content.decode()
    assert "10.1.2.3" in html and str(event.action_label) in html


def test_audit_rows_written_before_a_model_moved_apps_keep_their_labels() -> None:
    """Awards moved from partylife to honors (issue 23); audit rows keep the old label and still read well."""
    from types import SimpleNamespace

    from muster.web.templatetags.muster_web import change_lines

    def event(target_type: str) -> SimpleNamespace:
        return SimpleNamespace(target_type=target_type, changes={"branch": "XH"}, action="x.created")

    old, new = change_lines(event("partylife.honor")), change_lines(event("honors.honor"))
    assert old == new
    assert old[0][0] != "branch"  # the field's own label ("proposed by"), not the stored key
    assert change_lines(event("nosuch.model")) == [("branch", "XH")]
