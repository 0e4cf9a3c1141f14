"""``muster volunteers`` through call_command, as the operator and as a user (scoped)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from muster.mobilize.models import Assignment

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("volunteers", *args, stdout=out)
    return out.getvalue()


def test_cli_profile_open_shifts_signup(org: Any, world: Any) -> None:
    assert "medic\t医护" in run("skills")
    out = run(
        "profile", "XH0001", "--skill", "medic:2026-12-31", "--window", "2:08:00-19:00", "--max-hours", "30"
    )
    assert "skill: medic 2026-12-31" in out and "window: 2 08:00-19:00" in out
    out = run("open-shifts", "XH0001")
    assert str(world.morning.opening.pk) in out and str(world.night.opening.pk) not in out.split("\t")[0:1]
    out = run("signup", str(world.morning.opening.pk), "XH0001")
    assert "seated" in out
    assert Assignment.objects.filter(shift=world.morning, person=org.alice).exists()
    with pytest.raises(CommandError, match="window"):
        run("profile", "XH0001", "--window", "9:08:00-12:00")
    with pytest.raises(CommandError, match="before it starts"):
        run("profile", "XH0001", "--window", "1:12:00-08:00")


def test_cli_scoped_and_callup(org: Any, world: Any) -> None:
    with pytest.raises(CommandError, match="Not found"):
        run("profile", "XH0001", "--as", "mgr_hp")
    out = run(
        "callup",
        "XH",
        "集结号",
        "--need",
        "1",
        "--start",
        "2026-03-06T08:00",
        "--end",
        "2026-03-06T18:00",
        "--deadline",
        "2026-03-05T12:00",
        "--audience",
        "XH",
    )
    assert "sent to 4 people" in out
    code = out.split()[1]
    assert "0 of 1 said yes; 0 of 4 answered" in run("answers", code)
    with pytest.raises(CommandError, match="date"):
        run(
            "callup",
            "XH",
            "x",
            "--need",
            "1",
            "--start",
            "9999-99-99",
            "--end",
            "x",
            "--deadline",
            "x",
            "--audience",
            "XH",
        )
