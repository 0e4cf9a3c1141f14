"""Security hole 9 of issue 22 (existence probes): an ID number or staff number already in use tells the
user who has it only when they may see that person (and, for an ID number, that person's ID number);
otherwise the refusal names nobody and says nothing about where — on the web form, the API, the staff
register import and the bulk loader alike. Uniqueness still holds everywhere."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from muster.orgs.models import Person
from muster.orgs.services import person_create_many
from tests.conftest import make_id_number
from tests.tabular.helpers import PEOPLE_HEADERS, csv_data, person_row

OLD_ID = "已有其他人员使用该身份证号"  # the words that confirmed a number is in use somewhere
OLD_CODE = "已有其他人员使用工号"
NEUTRAL_ID = "该身份证号无法在此使用。如确认无误，请联系全局管理员。"
NEUTRAL_CODE = "工号 HP0001 无法在此使用。如确认无误，请联系全局管理员。"
CAROL = ("李娜", "HP0001", "黄浦")  # 黄浦: out of a 徐汇 grant's scope


@pytest.fixture
def manager(org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("xh_manager", "manager", org.xuhui))


def _form(**values: Any) -> dict[str, Any]:
    return {"political_status": "non_party", "employment_status": "active", **values}


def _no_carol(text: str) -> None:
    for word in CAROL:
        assert word not in text
    assert OLD_ID not in text


# ---------------------------------------------------------------- web form


def test_web_form_does_not_tell_where_an_id_number_is_used(org: Any, manager: Client) -> None:
    r = manager.post(
        "/people/new/", _form(code="XH0100", name="陈明", unit=org.xuhui.pk, id_number=org.carol.id_number)
    )
    page = r.content.decode()
    assert r.status_code == 200 and NEUTRAL_ID in page
    _no_carol(page)
    # editing someone in scope: the same neutral words
    r = manager.post(
        f"/people/{org.bob.pk}/edit/",
        _form(code="XH0002", name="王强", unit=org.xuhui_office.pk, id_number=org.carol.id_number),
    )
    page = r.content.decode()
    assert r.status_code == 200 and NEUTRAL_ID in page
    _no_carol(page)
    assert not Person.objects.filter(code="XH0100").exists()
    assert Person.objects.get(pk=org.bob.pk).id_number == ""


def test_web_form_names_a_holder_the_user_may_see(org: Any, manager: Client) -> None:
    r = manager.post(
        "/people/new/", _form(code="XH0100", name="陈明", unit=org.xuhui.pk, id_number=org.alice.id_number)
    )
    page = r.content.decode()
    assert r.status_code == 200 and "张丽 (XH0001) 已使用该身份证号。" in page
    assert not Person.objects.filter(code="XH0100").exists()


def test_web_form_staff_number_of_someone_out_of_scope(org: Any, manager: Client) -> None:
    r = manager.post("/people/new/", _form(code="HP0001", name="陈明", unit=org.xuhui.pk))
    page = r.content.decode()
    assert r.status_code == 200 and NEUTRAL_CODE in page
    assert OLD_CODE not in page and "李娜" not in page and "黄浦" not in page
    # in scope: the plain words, as before
    r = manager.post("/people/new/", _form(code="XH0002", name="陈明", unit=org.xuhui.pk))
    assert "已有其他人员使用工号 XH0002。" in r.content.decode()
    assert Person.objects.filter(code__in=["HP0001", "XH0002"]).count() == 2


# ---------------------------------------------------------------- API


def _post(c: Client, url: str, data: Any) -> Any:
    return c.post("/api/v1" + url, data, content_type="application/json")


def _patch(c: Client, url: str, data: Any) -> Any:
    return c.patch("/api/v1" + url, data, content_type="application/json")


def test_api_does_not_tell_where_an_id_number_is_used(org: Any, manager: Client) -> None:
    r = _post(
        manager, "/people", {"code": "XH0100", "name": "陈明", "unit": "XH", "id_number": org.carol.id_number}
    )
    assert r.status_code == 422 and r.json()["errors"]["id_number"] == [NEUTRAL_ID]
    _no_carol(str(r.json()))
    r = _patch(manager, "/people/XH0002", {"id_number": org.carol.id_number})
    assert r.status_code == 422 and r.json()["errors"]["id_number"] == [NEUTRAL_ID]
    r = _post(manager, "/people", {"code": "HP0001", "name": "陈明", "unit": "XH"})
    assert r.status_code == 422 and r.json()["errors"]["code"] == [NEUTRAL_CODE]
    # in scope: who has it
    r = _post(
        manager, "/people", {"code": "XH0100", "name": "陈明", "unit": "XH", "id_number": org.alice.id_number}
    )
    assert r.status_code == 422 and r.json()["errors"]["id_number"] == ["张丽 (XH0001) 已使用该身份证号。"]
    assert not Person.objects.filter(code="XH0100").exists()
    assert Person.objects.get(pk=org.bob.pk).id_number == ""


def test_a_visible_holder_whose_id_number_the_user_may_not_see(
    org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    """Managing a tax office and a mere member of the district: alice (徐汇) is visible, her ID is not."""
    user = make_user("office_manager", "manager", org.xuhui_office)
    from muster.orgs.access import SYSTEM
    from muster.orgs.services import role_grant

    role_grant(actor=SYSTEM, user=user, unit=org.xuhui, role="member")
    c = login(user)
    r = _post(
        c, "/people", {"code": "XH0100", "name": "陈明", "unit": "XH-S1", "id_number": org.alice.id_number}
    )
    assert r.status_code == 422 and r.json()["errors"]["id_number"] == [NEUTRAL_ID]
    assert "张丽" not in str(r.json())


# ---------------------------------------------------------------- staff register import


def _upload(c: Client, *rows: list[Any]) -> Any:
    f = io.BytesIO(csv_data([PEOPLE_HEADERS, *rows]))
    f.name = "people.csv"
    return c.post("/api/v1/roster/import", {"file": f})


def test_import_does_not_tell_where_a_number_is_used(org: Any, manager: Client) -> None:
    r = _upload(
        manager,
        person_row("XH0100", "陈明", "XH", id=org.carol.id_number),
        person_row("HP0001", "陈亮", "XH"),
        person_row("XH0101", "陈光", "XH", id=org.alice.id_number),
    )
    assert r.status_code == 422, r.content
    reasons = {(e["row"], e["column"]): e["reason"] for e in r.json()["errors"]}
    assert reasons == {
        (2, "身份证号"): "该身份证号无法在此使用；如确认无误，请联系全局管理员",
        (3, "工号"): "工号 HP0001 无法在此使用；如确认无误，请联系全局管理员",
        (4, "身份证号"): "张丽（XH0001）已使用该身份证号",
    }
    body = str(r.json())
    assert "李娜" not in body and OLD_ID not in body and OLD_CODE not in body
    assert not Person.objects.filter(code__in=["XH0100", "XH0101"]).exists()


def test_import_of_an_unused_id_number_still_works(org: Any, manager: Client) -> None:
    r = _upload(manager, person_row("XH0100", "陈明", "XH", id=make_id_number(seq="357")))
    assert r.status_code == 200, r.content
    assert Person.objects.get(code="XH0100").id_number == make_id_number(seq="357")


# ---------------------------------------------------------------- bulk loader (service)


def test_bulk_create_does_not_tell_where_a_number_is_used(org: Any, make_user: Callable[..., Any]) -> None:
    user = make_user("xh_bulk", "manager", org.xuhui)
    with pytest.raises(ValidationError) as exc:
        person_create_many(
            actor=user,
            people=[
                {"code": "XH0100", "name": "陈明", "unit": org.xuhui, "id_number": org.carol.id_number},
                {"code": "HP0001", "name": "陈亮", "unit": org.xuhui},
            ],
        )
    errors = exc.value.message_dict
    assert errors["XH0100: id_number"] == [
        "This ID number cannot be used here. If it is right, ask an administrator of the whole organization."
    ]
    assert errors["HP0001: code"] == [
        "The staff number HP0001 cannot be used here. If it is right, ask an administrator of the whole "
        "organization."
    ]
    assert "李娜" not in str(errors)
