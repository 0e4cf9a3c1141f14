"""Check-in without network (issue 27 item 6), the server's side: the service worker at the site's root,
the web app manifest, the list of pages the worker keeps for the logged-in volunteer, and which pages
say they may be kept (only the login's own check-in pages and my service, never a page showing the
calendar's secret address)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from muster.mobilize import services as svc
from muster.mobilize.views.checkin import OFFLINE_SHELL, offline_owner
from tests.mobilize.web.conftest import Batch, Cast, hour


def test_service_worker_is_served_from_the_root_with_its_shell(client: Client) -> None:
    res = client.get("/sw.js")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("application/javascript")
    assert res["Service-Worker-Allowed"] == "/"
    assert res["Cache-Control"] == "no-cache"
    body = res.content.decode()
    for path in OFFLINE_SHELL:
        assert f'"/static/{path}"' in body
    assert '"/mobilize/me/offline.json"' in body
    assert "X-Muster-Offline" in body
    # The same worker for the same files: the version only changes with the files (or the language).
    assert body == client.get("/sw.js").content.decode()
    assert client.post("/sw.js").status_code == 405


def test_service_worker_offline_page_is_translated(client: Client) -> None:
    client.cookies["django_language"] = "en"
    english = client.get("/sw.js", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This page was not saved on this phone" in english


def test_manifest(client: Client) -> None:
    res = client.get("/manifest.webmanifest")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("application/manifest+json")
    data = json.loads(res.content)
    assert data["start_url"] == "/mobilize/me/"
    assert data["scope"] == "/"
    assert data["display"] == "standalone"
    assert data["icons"][0]["src"].startswith("/static/")


def test_pages_link_the_manifest_and_worker_only_when_logged_in(client: Client, cast: Cast) -> None:
    anon = client.get(reverse("login")).content.decode()
    assert "offline.js" not in anon and "manifest.webmanifest" not in anon
    page = cast.client(cast.bob_user).get(reverse("mobilize:my_service")).content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert f'data-owner="{offline_owner(cast.bob_user)}"' in page
    assert 'data-sw="/sw.js"' in page


def test_offline_list_names_the_volunteers_upcoming_checkin_pages(org: Any, cast: Cast, batch: Batch) -> None:
    later = svc.shift_create(
        actor=cast.leader, deployment=batch.deployment, start=hour(2), end=hour(6), seats=2, label="2"
    )
    svc.shift_assign(actor=cast.leader, shift=later, person=org.bob)
    running = svc.shift_create(
        actor=cast.leader, deployment=batch.deployment, start=hour(-0.5), end=hour(1.5), seats=2, label="3"
    )
    svc.shift_assign(actor=cast.leader, shift=running, person=org.alice)
    res = cast.client(cast.bob_user).get(reverse("mobilize:offline_data"))
    assert res.status_code == 200
    assert res["Cache-Control"] == "no-store"
    data = res.json()
    assert data["owner"] == offline_owner(cast.bob_user)
    # bob's shift that is over is not listed, nor alice's running one; his next one and my service are.
    assert data["pages"] == [reverse("mobilize:checkin", args=[later.token]), "/mobilize/me/"]
    assert data["forget_prefix"] == "/mobilize/c/"
    alice = cast.client(cast.alice_user).get(reverse("mobilize:offline_data")).json()
    assert alice["pages"] == [reverse("mobilize:checkin", args=[running.token]), "/mobilize/me/"]
    assert alice["owner"] != data["owner"]
    # Someone with no person linked: my service only.
    assert cast.client(cast.leader).get(reverse("mobilize:offline_data")).json()["pages"] == ["/mobilize/me/"]


def test_offline_list_needs_a_login(client: Client) -> None:
    res = client.get(reverse("mobilize:offline_data"))
    assert res.status_code == 302 and "/accounts/login/" in res["Location"]


def test_owner_is_opaque_and_per_login(cast: Cast) -> None:
    a, b = offline_owner(cast.alice_user), offline_owner(cast.bob_user)
    assert a and b and a != b
    assert str(cast.alice_user.pk) != a and len(a) == 24
    assert offline_owner(None) == ""


def test_checkin_page_may_be_kept_and_carries_owner_and_labels(org: Any, cast: Cast, batch: Batch) -> None:
    res = cast.client(cast.bob_user).get(reverse("mobilize:checkin", args=[batch.shift.token]))
    assert res.status_code == 200
    assert res["X-Muster-Offline"] == "1"
    assert res["Cache-Control"] == "private, no-cache"
    html = res.content.decode()
    assert f'data-owner="{offline_owner(cast.bob_user)}"' in html
    assert 'id="pending-state"' in html and "{time}" in html
    assert 'id="offline-copy"' in html


def test_my_service_may_be_kept_but_not_with_the_secret_calendar_address(cast: Cast) -> None:
    bob = cast.client(cast.bob_user)
    assert bob.get(reverse("mobilize:my_service"))["X-Muster-Offline"] == "1"
    bob.post(reverse("mobilize:feed_rotate"))
    # The worker's background copy neither shows nor uses up the address shown once.
    prefetch = bob.get(reverse("mobilize:my_service"), HTTP_X_MUSTER_PREFETCH="1")
    assert prefetch["X-Muster-Offline"] == "1" and 'id="feed-url"' not in prefetch.content.decode()
    shown = bob.get(reverse("mobilize:my_service"))
    assert 'id="feed-url"' in shown.content.decode()
    assert "X-Muster-Offline" not in shown
    # A login without a person: nothing worth keeping.
    assert "X-Muster-Offline" not in cast.client(cast.leader).get(reverse("mobilize:my_service"))


def test_queued_checkin_then_checkout_sync_in_order_once(org: Any, cast: Cast, batch: Batch) -> None:
    """What the phone sends when the network is back: the kept check-in, then the check-out, each with
    its key; sent again (a retry), nothing new is written."""
    from muster.mobilize.models import CheckEvent, ServiceEntry

    bob = cast.client(cast.bob_user)
    url = reverse("mobilize:checkin", args=[batch.shift.token])
    arrived, left = hour(-8), hour(-2)
    posts = [
        {"key": "k-in-1", "kind": "in", "at": (arrived + timedelta(seconds=12)).isoformat()},
        {"key": "k-out-1", "kind": "out", "at": left.isoformat()},
    ]
    for _ in range(2):
        for body in posts:
            res = bob.post(url, body, HTTP_ACCEPT="application/json")
            assert res.status_code == 200, res.content
            assert res.json()["ok"] is True
    assert list(CheckEvent.objects.order_by("id").values_list("key", "kind")) == [
        ("k-in-1", "in"),
        ("k-out-1", "out"),
    ]
    entry = ServiceEntry.objects.get()
    assert (entry.start, entry.end, entry.sign) == (arrived, left, 0)
