"""The check-in window and the approvals' flags (issue 27 item 5), through the web page, the phone's
JSON sync, the API and the approvals page: outside the window a check is refused with the window in
local time; approvals flag entries outside their shift, short, long or overlapping, filter by flag, and
approve all unflagged at once (audited per entry, counts reported, nothing skipped silently)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from muster.audit.models import AuditEvent
from muster.mobilize import services as svc
from muster.mobilize.models import CheckEvent, EntryKind, EntryOp, EntrySource, ServiceEntry
from tests.mobilize.web.conftest import Batch, Cast, hour


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def _local(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def _post(client: Client, url: str, kind: str, at: Any, key: str | None = None) -> Any:
    return client.post(
        url,
        {"key": key or uuid.uuid4().hex, "kind": kind, "at": at.isoformat()},
        HTTP_ACCEPT="application/json",
    )


def test_two_days_early_is_refused_naming_the_window(org: Any, cast: Cast, batch: Batch) -> None:
    """The issue's case: a member checked in and out two days before the shift."""
    later = svc.shift_create(
        actor=cast.leader, deployment=batch.deployment, start=hour(8), end=hour(9.5), seats=2, label="2"
    )
    svc.shift_assign(actor=cast.leader, shift=later, person=org.bob)
    bob = cast.client(cast.bob_user)
    url = reverse("mobilize:checkin", args=[later.token])
    res = _post(bob, url, "in", hour(-0.2))
    assert res.status_code == 400
    (message,) = res.json()["errors"]
    opens, closes = later.start - timedelta(minutes=60), later.end + timedelta(minutes=120)
    assert _local(opens) in message and _local(closes) in message
    assert "outside that time" in message
    assert not CheckEvent.objects.exists()
    # The plain form (no JavaScript) says the same on the page.
    page = bob.post(url, {"key": "plain-1", "kind": "in", "at": ""}, follow=True)
    assert _local(opens) in page.content.decode()
    # The page shows the window before anyone tries.
    html = bob.get(url).content.decode()
    assert 'id="checkin-window"' in html and timezone.localtime(opens).strftime("%m-%d %H:%M") in html


def test_inside_the_margins_is_accepted_and_after_the_late_margin_refused(
    org: Any, cast: Cast, batch: Batch
) -> None:
    bob = cast.client(cast.bob_user)
    url = reverse("mobilize:checkin", args=[batch.shift.token])
    start, end = batch.shift.start, batch.shift.end
    assert _post(bob, url, "in", start - timedelta(minutes=59)).status_code == 200  # 59 min early: fine
    assert _post(bob, url, "out", end + timedelta(minutes=50)).status_code == 200  # the shift ended 1 h ago
    entry = ServiceEntry.objects.get()
    assert entry.start == start - timedelta(minutes=59)


def test_late_checkout_kept_offline_is_refused_with_the_window(
    org: Any, cast: Cast, batch: Batch, settings: Any
) -> None:
    """A check-out the phone kept offline and sends late: the sync is refused with the same message."""
    settings.MUSTER_CHECKIN_LATE_MINUTES = 30
    bob = cast.client(cast.bob_user)
    url = reverse("mobilize:checkin", args=[batch.shift.token])
    assert _post(bob, url, "in", batch.shift.start).status_code == 200
    res = _post(bob, url, "out", batch.shift.end + timedelta(minutes=31))
    assert res.status_code == 400
    assert _local(batch.shift.end + timedelta(minutes=30)) in res.json()["errors"][0]
    assert not ServiceEntry.objects.exists()


def test_the_api_keeps_the_same_window(org: Any, cast: Cast, batch: Batch) -> None:
    later = svc.shift_create(
        actor=cast.leader, deployment=batch.deployment, start=hour(5), end=hour(7), seats=2, label="2"
    )
    svc.shift_assign(actor=cast.leader, shift=later, person=org.bob)
    api = cast.client(cast.bob_user)
    res = api.post(
        f"/api/v1/mobilize/shifts/{later.pk}/checkin", {"key": "api-1"}, content_type="application/json"
    )
    assert res.status_code in (400, 422), res.content
    assert _local(later.start - timedelta(minutes=60)) in res.content.decode()
    assert not CheckEvent.objects.exists()


def test_a_leaders_fix_with_a_reason_may_set_any_time(org: Any, cast: Cast, batch: Batch) -> None:
    a = batch.shift.assignments.get(person=org.bob)
    res = svc.checkin_fix(
        actor=cast.leader,
        assignment=a,
        check_in=batch.shift.start - timedelta(hours=3),
        check_out=batch.shift.start + timedelta(hours=1),
        reason="came early to set up",
        key="fix-1",
    )
    assert res.entry is not None and res.entry.minutes == 240


# ------------------------------------------------------------------ approvals


def _pending_checkin(org: Any, cast: Cast, batch: Batch) -> ServiceEntry:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="b-in", at=batch.shift.start)
    entry = svc.checkout_record(
        actor=cast.bob_user, shift=batch.shift, key="b-out", at=batch.shift.end - timedelta(minutes=5)
    ).entry
    assert entry is not None
    return entry


def _self_report(person: Any, user: Any, start: Any, end: Any) -> ServiceEntry:
    return svc.entry_record(
        actor=user, person=person, kind=EntryKind.COMMUNITY, start=start, end=end, note="社区值守"
    )


