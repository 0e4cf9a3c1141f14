"""The batch pages, hardened: a conflict names another batch only to those who may see it; ids past the
database's range are 404; printing the 名单 is audited; a supported unit outside the dispatcher's scope
answers like an unknown code."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from muster.audit.models import AuditEvent
from muster.mobilize import services as svc
from muster.mobilize.models import Deployment
from muster.orgs.access import SYSTEM
from muster.orgs.services import unit_create

from .conftest import Batch, Cast, hour, local_input

pytestmark = pytest.mark.django_db


# ----------------------------------------------------------------- conflicts of people


def _secret_batch(org: Any) -> Deployment:
    return svc.deployment_dispatch(
        actor=SYSTEM,
        unit=org.huangpu,
        title="黄浦机密演练",
        start=hour(20),
        end=hour(28),
        people=[org.bob],
        code="HP-SECRET",
    ).deployment


def _mine(org: Any, cast: Cast) -> Deployment:
    return svc.deployment_dispatch(
        actor=cast.leader, unit=org.xuhui, title="我的", start=hour(21), end=hour(27), people=[org.alice]
    ).deployment


def test_paste_names_no_batch_out_of_scope(org: Any, cast: Cast) -> None:
    _secret_batch(org)
    mine = _mine(org, cast)
    c = cast.client(cast.leader)
    r = c.post(reverse("mobilize:batch_member_paste", args=[mine.pk]), {"codes": org.bob.code})
    page = r.content.decode()
    assert r.status_code == 200
    assert "HP-SECRET" not in page and "黄浦机密演练" not in page
    assert "another batch" in page or "另一批次" in page
    assert not mine.memberships.filter(person=org.bob).exists()  # still refused


def test_add_names_no_batch_out_of_scope(org: Any, cast: Cast) -> None:
    _secret_batch(org)
    mine = _mine(org, cast)
    c = cast.client(cast.leader)
    r = c.post(reverse("mobilize:batch_member_add", args=[mine.pk]), {"person": org.bob.pk}, follow=True)
    page = r.content.decode()
    assert "HP-SECRET" not in page and "黄浦机密演练" not in page
    assert "another batch" in page or "另一批次" in page
    assert not mine.memberships.filter(person=org.bob).exists()


def test_a_conflict_with_a_visible_batch_is_named(org: Any, cast: Cast) -> None:
    seen = svc.deployment_dispatch(
        actor=cast.leader, unit=org.xuhui, title="可见任务", start=hour(20), end=hour(28), people=[org.bob]
    ).deployment
    mine = _mine(org, cast)
    r = cast.client(cast.leader).post(
        reverse("mobilize:batch_member_paste", args=[mine.pk]), {"codes": org.bob.code}
    )
    assert seen.code in r.content.decode()


def test_the_service_names_batches_by_the_actors_scope(org: Any, cast: Cast) -> None:
    from django.core.exceptions import ValidationError

    _secret_batch(org)
    mine = _mine(org, cast)
    with pytest.raises(ValidationError) as leader_sees:
        svc.deployment_member_add(actor=cast.leader, deployment=mine, person=org.bob)
    assert "HP-SECRET" not in str(leader_sees.value)
    with pytest.raises(ValidationError) as system_sees:
        svc.deployment_member_add(actor=SYSTEM, deployment=mine, person=org.bob)
    assert "HP-SECRET" in str(system_sees.value)


# ----------------------------------------------------------------- ids past the range


@pytest.mark.parametrize("big", [2**63, 2**64, 10**30])
def test_huge_ids_are_404(cast: Cast, batch: Batch, big: int) -> None:
    c = cast.client(cast.leader)
    d = batch.deployment
    assert c.post(f"/mobilize/batches/{d.pk}/members/{big}/remove/").status_code == 404
    assert c.get(f"/mobilize/batches/{big}/").status_code == 404
    assert c.get(f"/mobilize/batches/{big}/members/").status_code == 404
    assert c.get(f"/mobilize/batches/{big}/print/").status_code == 404
    assert c.get(reverse("mobilize:batch_create") + f"?request={big}").status_code == 200


# ----------------------------------------------------------------- the 名单 on paper


def test_printing_the_roster_is_audited(cast: Cast, batch: Batch) -> None:
    d = batch.deployment
    r = cast.client(cast.leader).get(reverse("mobilize:batch_print", args=[d.pk]))
    assert r.status_code == 200
    event = AuditEvent.objects.get(action="mobilize.deployment.printed")
    assert event.actor_id == cast.leader.pk and event.target_id == str(d.pk)


# ----------------------------------------------------------------- the supported unit


def test_a_supported_unit_out_of_scope_answers_like_an_unknown_code(org: Any, cast: Cast) -> None:
    unit_create(
        actor=SYSTEM, code="HP-S1", name="黄浦区税务局第一税务所", kind="tax_office", parent=org.huangpu
    )
    c = cast.client(cast.leader)  # leader on 徐汇 only
    base = {
        "unit": org.xuhui.pk,
        "title": "支援",
        "start": local_input(hour(30)),
        "end": local_input(hour(34)),
        "people": org.bob.code,
    }
    unknown = c.post(reverse("mobilize:batch_create"), {**base, "supported_unit": "NOPE"})
    hidden = c.post(reverse("mobilize:batch_create"), {**base, "supported_unit": "HP-S1"})
    assert unknown.status_code == hidden.status_code == 200
    assert not Deployment.objects.filter(title="支援").exists()

    def error(r: Any, code: str) -> str:
        errors = r.context["form"].errors["supported_unit"]
        return " ".join(errors).replace(code, "<code>")

    assert error(unknown, "NOPE") == error(hidden, "HP-S1")
    assert "黄浦区税务局第一税务所" not in hidden.content.decode()
    visible = c.post(reverse("mobilize:batch_create"), {**base, "supported_unit": "XH-S1"})
    assert visible.status_code == 302
    assert Deployment.objects.get(title="支援").supported_unit == org.xuhui_office


def test_another_district_may_be_supported(org: Any, cast: Cast) -> None:
    c = cast.client(cast.leader)  # 黄浦 is out of 徐汇's scope, but a district bureau
    r = c.post(
        reverse("mobilize:batch_create"),
        {
            "unit": org.xuhui.pk,
            "title": "跨区支援",
            "start": local_input(hour(30)),
            "end": local_input(hour(34)),
            "people": org.bob.code,
            "supported_unit": "HP",
        },
    )
    assert r.status_code == 302
    assert Deployment.objects.get(title="跨区支援").supported_unit == org.huangpu
