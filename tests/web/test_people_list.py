"""The people list as a long list: whitelisted sorts, clamped pages, an Excel export of every matching
person (translated values, no phone or ID numbers), bounded queries."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create

pytestmark = pytest.mark.django_db


def _codes(response: Any) -> list[str]:
    return [p.code for p in response.context["lst"].rows]


def test_sort_paging_and_export(org: Any, as_role: Any) -> None:
    c = as_role("admin", org.root)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the English source strings
    url = reverse("web:people")
    assert _codes(c.get(url, {"sort": "-code"})) == ["XH0002", "XH0001", "JG0001", "HP0001"]
    assert _codes(c.get(url, {"sort": "name"}))[0] in {"XH0001", "XH0002", "HP0001", "JG0001"}
    for hostile in ({"sort": "phone"}, {"page": "99999999999999999999"}, {"page": "-1"}, {"size": "0"}):
        r = c.get(url, hostile)
        assert r.status_code == 200 and _codes(r) == ["HP0001", "JG0001", "XH0001", "XH0002"], hostile
    body = c.get(url, {"unit": org.xuhui.pk}).content.decode()
    assert "Export to Excel" in body and "sort=-code" in body  # header links keep the filter
    x = c.get(url, {"unit": org.xuhui.pk, "export": "xlsx", "sort": "-code"})
    assert x["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0] == (
        "Staff number",
        "Name",
        "Gender",
        "Unit",
        "Party organization",
        "Political status",
        "Employment status",
    )
    assert [r[0] for r in rows[1:]] == ["XH0002", "XH0001"]
    alice = rows[2]
    assert alice[2] == "Female" and alice[5] == "Party member" and alice[6] == "In service"
    text = repr(rows)
    assert "13812345678" not in text and "13900001111" not in text  # no phone numbers in the export


def test_export_is_scoped(org: Any, as_role: Any) -> None:
    c = as_role("viewer", org.xuhui)
    rows = list(
        load_workbook(io.BytesIO(c.get(reverse("web:people"), {"export": "xlsx"}).content)).active.values
    )
    assert {r[0] for r in rows[1:]} == {"XH0001", "XH0002"}


def test_people_list_queries_do_not_grow_with_people(
    org: Any, as_role: Any, django_assert_max_num_queries: Any
) -> None:
    c = as_role("admin", org.root)
    url = reverse("web:people")
    c.get(url)
    with django_assert_max_num_queries(20) as few:
        c.get(url)
    for i in range(60):
        person_create(actor=SYSTEM, code=f"XH3{i:03d}", name=f"测试{i}", unit=org.xuhui_office)
    with django_assert_max_num_queries(20) as many:
        assert len(_codes(c.get(url, {"page": "2"}))) == 14
    assert len(many.captured_queries) <= len(few.captured_queries) + 1