def test_approvals_flag_filter_and_approve_all_unflagged(org: Any, cast: Cast, batch: Batch) -> None:
    ok = _pending_checkin(org, cast, batch)
    short = _self_report(org.bob, cast.bob_user, hour(-30), hour(-30) + timedelta(minutes=5))
    long = _self_report(org.alice, cast.alice_user, hour(-48), hour(-48) + timedelta(hours=13))
    # An overlap as a ledger import can leave one (the services refuse to write one).
    ServiceEntry.objects.create(
        chain=uuid.uuid4(),
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        source=EntrySource.IMPORT,
        start=hour(-47),
        end=hour(-46),
        minutes=60,
        sign=0,
        op=EntryOp.RECORD,
        actor_name="import",
    )
    secretary = cast.client(cast.secretary)  # alice's community service: her branch decides
    leader = cast.client(cast.leader)  # bob's batch entry and his community service (his unit)
    html = leader.get(reverse("mobilize:approvals")).content.decode()
    assert f'data-entry="{ok.pk}" data-person="XH0002" data-flags=""' in html
    assert f'data-entry="{short.pk}" data-person="XH0002" data-flags="short"' in html
    assert "Only 5 minutes (less than 15)." in html

    html = secretary.get(reverse("mobilize:approvals")).content.decode()
    assert f'data-entry="{long.pk}" data-person="XH0001" data-flags="overlap long"' in html
    assert "13.00 hours: longer than 12.00 hours." in html
    assert "Overlaps another entry of the same person: " in html

    only_short = leader.get(reverse("mobilize:approvals"), {"flag": "short"}).content.decode()
    assert f'data-entry="{short.pk}"' in only_short and f'data-entry="{ok.pk}"' not in only_short
    unflagged = leader.get(reverse("mobilize:approvals"), {"flag": "none"}).content.decode()
    assert f'data-entry="{ok.pk}"' in unflagged and f'data-entry="{short.pk}"' not in unflagged
    assert leader.get(reverse("mobilize:approvals"), {"flag": "nonsense"}).status_code == 400

    # The export carries the flags in words.
    export = leader.get(reverse("mobilize:approvals"), {"export": "csv"})
    assert export.status_code == 200 and "Only 5 minutes" in export.content.decode("utf-8-sig")

    # The leader approves all unflagged: only bob's ordinary check-in entry.
    page = leader.get(reverse("mobilize:approvals"))
    assert page.context["unflagged_ids"] == str(ok.pk)
    elsewhere = _self_report(org.carol, cast.carol_user, hour(-28), hour(-26))  # 黄浦: out of reach
    res = leader.post(
        reverse("mobilize:approve_unflagged"),
        {"ids": f"{ok.pk},{short.pk},{long.pk},{elsewhere.pk}"},
        follow=True,
    )
    text = res.content.decode()
    assert "1 unflagged entry was approved." in text
    assert text.count("It is flagged; decide it on its own.") == 2  # short and long: reported, not hidden
    assert "1 entry is no longer waiting for your approval" in text  # carol's: not the leader's
    from muster.mobilize.queries import chain_state

    assert chain_state(ok.chain).net == 1
    assert chain_state(short.chain).net == 0 and chain_state(long.chain).net == 0
    assert chain_state(elsewhere.chain).net == 0
    assert AuditEvent.objects.filter(action="mobilize.entry.approved").count() == 1
    assert AuditEvent.objects.filter(action="mobilize.entry.bulk_approved").count() == 1


def test_bulk_skips_flagged_ones_with_the_reason(org: Any, cast: Cast, batch: Batch) -> None:
    short = _self_report(org.bob, cast.bob_user, hour(-30), hour(-30) + timedelta(minutes=5))
    fine = _self_report(org.bob, cast.bob_user, hour(-28), hour(-26))
    leader = cast.client(cast.leader)
    res = leader.post(reverse("mobilize:approve_unflagged"), {"ids": f"{short.pk},{fine.pk}"}, follow=True)
    text = res.content.decode()
    assert "1 unflagged entry was approved." in text
    assert "It is flagged; decide it on its own." in text
    from muster.mobilize.queries import chain_state

    assert chain_state(fine.chain).net == 1 and chain_state(short.chain).net == 0


@pytest.mark.parametrize("ids", ["", "x", "1," * 2001, "99999999999999999999999", "1;2"])
def test_bulk_refuses_junk_lists(cast: Cast, ids: str) -> None:
    res = cast.client(cast.leader).post(reverse("mobilize:approve_unflagged"), {"ids": ids}, follow=True)
    assert res.status_code == 200
    assert "Nothing to approve" in res.content.decode()


def test_bulk_needs_post_and_login(client: Client) -> None:
    assert client.get(reverse("mobilize:approve_unflagged")).status_code in (302, 405)
    res = client.post(reverse("mobilize:approve_unflagged"), {"ids": "1"})
    assert res.status_code == 302 and "/accounts/login/" in res["Location"]


def test_a_volunteer_cannot_approve_their_own_in_bulk(org: Any, cast: Cast, batch: Batch) -> None:
    own = _self_report(org.bob, cast.bob_user, hour(-28), hour(-26))
    res = cast.client(cast.bob_user).post(
        reverse("mobilize:approve_unflagged"), {"ids": str(own.pk)}, follow=True
    )
    assert "0 unflagged entries were approved." in res.content.decode()
    from muster.mobilize.queries import chain_state

    assert chain_state(own.chain).net == 0
