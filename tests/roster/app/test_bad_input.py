"""Bad input: a period ending before it starts, a period without shifts (no horizon to roster), a
too-big request (refused before any work), a too-long time limit, a person with no availability."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from muster.mobilize import services as svc
from muster.mobilize.models import Shift
from muster.roster import services
from muster.roster.models import RosterPlan, SolveRun

from .conftest import DAY1, DAY2, Batch, Cast, at


def _codes(exc: ValidationError) -> list[str]:
    return (
        [e.code or "" for e in exc.error_list]
        if not hasattr(exc, "error_dict")
        else [e.code or "" for errs in exc.error_dict.values() for e in errs]
    )


def test_period_ending_before_it_starts(cast: Cast, batch: Batch) -> None:
    with pytest.raises(ValidationError) as exc:
        services.plan_create(actor=cast.leader, deployment=batch.deployment, start=DAY2, end=DAY1)
    assert _codes(exc.value) == ["end_before_start"]
    assert "ends (2030-03-04) before it starts (2030-03-05)" in " ".join(exc.value.messages)
    assert not RosterPlan.objects.exists()


def test_a_period_without_shifts_is_refused(cast: Cast, batch: Batch) -> None:
    empty = DAY2 + timedelta(days=5)
    with pytest.raises(ValidationError) as exc:
        services.plan_create(actor=cast.leader, deployment=batch.deployment, start=empty, end=empty)
    assert _codes(exc.value) == ["no_shifts"]
    assert "no shifts from 2030-03-10 to 2030-03-10" in " ".join(exc.value.messages)


def test_ten_thousand_shifts_are_refused_before_any_work(org: Any, cast: Cast) -> None:
    post = svc.post_create(actor=cast.leader, code="XH-BIG", name="大岗", kind="duty", unit=org.xuhui)
    first = at("2030-03-04 00:00")
    Shift.objects.bulk_create(
        [
            Shift(
                post=post, start=first + timedelta(minutes=5 * i), end=first + timedelta(minutes=5 * i + 60)
            )
            for i in range(10_000)
        ]
    )
    with pytest.raises(ValidationError) as exc:
        services.plan_create(actor=cast.leader, post=post, start=DAY1, end=DAY1 + timedelta(days=40))
    assert _codes(exc.value) == ["too_large"]
    assert "10000 shifts; the limit is 8000" in " ".join(exc.value.messages)
    assert not RosterPlan.objects.exists() and not SolveRun.objects.exists()
    # too many days
    with pytest.raises(ValidationError, match="the limit is 92 days"):
        services.plan_create(actor=cast.leader, post=post, start=DAY1, end=DAY1 + timedelta(days=200))


def test_time_limit_and_rules_are_checked(cast: Cast, batch: Batch) -> None:
    with pytest.raises(ValidationError, match="at most 60 seconds"):
        services.plan_create(
            actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2, seconds=600
        )
    with pytest.raises(ValidationError, match="at most 60 seconds"):
        services.plan_create(actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2, seconds=0)
    from muster.roster.adapter import Rules

    with pytest.raises(ValidationError) as exc:
        services.plan_create(
            actor=cast.leader,
            deployment=batch.deployment,
            start=DAY1,
            end=DAY2,
            rules=Rules(max_hours_day=30, max_shifts_per_day=0),
        )
    assert set(exc.value.message_dict) == {"max_hours_day", "max_shifts_per_day"}


def test_nobody_available_is_a_clear_error(org: Any, cast: Cast) -> None:
    post = svc.post_create(actor=cast.leader, code="XH-HOT", name="徐汇热线", kind="hotline", unit=org.xuhui)
    svc.shift_create(actor=cast.leader, post=post, start=at("2030-03-04 09:00"), end=at("2030-03-04 17:00"))
    # everybody of 徐汇 (alice, bob) is away on a batch for the whole day
    svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="全程",
        start=at("2030-03-03 00:00"),
        end=at("2030-03-06 00:00"),
        people=[org.alice, org.bob],
    )
    with pytest.raises(ValidationError, match="Nobody is free in the period"):
        services.plan_create(actor=cast.leader, post=post, start=DAY1, end=DAY1)


def test_engine_errors_are_translated_messages() -> None:
    from muster.roster import engine as eng

    exc = eng.RosterInputError("no_availability", "x", person="XH0001")
    assert services.engine_error_message(exc) == "XH0001 is not available on any day of the period."
    inf = eng.Infeasible("x", [eng.RuleRef("lock", "XH0001", "12"), eng.RuleRef("day_off", "XH0001")])
    assert services.engine_error_message(inf) == (
        "The hard rules cannot all hold. Conflicting rules: lock of XH0001 (12); day_off of XH0001."
    )


def test_a_cancelled_batch_is_not_rostered(cast: Cast, batch: Batch) -> None:
    svc.deployment_cancel(actor=cast.leader, deployment=batch.deployment, reason="取消")
    batch.deployment.refresh_from_db()
    with pytest.raises(ValidationError, match="The batch is cancelled"):
        services.plan_create(actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2)
