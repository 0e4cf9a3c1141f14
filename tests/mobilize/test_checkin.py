"""Check-in/out, idempotency under retries and races, roll-call and the leader's fixes."""

from __future__ import annotations

import threading
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.http import Http404

from muster.audit.models import AuditEvent
from muster.mobilize import queries as q
from muster.mobilize import services as svc
from muster.mobilize.models import Assignment, CheckEvent, EntryKind, EntryOp, PostKind, ServiceEntry
from muster.mobilize.services import checkin as svc_checkin
from muster.mobilize.services import ledger as svc_ledger

from .conftest import at

pytestmark = pytest.mark.django_db


def test_self_checkin_and_out_makes_a_pending_entry(org: Any, cast: Any, batch: Any) -> None:
    r_in = svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="k-in-1", at=at("2022-03-12 08:02"))
    r_out = svc.checkout_record(
        actor=cast.bob_user, shift=batch.shift, key="k-out-1", at=at("2022-03-12 16:05")
    )
    assert r_in.created and r_out.created and r_out.entry is not None
    e = r_out.entry
    assert (e.kind, e.source, e.op, e.sign, e.minutes) == (
        EntryKind.DISPATCH,
        "checkin",
        EntryOp.RECORD,
        0,
        483,
    )
    assert e.deployment == batch.deployment and e.shift == batch.shift
    assert q.balance(org.bob) == 0 and list(q.person_pending(org.bob)) == [e]
    assert AuditEvent.objects.filter(action="mobilize.check.out").count() == 1
    # the batch's leader (alice) approves: the hours count
    svc.entry_approve(actor=cast.alice_user, entry=e)
    assert q.balance(org.bob) == 483 and list(q.person_pending(org.bob)) == []


def test_same_key_twice_is_one_event(org: Any, cast: Any, batch: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="in", at=at("2022-03-12 08:00"))
    first = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="out", at=at("2022-03-12 16:00"))
    again = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="out", at=at("2022-03-12 16:00"))
    assert not again.created and again.event == first.event and again.entry == first.entry
    assert CheckEvent.objects.count() == 2 and ServiceEntry.objects.count() == 1
    with pytest.raises(ValidationError, match="already used"):
        svc.checkin_record(actor=cast.alice_user, shift=batch.shift, key="out", at=at("2022-03-12 16:00"))


def test_checkout_without_checkin_refused(org: Any, cast: Any, batch: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="o", at=at("2022-03-12 16:00"))
    assert "check in first" in str(exc.value)
    assert CheckEvent.objects.count() == 0 and ServiceEntry.objects.count() == 0


def test_double_checkin_refused(org: Any, cast: Any, batch: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="a", at=at("2022-03-12 08:00"))
    with pytest.raises(ValidationError, match="already checked in"):
        svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="b", at=at("2022-03-12 08:10"))


def test_checkin_out_of_scope_is_not_found(org: Any, cast: Any, batch: Any, make_user: Any) -> None:
    """Carol (黄浦) and 黄浦's manager cannot even learn that 徐汇's shift exists."""
    with pytest.raises(Http404):
        svc.checkin_record(actor=cast.carol_user, shift=batch.shift, key="c1")
    with pytest.raises(Http404):
        svc.checkin_record(actor=cast.manager_hp, shift=batch.shift, key="c2", person=org.bob)
    with pytest.raises(Http404):
        q.shift_get_or_404(cast.carol_user, token=batch.shift.token)
    assert q.shift_get_or_404(cast.bob_user, token=batch.shift.token) == batch.shift
    # in scope but without the right: 403-style
    from muster.orgs.access import NotAllowed

    with pytest.raises(NotAllowed):
        svc.checkin_record(actor=cast.viewer, shift=batch.shift, key="c3", person=org.bob)
    assert CheckEvent.objects.count() == 0


def test_person_not_on_the_shift(org: Any, cast: Any, batch: Any, make_user: Any) -> None:
    dave_user = make_user("dave", "viewer", org.xuhui)
    from .conftest import link

    link(org.dave, dave_user)
    with pytest.raises(ValidationError, match="not on this shift"):
        svc.checkin_record(actor=dave_user, shift=batch.shift, key="d1")


def test_lost_race_on_the_key_returns_the_winner(org: Any, cast: Any, batch: Any) -> None:
    """SQLite has no row locks: simulate the other request committing between our check and our insert.
    The unique key refuses the second row; the service answers with the first, and its entry is undone."""
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="in", at=at("2022-03-12 08:00"))
    winner = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="out", at=at("2022-03-12 16:00"))

    def as_seen_before_the_winner(key: str, assignment: Any) -> Any:
        # Our replay check and state read saw "checked in" and the key unused (the winner not yet there).
        return None, CheckEvent.objects.get(key="in")

    # The loser's transaction does not see the winner's uncommitted entry either.
    with (
        mock.patch.object(svc_checkin, "_check_events", as_seen_before_the_winner),
        mock.patch.object(svc_ledger, "_check_entry_overlap", lambda *a, **k: None),
    ):
        loser = svc.checkout_record(
            actor=cast.bob_user, shift=batch.shift, key="out", at=at("2022-03-12 16:00")
        )
    assert not loser.created and loser.event == winner.event
    assert ServiceEntry.objects.count() == 1 and CheckEvent.objects.count() == 2


