"""Check-in that opens without network (issue 27 item 6), in Debian chromium through Playwright, on a
390 px phone, from a cold start: the volunteer opens Muster once with network; the network goes; the
page is closed; the QR check-in link opened in a new page loads from the service worker; the check-in
shows as waiting to sync and the check-out can be made after it; with the network back both are sent in
order with their keys and the server holds each once. Logging out empties the saved pages."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.signals import request_started
from django.utils import timezone

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Muster-2026"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


class Hits:
    """The paths the live server was asked for (to prove a page came from the phone, not the server)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, sender: Any, environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if environ is not None:
            with self.lock:
                self.paths.append(str(environ.get("PATH_INFO", "")))

    def since(self, n: int) -> list[str]:
        with self.lock:
            return self.paths[n:]


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.django_db(transaction=True)
def test_checkin_link_opens_offline_and_both_checks_sync_in_order(
    browser: Any, live_server: Any, org: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)  # the phone retries a kept check every few seconds

    from muster.mobilize import services as svc
    from muster.mobilize.models import CheckEvent, ServiceEntry
    from muster.orgs.models import Person

    leader = make_user("leader1", "leader", org.xuhui)
    volunteer = make_user("bob")
    Person.objects.filter(pk=org.bob.pk).update(user=volunteer)
    now = timezone.now().replace(second=0, microsecond=0)
    d = svc.deployment_dispatch(
        actor=leader,
        unit=org.xuhui,
        title="核酸检测",
        start=now - timedelta(hours=3),
        end=now + timedelta(days=1),
        people=[org.bob],
        leader=org.alice,
        site="宛平社区",
    ).deployment
    shift = svc.shift_create(
        actor=leader, deployment=d, start=now - timedelta(hours=2), end=now + timedelta(hours=6), seats=2
    )
    svc.shift_assign(actor=leader, shift=shift, person=org.bob)
    base = live_server.url
    link = f"{base}/mobilize/c/{shift.token}/"
    arrived, left = now - timedelta(minutes=70), now - timedelta(minutes=10)  # the phone's clock
    hits = Hits()
    request_started.connect(hits)
    errors: list[str] = []

    def watch(page: Any) -> None:
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: errors.append(str(e)))

    try:
        phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            timezone_id="Asia/Shanghai",
            is_mobile=True,
            has_touch=True,
            service_workers="allow",
        )
        first = phone.new_page()
        watch(first)
        _log_in(first, base, "bob")
        # One online visit (my service); the worker installs and keeps the upcoming check-in pages.
        first.goto(f"{base}/mobilize/me/")
        expect(first.locator("html")).to_have_attribute("data-offline-ready", "1")
        kept = first.evaluate("async (u) => !!(await (await caches.open('muster-pages')).match(u))", link)
        assert kept is True

        # Cold start without network: close the page, open the QR link in a new one.
        phone.set_offline(True)
        first.close()
        before = len(hits.paths)
        page = phone.new_page()
        watch(page)
        page.goto(link)
        state = page.locator("#check-state")
        expect(state).to_have_attribute("data-state", "none")
        assert hits.since(before) == []  # the page came from the phone, not the server
        expect(page.locator("html")).to_have_attribute("data-offline-copy", "1")
        expect(page.locator("#offline-copy")).to_be_visible()
        button = page.locator("#checkin-button")
        box = button.bounding_box()
        assert box is not None and box["width"] > 300  # the big button on a 390 px phone

        # Check in: waiting to sync (待同步), and the button turns into check-out.
        page.clock.set_fixed_time(arrived)
        button.click()
        pending = page.locator("#pending-state")
        expect(pending).to_have_attribute("data-kind", "in")
        expect(state).to_be_hidden()  # no stale "not checked in yet" while the check-in waits
        expect(pending.locator(".waiting-badge")).to_have_count(1)
        expect(page.locator("#checkin-status")).to_have_class("alert mt-3 alert-warning")
        expect(button).to_have_attribute("data-kind", "out")

        # Check out after it: queued too.
        page.clock.set_fixed_time(left)
        button.click()
        expect(pending).to_have_attribute("data-count", "2")
        expect(pending).to_have_attribute("data-kind", "out")
        expect(button).to_have_attribute("data-kind", "in")
        queued = page.evaluate("JSON.parse(localStorage.getItem('muster.mobilize.pendingChecks'))")
        assert [i["kind"] for i in queued] == ["in", "out"]
        assert len({i["key"] for i in queued}) == 2
        assert not CheckEvent.objects.exists()
        assert [x for x in hits.since(before) if x.startswith("/mobilize/")] == []

        # The network is back: both are sent, in order, with their keys.
        phone.set_offline(False)
        expect(page.locator("#check-state")).to_have_attribute("data-state", "out")
        expect(page.locator("#pending-state")).to_have_attribute("data-count", "0")
        expect(page.locator("#check-state")).to_be_visible()
        assert page.evaluate("localStorage.getItem('muster.mobilize.pendingChecks')") == "[]"
        events = list(CheckEvent.objects.order_by("id").values_list("kind", "key"))
        assert events == [("in", queued[0]["key"]), ("out", queued[1]["key"])]
        entry = ServiceEntry.objects.get()
        assert (entry.person_id, entry.sign, entry.minutes) == (org.bob.pk, 0, 60)
        assert (entry.start, entry.end) == (arrived, left)
        expect(page.locator("#shift-entries li")).to_have_count(1)

        # Logging out empties the saved pages: nothing of this login stays on the phone.
        page.goto(f"{base}/mobilize/me/")
        page.evaluate("document.querySelector('form[action=\"/accounts/logout/\"]').submit()")
        page.wait_for_url(f"{base}/accounts/login/")
        left = page.evaluate(
            "async () => (await caches.keys()).includes('muster-pages')"
            " ? (await (await caches.open('muster-pages')).keys()).map(r => r.url) : []"
        )
        assert left == []
    finally:
        request_started.disconnect(hits)

    assert CheckEvent.objects.count() == 2 and ServiceEntry.objects.count() == 1
    assert errors == []
