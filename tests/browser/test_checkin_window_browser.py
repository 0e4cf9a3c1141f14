"""The check-in window and "approve all unflagged" (issue 27 item 5) in Debian chromium through Playwright:
on a 390 px phone the volunteer taps check-in before the window opens and reads why (the window in local
time); a check the phone kept and sends outside the window is refused by the server and the page says
so; the leader sees the flags on the approvals page and approves all unflagged entries at once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"

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


@pytest.mark.django_db(transaction=True)
def test_window_message_on_a_phone_and_bulk_approval(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    from muster.mobilize import services as svc
    from muster.mobilize.models import CheckEvent, EntryKind
    from muster.mobilize.queries import chain_state
    from muster.orgs.models import Person

    expect.set_options(timeout=20_000)
    leader = make_user("leader1", "leader", org.xuhui)
    volunteer = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=volunteer)
    org.bob.refresh_from_db()
    now = timezone.now().replace(second=0, microsecond=0)
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=now - timedelta(days=1),
        end=now + timedelta(days=3),
        people=[org.bob],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    past = svc.shift_create(
        actor=leader, deployment=d, start=now - timedelta(hours=9), end=now - timedelta(hours=1), seats=2
    )
    future = svc.shift_create(
        actor=leader,
        deployment=d,
        start=now + timedelta(days=2),
        end=now + timedelta(days=2, hours=8),
        seats=2,
    )
    for s in (past, future):
        svc.shift_assign(actor=leader, shift=s, person=org.bob)
    # Two entries waiting: an ordinary one (the past shift) and a five-minute self-report (flagged short).
    svc.checkin_record(actor=volunteer, shift=past, key="p-in", at=past.start)
    ok = svc.checkout_record(actor=volunteer, shift=past, key="p-out", at=past.end).entry
    assert ok is not None
    short = svc.entry_record(
        actor=volunteer,
        person=org.bob,
        kind=EntryKind.COMMUNITY,
        start=now - timedelta(hours=30),
        end=now - timedelta(hours=30) + timedelta(minutes=5),
        note="社区值守",
    )
    base = live_server.url
    errors: list[str] = []

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Asia/Shanghai", is_mobile=True
    )
    mobile = phone.new_page()
    mobile.on("pageerror", lambda e: errors.append(str(e)))
    _log_in(mobile, base, "bob")
    url = f"{base}/mobilize/c/{future.token}/"
    mobile.goto(url)
    opens = timezone.localtime(future.start - timedelta(minutes=60)).strftime("%m-%d %H:%M")
    expect(mobile.locator("#checkin-window")).to_contain_text(opens)
    mobile.locator("#checkin-button").click()
    status = mobile.locator("#checkin-status")
    expect(status).to_have_class("alert mt-3 alert-danger")
    expect(status).to_contain_text(opens)
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on the phone
    assert mobile.evaluate("localStorage.getItem('muster.mobilize.pendingChecks')") in (None, "[]")

    # A check kept on the phone (its clock said it was time) reaches the server outside the window:
    # refused, and the page says why.
    owner = mobile.locator("#checkin-page").get_attribute("data-owner")
    kept = [
        {
            "url": f"/mobilize/c/{future.token}/",
            "key": str(uuid.uuid4()),
            "kind": "in",
            "at": timezone.now().isoformat(),
            "owner": owner,
        }
    ]
    mobile.evaluate(
        "(items) => localStorage.setItem('muster.mobilize.pendingChecks', JSON.stringify(items))",
        kept,
    )
    mobile.reload()
    expect(status).to_have_class("alert mt-3 alert-danger")
    full = timezone.localtime(future.start - timedelta(minutes=60)).strftime("%Y-%m-%d %H:%M")
    expect(status).to_contain_text(full)
    assert mobile.evaluate("localStorage.getItem('muster.mobilize.pendingChecks')") == "[]"
    assert not CheckEvent.objects.filter(assignment__shift=future).exists()

    # The leader: flags on the approvals page, then approve all unflagged.
    office = browser.new_context(timezone_id="Asia/Shanghai")
    page = office.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda dialog: dialog.accept())
    _log_in(page, base, "leader1")
    page.goto(f"{base}/mobilize/approvals/")
    expect(page.locator(f"#approval-table tr[data-entry='{short.pk}']")).to_have_attribute(
        "data-flags", "short"
    )
    expect(page.locator(f"#approval-table tr[data-entry='{short.pk}'] .entry-flag")).to_have_count(1)
    page.locator("#approve-unflagged").click()
    expect(page.locator(f"#approval-table tr[data-entry='{ok.pk}']")).to_have_count(0)
    expect(page.locator(f"#approval-table tr[data-entry='{short.pk}']")).to_have_count(1)
    expect(page.locator(".messages")).to_contain_text("1")
    assert chain_state(ok.chain).net == 1 and chain_state(short.chain).net == 0
    assert errors == []