def test_rollcall_is_approved_and_idempotent(org: Any, cast: Any, batch: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="bob-in", at=at("2022-03-12 08:10"))
    lines = [
        svc.RollCallLine(org.bob, at("2022-03-12 08:00"), at("2022-03-12 16:00")),
        svc.RollCallLine(org.alice, at("2022-03-12 08:00"), at("2022-03-12 16:00")),
    ]
    res = svc.rollcall_record(actor=cast.leader, shift=batch.shift, lines=lines, key="rc-1")
    assert len(res.entries) == 2
    # bob keeps his own check-in time; the leader's roll-call certifies both entries at once
    assert q.balance(org.bob) == 470 and q.balance(org.alice) == 480
    again = svc.rollcall_record(actor=cast.leader, shift=batch.shift, lines=lines, key="rc-1")
    assert all(not r.created for r in again.results)
    assert ServiceEntry.objects.count() == 2


def test_leader_rollcall_of_own_entry_stays_pending(org: Any, cast: Any, batch: Any) -> None:
    """Alice leads the batch: she may roll-call, but her own entry waits for someone else."""
    lines = [
        svc.RollCallLine(org.alice, at("2022-03-12 08:00"), at("2022-03-12 16:00")),
        svc.RollCallLine(org.bob, at("2022-03-12 08:00"), at("2022-03-12 12:00")),
    ]
    svc.rollcall_record(actor=cast.alice_user, shift=batch.shift, lines=lines, key="rc")
    assert q.balance(org.alice) == 0 and q.person_pending(org.alice).count() == 1
    assert q.balance(org.bob) == 240


def test_leader_fixes_times_with_a_reason(org: Any, cast: Any, batch: Any) -> None:
    a = Assignment.objects.get(shift=batch.shift, person=org.bob)
    svc.checkin_record(
        actor=cast.bob_user, shift=batch.shift, key="i", at=at("2022-03-12 07:20")
    )  # on the bus
    with pytest.raises(ValidationError, match="why"):
        svc.checkin_fix(actor=cast.leader, assignment=a, check_in=at("2022-03-12 08:00"), reason=" ", key="f")
    svc.checkin_fix(
        actor=cast.leader, assignment=a, check_in=at("2022-03-12 08:00"), reason="途中签到", key="f"
    )
    out = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="o", at=at("2022-03-12 16:00"))
    assert out.entry is not None and out.entry.start == at("2022-03-12 08:00") and out.entry.minutes == 480
    svc.entry_approve(actor=cast.leader, entry=out.entry)
    # after the check-out, a fix corrects the ledger entry (history kept)
    fixed = svc.checkin_fix(
        actor=cast.leader, assignment=a, check_in=at("2022-03-12 08:30"), reason="迟到", key="f2"
    )
    assert fixed.entry is not None and fixed.entry.op == EntryOp.CORRECT_APPROVE
    assert q.balance(org.bob) == 450
    assert AuditEvent.objects.filter(action="mobilize.check.fixed").count() == 2


def test_post_shift_entry_kind(org: Any, cast: Any) -> None:
    post = svc.post_create(actor=cast.leader, unit=org.xuhui, code="HL", name="热线", kind=PostKind.HOTLINE)
    s = svc.shift_create(
        actor=cast.leader, post=post, start=at("2022-03-12 08:00"), end=at("2022-03-12 12:00"), remote=True
    )
    svc.shift_assign(actor=cast.leader, shift=s, person=org.bob)
    svc.checkin_record(actor=cast.bob_user, shift=s, key="1", at=at("2022-03-12 08:00"))
    e = svc.checkout_record(actor=cast.bob_user, shift=s, key="2", at=at("2022-03-12 12:00")).entry
    assert e is not None and e.kind == EntryKind.HOTLINE and e.deployment is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks: run the suite on PostgreSQL")
def test_concurrent_same_checkout_makes_one_entry(org: Any, cast: Any, batch: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="in", at=at("2022-03-12 08:00"))
    barrier = threading.Barrier(4)
    results: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            results.append(
                svc.checkout_record(
                    actor=cast.bob_user, shift=batch.shift, key="same-out", at=at("2022-03-12 16:00")
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.created for r in results) == 1
    assert len({r.event.pk for r in results}) == 1
    assert ServiceEntry.objects.filter(person=org.bob).count() == 1
