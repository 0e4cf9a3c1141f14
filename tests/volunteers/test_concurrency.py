"""Two people signing up for the last seat at the same moment: exactly one gets it (PostgreSQL, real
concurrent transactions and row locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from muster.mobilize.models import Assignment
from muster.volunteers import services as vsvc
from muster.volunteers.models import SignUp, SignUpStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row locks: run on PostgreSQL"),
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


@pytest.mark.parametrize("rounds", [5])
def test_last_seat_goes_to_exactly_one(org: Any, world: Any, rounds: int) -> None:
    opening = world.remote.opening  # one seat
    for i in range(rounds):
        results, errors = race(
            [
                lambda: vsvc.signup_create(actor=world.alice_user, opening=opening),
                lambda: vsvc.signup_create(actor=world.bob_user, opening=opening),
            ]
        )
        assert len(results) == 1, (i, errors)
        assert len(errors) == 1 and isinstance(errors[0], ValidationError)
        assert {e.code for errs in errors[0].error_dict.values() for e in errs} == {"full"}
        assert Assignment.objects.filter(shift=world.remote).count() == 1
        assert SignUp.objects.filter(opening=opening, status=SignUpStatus.SEATED).count() == 1
        winner = SignUp.objects.get(opening=opening, status=SignUpStatus.SEATED)
        vsvc.signup_cancel(actor=winner.person.user, signup=winner)
        assert Assignment.objects.filter(shift=world.remote).count() == 0
