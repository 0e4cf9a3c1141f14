"""Every mobilization page renders for a permitted user; a batch of another district is 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from muster.mobilize import services as svc
from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create

from .conftest import hour

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org: Any, cast: Any, batch: Any) -> dict[str, Any]:
    partner = partner_create(actor=SYSTEM, code="P-WP", name="宛平社区", kind="community", unit=org.xuhui)
    req = svc.request_create(
        actor=cast.leader,
        unit=org.xuhui,
        partner=partner,
        title="协助核酸检测",
        people_needed=4,
        start=hour(-10),
        end=hour(10),
    )
    post = svc.post_create(
        actor=cast.leader,
        unit=org.xuhui,
        code="XH-HOT",
        name="12366热线",
        kind="hotline",
        required_seats=[1] * 24,
    )
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="in-1", at=hour(-8))
    entry = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="out-1", at=hour(-2)).entry
    assignment = batch.shift.assignments.get(person=org.bob)
    return {"request": req, "post": post, "entry": entry, "assignment": assignment}


def _scoped_pages(batch: Any, world: Any) -> list[str]:
    d, s = batch.deployment, batch.shift
    return [
        reverse("mobilize:request_edit", args=[world["request"].pk]),
        reverse("mobilize:batch_detail", args=[d.pk]),
        reverse("mobilize:batch_rollcall", args=[d.pk]),
        reverse("mobilize:batch_shift_create", args=[d.pk]),
        reverse("mobilize:batch_shift_template", args=[d.pk]),
        reverse("mobilize:post_detail", args=[world["post"].pk]),
        reverse("mobilize:post_shift_create", args=[world["post"].pk]),
        reverse("mobilize:post_shift_template", args=[world["post"].pk]),
        reverse("mobilize:shift_detail", args=[s.pk]),
        reverse("mobilize:shift_qr", args=[s.pk]),
        reverse("mobilize:shift_rollcall", args=[s.pk]),
        reverse("mobilize:checkin_fix", args=[s.pk, world["assignment"].pk]),
        reverse("mobilize:checkin", args=[s.token]),
    ]


def _lists() -> list[str]:
    return [
        reverse("mobilize:requests"),
        reverse("mobilize:request_create"),
        reverse("mobilize:batches"),
        reverse("mobilize:batch_create"),
        reverse("mobilize:posts"),
        reverse("mobilize:post_create"),
        reverse("mobilize:approvals"),
        reverse("mobilize:my_service"),
    ]


def test_every_page_renders_for_the_district_leader(org: Any, cast: Any, batch: Any, world: Any) -> None:
    c = cast.client(cast.leader)
    for url in _lists() + _scoped_pages(batch, world):
        r = c.get(url)
        assert r.status_code == 200, url
    html = c.get(reverse("mobilize:batches")).content.decode()
    assert batch.deployment.code in html
    assert reverse("mobilize:index") in html  # the navbar entry
    assert world["request"].code in c.get(reverse("mobilize:requests")).content.decode()
    assert c.get(reverse("mobilize:index")).url == reverse("mobilize:batches")


def test_another_district_gets_404_and_empty_lists(org: Any, cast: Any, batch: Any, world: Any) -> None:
    c = cast.client(cast.manager_hp)
    for url in _scoped_pages(batch, world):
        assert c.get(url).status_code == 404, url
    for url in [
        reverse("mobilize:entry_approve", args=[world["entry"].pk]),
        reverse("mobilize:entry_reject", args=[world["entry"].pk]),
        reverse("mobilize:batch_measure", args=[batch.deployment.pk]),
        reverse("mobilize:shift_assign", args=[batch.shift.pk]),
    ]:
        assert c.post(url, {"reason": "x", "person_code": "HP0001"}).status_code == 404, url
    for url in _lists():
        assert c.get(url).status_code == 200, url
    assert batch.deployment.code not in c.get(reverse("mobilize:batches")).content.decode()
    assert world["request"].code not in c.get(reverse("mobilize:requests")).content.decode()
    assert "XH-HOT" not in c.get(reverse("mobilize:posts")).content.decode()
    assert f'data-entry="{world["entry"].pk}"' not in c.get(reverse("mobilize:approvals")).content.decode()


def test_a_volunteer_sees_their_own_shift_but_not_the_office_pages(
    org: Any, cast: Any, batch: Any, world: Any
) -> None:
    bob = cast.client(cast.bob_user)
    assert bob.get(reverse("mobilize:checkin", args=[batch.shift.token])).status_code == 200
    assert bob.get(reverse("mobilize:shift_qr", args=[batch.shift.pk])).status_code == 200
    assert bob.get(reverse("mobilize:batch_detail", args=[batch.deployment.pk])).status_code == 200
    # visible (a member) but not theirs to run: 403, not 404
    assert bob.get(reverse("mobilize:shift_rollcall", args=[batch.shift.pk])).status_code == 403
    assert bob.get(reverse("mobilize:batch_create")).status_code == 403
    assert bob.get(reverse("mobilize:index")).url == reverse("mobilize:my_service")
    # carol (黄浦) is not on it: 404
    carol = cast.client(cast.carol_user)
    assert carol.get(reverse("mobilize:checkin", args=[batch.shift.token])).status_code == 404
    assert carol.get(reverse("mobilize:correction_request", args=[world["entry"].pk])).status_code == 404


def test_pages_need_a_login(batch: Any, client: Any) -> None:
    r = client.get(reverse("mobilize:checkin", args=[batch.shift.token]))
    assert r.status_code == 302 and "/accounts/login/" in r.url


def test_requests_show_coverage_and_can_be_created_and_edited(org: Any, cast: Any, world: Any) -> None:
    from muster.mobilize.models import Request

    c = cast.client(cast.leader)
    partner = world["request"].partner
    r = c.post(
        reverse("mobilize:request_create"),
        {
            "unit": org.xuhui.pk,
            "partner": partner.pk,
            "title": "卡点值守",
            "people_needed": 3,
            "start": "2026-03-01T08:00",
            "end": "2026-03-01T20:00",
            "skills": "驾驶, 测温",
        },
    )
    assert r.status_code == 302, r.content.decode()
    req = Request.objects.get(title="卡点值守")
    assert sorted(t.name for t in req.skills.all()) == ["测温", "驾驶"]
    # a batch of 2 people for it: coverage 2 / 3
    svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="卡点值守",
        start=req.start,
        end=req.end,
        people=[org.alice, org.bob],
        request=req,
    )
    html = c.get(reverse("mobilize:requests")).content.decode()
    row = html[html.index(f'data-request="{req.code}"') :]
    row = row[: row.index("</tr>")]
    assert (
        '<span class="coverage-assigned">2</span>' in row and '<span class="coverage-needed">3</span>' in row
    )
    assert 'style="width: 67%"' in row
    r = c.post(
        reverse("mobilize:request_edit", args=[req.pk]),
        {
            "title": "卡点值守",
            "people_needed": 2,
            "start": "2026-03-01T08:00",
            "end": "2026-03-01T20:00",
            "status": "open",
        },
    )
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.people_needed == 2
    # end before start is refused on the form, nothing changes
    r = c.post(
        reverse("mobilize:request_edit", args=[req.pk]),
        {
            "title": "卡点值守",
            "people_needed": 5,
            "start": "2026-03-01T08:00",
            "end": "2026-03-01T07:00",
            "status": "open",
        },
    )
    assert r.status_code == 200 and "2026-03-01 07:00" in r.content.decode()
    req.refresh_from_db()
    assert req.people_needed == 2


def test_measures_recorded_on_a_batch(org: Any, cast: Any, batch: Any) -> None:
    from muster.mobilize.models import MeasureKind, MeasureValue

    c = cast.client(cast.leader)
    kind = MeasureKind.objects.get(code="residents_tested")
    r = c.post(
        reverse("mobilize:batch_measure", args=[batch.deployment.pk]), {"kind": kind.pk, "value": 4987}
    )
    assert r.status_code == 302
    mv = MeasureValue.objects.get()
    assert (mv.kind, mv.value, mv.deployment) == (kind, 4987, batch.deployment)
    assert "4987" in c.get(reverse("mobilize:batch_detail", args=[batch.deployment.pk])).content.decode()
