"""People over the API: search filters, detail, create and change, personal data masking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person
from muster.orgs.services import person_create

from ..conftest import make_id_number
from .helpers import codes, get, patch, post


@pytest.fixture
def manager(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("xh-manager", "manager", world.org.xuhui))


@pytest.fixture
def boss(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("boss", is_superuser=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"XH0001", "XH0002", "HP0001", "JG0001"}),
        ("q=张", {"XH0001"}),
        ("q=xh000", {"XH0001", "XH0002"}),
        ("unit=XH", {"XH0001", "XH0002"}),
        ("unit=XH-S1", {"XH0002"}),
        ("unit=SH-DW", {"XH0001"}),  # the party tree: alice through her branch
        ("unit=SH", {"XH0001", "XH0002", "HP0001", "JG0001"}),
        ("political_status=member", {"XH0001"}),
        ("political_status=non_party", {"XH0002", "HP0001", "JG0001"}),
        ("employment_status=retired", set()),
        ("team=XH-T1", {"XH0001", "HP0001"}),
        ("team=HP-T1", {"XH0002"}),
        ("tag=青年", {"XH0001"}),
        ("unit=XH&political_status=member&team=XH-T1", {"XH0001"}),
    ],
)
def test_search_filters(boss: Client, query: str, expected: set[str]) -> None:
    body = get(boss, "/people?" + query).json()
    assert codes(body) == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize(("query", "field"), [("unit=NOPE", "unit"), ("team=NOPE", "team")])
def test_search_with_unknown_reference_is_422(boss: Client, query: str, field: str) -> None:
    r = get(boss, "/people?" + query)
    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]


def test_search_is_scoped_even_when_filtering(manager: Client) -> None:
    # The Xuhui team has a Huangpu member; a Xuhui manager filtering by the team still does not see her.
    assert codes(get(manager, "/people?team=XH-T1").json()) == {"XH0001"}
    assert get(manager, "/people?unit=HP").status_code == 422  # same answer as an unknown unit


def test_pagination_with_total(boss: Client, world: Any) -> None:
    for i in range(7):
        person_create(actor=SYSTEM, code=f"XH1{i:03d}", name=f"人员{i}", unit=world.org.xuhui_office)
    first = get(boss, "/people?unit=XH&page_size=4").json()
    second = get(boss, "/people?unit=XH&page_size=4&page=2").json()
    assert first["count"] == second["count"] == 9
    assert len(first["items"]) == 4 and len(second["items"]) == 4
    assert [p["code"] for p in first["items"]] == sorted(p["code"] for p in first["items"])
    assert not codes(first) & codes(second)


def test_detail(boss: Client) -> None:
    body = get(boss, "/people/XH0001").json()
    assert body["name"] == "张丽"
    assert body["unit"] == {"code": "XH", "name": "徐汇区税务局"}
    assert body["party_unit"] == {"code": "XH-B01", "name": "第一税务所党支部"}
    assert (body["gender"], body["political_status"], body["employment_status"]) == ("F", "member", "active")
    assert body["gender_label"] and body["political_status_label"] and body["employment_status_label"]
    assert body["tags"] == ["青年"]
    assert body["teams"] == [
        {
            "code": "XH-T1",
            "name": "税青逆行者",
            "role": "leader",
            "role_label": body["teams"][0]["role_label"],
        }
    ]


def test_detail_hides_out_of_scope_party_unit_and_teams(manager: Client) -> None:
    alice = get(manager, "/people/XH0001").json()
    assert alice["party_unit"] is None  # XH-B01 is in the party tree, outside a Xuhui grant
    bob = get(manager, "/people/XH0002").json()
    assert bob["teams"] == []  # bob's only team is in Huangpu


def test_party_secretary_sees_branch_members_only(
    world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    c = login(make_user("sec", "secretary", world.org.xuhui_branch))
    assert codes(get(c, "/people").json()) == {"XH0001"}
    alice = get(c, "/people/XH0001").json()
    assert alice["unit"] is None  # her administrative unit is outside the branch
    assert alice["party_unit"]["code"] == "XH-B01"
    assert alice["phone"] == "13812345678"  # a secretary may see phones and ID numbers
    assert get(c, "/people/XH0002").status_code == 404


def test_own_record_is_visible_and_unmasked(
    world: Any, make_user: Callable[..., Any], login: Callable
) -> None:
    user = make_user("alice")
    Person.objects.filter(code="XH0001").update(user=user)
    c = login(user)
    assert codes(get(c, "/people").json()) == {"XH0001"}
    body = get(c, "/people/XH0001").json()
    assert body["phone"] == "13812345678"
    assert body["phone_is_masked"] is False
    assert patch(c, "/people/XH0001", {"name": "x"}).status_code == 403


def test_create_person(manager: Client) -> None:
    id_number = make_id_number(birth="19850101", seq="357")
    r = post(
        manager,
        "/people",
        {
            "code": "XH0100",
            "name": "陈明",
            "unit": "XH-S1",
            "gender": "M",
            "birth_date": "1985-01-01",
            "political_status": "league",
            "phone": "139 1234 5678",
            "id_number": id_number.lower(),
            "tags": ["青年", "志愿者"],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["phone"] == "13912345678"
    assert body["id_number"] == id_number
    assert body["birth_date"] == "1985-01-01"
    assert sorted(body["tags"]) == ["志愿者", "青年"]
    person = Person.objects.get(code="XH0100")
    assert person.phone == "13912345678"
    assert person.unit.code == "XH-S1"
    event = AuditEvent.objects.filter(action="orgs.person.created").latest("id")
    assert event.channel == "api"
    assert id_number not in str(event.changes)  # audited masked


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"code": "XH0001", "name": "重复", "unit": "XH"}, {"code"}),
        (
            {"code": "XH0100", "name": "x", "unit": "XH", "id_number": make_id_number()[:-1] + "0"},
            {"id_number"},
        ),
        ({"code": "XH0100", "name": "x", "unit": "XH", "phone": "12345"}, {"phone"}),
        ({"code": "XH0100", "name": "x", "unit": "XH", "birth_date": "2022-02-30"}, {"birth_date"}),
        (
            {"code": "XH0100", "name": "x", "unit": "XH", "political_status": "anarchist"},
            {"political_status"},
        ),
        ({"code": "XH0100", "name": "x", "unit": "XH", "tags": "not-a-list"}, {"tags"}),
        ({"code": "XH0100", "name": "", "unit": "XH"}, {"name"}),
        ({"code": "XH0100", "name": "x"}, {"unit"}),
        (
            {"code": "", "name": "", "unit": "XH", "phone": "1", "id_number": "2"},
            {"code", "name", "phone", "id_number"},
        ),
    ],
)
def test_create_person_validation(manager: Client, data: dict[str, Any], fields: set[str]) -> None:
    before = (Person.objects.count(), AuditEvent.objects.count())
    r = post(manager, "/people", data)
    assert r.status_code == 422, r.content
    assert set(r.json()["errors"]) == fields
    assert (Person.objects.count(), AuditEvent.objects.count()) == before


def test_patch_person(manager: Client) -> None:
    r = patch(manager, "/people/XH0002", {"employment_status": "retired", "unit": "XH-S2", "tags": ["退休"]})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["employment_status"], body["unit"]["code"], body["tags"]) == ("retired", "XH-S2", ["退休"])
    bob = Person.objects.get(code="XH0002")
    assert (bob.employment_status, bob.unit.code, bob.phone) == ("retired", "XH-S2", "13900001111")


def test_patch_with_masked_values_keeps_stored_ones(world: Any, make_user: Callable, login: Callable) -> None:
    viewer_with_change = login(make_user("sec2", "secretary", world.org.xuhui))
    alice = Person.objects.get(code="XH0001")
    stored_id = alice.id_number
    r = patch(
        viewer_with_change, "/people/XH0001", {"phone": "138****5678", "id_number": alice.id_number_masked}
    )
    assert r.status_code == 200
    alice.refresh_from_db()
    assert (alice.phone, alice.id_number) == ("13812345678", stored_id)


def test_patch_can_clear_party_unit(boss: Client) -> None:
    r = patch(boss, "/people/XH0001", {"party_unit": None})
    assert r.status_code == 200
    assert r.json()["party_unit"] is None
    assert Person.objects.get(code="XH0001").party_unit is None


def test_patch_validation(manager: Client) -> None:
    r = patch(manager, "/people/XH0002", {"code": "XH0001", "unit": None})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"unit"}
    r = patch(manager, "/people/XH0002", {"code": "XH0001"})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"code"}
    assert Person.objects.filter(code="XH0002").exists()
