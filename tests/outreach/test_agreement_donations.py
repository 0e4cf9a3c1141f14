"""A co-building agreement's page lists the donations the care ledger keeps for the same partner within the
agreement's period (issue 25, item 8), through ``orgs.partner_activity`` — outreach does not import care —
and only those the reader may see."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from muster.care.services import donation_record
from muster.clock import local_tz
from muster.orgs import partner_activity
from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create
from muster.outreach import services_service as ss

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=local_tz())


@pytest.fixture
def setting(org: Any) -> dict[str, Any]:
    village = partner_create(actor=SYSTEM, code="P-V", name="徐家汇村", kind="village", unit=org.xuhui_branch)
    school = partner_create(actor=SYSTEM, code="P-S", name="某小学", kind="community", unit=org.xuhui_branch)
    agreement = ss.agreement_create(
        actor=SYSTEM, branch=org.xuhui_branch, partner=village, start=date(2026, 1, 1), title="村支部共建"
    )

    def give(unit: Any, partner: Any, at: datetime, items: str, value: str) -> None:
        donation_record(
            actor=SYSTEM,
            unit=unit,
            donor="党支部",
            kind="goods",
            items=items,
            value=value,
            partner=partner,
            at=at,
        )

    give(org.xuhui_branch, village, _at(2026, 1, 1, 0), "口罩 5000 只", "5200.00")  # the first local day
    give(org.xuhui_branch, village, _at(2025, 12, 31, 23), "消毒液", "300.00")  # the day before: not counted
    give(org.xuhui_branch, school, _at(2026, 1, 5), "书本", "800.00")  # another partner
    give(org.huangpu, village, _at(2026, 1, 6), "大米", "999.00")  # a unit the secretary cannot see
    return {"agreement": agreement, "village": village}


def test_the_agreement_page_lists_the_partners_donations_in_its_period_and_scope(
    org: Any, setting: Any, make_user: Any, login: Any
) -> None:
    c = login(make_user("sec", "secretary", org.xuhui_branch))
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get(f"/outreach/agreements/{setting['agreement'].pk}/").content.decode()
    assert "口罩 5000 只" in html and "5200.00" in html
    for hidden in ("消毒液", "书本", "大米", "999.00"):
        assert hidden not in html
    assert "No activities yet." not in html


def test_the_registry_bounds_sorts_and_honours_an_end_date(org: Any, setting: Any) -> None:
    village = setting["village"]
    rows = partner_activity.activities(SYSTEM, village, date(2025, 12, 1), None)
    assert [(r.on, r.title, r.amount) for r in rows] == [
        (date(2026, 1, 6), "大米", Decimal("999.00")),
        (date(2026, 1, 1), "口罩 5000 只", Decimal("5200.00")),
        (date(2025, 12, 31), "消毒液", Decimal("300.00")),
    ]
    assert [
        r.title for r in partner_activity.activities(SYSTEM, village, date(2026, 1, 1), date(2026, 1, 5))
    ] == ["口罩 5000 只"]
    assert len(partner_activity.activities(SYSTEM, village, date(2025, 1, 1), date.max, limit=2)) == 2
