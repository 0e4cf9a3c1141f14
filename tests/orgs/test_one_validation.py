"""Security hole 7 (and part of 6) of issue 22: one validation for every entry point.

The same bad value sent through the API, the web form, the staff register import and the command line is
refused by the same rule with the same message, and nothing is written; what the API accepts exports and
imports back without an error.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from muster.orgs import services
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Team, Unit
from tests.conftest import make_id_number
from tests.tabular.helpers import PEOPLE_HEADERS, UNIT_HEADERS, person_row, xlsx

API = "/api/v1"
pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    """A manager of 徐汇: may change and import people and units there (pages and messages in Chinese)."""
    return login(make_user("xh-manager", "manager", org.xuhui))


def state() -> tuple[Any, ...]:
    """Everything these entry points could write."""
    return (
        list(Unit.objects.order_by("code").values_list("code", "name")),
        list(Person.objects.order_by("code").values_list("code", "name", "birth_date", "gender")),
        list(Team.objects.order_by("code").values_list("code", "name", "description")),
    )


def api_refusal(client: Client, method: str, url: str, body: dict[str, Any]) -> dict[str, list[str]]:
    before = state()
    r = getattr(client, method)(API + url, body, content_type="application/json")
    assert r.status_code == 422, r.content
    assert state() == before, "a refused request must write nothing"
    return r.json()["errors"]


def web_refusal(client: Client, url: str, data: dict[str, Any]) -> dict[str, list[str]]:
    before = state()
    r = client.post(url, data)
    assert r.status_code == 200, r.status_code  # the form again, with its errors
    assert state() == before, "a refused form must write nothing"
    return {k: list(v) for k, v in r.context["form"].errors.items()}


def import_refusal(client: Client, data: bytes, name: str = "roster.xlsx") -> dict[str, list[str]]:
    """The reasons of a refused staff register file, by column (through the API, not a dry run)."""
    before = state()
    f = io.BytesIO(data)
    f.name = name
    r = client.post(API + "/roster/import", {"file": f})
    assert r.status_code == 422, r.content
    assert state() == before, "a refused file must write nothing"
    out: dict[str, list[str]] = {}
    for e in r.json()["errors"]:
        out.setdefault(e["column"], []).append(e["reason"])
    return out


def person_form(org: Any, **over: Any) -> dict[str, Any]:
    data = {
        "code": "XH0901",
        "name": "陈明",
        "unit": org.xuhui.pk,
        "political_status": "non_party",
        "employment_status": "active",
        "gender": "",
        "birth_date": "",
        "id_number": "",
    }
    data.update(over)
    return data


def person_body(**over: Any) -> dict[str, Any]:
    body = {"code": "XH0901", "name": "陈明", "unit": "XH"}
    body.update(over)
    return body


def _cell(value: Any) -> Any:
    """A cell as a workbook carries a control character: escaped ``_xHHHH_`` (as Excel writes it)."""
    if not isinstance(value, str):
        return value
    return re.sub("[\x00-\x1f\x7f-\x9f]", lambda m: f"_x{ord(m.group()):04X}_", value)


def people_book(*rows: list[Any]) -> bytes:
    return xlsx({"人员": [PEOPLE_HEADERS, *([_cell(v) for v in row] for row in rows)]})


def units_book(*rows: list[Any]) -> bytes:
    return xlsx({"单位": [UNIT_HEADERS, *([_cell(v) for v in row] for row in rows)]})


# ---------------------------------------------------------------- text: control characters


@pytest.mark.parametrize(
    ("bad", "char"),
    [("张\x00三", "U+0000"), ("张\x1b三", "U+001B"), ("张\x7f三", "U+007F"), ("张\x85三", "U+0085")],
)
def test_a_control_character_in_a_name_is_refused_everywhere_alike(
    org: Any, manager: Client, bad: str, char: str
) -> None:
    message = f"名称含有控制字符（{char}），不允许使用。"  # names the field: 名称 (name)
    assert api_refusal(manager, "post", "/people", person_body(name=bad)) == {"name": [message]}
    assert web_refusal(manager, reverse("web:person_create"), person_form(org, name=bad)) == {
        "name": [message]
    }
    assert import_refusal(manager, people_book(person_row("XH0901", bad, "XH"))) == {"姓名": [message]}
    with translation.override("en"), pytest.raises(ValidationError) as exc:  # the service itself
        services.person_create(actor=SYSTEM, code="XH0901", name=bad, unit=org.xuhui)
    assert exc.value.message_dict == {
        "name": [f"Name contains a control character ({char}), which is not allowed."]
    }


def test_a_control_character_in_a_unit_or_a_team_is_refused_everywhere_alike(
    org: Any, manager: Client
) -> None:
    message = "名称含有控制字符（U+0001），不允许使用。"
    assert api_refusal(
        manager,
        "post",
        "/units",
        {"code": "XH-S9", "name": "第九\x01所", "kind": "tax_office", "parent": "XH"},
    ) == {"name": [message]}
    add_child = reverse("web:unit_add_child", args=[org.xuhui.pk])
    assert web_refusal(manager, add_child, {"code": "XH-S9", "name": "第九\x01所", "kind": "tax_office"}) == {
        "name": [message]
    }
    units = units_book(["XH-S9", "第九\x01所", "XH", "税务所"])
    assert import_refusal(manager, units) == {"名称": [message]}

    team = {"code": "XH-T9", "name": "突击\x01队", "unit": "XH"}
    assert api_refusal(manager, "post", "/teams", team) == {"name": [message]}
    form = {"code": "XH-T9", "name": "突击\x01队", "kind": "volunteer", "unit": org.xuhui.pk}
    assert web_refusal(manager, reverse("web:team_create"), form) == {"name": [message]}
    # A multi-line description keeps its line breaks and tabs, and refuses the other control characters.
    described = {"code": "XH-T9", "name": "突击队", "unit": "XH", "description": "一\n二\t三\x07"}
    assert api_refusal(manager, "post", "/teams", described) == {
        "description": ["说明含有控制字符（U+0007），不允许使用。"]
    }
    r = manager.post(
        API + "/teams",
        {"code": "XH-T9", "name": "突击\t队", "unit": "XH", "description": "一\n二\t三"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert Team.objects.filter(code="XH-T9").values_list("name", "description").get() == (
        "突击 队",
        "一\n二\t三",
    )


def test_a_lone_surrogate_gets_422_naming_the_field_not_500(org: Any, manager: Client) -> None:
    """'\\ud800' in a team name made the database layer fail (500). The web form cannot even carry one."""
    message = "名称含有无效字符（U+D800），不允许使用。"
    assert api_refusal(manager, "post", "/teams", {"code": "XH-T9", "name": "\ud800", "unit": "XH"}) == {
        "name": [message]
    }
    assert api_refusal(manager, "patch", "/teams/XH-T1", {"name": "税青\udfff"}) == {
        "name": ["名称含有无效字符（U+DFFF），不允许使用。"]
    }
    assert api_refusal(manager, "post", "/people", person_body(tags=["青年", "\ud83d"])) == {
        "tags.1": ["标签含有无效字符（U+D83D），不允许使用。"]
    }
    with pytest.raises(ValidationError) as exc:
        services.team_create(actor=SYSTEM, code="XH-T9", name="\ud800", unit=org.xuhui)
    assert list(exc.value.message_dict) == ["name"]
    # A form posts UTF-8: the encoded surrogate arrives as replacement characters, never as a 500.
    r = manager.post(
        reverse("web:team_create"),
        b"code=XH-T9&kind=volunteer&unit=%d&name=%%ED%%A0%%80" % org.xuhui.pk,
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code in (200, 302)


def test_a_control_character_in_a_path_or_query_parameter_is_a_422(org: Any, manager: Client) -> None:
    """A NUL in a code of the path or a filter reached the database (where PostgreSQL failed with a 500)."""
    r = manager.get(API + "/people/XH%000001")
    assert r.status_code == 422
    assert r.json()["errors"] == {"code": ["代码含有控制字符（U+0000），不允许使用。"]}
    r = manager.get(API + "/people", {"q": "张\x00"})
    assert r.status_code == 422 and list(r.json()["errors"]) == ["q"]
    assert manager.get(API + "/people", {"q": "张"}).status_code == 200


# ---------------------------------------------------------------- codes


def test_a_code_outside_the_code_pattern_is_refused_everywhere_alike(org: Any, manager: Client) -> None:
    message = "代码只能包含字母、数字、连字符（-）、下划线（_）和点（.）。"
    for bad in ("XH/0901", "XH 0901", "XH,0901"):
        assert api_refusal(manager, "post", "/people", person_body(code=bad)) == {"code": [message]}
        assert web_refusal(manager, reverse("web:person_create"), person_form(org, code=bad)) == {
            "code": [message]
        }
        assert import_refusal(manager, people_book(person_row(bad, "陈明", "XH"))) == {"工号": [message]}
    add_child = reverse("web:unit_add_child", args=[org.xuhui.pk])
    assert api_refusal(
        manager, "post", "/units", {"code": "XH S9", "name": "第九所", "kind": "tax_office", "parent": "XH"}
    ) == {"code": [message]}
    assert web_refusal(manager, add_child, {"code": "XH S9", "name": "第九所", "kind": "tax_office"}) == {
        "code": [message]
    }
    units = units_book(["XH S9", "第九所", "XH", "税务所"])
    assert import_refusal(manager, units) == {"编码": [message]}
    assert api_refusal(manager, "post", "/teams", {"code": "XH;T9", "name": "突击队", "unit": "XH"}) == {
        "code": [message]
    }
    assert api_refusal(
        manager, "post", "/partners", {"code": "XH P9", "name": "社区", "kind": "community", "unit": "XH"}
    ) == {"code": [message]}
    # Full-width letters and digits are the same code (normalized), and Chinese letters are letters.
    r = manager.post(API + "/people", person_body(code="ＸＨ０９０１"), content_type="application/json")
    assert r.status_code == 201 and r.json()["code"] == "XH0901"


def test_an_unchanged_legacy_code_does_not_block_other_changes(org: Any, manager: Client) -> None:
    """Rules apply to what changes: a person whose stored staff number predates the pattern stays editable."""
    Person.objects.filter(pk=org.bob.pk).update(code="XH 0002")
    r = manager.patch(API + "/people/XH 0002", {"name": "王刚"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert Person.objects.get(pk=org.bob.pk).name == "王刚"


# ---------------------------------------------------------------- ID numbers


def test_an_id_number_must_agree_with_the_birth_date_and_gender_everywhere_alike(
    org: Any, manager: Client
) -> None:
    id_number = make_id_number(birth="19900307", seq="135")  # a man born 1990-03-07
    birth_message = "身份证号显示的出生日期为 1990-03-07"
    api = api_refusal(manager, "post", "/people", person_body(id_number=id_number, birth_date="1980-01-01"))
    web = web_refusal(
        manager, reverse("web:person_create"), person_form(org, id_number=id_number, birth_date="1980-01-01")
    )
    imported = import_refusal(
        manager, people_book(person_row("XH0901", "陈明", "XH", id=id_number, birth="1980-01-01"))
    )
    assert api == web == {"birth_date": [birth_message]}
    assert imported == {"出生日期": [birth_message]}

    gender_message = "身份证号显示的性别为男"
    api = api_refusal(manager, "post", "/people", person_body(id_number=id_number, gender="F"))
    web = web_refusal(
        manager, reverse("web:person_create"), person_form(org, id_number=id_number, gender="F")
    )
    imported = import_refusal(
        manager, people_book(person_row("XH0901", "陈明", "XH", id=id_number, gender="女"))
    )
    assert api == web == {"gender": [gender_message]}
    assert imported == {"性别": [gender_message]}

    # A change of the birth date alone is checked against the stored ID number (as the import does).
    assert api_refusal(manager, "patch", "/people/XH0001", {"birth_date": "1991-01-01"}) == {
        "birth_date": [birth_message]
    }
    # Agreeing values are accepted.
    r = manager.post(
        API + "/people",
        person_body(id_number=id_number, birth_date="1990-03-07", gender="M"),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content


def test_an_invalid_id_number_or_birth_date_gets_the_importers_message(org: Any, manager: Client) -> None:
    good = make_id_number(seq="135")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    message = f"校验码应为 {good[-1]}，而不是 {bad[-1]}"
    assert api_refusal(manager, "post", "/people", person_body(id_number=bad)) == {"id_number": [message]}
    assert web_refusal(manager, reverse("web:person_create"), person_form(org, id_number=bad)) == {
        "id_number": [message]
    }
    assert import_refusal(manager, people_book(person_row("XH0901", "陈明", "XH", id=bad))) == {
        "身份证号": [message]
    }
    future = "2999-01-01"
    api = api_refusal(manager, "post", "/people", person_body(birth_date=future))
    web = web_refusal(manager, reverse("web:person_create"), person_form(org, birth_date=future))
    imported = import_refusal(manager, people_book(person_row("XH0901", "陈明", "XH", birth=future)))
    assert api == web == {"birth_date": [imported["出生日期"][0]]}
    assert api_refusal(manager, "post", "/people", person_body(birth_date="0001-01-01"))["birth_date"] == [
        import_refusal(manager, people_book(person_row("XH0901", "陈明", "XH", birth="1800-01-01")))[
            "出生日期"
        ][0]
    ]


# ---------------------------------------------------------------- the command line


def test_the_command_line_import_gives_the_same_message(org: Any, tmp_path: Any) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(people_book(person_row("XH0901", "张\x00三", "XH")))
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("import", str(path), stdout=io.StringIO(), stderr=err)
    assert "Name contains a control character (U+0000), which is not allowed." in err.getvalue()
    assert not Person.objects.filter(code="XH0901").exists()


# ---------------------------------------------------------------- round trip


def test_what_the_api_accepts_exports_and_imports_back(org: Any, manager: Client) -> None:
    """A person created through the API with an ID number and a birth date, and text the import would fold
    (a tab, full-width letters), re-imports from the staff register export without a single error."""
    id_number = make_id_number(birth="19851120", seq="131")
    r = manager.post(
        API + "/people",
        {
            "code": "XH0901",
            "name": "陈\t明",
            "unit": "XH-S1",
            "gender": "M",
            "birth_date": "1985-11-20",
            "id_number": id_number,
            "phone": "138 1111 2222",
            "tags": ["青年", "骨干"],
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    for fmt in ("csv", "xlsx"):
        exported = manager.get(API + "/roster/export", {"format": fmt, "unit": "XH"})
        assert exported.status_code == 200
        f = io.BytesIO(exported.content)
        f.name = f"roster.{fmt}"
        back = manager.post(API + "/roster/import?dry_run=true", {"file": f})
        assert back.status_code == 200, back.content
        assert back.json()["people_created"] == back.json()["people_updated"] == 0
    assert Person.objects.get(code="XH0901").name == "陈 明"
