"""Security review fixes: a record shows only the batches the reader may see (the rest grouped without code
or title, totals unchanged); certificates only in the name of a unit the issuer leads; the public
verification answer carries no serial and no revocation date."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from openpyxl import load_workbook

from muster.honors import services
from muster.mobilize import services as msvc
from muster.mobilize.models import EntryKind
from muster.orgs.access import SYSTEM

from .conftest import add_hours, at

pytestmark = pytest.mark.django_db

SECRET = "黄浦内部专项任务"


def _en(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


@pytest.fixture
def hp_batch(org: Any) -> Any:
    """Alice served 4 h in a 黄浦 batch (out of 徐汇's sight) and 3 h of community service."""
    d = msvc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.huangpu,
        title=SECRET,
        start=at("2025-06-01 06:00"),
        end=at("2025-06-02 06:00"),
        people=[org.alice],
    ).deployment
    msvc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.DISPATCH,
        deployment=d,
        start=at("2025-06-01 08:00"),
        end=at("2025-06-01 12:00"),
    )
    msvc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2025-06-03 08:00"),
        end=at("2025-06-03 11:00"),
    )
    return d


def test_record_hides_batches_out_of_sight(
    org: Any, cast: Any, login: Any, make_user: Any, hp_batch: Any
) -> None:
    viewer = make_user("xh_viewer", "viewer", org.xuhui)
    c = _en(login(viewer))
    assert c.get(f"/api/v1/mobilize/deployments/{hp_batch.code}").status_code == 404
    data = c.get(f"/api/v1/honors/people/{org.alice.code}/record").json()
    assert data["hours"] == 7
    raw = str(data)
    assert hp_batch.code not in raw and SECRET not in raw
    other = [ln for ln in data["lines"] if ln["other"]]
    assert other == [
        {
            "batch": None,
            "task": "Other units' batches",
            "other": True,
            "kind": "dispatch",
            "kind_label": other[0]["kind_label"],
            "entries": 1,
            "hours": 4,
        }
    ]
    assert sum(ln["hours"] for ln in data["lines"]) == 7
    page = c.get(f"/honors/people/{org.alice.code}/").content.decode()
    assert hp_batch.code not in page and SECRET not in page
    assert "Other units' batches" in page or "Other units&#x27; batches" in page
    x = c.get(f"/honors/people/{org.alice.code}/", {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(x.content)).worksheets[0].iter_rows(values_only=True))
    flat = " ".join(str(v) for row in rows for v in row)
    assert hp_batch.code not in flat and SECRET not in flat and "Other units' batches" in flat
    assert rows[-1][-1] == 7
    # alice herself and an admin over both districts see the batch
    for user in (cast.alice_user, cast.admin):
        lines = login(user).get(f"/api/v1/honors/people/{org.alice.code}/record").json()["lines"]
        assert {ln["batch"] for ln in lines} == {hp_batch.code, None}
        assert not any(ln["other"] for ln in lines)


def test_issuing_unit_must_be_led_by_the_issuer(org: Any, cast: Any, login: Any, make_user: Any) -> None:
    # a leader of alice's party branch approves for her, but does not lead her administrative unit 徐汇
    xb_leader = make_user("xb_leader", "leader", org.xuhui_branch)
    add_hours(org.alice, 10)
    with pytest.raises((ValidationError, Http404)):
        services.certificate_issue(
            actor=xb_leader, person=org.alice, as_of=at("2026-01-01 00:00"), issuing_unit=org.xuhui
        )
    cert = services.certificate_issue(actor=xb_leader, person=org.alice, as_of=at("2026-01-01 00:00"))
    assert cert.issuing_unit == org.xuhui_branch
    page = login(xb_leader).get(f"/honors/people/{org.alice.code}/").content.decode()
    assert f'<option value="{org.xuhui_branch.code}">' in page
    assert f'<option value="{org.xuhui.code}">' not in page
    # 徐汇's leader still issues in 徐汇's name by default
    assert (
        services.certificate_issue(
            actor=cast.leader, person=org.alice, as_of=at("2026-01-01 00:00")
        ).issuing_unit
        == org.xuhui
    )


def test_public_verification_drops_serial_and_revocation_date(
    org: Any, cast: Any, login: Any, client: Any, make_user: Any
) -> None:
    add_hours(org.alice, 10)
    cert = services.certificate_issue(actor=cast.leader, person=org.alice, as_of=at("2026-01-01 00:00"))
    assert cert.serial
    body = client.get(f"/verify/{cert.token}/").content.decode()
    assert 'data-state="valid"' in body and cert.serial not in body and "ZYFW" not in body
    data = client.get(f"/api/v1/honors/verify/{cert.token}").json()
    assert "serial" not in data and "revoked_on" not in data
    assert data["valid"] is True and data["issued_on"] and data["issuer"] == org.xuhui.name
    # signed in but out of scope: the same public answer
    out = login(cast.manager_hp).get(f"/api/v1/honors/verify/{cert.token}").json()
    assert "serial" not in out
    # in scope: the serial
    assert login(cast.leader).get(f"/api/v1/honors/verify/{cert.token}").json()["serial"] == cert.serial
    services.certificate_revoke(actor=cast.leader, certificate=cert, reason="时长有误")
    data = client.get(f"/api/v1/honors/verify/{cert.token}").json()
    assert data["revoked"] is True and "revoked_on" not in data and "serial" not in data
    body = _en(client).get(f"/verify/{cert.token}/").content.decode()
    assert 'data-state="revoked"' in body and "Revoked on" not in body and cert.serial not in body
    mine = login(cast.leader).get(f"/api/v1/honors/verify/{cert.token}").json()
    assert mine["revoked_on"] == "2026-03-04" and mine["serial"] == cert.serial
