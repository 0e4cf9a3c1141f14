"""The API permission matrix: every role × in-scope / out-of-scope × read / write, with exact status codes.

Each role is granted on 徐汇 (XH); "in scope" is XH's subtree, "out of scope" is everything else (黄浦,
the bureau organ, the party tree). Expectations are derived from ``ROLE_PERMS``, the single truth:
out-of-scope objects are 404 (or, when named in a request body or filter, the same 422 as an unknown
code), visible-but-not-allowed is 403, and lists never contain an out-of-scope object.

The organization (``org`` + ``world``) is built once for the module, in a transaction rolled back after
it; each test runs in its own savepoint inside it (``db``), so what a test writes is undone before the
next, as with a per-test ``world`` (whose building was a quarter of the module's time).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import openpyxl
import pytest
from django.db import transaction
from django.test import Client

from muster.audit.models import AuditEvent
from muster.orgs.access import ROLE_PERMS, Perm
from muster.orgs.models import Partner, Person, Team, TeamMembership, Unit
from tests.conftest import build_org

from .conftest import World, build_world
from .helpers import API, IN_SCOPE, OUT_OF_SCOPE, get, patch, post, strings

ROLES = ["admin", "manager", "secretary", "leader", "member", "viewer", None]  # None: logged in, no grant


def perms_of(role: str | None) -> frozenset[Perm]:
    return ROLE_PERMS[role] if role else frozenset()


@pytest.fixture(scope="module")
def _world_of_the_module(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
    try:
        with django_db_blocker.unblock():
            yield build_world(build_org())
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(_world_of_the_module: World, db: None) -> World:
    """The module's organization; the test's writes are rolled back after it (``db``)."""
    return _world_of_the_module


@pytest.fixture(params=ROLES, ids=lambda r: r or "no-grant")
def role(request: pytest.FixtureRequest) -> str | None:
    return request.param


@pytest.fixture
def as_role(
    world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client], role: str | None
) -> Client:
    user = make_user("u", role, world.org.xuhui) if role else make_user("u")
    return login(user)


def read_expect(perms: frozenset[Perm]) -> int:
    return 200 if Perm.VIEW in perms else 404


def write_expect(perms: frozenset[Perm], ok: int) -> int:
    """A write on an object the user names by URL: allowed, visible-but-not-allowed, or not found."""
    if Perm.CHANGE in perms:
        return ok
    return 403 if Perm.VIEW in perms else 404


def create_expect(perms: frozenset[Perm]) -> int:
    """A create whose unit is named in the body: an invisible unit is the same 422 as an unknown one."""
    if Perm.CHANGE in perms:
        return 201
    return 403 if Perm.VIEW in perms else 422


# ------------------------------------------------------------------ reads

IN_DETAILS = ["/units/XH-S1", "/people/XH0002", "/teams/XH-T1", "/partners/XH-P1"]
OUT_DETAILS = [
    "/units/HP",
    "/units/SH",
    "/units/XH-B01",
    "/people/HP0001",
    "/people/JG0001",
    "/teams/HP-T1",
    "/partners/HP-P1",
]


@pytest.mark.parametrize("url", IN_DETAILS)
def test_read_in_scope(as_role: Client, role: str | None, url: str) -> None:
    r = get(as_role, url)
    assert r.status_code == read_expect(perms_of(role)), r.content
    if r.status_code == 200:
        assert r.json()["code"] == url.rsplit("/", 1)[1]


def test_read_out_of_scope_is_404(as_role: Client) -> None:
    for url in OUT_DETAILS:
        r = get(as_role, url)
        assert r.status_code == 404, url
        # The same answer as for an object that does not exist.
        missing = get(as_role, url.rsplit("/", 1)[0] + "/NO-SUCH-CODE")
        assert missing.status_code == 404
        assert r.json() == missing.json(), url


@pytest.mark.parametrize(
    ("url", "expected_in_scope"),
    [
        ("/units?page_size=500", {"XH", "XH-S1", "XH-S2"}),
        ("/people?page_size=500", {"XH0001", "XH0002"}),
        ("/teams?page_size=500", {"XH-T1"}),
        ("/partners?page_size=500", {"XH-P1"}),
    ],
)
def test_lists_hold_exactly_the_scope(
    as_role: Client, role: str | None, url: str, expected_in_scope: set[str]
) -> None:
    r = get(as_role, url)
    assert r.status_code == 200
    body = r.json()
    got = {item["code"] for item in body["items"]}
    expected = expected_in_scope if Perm.VIEW in perms_of(role) else set()
    assert got == expected
    assert body["count"] == len(expected)


# ------------------------------------------------------------------ personal data


def test_personal_data_masked_per_role(as_role: Client, role: str | None) -> None:
    perms = perms_of(role)
    r = get(as_role, "/people/XH0001")
    assert r.status_code == read_expect(perms)
    if r.status_code != 200:
        return
    alice = Person.objects.get(code="XH0001")
    listed = next(p for p in get(as_role, "/people?q=XH0001").json()["items"] if p["code"] == "XH0001")
    for body in (r.json(), listed):
        if Perm.VIEW_PHONE in perms:
            assert body["phone"] == alice.phone == "13812345678"
            assert body["phone_is_masked"] is False
        else:
            assert body["phone"] == "138****5678"
            assert body["phone_is_masked"] is True
        if Perm.VIEW_ID in perms:
            assert body["id_number"] == alice.id_number
            assert body["id_number_is_masked"] is False
        else:
            masked = alice.id_number[:2] + "*" * 15 + alice.id_number[-1:]
            assert body["id_number"] == alice.id_number_masked == masked
            assert body["id_number_is_masked"] is True
    # The raw values never appear anywhere in the document when masked.
    text = r.content.decode()
    assert ("13812345678" in text) == (Perm.VIEW_PHONE in perms)
    assert (alice.id_number in text) == (Perm.VIEW_ID in perms)


# ------------------------------------------------------------------ writes, in scope


def test_patch_unit_in_scope(as_role: Client, role: str | None) -> None:
    r = patch(as_role, "/units/XH-S1", {"name": "徐汇一所"})
    expected = write_expect(perms_of(role), 200)
    assert r.status_code == expected, r.content
    assert (Unit.objects.get(code="XH-S1").name == "徐汇一所") == (expected == 200)


def test_create_unit_in_scope(as_role: Client, role: str | None) -> None:
    r = post(as_role, "/units", {"code": "XH-S9", "name": "新所", "kind": "tax_office", "parent": "XH"})
    expected = create_expect(perms_of(role))
    assert r.status_code == expected, r.content
    assert Unit.objects.filter(code="XH-S9").exists() == (expected == 201)


def test_move_unit_in_scope(as_role: Client, role: str | None) -> None:
    r = post(as_role, "/units/XH-S1/move", {"parent": "XH-S2"})
    expected = write_expect(perms_of(role), 200)
    assert r.status_code == expected, r.content
    moved = Unit.objects.get(code="XH-S1").path.startswith(Unit.objects.get(code="XH-S2").path)
    assert moved == (expected == 200)


def test_patch_person_in_scope(as_role: Client, role: str | None) -> None:
    r = patch(as_role, "/people/XH0002", {"name": "王刚"})
    expected = write_expect(perms_of(role), 200)
    assert r.status_code == expected, r.content
    assert (Person.objects.get(code="XH0002").name == "王刚") == (expected == 200)


def test_create_person_in_scope(as_role: Client, role: str | None) -> None:
    r = post(as_role, "/people", {"code": "XH0099", "name": "新人", "unit": "XH-S1"})
    expected = create_expect(perms_of(role))
    assert r.status_code == expected, r.content
    assert Person.objects.filter(code="XH0099").exists() == (expected == 201)


def test_patch_team_in_scope(as_role: Client, role: str | None) -> None:
    r = patch(as_role, "/teams/XH-T1", {"description": "逆行"})
    expected = write_expect(perms_of(role), 200)
    assert r.status_code == expected, r.content
    assert (Team.objects.get(code="XH-T1").description == "逆行") == (expected == 200)


def test_create_team_in_scope(as_role: Client, role: str | None) -> None:
    r = post(as_role, "/teams", {"code": "XH-T9", "name": "青年突击队", "unit": "XH", "kind": "youth"})
    expected = create_expect(perms_of(role))
    assert r.status_code == expected, r.content
    assert Team.objects.filter(code="XH-T9").exists() == (expected == 201)


def test_add_team_member_in_scope(as_role: Client, role: str | None) -> None:
    r = post(as_role, "/teams/XH-T1/members", {"person": "XH0002", "role": "member"})
    expected = write_expect(perms_of(role), 200)
    assert r.status_code == expected, r.content
    added = TeamMembership.objects.filter(team__code="XH-T1", person__code="XH0002").exists()
    assert added == (expected == 200)


def test_remove_team_member_in_scope(as_role: Client, role: str | None) -> None:
    r = as_role.delete(API + "/teams/XH-T1/members/XH0001")
    expected = write_expect(perms_of(role), 204)
    assert r.status_code == expected, r.content
    still = TeamMembership.objects.filter(team__code="XH-T1", person__code="XH0001").exists()
    assert still == (expected != 204)


def test_create_partner_in_scope(as_role: Client, role: str | None) -> None:
    r = post(
        as_role, "/partners", {"code": "XH-P9", "name": "徐家汇街道", "kind": "subdistrict", "unit": "XH"}
    )
    expected = create_expect(perms_of(role))
    assert r.status_code == expected, r.content
    assert Partner.objects.filter(code="XH-P9").exists() == (expected == 201)


# ------------------------------------------------------------------ writes, out of scope


OUT_WRITES = [
    ("patch", "/units/HP", {"name": "x"}),
    ("post", "/units/HP/move", {"parent": "XH"}),
    ("patch", "/people/HP0001", {"name": "x"}),
    ("patch", "/people/JG0001", {"name": "x"}),
    ("patch", "/teams/HP-T1", {"name": "x"}),
    ("post", "/teams/HP-T1/members", {"person": "XH0002"}),
    ("delete", "/teams/HP-T1/members/XH0002", None),
    # Carol (黄浦) is in the Xuhui team, but a Xuhui grant does not see her: not found, not removable.
    ("delete", "/teams/XH-T1/members/HP0001", None),
]


def test_write_out_of_scope_is_404(as_role: Client) -> None:
    before = AuditEvent.objects.count()
    for method, url, data in OUT_WRITES:
        if method == "delete":
            r = as_role.delete(API + url)
        else:
            r = getattr(as_role, method)(API + url, data, content_type="application/json")
        assert r.status_code == 404, (method, url, r.content)
    assert AuditEvent.objects.count() == before
    assert Unit.objects.get(code="HP").name == "黄浦区税务局"
    assert Unit.objects.get(code="HP").get_parent().code == "SH"
    assert Person.objects.get(code="HP0001").name == "李娜"
    assert Person.objects.get(code="JG0001").name == "赵伟"
    assert Team.objects.get(code="HP-T1").name == "抗疫急先锋"
    assert TeamMembership.objects.filter(team__code="XH-T1", person__code="HP0001").exists()
    assert TeamMembership.objects.filter(team__code="HP-T1", person__code="XH0002").exists()


OUT_CREATES = [
    ("/units", {"code": "HP-S9", "name": "x", "kind": "tax_office", "parent": "HP"}, "parent"),
    ("/people", {"code": "HP0099", "name": "x", "unit": "HP"}, "unit"),
    ("/people", {"code": "XH0098", "name": "x", "unit": "XH", "party_unit": "HP-DW"}, "party_unit"),
    ("/teams", {"code": "HP-T9", "name": "x", "unit": "HP"}, "unit"),
    ("/partners", {"code": "HP-P9", "name": "x", "kind": "community", "unit": "HP"}, "unit"),
]


def test_create_out_of_scope_is_unknown_unit(as_role: Client, role: str | None) -> None:
    """Naming an out-of-scope unit in a body is the same 422 as naming one that does not exist."""
    before = AuditEvent.objects.count()
    for url, data, field in OUT_CREATES:
        r = post(as_role, url, data)
        unknown = post(as_role, url, {**data, field: "NO-SUCH-UNIT"})
        assert r.status_code == unknown.status_code == 422, (url, data, r.content)
        errors = r.json()["errors"]
        if Perm.VIEW in perms_of(role):
            assert list(errors) == [field], (url, data)
        else:  # the body's other unit is out of scope too
            assert field in errors, (url, data)
        same = unknown.json()["errors"][field][0].replace("NO-SUCH-UNIT", "?")
        assert errors[field][0].replace(data[field], "?") == same
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/units/XH-S1/move", {"parent": "HP"}, "parent"),
        ("/people/XH0002", {"unit": "HP"}, "unit"),
        ("/teams/XH-T1/members", {"person": "HP0001"}, "person"),
    ],
)
def test_write_in_scope_naming_out_of_scope(
    as_role: Client, role: str | None, url: str, data: Any, field: str
) -> None:
    method = patch if url.startswith("/people") else post
    r = method(as_role, url, data)
    if Perm.VIEW not in perms_of(role):
        assert r.status_code == 404
    else:
        assert r.status_code == 422, r.content
        assert list(r.json()["errors"]) == [field]
    assert Person.objects.get(code="XH0002").unit.code == "XH-S1"
    assert Unit.objects.get(code="XH-S1").get_parent().code == "XH"


# ------------------------------------------------------------------ import / export


def _register_csv(unit_code: str, person_code: str) -> bytes:
    rows = [["工号", "姓名", "单位编码"], [person_code, "导入人员", unit_code]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _upload(client: Client, data: bytes, name: str = "roster.csv", dry_run: bool = False) -> Any:
    f = io.BytesIO(data)
    f.name = name
    url = API + "/roster/import" + ("?dry_run=true" if dry_run else "")
    return client.post(url, {"file": f})


def test_import_in_scope(as_role: Client, role: str | None) -> None:
    r = _upload(as_role, _register_csv("XH-S1", "XH0777"))
    allowed = Perm.IMPORT in perms_of(role)
    assert r.status_code == (200 if allowed else 403), r.content
    assert Person.objects.filter(code="XH0777").exists() == allowed


def test_import_out_of_scope(as_role: Client, role: str | None) -> None:
    """An importer of 徐汇 cannot place people in 黄浦: refused with a row error, nothing written."""
    r = _upload(as_role, _register_csv("HP", "HP0777"))
    if Perm.IMPORT not in perms_of(role):
        assert r.status_code == 403
    else:
        assert r.status_code == 422, r.content
        errors = r.json()["errors"]
        assert errors and any(e["value"] == "HP" for e in errors)
    assert not Person.objects.filter(code="HP0777").exists()


def test_export_in_scope(as_role: Client, role: str | None) -> None:
    perms = perms_of(role)
    r = as_role.get(API + "/roster/export", {"format": "csv", "unit": "XH"})
    if Perm.IMPORT in perms:
        assert r.status_code == 200
        assert "attachment" in r["Content-Disposition"]
        text = r.content.decode("utf-8-sig")
        assert "XH0001" in text and "XH0002" in text
    else:
        assert r.status_code == (403 if Perm.VIEW in perms else 404)


def test_export_out_of_scope(as_role: Client) -> None:
    r = as_role.get(API + "/roster/export", {"format": "csv", "unit": "HP"})
    assert r.status_code == 404


def test_export_everything_visible(as_role: Client, role: str | None) -> None:
    r = as_role.get(API + "/roster/export", {"format": "csv"})
    if Perm.IMPORT not in perms_of(role):
        assert r.status_code == 403
        return
    assert r.status_code == 200
    people = {row[0] for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))}
    assert {"XH0001", "XH0002"} <= people
    assert not people & {"HP0001", "JG0001"}


# ------------------------------------------------------------------ no path leaks


_DOCUMENT: list[dict[str, Any]] = []  # the OpenAPI document, fetched once per module (~0.5 s a fetch)


def _openapi_get_paths(client: Client) -> dict[str, set[str]]:
    """Every GET path of the OpenAPI document, with the names of the query parameters it declares. The
    document is the same for every user (the schema of the API, not of anyone's data)."""
    if not _DOCUMENT:
        r = client.get(API + "/openapi.json")
        assert r.status_code == 200
        _DOCUMENT.append(r.json())
    return {
        path: {p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"}
        for path, ops in _DOCUMENT[0]["paths"].items()
        if "get" in ops
    }


FOUNDATION_PATHS = (
    "/api/v1/units",
    "/api/v1/people",
    "/api/v1/teams",
    "/api/v1/partners",
    "/api/v1/roster/import",  # the staff roster; /api/v1/roster/plans is rostering (tests/roster/app)
    "/api/v1/roster/export",
    "/api/v1/me",
    "/api/v1/tokens",
)


def _fill(path: str) -> list[str]:
    """Concrete URLs for an OpenAPI path: each in-scope object for a path with a parameter."""
    samples = {
        "/api/v1/units/{code}": ["XH", "XH-S1", "XH-S2", "XH-B01"],
        "/api/v1/people/{code}": ["XH0001", "XH0002"],
        "/api/v1/teams/{code}": ["XH-T1"],
        "/api/v1/partners/{code}": ["XH-P1"],
    }
    if "{" not in path:
        return [path]
    if not path.startswith(FOUNDATION_PATHS):
        return []  # detail paths of later modules: each module has its own scope crawl (e.g. mobilize)
    assert path in samples, f"add sample values for {path} so the leak check covers it"
    return [path.replace("{code}", c) for c in samples[path]]


LIST_QUERIES = [
    "",
    "?page_size=500",
    "?tree=party",
    "?tree=admin",
    "?q=税务",
    "?q=H",
    "?unit=XH",
    "?parent=XH",
    "?team=XH-T1",
    "?unit=XH-B01",
    "?parent=XH-DW",
    "?format=csv",
    "?format=csv&sheet=units",
    "?format=csv&sheet=people",
]


def _queries(declared: set[str]) -> list[str]:
    """The queries to send to an operation declaring the query parameters ``declared``: the bare URL, each
    of ``LIST_QUERIES`` whose parameters it declares, and one query carrying all the parameters of the
    others at once.

    An operation reads only the parameters it declares (django-ninja passes those; no API module reads
    ``request.GET``), so a query of undeclared parameters is answered as the bare URL is: sending each of
    them (13 of the 14 queries for most paths) would only repeat that answer. The one combined query
    stays in the crawl as a net, should an operation ever read the raw query string.
    """
    out, others = [], []
    for query in LIST_QUERIES:
        names = {name for name, _value in parse_qsl(query.lstrip("?"))}
        if names <= declared:
            out.append(query)
        else:
            others += [pair for pair in parse_qsl(query.lstrip("?")) if pair[0] not in declared]
    if others:
        out.append("?" + urlencode(list(dict.fromkeys(others))))
    return out


def _cells(r: Any) -> set[str]:
    """Every string in a response: JSON values and keys, CSV cells or workbook cells."""
    ctype = r["Content-Type"]
    if ctype.startswith("application/json"):
        return set(strings(json.loads(r.content)))
    if ctype.startswith("text/csv"):
        return {c for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"))) for c in row}
    assert "spreadsheetml" in ctype, ctype
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    return {
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None
    }


def _crawl(client: Client, out_of_scope: set[str]) -> set[str]:
    """GET every operation the OpenAPI document lists, with every filter it declares (``_queries``); fail
    on any out-of-scope string."""
    seen: set[str] = set()
    covered = 0
    for path, declared in _openapi_get_paths(client).items():
        for url in _fill(path):
            for query in _queries(declared):
                r = client.get(url + query)
                if r.status_code != 200:
                    continue
                covered += 1
                found = _cells(r)
                leaked = found & out_of_scope
                assert not leaked, f"{url}{query} leaks {sorted(leaked)}"
                seen |= found
    assert covered > 20
    return seen


def test_no_get_path_leaks(as_role: Client, role: str | None) -> None:
    """A grant on 徐汇: nothing of 黄浦, the bureau organ or the party tree, through any GET."""
    seen = _crawl(as_role, OUT_OF_SCOPE)
    if Perm.VIEW in perms_of(role):
        assert seen >= IN_SCOPE
    else:
        assert not seen & IN_SCOPE


@pytest.mark.parametrize("branch_role", ["admin", "secretary", "member"])
def test_no_get_path_leaks_from_a_party_branch(
    world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client], branch_role: str
) -> None:
    """A grant on one party branch: its member Alice and nothing else (not her administrative unit)."""
    client = login(make_user("sec", branch_role, world.org.xuhui_branch))
    everything = (
        OUT_OF_SCOPE | IN_SCOPE | {"徐汇区税务局", "王强", "税青逆行者", "宛平社区", "徐汇区税务局第一税务所"}
    )
    visible = {"XH-B01", "第一税务所党支部", "XH0001", "张丽"}
    seen = _crawl(client, everything - visible)
    assert visible <= seen


def test_the_crawl_sends_each_declared_filter_and_the_rest_at_once() -> None:
    queries = _queries({"page", "page_size", "parent", "q", "tree"})  # the declared filters of /units
    assert queries[:-1] == [
        "",
        "?page_size=500",
        "?tree=party",
        "?tree=admin",
        "?q=税务",
        "?q=H",
        "?parent=XH",
        "?parent=XH-DW",
    ]
    rest = parse_qsl(queries[-1].lstrip("?"))
    assert rest == [
        ("unit", "XH"),
        ("team", "XH-T1"),
        ("unit", "XH-B01"),
        ("format", "csv"),
        ("sheet", "units"),
        ("sheet", "people"),
    ]
    bare, everything = _queries(set())  # an operation without filters: the bare URL and one with all
    assert bare == "" and len(parse_qsl(everything.lstrip("?"))) == 13  # every distinct pair, once
    assert len(_queries({name for q in LIST_QUERIES for name, _v in parse_qsl(q.lstrip("?"))})) == 14
