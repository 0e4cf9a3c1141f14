"""Exports of the points ledger (statement, leaderboard) as .xlsx or .csv via the tabular writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from muster.tabular.writer import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, SheetData, csv_bytes, xlsx_bytes

FORMATS = ("xlsx", "csv")


def _response(
    fmt: str, filename: str, title: str, headers: Sequence[str], rows: list[list[Any]]
) -> HttpResponse:
    if fmt == "csv":
        body, ctype = csv_bytes(headers, rows), CSV_CONTENT_TYPE
    else:
        fmt = "xlsx"
        body, ctype = xlsx_bytes([SheetData(title, headers, rows)]), XLSX_CONTENT_TYPE
    resp = HttpResponse(body, content_type=ctype)
    resp["Content-Disposition"] = content_disposition_header(True, f"{filename}.{fmt}") or ""
    return resp


def statement_headers() -> list[str]:
    return [
        _("Date"),
        _("Item"),
        _("Source"),
        _("Operation"),
        _("Quantity"),
        _("Points before cap"),
        _("Points"),
        _("Balance"),
        _("Rule version"),
        _("Reason"),
    ]


def statement_rows(data: dict[str, Any]) -> list[list[Any]]:
    """Rows of a statement as built by ``muster.points.api.statement_data``."""
    return [
        [
            e["date"],
            e["label"],
            e["source"],
            _("Reversal") if e["op"] == "reverse" else _("Credit"),
            e["quantity"],
            e["raw_points"],
            e["points"],
            e["balance"],
            e["rule_version"],
            e["reason"],
        ]
        for e in data["entries"]
    ]


def statement_export(data: dict[str, Any], fmt: str) -> HttpResponse:
    name = f"points-{data['person']}-{data['year']}"
    title = _("Points statement %(year)s") % {"year": data["year"]}
    return _response(fmt, name, title, statement_headers(), statement_rows(data))


def leaderboard_headers(by: str) -> list[str]:
    first = {"person": _("Staff number"), "branch": _("Party organization code"), "unit": _("Unit code")}[by]
    return [_("Rank"), first, _("Name"), _("Points"), _("People scored")]


def leaderboard_rows(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[r["rank"], r["key"], r["label"], r["points"], r["people"]] for r in rows]


def leaderboard_export(
    rows: Sequence[dict[str, Any]], *, unit_code: str, by: str, start: Any, end: Any, fmt: str
) -> HttpResponse:
    name = f"points-leaderboard-{unit_code}-{by}-{start.isoformat()}-{end.isoformat()}"
    title = _("Points leaderboard")
    return _response(fmt, name, title, leaderboard_headers(by), leaderboard_rows(rows))
