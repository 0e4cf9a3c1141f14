"""Units over the API: list filters, pagination, detail with head-counts, create, change, move."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from muster.audit.models import AuditEvent
from muster.orgs.models import Unit, UnitKind

from .helpers import codes, get, patch, post


@pytest.fixture
def boss(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    """A superuser: sees both trees whole."""
    return login(make_user("boss", is_superuser=True))


@pytest.fixture
def xh_admin(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("xh-admin", "admin", world.org.xuhui))


def test_list_filters_by_tree(boss: Client) -> None:
    admin = get(boss, "/units?tree=admin&page_size=100").json()
    party = get(boss, "/units?tree=party&page_size=100").json()
    assert codes(admin) == {"SH", "SH-JG", "XH", "XH-S1", "XH-S2", "HP"}
    assert codes(party) == {"SH-DW", "XH-DW", "XH-B01", "HP-DW"}
    assert {u["tree"] for u in admin["items"]} == {"admin"}
    assert {u["tree"] for u in party["items"]} == {"party"}
    everything = get(boss, "/units?page_size=100").json()
    assert everything["count"] == 10


def test_list_filters_by_parent_and_text(boss: Client) -> None:
    assert codes(get(boss, "/units?parent=SH").json()) == {"SH-JG", "XH", "HP"}
    assert codes(get(boss, "/units?parent=XH-DW").json()) == {"XH-B01"}
    assert codes(get(boss, "/units?q=黄浦").json()) == {"HP", "HP-DW"}
    assert codes(get(boss, "/units?q=xh-s").json()) == {"XH-S1", "XH-S2"}
    r = get(boss, "/units?parent=NOPE")
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["parent"]


def test_list_is_in_tree_order_with_parent_codes(boss: Client) -> None:
    items = get(boss, "/units?tree=admin&page_size=100").json()["items"]
    assert [u["code"] for u in items] == ["SH", "SH-JG", "XH", "XH-S1", "XH-S2", "HP"]
    parents = {u["code"]: u["parent"] for u in items}
    assert parents == {"SH": None, "SH-JG": "SH", "XH": "SH", "XH-S1": "XH", "XH-S2": "XH", "HP": "SH"}


def test_pagination(boss: Client) -> None:
    first = get(boss, "/units?page_size=3").json()
    second = get(boss, "/units?page_size=3&page=2").json()
    last = get(boss, "/units?page_size=3&page=4").json()
    beyond = get(boss, "/units?page_size=3&page=5").json()
    assert first["count"] == second["count"] == last["count"] == beyond["count"] == 10
    assert (first["page"], first["page_size"]) == (1, 3)
    assert len(first["items"]) == len(second["items"]) == 3
    assert len(last["items"]) == 1
    assert beyond["items"] == []
    pages = [get(boss, f"/units?page_size=3&page={n}").json()["items"] for n in (1, 2, 3, 4)]
    all_codes = [u["code"] for page in pages for u in page]
    assert len(all_codes) == len(set(all_codes)) == 10


@pytest.mark.parametrize("query", ["page=0", "page_size=0", "page_size=501", "page=x", "tree=other"])
def test_bad_list_parameters_are_422(boss: Client, query: str) -> None:
    r = get(boss, "/units?" + query)
    assert r.status_code == 422
    field = query.split("=")[0]
    assert list(r.json()["errors"]) == [field]


def test_detail_has_children_and_head_counts(boss: Client) -> None:
    body = get(boss, "/units/XH").json()
    assert body["parent"] == "SH"
    assert body["children"] == ["XH-S1", "XH-S2"]
    assert body["counts"] == {
        "people_direct": 1,  # alice
        "people_subtree": 2,  # alice, bob
        "active_subtree": 2,
        "members_subtree": 1,  # alice is a party member
        "teams_subtree": 1,
        "children": 2,
    }
    party = get(boss, "/units/XH-DW").json()
    assert party["tree"] == "party"
    assert party["counts"]["people_subtree"] == 1  # alice, through her branch


def test_choice_labels_follow_the_language(boss: Client) -> None:
    boss.cookies["django_language"] = "en"
    assert get(boss, "/units/XH").json()["kind_label"] == "District bureau"
    boss.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        expected = str(UnitKind.DISTRICT_BUREAU.label)
    assert get(boss, "/units/XH").json()["kind_label"] == expected
    assert get(boss, "/units/XH").json()["kind"] == "district_bureau"


def test_parent_out_of_scope_is_hidden(xh_admin: Client) -> None:
    body = get(xh_admin, "/units/XH").json()
    assert body["parent"] is None  # SH is outside a Xuhui grant
    assert get(xh_admin, "/units/XH-S1").json()["parent"] == "XH"


def test_create_unit(xh_admin: Client) -> None:
    r = post(
        xh_admin, "/units", {"code": "ＸＨ-S3 ", "name": " 徐汇三所", "kind": "tax_office", "parent": "XH"}
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["code"], body["name"], body["parent"], body["children"]) == ("XH-S3", "徐汇三所", "XH", [])
    unit = Unit.objects.get(code="XH-S3")
    assert unit.get_parent().code == "XH"
    event = AuditEvent.objects.filter(action="orgs.unit.created").latest("id")
    assert event.actor_name == "xh-admin"
    assert event.channel == "api"


def test_create_root_needs_a_superuser(xh_admin: Client, boss: Client) -> None:
    data = {"code": "NEW", "name": "新根", "kind": "city_bureau", "parent": None}
    assert post(xh_admin, "/units", data).status_code == 403
    assert post(boss, "/units", data).status_code == 201
    assert Unit.objects.get(code="NEW").depth == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "XH", "name": "重复", "kind": "tax_office", "parent": "XH"}, "code"),
        ({"code": "XH-S8", "name": "  ", "kind": "tax_office", "parent": "XH"}, "name"),
        ({"code": "XH-S8", "name": "x", "kind": "spaceship", "parent": "XH"}, "kind"),
        ({"code": "XH-S8", "name": "x", "kind": "branch", "parent": "XH"}, "parent"),
        ({"code": "XH-S8", "name": "x", "kind": "tax_office", "parent": "NOPE"}, "parent"),
        ({"name": "x", "kind": "tax_office", "parent": "XH"}, "code"),
    ],
)
def test_create_unit_validation(xh_admin: Client, data: dict[str, Any], field: str) -> None:
    before = Unit.objects.count()
    r = post(xh_admin, "/units", data)
    assert r.status_code == 422, r.content
    body = r.json()
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == [field]
    assert all(isinstance(m, str) and m for m in body["errors"][field])
    assert Unit.objects.count() == before


def test_patch_unit_changes_only_given_fields(xh_admin: Client) -> None:
    r = patch(xh_admin, "/units/XH-S1", {"short_name": "一所"})
    assert r.status_code == 200
    unit = Unit.objects.get(code="XH-S1")
    assert (unit.short_name, unit.name) == ("一所", "徐汇区税务局第一税务所")
    r = patch(xh_admin, "/units/XH-S1", {"code": "XH-S2"})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["code"]
    r = patch(xh_admin, "/units/XH-S1", {"code": "XH-SA", "is_active": False})
    assert r.status_code == 200
    assert (r.json()["code"], r.json()["is_active"]) == ("XH-SA", False)


def test_move_unit(xh_admin: Client) -> None:
    r = post(xh_admin, "/units/XH-S1/move", {"parent": "XH-S2"})
    assert r.status_code == 200, r.content
    assert r.json()["parent"] == "XH-S2"
    assert get(xh_admin, "/units/XH-S2").json()["children"] == ["XH-S1"]
    assert AuditEvent.objects.filter(action="orgs.unit.moved").count() == 1


def test_move_into_own_subtree_is_refused(xh_admin: Client) -> None:
    r = post(xh_admin, "/units/XH/move", {"parent": "XH-S1"})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["parent"]
    assert Unit.objects.get(code="XH-S1").get_parent().code == "XH"


def test_move_across_trees_is_refused(boss: Client) -> None:
    r = post(boss, "/units/XH-S1/move", {"parent": "XH-DW"})
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["parent"]


def test_unknown_unit_is_404(boss: Client) -> None:
    for r in (get(boss, "/units/NOPE"), patch(boss, "/units/NOPE", {"name": "x"})):
        assert r.status_code == 404
        assert set(r.json()) == {"detail"}
