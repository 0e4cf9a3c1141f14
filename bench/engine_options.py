"""The ``--set OPTION=VALUE`` flag of the roster benchmarks: engine options for one run."""

from __future__ import annotations

import argparse

from muster.roster.engine import Options  # the scripts put src/ on the path before importing this


def add_set_flag(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="an engine option for this run, e.g. --set lns_small_vars=1000 --set lns_mode=python",
    )


def overrides(ap: argparse.ArgumentParser, items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    defaults = Options()
    for item in items:
        key, _, value = item.partition("=")
        if key not in Options.__dataclass_fields__:
            ap.error(f"unknown engine option {key!r}")
        current = getattr(defaults, key)
        if value == "none":
            out[key] = None
        elif isinstance(current, bool):
            if value not in ("true", "false"):
                ap.error(f"{key} takes true or false")
            out[key] = value == "true"
        else:
            out[key] = (int if current is None else type(current))(value)
    return out
