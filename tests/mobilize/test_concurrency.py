"""Races on PostgreSQL (real row locks): batch numbers and conflicting assignments."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from muster.mobilize import services as svc
from muster.mobilize.models import Assignment, Deployment
from muster.orgs import access

from .conftest import at

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="real row locks: run the suite on PostgreSQL"
    ),
]


def race(fns: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(len(fns))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(fn: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(fn())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_batch_numbers_are_unique_under_concurrency(org: Any, cast: Any) -> None:
    people = [org.alice, org.bob, org.dave, org.carol]

    def dispatch(i: int) -> Callable[[], Any]:
        return lambda: svc.deployment_dispatch(
            actor=access.SYSTEM,
            unit=org.xuhui,
            title=f"批次{i}",
            start=at(f"2022-03-1{i} 08:00"),
            end=at(f"2022-03-1{i} 18:00"),
            people=[people[i]],
        )

    _results, errors = race([dispatch(i) for i in range(4)])
    assert errors == []
    assert sorted(Deployment.objects.filter(unit=org.xuhui).values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_conflicting_assignments_one_wins(org: Any, cast: Any, batch: Any) -> None:
    s1 = svc.shift_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=at("2022-03-12 17:00"),
        end=at("2022-03-12 22:00"),
    )
    s2 = svc.shift_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=at("2022-03-12 18:00"),
        end=at("2022-03-12 23:00"),
    )
    _results, errors = race(
        [
            lambda: svc.shift_assign(actor=cast.leader, shift=s1, person=org.bob),
            lambda: svc.shift_assign(actor=cast.leader, shift=s2, person=org.bob),
        ]
    )
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert Assignment.objects.filter(person=org.bob, shift__in=[s1, s2]).count() == 1
