"""Roster import and export over the API (the rules of the roster itself are tested in tests/tabular)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import pytest
from django.test import Client

from muster.audit.models import AuditEvent
from muster.orgs.models import Person, Unit

from ..conftest import make_id_number
from .helpers import API


@pytest.fixture
def importer(world: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("xh-manager", "manager", world.org.xuhui))


def csv_file(rows: list[list[str]], name: str = "roster.csv") -> io.BytesIO:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    f = io.BytesIO(buf.getvalue().encode("utf-8"))
    f.name = name
    return f


PEOPLE_HEADER = ["工号", "姓名", "单位编码", "政治面貌", "手机", "身份证号", "标签"]


def good_rows() -> list[list[str]]:
    return [
        PEOPLE_HEADER,
        [
            "XH0201",
            "周杰",
            "XH-S1",
            "中共党员",
            "13811110001",
            make_id_number(birth="19880808", seq="111"),
            "青年",
        ],
        ["XH0202", "吴敏", "XH-S2", "群众", "", "", ""],
    ]


def upload(client: Client, f: io.BytesIO, query: str = "") -> Any:
    return client.post(API + "/roster/import" + query, {"file": f})


def test_import_creates_people_and_is_idempotent(importer: Client) -> None:
    r = upload(importer, csv_file(good_rows()))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["people_created"], body["people_updated"], body["dry_run"]) == (2, 0, False)
    zhou = Person.objects.get(code="XH0201")
    assert (zhou.unit.code, zhou.political_status, zhou.phone) == ("XH-S1", "member", "13811110001")
    last_event = AuditEvent.objects.latest("id").pk
    again = upload(importer, csv_file(good_rows())).json()
    assert (again["people_created"], again["people_updated"], again["people_unchanged"]) == (0, 0, 2)
    # Only the record of the import itself: no object changed.
    new_events = AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)
    assert list(new_events) == ["orgs.roster.imported"]


def test_dry_run_writes_nothing(importer: Client) -> None:
    events = AuditEvent.objects.count()
    r = upload(importer, csv_file(good_rows()), "?dry_run=true")
    assert r.status_code == 200
    assert (r.json()["people_created"], r.json()["dry_run"]) == (2, True)
    assert not Person.objects.filter(code__in=["XH0201", "XH0202"]).exists()
    assert AuditEvent.objects.count() == events


def test_row_errors_are_422_with_every_location(importer: Client) -> None:
    rows = good_rows()
    bad_id = make_id_number(seq="999")[:-1] + ("0" if make_id_number(seq="999")[-1] != "0" else "1")
    rows.append(["XH0203", "郑好", "NOPE", "群众", "", "", ""])
    rows.append(["XH0204", "孙立", "XH", "群众", "", bad_id, ""])
    r = upload(importer, csv_file(rows, "名册.csv"))
    assert r.status_code == 422, r.content
    body = r.json()
    assert body["detail"]
    errors = body["errors"]
    assert {tuple(sorted(e)) for e in errors} == {("column", "file", "reason", "row", "sheet", "value")}
    by_row = {e["row"]: e for e in errors}
    assert set(by_row) == {4, 5}  # Excel row numbers: the header is row 1
    assert by_row[4]["value"] == "NOPE" and by_row[4]["file"] == "名册.csv"
    assert by_row[5]["value"] == bad_id
    assert all(e["reason"] for e in errors)
    assert not Person.objects.filter(code__in=["XH0201", "XH0202", "XH0203", "XH0204"]).exists()


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"", "empty.csv"), (b"PK\x03\x04garbage", "broken.xlsx"), (b"%PDF-1.4 hello", "roster.xlsx")],
)
def test_unreadable_files_are_422(importer: Client, content: bytes, name: str) -> None:
    f = io.BytesIO(content)
    f.name = name
    r = upload(importer, f)
    assert r.status_code == 422, r.content
    assert r.json()["errors"] and all(e["reason"] for e in r.json()["errors"])


def test_file_over_the_limit_is_413(importer: Client, settings: Any) -> None:
    settings.MUSTER_IMPORT_MAX_BYTES = 100
    f = csv_file([*good_rows(), *[[f"XH09{i:02d}", "某人", "XH", "", "", "", ""] for i in range(10)]])
    size = len(f.getvalue())
    assert size > 100
    r = upload(importer, f)
    assert r.status_code == 413
    assert str(size) in r.json()["detail"] and "100" in r.json()["detail"]
    assert not Person.objects.filter(code="XH0201").exists()


def test_missing_file_is_422(importer: Client) -> None:
    r = importer.post(API + "/roster/import", {})
    assert r.status_code == 422
    assert "file" in r.json()["errors"]


def test_export_xlsx_round_trips(importer: Client) -> None:
    # Make the fixture consistent first (the import fills a missing birth date from the ID number).
    Person.objects.filter(code="XH0001").update(birth_date=date(1990, 3, 7))
    r = importer.get(API + "/roster/export", {"unit": "XH"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert r["Content-Disposition"].startswith("attachment")
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert len(wb.worksheets) == 2
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert {"XH", "XH-S1", "XH-S2", "XH0001", "XH0002"} <= cells
    # The exported file imports back with no change.
    f = io.BytesIO(r.content)
    f.name = "export.xlsx"
    back = upload(importer, f)
    assert back.status_code == 200, back.content
    body = back.json()
    changed = {k: v for k, v in body.items() if k.endswith(("created", "updated", "moved")) and v}
    assert changed == {}


def test_export_csv_sheets(importer: Client) -> None:
    units = importer.get(API + "/roster/export", {"format": "csv", "sheet": "units", "unit": "XH"})
    assert units.status_code == 200
    assert units["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(units.content.decode("utf-8-sig"))))
    assert {r[0] for r in rows[1:]} == {"XH", "XH-S1", "XH-S2"}
    people = importer.get(API + "/roster/export", {"format": "csv", "unit": "XH-S1"})
    rows = list(csv.reader(io.StringIO(people.content.decode("utf-8-sig"))))
    assert {r[0] for r in rows[1:]} == {"XH0002"}


@pytest.mark.parametrize(
    ("query", "field"), [({"format": "pdf"}, "format"), ({"sheet": "teams", "format": "csv"}, "sheet")]
)
def test_export_bad_parameters_are_422(importer: Client, query: dict[str, str], field: str) -> None:
    r = importer.get(API + "/roster/export", query)
    assert r.status_code == 422
    assert list(r.json()["errors"]) == [field]


def test_export_unknown_unit_is_404(importer: Client) -> None:
    assert importer.get(API + "/roster/export", {"unit": "NOPE"}).status_code == 404
    assert Unit.objects.filter(code="HP").exists()
    assert importer.get(API + "/roster/export", {"unit": "HP"}).status_code == 404
