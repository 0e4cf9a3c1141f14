"""The party-life flow in a browser (Playwright driving Debian chromium): a branch secretary records a
党课 with its attendance and sends it for review, the committee above approves it, the members' points
show (on the meeting page, from the statement query, and on the statement page when it is there), and the
compliance dashboard turns that branch's quarter from red to green."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"
OTHER_REQUIREMENTS = (
    "branch_general",
    "branch_committee",
    "secretary_lesson",
    "theme_day",
    "life_meeting",
    "appraisal",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


@pytest.mark.django_db(transaction=True)
def test_party_lesson_recorded_approved_points_and_green_quarter(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    from muster.orgs.access import SYSTEM
    from muster.orgs.services import person_create
    from muster.partylife import compliance
    from muster.partylife import services as svc
    from muster.partylife.models import Meeting
    from muster.points.queries import statement

    branch, committee = org.xuhui_branch, org.xuhui_committee
    secretary = person_create(
        actor=SYSTEM,
        code="XH0101",
        name="书记甲",
        unit=org.xuhui,
        party_unit=branch,
        political_status="member",
    )
    member = person_create(
        actor=SYSTEM,
        code="XH0103",
        name="党员丙",
        unit=org.xuhui,
        party_unit=branch,
        political_status="member",
    )
    make_user("sec", "secretary", branch)
    committee_user = make_user("xhdw", "secretary", committee)

    # The last closed quarter; the committee exempts the branch from everything else that year, so the
    # quarter's colour depends on the party lesson alone.
    today = timezone.localdate()
    this_quarter, _ = compliance.window_of(compliance.QUARTER, today)
    q_start, _end = compliance.window_of(compliance.QUARTER, this_quarter - timedelta(days=1))
    number = (q_start.month - 1) // 3 + 1
    for code in OTHER_REQUIREMENTS:
        svc.exemption_grant(
            actor=committee_user,
            unit=branch,
            requirement_code=code,
            start=date(q_start.year, 1, 1),
            end=date(q_start.year + 1, 1, 1),
            reason="试点",
        )
    held_on = q_start + timedelta(days=14)

    base = live_server.url

    def dashboard(scope: Any) -> str:
        return (
            f"{base}/party/compliance/?scope={scope.pk}&period=quarter&year={q_start.year}"
            f"&number={number}&as_of={today.isoformat()}"
        )

    errors: list[str] = []

    def watch(page: Any) -> None:
        page.set_default_timeout(15_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

    office = browser.new_context(timezone_id="Asia/Shanghai")
    page = office.new_page()
    watch(page)
    _log_in(page, base, "sec")

    # Before: the branch is behind on that quarter's party lesson (red).
    page.goto(dashboard(branch))
    row = page.locator("#compliance-table tr[data-unit='XH-B01']")
    expect(row).to_have_attribute("data-status", "behind")
    expect(row.locator("td[data-code='party_lesson']")).to_have_attribute("data-status", "missed")
    expect(row.locator("td[data-overall]")).to_have_class(re.compile("text-bg-danger"))

    # The secretary records the lesson.
    page.click("#nav-partylife")
    page.click("#meeting-create-link")
    form = page.locator("#meeting-form")
    form.locator("select[name=unit]").select_option(str(branch.pk))
    form.locator("input[name=kinds][value=party_lesson]").check()
    form.locator("input[name=topic]").fill("学习党章党课")
    form.locator("input[name=starts_at]").fill(f"{held_on:%Y-%m-%d}T14:00")
    form.locator("input[name=place]").fill("三楼会议室")
    form.locator("input[name=lecturer]").fill(secretary.code)
    form.locator("input[name=held]").check()
    form.locator("button[type=submit]").click()

    # Attendance: everyone expected came.
    att = page.locator("#attendance-form")
    expect(att.locator("tr[data-person]")).to_have_count(3)  # alice, the secretary, the member
    for select in att.locator("select[name^=status_]").all():
        select.select_option("present")
    att.locator("button[type=submit]").click()
    expect(page.locator("#attendance-counts")).to_contain_text("3")
    page.click("#submit-form button[type=submit]")
    expect(page.locator("#meeting-status [data-status]")).to_have_attribute("data-status", "submitted")
    meeting = Meeting.objects.get()
    assert meeting.lecturer == secretary and meeting.kinds == ["party_lesson"]

    # The committee above approves it from its review queue.
    review = browser.new_context(timezone_id="Asia/Shanghai")
    cpage = review.new_page()
    watch(cpage)
    _log_in(cpage, base, "xhdw")
    cpage.click("#nav-partylife")
    cpage.click("#tab-review")
    queued = cpage.locator(f"#review-table tr[data-meeting='{meeting.pk}']")
    queued.locator("input[name=opinion]").fill("同意")
    queued.locator("button.btn-success").click()
    expect(cpage.locator(f"#review-table tr[data-meeting='{meeting.pk}']")).to_have_count(0)
    meeting.refresh_from_db()
    assert meeting.review_status == "approved"

    # The members' points: on the meeting page, each attendee's points for it and their balance
    # (the statement query), which the statement query confirms.
    cpage.goto(f"{base}/party/meetings/{meeting.pk}/")
    year = held_on.year
    for person, earned in ((member, 3), (org.alice, 3), (secretary, 8)):  # lecturer: 3 + 5
        total = statement(committee_user, person, year).total
        assert total == earned
        cells = cpage.locator(f"#attendance-table tr[data-person='{person.code}'] td")
        assert _number(cells.nth(4).inner_text()) == earned
        assert _number(cells.nth(5).inner_text()) == float(total)
    try:
        statement_url = reverse("points:statement", args=[member.code])
    except NoReverseMatch:
        statement_url = ""
    if statement_url:
        cpage.goto(f"{base}{statement_url}?year={year}")
        assert _number(cpage.locator("#statement-total").inner_text()) == 3

    # After: the branch's quarter is green.
    cpage.goto(dashboard(committee))
    row = cpage.locator("#compliance-table tr[data-unit='XH-B01']")
    expect(row).to_have_attribute("data-status", "ok")
    expect(row.locator("td[data-code='party_lesson']")).to_have_attribute("data-status", "met")
    expect(row.locator("td[data-overall]")).to_have_class(re.compile("text-bg-success"))
    assert errors == []
