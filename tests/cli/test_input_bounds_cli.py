"""Hole 6 of issue 22 on the command line: a points year out of range is refused with the same message
as on the API and the pages (``date(99999, 1, 1)`` used to end the command with a traceback)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize("year", ["0", str(-(10**18)), "10000", "99999"])
@pytest.mark.parametrize(
    "args",
    [
        ["statement", "--person", "XH0001"],
        ["leaderboard", "--unit", "SH-DW"],
        ["recompute", "--reason", "probe"],
    ],
)
def test_years_out_of_range(org: Any, args: list[str], year: str) -> None:
    with pytest.raises(CommandError, match=r"Years must fall between 1900 and 2100\."):
        call_command("points", *args, f"--year={year}")


def test_a_year_in_range_runs(org: Any, capsys: Any) -> None:
    call_command("points", "leaderboard", "--unit", "SH-DW", "--year", "2100")
    assert "SH-DW" in capsys.readouterr().out
