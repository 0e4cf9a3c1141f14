"""The mobile check-in page, roll-call, fixes, approvals, my service and the calendar feed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from icalendar import Calendar

from muster.mobilize import queries as q
from muster.mobilize import services as svc
from muster.mobilize.models import CheckEvent, EntryOp, ServiceEntry

from .conftest import hour, local_input

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _check(c: Any, shift: Any, kind: str, key: str, at: Any = None, **extra: Any) -> Any:
    data = {"key": key, "kind": kind, "at": at.isoformat() if at is not None else ""}
    return c.post(reverse("mobilize:checkin", args=[shift.token]), data, **extra)


def test_mobile_page_checks_in_and_out_once_per_key(org: Any, cast: Any, batch: Any) -> None:
    bob = cast.client(cast.bob_user)
    page = bob.get(reverse("mobilize:checkin", args=[batch.shift.token])).content.decode()
    key = re.search(r'name="key" value="([0-9a-f]{32})"', page)
    assert key is not None  # a server key: the form works without JavaScript
    assert 'name="kind" value="in"' in page and "mobilize/js/checkin.js" in page
    for _ in range(2):  # a double tap / a retry posts the same key
        r = _check(bob, batch.shift, "in", key.group(1), at=hour(-8))
        assert r.status_code == 302
    assert CheckEvent.objects.count() == 1
    page = bob.get(reverse("mobilize:checkin", args=[batch.shift.token])).content.decode()
    assert 'name="kind" value="out"' in page and 'data-state="in"' in page
    for _ in range(2):
        _check(bob, batch.shift, "out", "client-uuid-out", at=hour(-2))
    assert CheckEvent.objects.count() == 2
    entry = ServiceEntry.objects.get()
    assert (entry.person, entry.minutes, entry.sign, entry.source) == (org.bob, 360, 0, "checkin")


def test_mobile_page_json_answers_for_the_offline_queue(org: Any, cast: Any, batch: Any) -> None:
    bob = cast.client(cast.bob_user)
    r = _check(bob, batch.shift, "in", "k1", at=hour(-8), HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and r.json()["ok"] and r.json()["created"]
    again = _check(bob, batch.shift, "in", "k1", at=hour(-8), HTTP_ACCEPT="application/json")
    assert again.json()["ok"] and not again.json()["created"]
    # a second check-in with a new key is refused with the reason
    r = _check(bob, batch.shift, "in", "k2", at=hour(-7), HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and not r.json()["ok"]
    assert len(r.json()["errors"]) == 1 and "XH0002" in json.dumps(r.json(), ensure_ascii=False)
    # a check stored on the phone for more than a day is refused
    r = _check(bob, batch.shift, "out", "k3", at=hour(-30), HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and CheckEvent.objects.count() == 1


def test_checkout_without_checkin_is_an_error_message(org: Any, cast: Any, batch: Any) -> None:
    bob = cast.client(cast.bob_user)
    r = _check(bob, batch.shift, "out", "k-out", at=hour(-2), follow=True)
    assert [m.level_tag for m in r.context["messages"]] == ["error"]
    assert not CheckEvent.objects.exists()


def test_rollcall_checks_the_whole_batch_in_and_out(org: Any, cast: Any, batch: Any) -> None:
    svc.shift_assign(actor=cast.leader, shift=batch.shift, person=org.alice)
    a_bob = batch.shift.assignments.get(person=org.bob)
    a_alice = batch.shift.assignments.get(person=org.alice)
    c = cast.client(cast.leader)
    url = reverse("mobilize:batch_rollcall", args=[batch.deployment.pk])
    page = c.get(url).content.decode()
    assert f'name="in_{a_bob.pk}"' in page and f'name="in_{a_alice.pk}"' in page
    key = re.search(r'name="key" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
    data = {
        "key": key,
        f"in_{a_bob.pk}": "1",
        f"in_at_{a_bob.pk}": local_input(hour(-9)),
        f"out_{a_bob.pk}": "1",
        f"out_at_{a_bob.pk}": local_input(hour(-1)),
        f"in_{a_alice.pk}": "1",
        f"in_at_{a_alice.pk}": local_input(hour(-9)),
    }
    assert c.post(url, data).status_code == 302
    assert c.post(url, data).status_code == 302  # a retry of the same page writes nothing new
    assert CheckEvent.objects.count() == 3
    entry = ServiceEntry.objects.get()
    assert (entry.person, entry.minutes, entry.sign, entry.source) == (org.bob, 480, 1, "rollcall")
    assert q.balance(org.bob) == 480
    # fix alice's check-in with a reason
    fix = reverse("mobilize:checkin_fix", args=[batch.shift.pk, a_alice.pk])
    page = c.get(fix).content.decode()
    fkey = re.search(r'name="key" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
    r = c.post(fix, {"check_in": local_input(hour(-8)), "check_out": "", "reason": "", "key": fkey})
    assert r.status_code == 200 and CheckEvent.objects.count() == 3  # a reason is required
    r = c.post(
        fix,
        {
            "check_in": local_input(hour(-8)),
            "check_out": local_input(hour(-2)),
            "reason": "路上",
            "key": fkey,
        },
    )
    assert r.status_code == 302
    alice_entry = ServiceEntry.objects.get(person=org.alice)
    assert alice_entry.minutes == 360


def test_approve_and_reject_from_the_approvals_page(org: Any, cast: Any, batch: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="i", at=hour(-8))
    entry = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="o", at=hour(-2)).entry
    assert entry is not None
    # the batch's leader (alice, no grant) approves
    alice = cast.client(cast.alice_user)
    page = alice.get(reverse("mobilize:approvals")).content.decode()
    assert f'data-entry="{entry.pk}"' in page
    # bob cannot approve his own entry (visible to him: 403)
    bob = cast.client(cast.bob_user)
    assert f'data-entry="{entry.pk}"' not in bob.get(reverse("mobilize:approvals")).content.decode()
    assert bob.post(reverse("mobilize:entry_approve", args=[entry.pk])).status_code == 403
    assert alice.post(reverse("mobilize:entry_approve", args=[entry.pk])).status_code == 302
    assert q.balance(org.bob) == 360
    assert f'data-entry="{entry.pk}"' not in alice.get(reverse("mobilize:approvals")).content.decode()
    # bob asks for a correction; the approver sees old vs proposed, rejects it with a reason
    head = q.chain_state(entry.chain).head
    r = bob.post(
        reverse("mobilize:correction_request", args=[head.pk]),
        {"start": local_input(hour(-9)), "end": local_input(hour(-2)), "reason": "早到一小时"},
    )
    assert r.status_code == 302
    req = ServiceEntry.objects.get(op=EntryOp.CORRECT_REQUEST)
    page = alice.get(reverse("mobilize:approvals")).content.decode()
    row = page[page.index(f'data-entry="{req.pk}"') :]
    assert "correction-old" in row and "correction-new" in row and "早到一小时" in row
    r = alice.post(reverse("mobilize:entry_reject", args=[req.pk]), {"reason": ""}, follow=True)
    assert [m.level_tag for m in r.context["messages"]] == ["error"]
    assert (
        alice.post(reverse("mobilize:entry_reject", args=[req.pk]), {"reason": "签到记录为准"}).status_code
        == 302
    )
    assert q.balance(org.bob) == 360 and not q.person_pending(org.bob).exists()


def test_my_service_totals_pending_and_corrections(org: Any, cast: Any, batch: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="i", at=hour(-8))
    entry = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="o", at=hour(-2)).entry
    bob = cast.client(cast.bob_user)
    page = bob.get(reverse("mobilize:my_service")).content.decode()
    assert 'id="total-hours" data-minutes="0">0.00<' in page
    assert 'id="pending-hours">6.00<' in page
    svc.entry_approve(actor=cast.alice_user, entry=entry)
    page = bob.get(reverse("mobilize:my_service")).content.decode()
    assert 'id="total-hours" data-minutes="360">6.00<' in page
    assert f'data-entry="{q.chain_state(entry.chain).head.pk}" data-status="approved"' in page
    # an upcoming shift is listed with its check-in link
    later = svc.shift_create(actor=cast.leader, deployment=batch.deployment, start=hour(1), end=hour(9))
    svc.shift_assign(actor=cast.leader, shift=later, person=org.bob)
    page = bob.get(reverse("mobilize:my_service")).content.decode()
    assert reverse("mobilize:checkin", args=[later.token]) in page
    # a correction request shows as pending
    head = q.chain_state(entry.chain).head
    bob.post(
        reverse("mobilize:correction_request", args=[head.pk]),
        {"start": local_input(hour(-8)), "end": local_input(hour(-1)), "reason": "晚走"},
    )
    page = bob.get(reverse("mobilize:my_service")).content.decode()
    assert 'data-status="correction_pending"' in page and "晚走" in page
    # a person without a linked login sees a notice, not an error
    page = cast.client(cast.leader).get(reverse("mobilize:my_service"))
    assert page.status_code == 200 and 'id="total-hours"' not in page.content.decode()


def test_community_self_report_with_a_photo(org: Any, cast: Any, settings: Any) -> None:
    alice = cast.client(cast.alice_user)
    url = reverse("mobilize:self_report")
    base = {"start": local_input(hour(-5)), "end": local_input(hour(-3)), "note": "帮邻居代购物资"}
    r = alice.post(url, {**base, "photo": SimpleUploadedFile("x.png", b"MZ" + b"\x00" * 40, "image/png")})
    assert r.status_code == 200 and not ServiceEntry.objects.exists()  # not a photo
    settings.MUSTER_EVIDENCE_MAX_BYTES = 32
    r = alice.post(url, {**base, "photo": SimpleUploadedFile("x.png", PNG, "image/png")})
    assert r.status_code == 200 and not ServiceEntry.objects.exists()  # too large
    settings.MUSTER_EVIDENCE_MAX_BYTES = 1024
    r = alice.post(url, {**base, "photo": SimpleUploadedFile("../../evil.png", PNG, "image/png")})
    assert r.status_code == 302
    e = ServiceEntry.objects.get()
    assert (e.kind, e.sign, e.minutes, e.note) == ("community", 0, 120, "帮邻居代购物资")
    assert e.evidence.name.startswith("mobilize/evidence/") and ".." not in e.evidence.name
    assert e.evidence.name.endswith(".png")
    # the branch secretary approves it and sees the photo; 黄浦 cannot
    sec = cast.client(cast.secretary)
    assert f'data-entry="{e.pk}"' in sec.get(reverse("mobilize:approvals")).content.decode()
    photo = sec.get(reverse("mobilize:entry_evidence", args=[e.pk]))
    assert photo.status_code == 200 and b"".join(photo.streaming_content) == PNG
    assert (
        cast.client(cast.manager_hp).get(reverse("mobilize:entry_evidence", args=[e.pk])).status_code == 404
    )
    assert sec.post(reverse("mobilize:entry_approve", args=[e.pk])).status_code == 302
    assert q.balance(org.alice) == 120


def test_calendar_feed(org: Any, cast: Any, batch: Any, client: Any) -> None:
    bob = cast.client(cast.bob_user)
    r = bob.post(reverse("mobilize:feed_rotate"), {"action": "rotate"}, follow=True)
    url = re.search(r'id="feed-url">([^<]+)<', r.content.decode()).group(1)  # type: ignore[union-attr]
    # shown once only
    assert 'id="feed-url"' not in bob.get(reverse("mobilize:my_service")).content.decode()
    path = url.replace("http://testserver", "")
    feed = client.get(path)  # no session
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(feed.content)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    ev = events[0]
    assert ev.decoded("dtstart") == batch.shift.start and ev.decoded("dtend") == batch.shift.end
    assert batch.deployment.code in str(ev.get("summary")) and str(ev.get("location")) == "宛平社区"
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    # rotating kills the old address
    bob.post(reverse("mobilize:feed_rotate"), {"action": "rotate"})
    assert client.get(path).status_code == 404
