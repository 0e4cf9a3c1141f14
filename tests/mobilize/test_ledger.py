"""The service-hours ledger: append-only rows, approvals, corrections, refusals, sums at a cutoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muster import clock as tu
from muster.audit.models import AuditEvent
from muster.mobilize import queries as q
from muster.mobilize import services as svc
from muster.mobilize.models import EntryKind, EntryOp, MeasureKind, ServiceEntry
from muster.orgs.access import SYSTEM, NotAllowed

from .conftest import at

pytestmark = pytest.mark.django_db


def _record(actor: Any, person: Any, start: str, end: str, **kw: Any) -> ServiceEntry:
    return svc.entry_record(
        actor=actor,
        person=person,
        kind=kw.pop("kind", EntryKind.COMMUNITY),
        start=at(start),
        end=at(end),
        **kw,
    )


def test_end_before_start_and_longer_than_a_day_refused(org: Any, cast: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(cast.alice_user, org.alice, "2022-03-12 10:00", "2022-03-12 09:00")
    assert exc.value.error_dict["end"][0].code == "end_before_start"
    with pytest.raises(ValidationError) as exc:
        _record(cast.alice_user, org.alice, "2022-03-12 08:00", "2022-03-13 08:01")
    assert exc.value.error_dict["end"][0].code == "too_long"
    assert "24 hours" in str(exc.value)
    _record(cast.alice_user, org.alice, "2022-03-12 08:00", "2022-03-13 08:00")  # exactly 24 h is fine
    with pytest.raises(ValidationError):
        svc.entry_record(
            actor=cast.alice_user,
            person=org.alice,
            kind=EntryKind.COMMUNITY,
            start=datetime.now(tz=at("2022-01-01 00:00").tzinfo),
            end=at("2099-01-01 00:00"),
        )


def test_ledger_is_append_only(org: Any, cast: Any) -> None:
    e = _record(cast.alice_user, org.alice, "2022-03-12 08:00", "2022-03-12 10:00")
    e.minutes = 9999
    with pytest.raises(TypeError):
        e.save()
    with pytest.raises(TypeError):
        e.delete()
    with pytest.raises(TypeError):
        ServiceEntry.objects.filter(pk=e.pk).update(minutes=1)
    with pytest.raises(TypeError):
        ServiceEntry.objects.all().delete()


def test_community_service_approved_by_branch_secretary(org: Any, cast: Any) -> None:
    """居家观察: alice reports from home with a note; her branch secretary approves."""
    e = _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 11:30", note="协助居委电话排摸")
    assert (e.sign, e.source) == (0, "self")
    with pytest.raises(NotAllowed):  # nobody approves their own entry
        svc.entry_approve(actor=cast.alice_user, entry=e)
    assert [r.pk for r in q.pending_for_approver(cast.secretary)] == [e.pk]
    svc.entry_approve(actor=cast.secretary, entry=e)
    assert q.balance(org.alice) == 150
    assert q.balance_by_kind(org.alice) == {"community": 150}


def test_approval_without_the_role_refused(org: Any, cast: Any, batch: Any, make_user: Any) -> None:
    svc.checkin_record(actor=cast.bob_user, shift=batch.shift, key="i", at=at("2022-03-12 08:00"))
    e = svc.checkout_record(actor=cast.bob_user, shift=batch.shift, key="o", at=at("2022-03-12 16:00")).entry
    assert e is not None
    with pytest.raises(NotAllowed):  # sees it (viewer on 徐汇) but may not approve
        svc.entry_approve(actor=cast.viewer, entry=e)
    with pytest.raises(Http404):  # the branch secretary's scope is the party branch: bob is not in it
        svc.entry_approve(actor=cast.secretary, entry=e)
    with pytest.raises(Http404):  # 黄浦's manager does not see 徐汇's people at all
        svc.entry_approve(actor=cast.manager_hp, entry=e)
    svc.checkin_record(actor=cast.alice_user, shift=batch.shift, key="ai", at=at("2022-03-12 08:00"))
    ea = svc.checkout_record(
        actor=cast.alice_user, shift=batch.shift, key="ao", at=at("2022-03-12 16:00")
    ).entry
    assert ea is not None
    with pytest.raises(NotAllowed):  # the secretary sees alice (her branch) but not the batch's unit role
        svc.entry_approve(actor=cast.secretary, entry=ea)
    with pytest.raises(NotAllowed):  # alice leads the batch, but not her own entry
        svc.entry_approve(actor=cast.alice_user, entry=ea)
    with pytest.raises(NotAllowed):
        svc.entry_approve(actor=cast.bob_user, entry=e)
    assert q.balance(org.bob) == 0 and ServiceEntry.objects.count() == 2
    assert q.pending_for_approver(cast.viewer) == [] and q.pending_for_approver(cast.manager_hp) == []
    assert [r.pk for r in q.pending_for_approver(cast.leader)] == [e.pk, ea.pk]
    assert [r.pk for r in q.pending_for_approver(cast.alice_user)] == [e.pk]  # the batch leader: bob's only


def test_approving_twice_refused(org: Any, cast: Any) -> None:
    e = _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 10:00")
    svc.entry_approve(actor=cast.secretary, entry=e)
    with pytest.raises(ValidationError, match="already approved"):
        svc.entry_approve(actor=cast.secretary, entry=e)
    assert q.balance(org.alice) == 60


def test_correction_flow_keeps_history(org: Any, cast: Any) -> None:
    e = _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 12:00")
    ok = svc.entry_approve(actor=cast.secretary, entry=e)
    req = svc.entry_correct(
        actor=cast.alice_user,
        entry=ok,
        start=at("2022-03-14 09:00"),
        end=at("2022-03-14 13:00"),
        reason="漏记一小时",
    )
    assert req.op == EntryOp.CORRECT_REQUEST and req.sign == 0
    assert q.balance(org.alice) == 180  # the approved version stands until the correction is approved
    view = q.person_entries(org.alice)[0]
    assert view.status == q.EntryStatus.CORRECTION_PENDING and view.proposed == req and view.id == req.pk
    done = svc.entry_approve(actor=cast.secretary, entry=req)
    assert done.op == EntryOp.CORRECT_APPROVE
    assert q.balance(org.alice) == 240
    ops = list(ServiceEntry.objects.filter(chain=e.chain).order_by("id").values_list("op", "sign", "minutes"))
    assert ops == [
        ("record", 0, 180),
        ("approve", 1, 180),
        ("correct_request", 0, 240),
        ("reverse", -1, 180),
        ("correct_approve", 1, 240),
    ]
    assert AuditEvent.objects.filter(action="mobilize.entry.corrected").count() == 1
    # the hours before a cutoff in the middle of the corrected interval
    assert q.balance(org.alice, as_of=at("2022-03-14 11:00")) == 120
    assert q.balance(org.alice, as_of=at("2022-03-14 09:00")) == 0


def test_correction_of_a_correction_refused(org: Any, cast: Any) -> None:
    e = _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 12:00")
    ok = svc.entry_approve(actor=cast.secretary, entry=e)
    req = svc.entry_correct(
        actor=cast.alice_user,
        entry=ok,
        start=at("2022-03-14 08:00"),
        end=at("2022-03-14 12:00"),
        reason="早到",
    )
    with pytest.raises(ValidationError) as exc:  # a correction of a pending correction
        svc.entry_correct(
            actor=cast.alice_user,
            entry=req,
            start=at("2022-03-14 07:00"),
            end=at("2022-03-14 12:00"),
            reason="再改",
        )
    assert exc.value.error_dict["entry"][0].code == "correction_pending"
    svc.entry_approve(actor=cast.secretary, entry=req)
    for stale in (req, ok, e):  # a correction of a superseded row (the decided correction, the old versions)
        with pytest.raises(ValidationError) as exc:
            svc.entry_correct(
                actor=cast.secretary,
                entry=stale,
                start=at("2022-03-14 07:00"),
                end=at("2022-03-14 12:00"),
                reason="再改",
            )
        assert exc.value.error_dict["entry"][0].code == "superseded"
    assert q.balance(org.alice) == 240


def test_reject_and_reverse(org: Any, cast: Any) -> None:
    e = _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 12:00")
    with pytest.raises(ValidationError, match="why"):
        svc.entry_reject(actor=cast.secretary, entry=e, reason="")
    rej = svc.entry_reject(actor=cast.secretary, entry=e, reason="无证明")
    assert q.person_entries(org.alice)[0].status == "rejected" and q.balance(org.alice) == 0
    # the person may ask again (a correction of the rejected entry); approval counts the new interval only
    req = svc.entry_correct(
        actor=cast.alice_user,
        entry=rej,
        start=at("2022-03-14 09:00"),
        end=at("2022-03-14 11:00"),
        reason="附照片",
    )
    ok = svc.entry_approve(actor=cast.secretary, entry=req)
    assert q.balance(org.alice) == 120
    rev = svc.entry_reverse(actor=cast.secretary, entry=ok, reason="重复登记")
    assert rev.sign == -1 and q.balance(org.alice) == 0
    assert q.person_entries(org.alice)[0].status == "reversed"


def test_overlapping_entries_refused(org: Any, cast: Any) -> None:
    _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 12:00")
    with pytest.raises(ValidationError) as exc:
        _record(cast.alice_user, org.alice, "2022-03-14 11:00", "2022-03-14 13:00")
    assert exc.value.error_dict["start"][0].code == "overlap"
    _record(cast.alice_user, org.alice, "2022-03-14 12:00", "2022-03-14 13:00")  # touching is fine


def test_dispatch_entry_needs_membership_and_back_entry_is_approved(org: Any, cast: Any, batch: Any) -> None:
    with pytest.raises(ValidationError, match="not in batch"):
        svc.entry_record(
            actor=SYSTEM,
            person=org.dave,
            kind=EntryKind.DISPATCH,
            deployment=batch.deployment,
            start=at("2022-03-12 08:00"),
            end=at("2022-03-12 10:00"),
        )
    with pytest.raises(ValidationError, match="names its batch"):
        svc.entry_record(
            actor=cast.leader,
            person=org.bob,
            kind=EntryKind.DISPATCH,
            start=at("2022-03-12 08:00"),
            end=at("2022-03-12 10:00"),
        )
    e = svc.entry_record(
        actor=cast.leader,
        person=org.bob,
        kind=EntryKind.DISPATCH,
        deployment=batch.deployment,
        start=at("2022-03-12 08:00"),
        end=at("2022-03-12 10:00"),
        source="import",
    )
    assert e.sign == 1 and q.balance(org.bob) == 120  # 谁记录谁证明


def test_measures_on_batch_and_entry(org: Any, cast: Any, batch: Any) -> None:
    kinds = {k.code: k for k in MeasureKind.objects.all()}
    assert {
        "households_served",
        "residents_tested",
        "calls_answered",
        "calls_transferred_remote",
        "checkpoint_registered",
        "temperatures_taken",
        "vehicles_turned_back",
    } <= set(kinds)
    mv = svc.measure_record(
        actor=cast.leader, kind=kinds["residents_tested"], value=5000, deployment=batch.deployment
    )
    assert batch.deployment.measures.get().value == 5000
    e = _record(cast.alice_user, org.alice, "2022-03-14 09:00", "2022-03-14 10:00")
    svc.measure_record(actor=cast.alice_user, kind=kinds["calls_answered"], value=42, entry=e)
    with pytest.raises(Http404):
        svc.measure_record(
            actor=cast.manager_hp, kind=kinds["households_served"], value=1, deployment=batch.deployment
        )
    with pytest.raises(ValidationError):
        svc.measure_record(
            actor=cast.leader, kind=kinds["households_served"], value=-1, deployment=batch.deployment
        )
    svc.measure_remove(actor=cast.leader, value=mv, reason="录错")
    assert AuditEvent.objects.get(action="mobilize.measure.removed").changes["value"] == 5000
    with pytest.raises(NotAllowed):
        svc.measure_kind_create(actor=cast.leader, code="x", name="X")
    k = svc.measure_kind_create(actor=SYSTEM, code="meals_delivered", name="配送餐食", unit_label="份")
    svc.measure_kind_update(actor=SYSTEM, kind=k, is_active=False)
    with pytest.raises(ValidationError, match="no longer in use"):
        svc.measure_record(actor=cast.leader, kind=k, value=1, deployment=batch.deployment)


# ---------------------------------------------------------------- properties

DAY0 = at("2022-03-01 00:00")


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = DAY0 + timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
    return start, start + timedelta(minutes=draw(st.integers(1, 24 * 60)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=spans(),
    steps=st.lists(st.tuples(st.sampled_from(["self", "direct", "reject"]), spans()), max_size=5),
    cutoffs=st.lists(st.integers(0, 8 * 24 * 60), min_size=1, max_size=4),
)
def test_sums_of_corrections_equal_the_corrected_balance(
    org: Any,
    cast: Any,
    first: tuple[datetime, datetime],
    steps: list[tuple[str, tuple[datetime, datetime]]],
    cutoffs: list[int],
) -> None:
    """Whatever chain of corrections happens, the balance (at any cutoff) is that of the final interval."""
    with transaction.atomic():
        e = svc.entry_record(
            actor=cast.alice_user, person=org.alice, kind=EntryKind.COMMUNITY, start=first[0], end=first[1]
        )
        head = svc.entry_approve(actor=cast.secretary, entry=e)
        final = first
        for how, (s, t) in steps:
            if (s, t) == final:
                continue
            if how == "direct":
                head = svc.entry_correct(actor=cast.secretary, entry=head, start=s, end=t, reason="fix")
                final = (s, t)
            else:
                req = svc.entry_correct(actor=cast.alice_user, entry=head, start=s, end=t, reason="ask")
                if how == "self":
                    head = svc.entry_approve(actor=cast.secretary, entry=req)
                    final = (s, t)
                else:
                    head = svc.entry_reject(actor=cast.secretary, entry=req, reason="no")
        assert q.balance(org.alice) == tu.minutes_between(*final)
        for c in sorted(cutoffs):
            cutoff = DAY0 + timedelta(minutes=c, seconds=17)
            assert q.balance(org.alice, as_of=cutoff) == tu.clip_minutes(*final, cutoff)
        assert set(ServiceEntry.objects.filter(chain=e.chain).values_list("sign", flat=True)) <= {-1, 0, 1}
        assert sum(ServiceEntry.objects.filter(chain=e.chain).values_list("sign", flat=True)) == 1
        transaction.set_rollback(True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.lists(st.integers(0, 20), min_size=1, max_size=6, unique=True),
    length=st.integers(1, 24 * 60),
    t1=st.integers(0, 22 * 24 * 60),
    t2=st.integers(0, 22 * 24 * 60),
)
def test_ledger_cutoff_is_monotone_and_additive(
    org: Any, cast: Any, days: list[int], length: int, t1: int, t2: int
) -> None:
    with transaction.atomic():
        for d in days:  # one entry per day, possibly crossing midnight (starts at 20:00)
            s = DAY0 + timedelta(days=d, hours=20)
            svc.entry_record(
                actor=cast.secretary,
                person=org.alice,
                kind=EntryKind.COMMUNITY,
                start=s,
                end=s + timedelta(minutes=min(length, 24 * 60 - 1)),
            )
        total = q.balance(org.alice)
        lo, hi = sorted((DAY0 + timedelta(minutes=t1), DAY0 + timedelta(minutes=t2)))
        b_lo, b_hi = q.balance(org.alice, as_of=lo), q.balance(org.alice, as_of=hi)
        assert 0 <= b_lo <= b_hi <= total
        rows = ServiceEntry.objects.filter(person=org.alice)
        after_hi = sum(tu.clip_between(r.start, r.end, hi, DAY0 + timedelta(days=60)) * r.sign for r in rows)
        assert b_hi + after_hi == total
        transaction.set_rollback(True)
