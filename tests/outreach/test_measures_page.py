"""The service-measures page (issue 25 part 6): the catalog by category and the indicators before and
after, drawn as server-rendered bars — scoped (a user of another organization sees none of it), on a phone."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from muster.orgs.models import Unit
from muster.outreach import demo
from muster.outreach.queries import bar_widths

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    """These tests read the English page text."""
    settings.LANGUAGE_CODE = "en"


def test_bar_widths() -> None:
    assert bar_widths(Decimal("30"), Decimal("3.9")) == (Decimal("100.0"), Decimal("13.0"))
    assert bar_widths(Decimal("10"), Decimal("20")) == (Decimal("50.0"), Decimal("100.0"))
    assert bar_widths(Decimal("10"), None) == (Decimal("100.0"), Decimal("0.0"))
    assert bar_widths(Decimal("0"), Decimal("0")) == (Decimal(0), Decimal(0))


def test_zhenjiang_measures_and_indicators(org: Any, make_user: Any, login: Any) -> None:
    assert demo.load_zhenjiang() is True
    zj = Unit.objects.get(code="ZJKFQ")
    c = login(make_user("zj", "viewer", zj))
    r = c.get("/outreach/measures/", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert r.status_code == 200
    page = r.content.decode()
    assert page.count("data-category=") == 27
    assert 'id="measure-count"' in page and "69 measures in 27 categories" in page
    assert page.count("data-indicator=") == 2
    assert 'data-change="-87.0"' in page and 'data-change="-28.0"' in page
    assert "Shortened by 87.0%" in page and page.count('viewBox="0 0 100 22"') == 2  # the no-script bars
    # the ECharts chart: its data as JSON, the scripts served by Muster itself (no CDN, no inline script)
    assert '<script id="indicator-data" type="application/json">' in page
    srcs = re.findall(r'<script src="([^"]+)"', page)
    assert "/static/vendor/echarts/echarts.min.js" in srcs and "/static/outreach/js/indicators.js" in srcs
    assert all(src.startswith("/static/") for src in srcs)
    assert re.findall(r"<script>", page) == []
    # another organization's viewer sees no catalog and no indicator of 镇江
    other = login(make_user("xhv", "viewer", org.xuhui))
    page = other.get("/outreach/measures/").content.decode()
    assert "data-category=" not in page and "data-indicator=" not in page and "平均办税申报时长" not in page
    assert other.get("/outreach/measures/").status_code == 200


def test_homes_classes_and_agreements_pages(org: Any, make_user: Any, login: Any) -> None:
    assert demo.load_zhenjiang() is True
    zj = login(make_user("zj", "viewer", Unit.objects.get(code="ZJKFQ")))
    page = zj.get("/outreach/homes/").content.decode()
    assert page.count("data-home=") == 13 and page.count("data-class=") == 15
    assert "13 homes" in page
    # the agreements hang on the party branches: the administrative viewer sees none of them
    assert "data-agreement=" not in zj.get("/outreach/agreements/").content.decode()
    party = login(make_user("zjdw", "viewer", Unit.objects.get(code="ZJKFQ-DW")))
    r = party.get("/outreach/agreements/")
    assert r.status_code == 200 and r.content.decode().count("data-agreement=") == 2
    other = login(make_user("xhv", "viewer", org.xuhui))
    for url in ("/outreach/homes/", "/outreach/agreements/"):
        body = other.get(url).content.decode()
        assert "data-home=" not in body and "data-class=" not in body and "data-agreement=" not in body
    assert zj.get("/outreach/homes/", {"page": "99999999999999999999"}).status_code in (200, 404)
