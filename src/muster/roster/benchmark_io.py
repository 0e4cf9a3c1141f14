"""The Curtois & Qu shift scheduling benchmark: reader, adapter to the engine, roster writer and an
independent evaluator (pure Python, no Django, no engine code in the evaluator).

Format (``../shared/benchmarks/shift-scheduling/README.md``): sections HORIZON, SHIFTS, STAFF,
DAYS_OFF, SHIFT_ON_REQUESTS, SHIFT_OFF_REQUESTS, COVER. Everything is hard except the requests and
the cover. A roster file holds one line per employee in staff order: the ID, then one tab-separated
field per day with the shift ID or nothing for a day off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

BEST_KNOWN = {
    1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1300, 9: 439, 10: 4631,
    11: 3443, 12: 4040, 13: 1348, 14: 1278, 15: 3834, 16: 3225, 17: 5746, 18: 4459, 19: 3149,
    20: 4943, 21: 21159, 22: 33155, 23: 17428, 24: 48777,
}  # fmt: skip


class BenchmarkFormatError(ValueError):
    pass


@dataclass
class StaffRow:
    id: str
    max_shifts: dict[str, int]
    max_minutes: int
    min_minutes: int
    max_consecutive: int
    min_consecutive: int
    min_days_off: int
    max_weekends: int


@dataclass
class Instance:
    name: str
    horizon: int
    lengths: dict[str, int]  # shift type -> minutes, in file order
    cannot_follow: dict[str, set[str]]  # shift type -> types that cannot follow it next day
    staff: list[StaffRow]
    days_off: dict[str, set[int]] = field(default_factory=dict)
    on_requests: list[tuple[str, int, str, int]] = field(default_factory=list)
    off_requests: list[tuple[str, int, str, int]] = field(default_factory=list)
    cover: dict[tuple[int, str], tuple[int, int, int]] = field(default_factory=dict)  # req, under, over


def read_instance(path: str | Path) -> Instance:
    path = Path(path)
    sections: dict[str, list[str]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            current = line
            sections[current] = []
            continue
        if current is None:
            raise BenchmarkFormatError(f"{path}: data before the first section")
        sections[current].append(line)
    try:
        horizon = int(sections["SECTION_HORIZON"][0])
        lengths: dict[str, int] = {}
        cannot: dict[str, set[str]] = {}
        for line in sections["SECTION_SHIFTS"]:
            parts = [x.strip() for x in line.split(",")]
            lengths[parts[0]] = int(parts[1])
            cannot[parts[0]] = {x for x in (parts[2] if len(parts) > 2 else "").split("|") if x}
        staff = []
        for line in sections["SECTION_STAFF"]:
            parts = [x.strip() for x in line.split(",")]
            maxes = {}
            for item in parts[1].split("|"):
                if item:
                    k, v = item.split("=")
                    maxes[k] = int(v)
            staff.append(StaffRow(parts[0], maxes, *(int(x) for x in parts[2:8])))
        inst = Instance(path.stem, horizon, lengths, cannot, staff)
        for line in sections.get("SECTION_DAYS_OFF", []):
            parts = [x.strip() for x in line.split(",")]
            inst.days_off.setdefault(parts[0], set()).update(int(x) for x in parts[1:] if x)
        for key, target in (
            ("SECTION_SHIFT_ON_REQUESTS", inst.on_requests),
            ("SECTION_SHIFT_OFF_REQUESTS", inst.off_requests),
        ):
            for line in sections.get(key, []):
                e, d, s, w = (x.strip() for x in line.split(","))
                target.append((e, int(d), s, int(w)))
        for line in sections["SECTION_COVER"]:
            d, s, req, under, over = (x.strip() for x in line.split(","))
            inst.cover[(int(d), s)] = (int(req), int(under), int(over))
    except (KeyError, IndexError, ValueError) as exc:
        raise BenchmarkFormatError(f"{path}: malformed instance ({exc})") from exc
    return inst


def instance_number(path: str | Path) -> int | None:
    digits = "".join(ch for ch in Path(path).stem if ch.isdigit())
    return int(digits) if digits else None


# ---------------------------------------------------------------------------- adapter
def shift_id(day: int, kind: str) -> str:
    return f"{day}:{kind}"


def to_problem(inst: Instance):  # -> engine Problem (import kept local: the evaluator stays independent)
    from muster.roster.engine.model import Person, Preference, Problem, Shift, Weights

    shifts = []
    for d in range(inst.horizon):
        for kind, length in inst.lengths.items():
            req, under, over = inst.cover.get((d, kind), (0, 0, 0))
            shifts.append(
                Shift(
                    id=shift_id(d, kind),
                    day=d,
                    start=d * 1440,
                    end=d * 1440 + length,
                    kind=kind,
                    required=req,
                    weight_under=under,
                    weight_over=over,
                )
            )
    people = [
        Person(
            id=row.id,
            days_off=frozenset(inst.days_off.get(row.id, set())),
            max_shifts_per_kind={k: row.max_shifts.get(k, 0) for k in inst.lengths},
            max_minutes_period=row.max_minutes,
            min_minutes_period=row.min_minutes,
            max_consecutive_days=row.max_consecutive,
            min_consecutive_days=row.min_consecutive,
            min_consecutive_days_off=row.min_days_off,
            max_weekends=row.max_weekends,
        )
        for row in inst.staff
    ]
    prefs = [Preference(e, shift_id(d, s), w, wanted=True) for e, d, s, w in inst.on_requests]
    prefs += [Preference(e, shift_id(d, s), w, wanted=False) for e, d, s, w in inst.off_requests]
    succ = frozenset((a, b) for a, bs in inst.cannot_follow.items() for b in bs)
    return Problem(
        days=inst.horizon,
        people=people,
        shifts=shifts,
        forbidden_successions=succ,
        preferences=prefs,
        start_weekday=0,
        weights=Weights(under=0, over=0),
    )


Roster = dict[str, list[str]]  # employee -> per day the shift type or ""


def roster_from_assignments(inst: Instance, assignments: list[tuple[str, str]]) -> Roster:
    roster = {row.id: [""] * inst.horizon for row in inst.staff}
    for person, sid in assignments:
        day, _, kind = sid.partition(":")
        roster[person][int(day)] = kind
    return roster


def write_roster(inst: Instance, roster: Roster, path: str | Path) -> None:
    lines = ["\t".join([row.id, *roster[row.id]]) for row in inst.staff]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_roster(inst: Instance, path: str | Path) -> Roster:
    roster: Roster = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        days = parts[1:] + [""] * (inst.horizon - len(parts) + 1)
        roster[parts[0]] = [x.strip() for x in days[: inst.horizon]]
    return roster


# ---------------------------------------------------------------------------- evaluator
@dataclass
class Evaluation:
    objective: int
    violations: list[str]
    cover_penalty: int
    request_penalty: int


def evaluate(inst: Instance, roster: Roster) -> Evaluation:
    """Independent check of the published model: hard violations and the penalty."""
    bad: list[str] = []
    horizon = inst.horizon
    for row in inst.staff:
        e = row.id
        days = roster.get(e)
        if days is None:
            bad.append(f"{e}: missing from the roster")
            days = [""] * horizon
            roster = {**roster, e: days}
        if len(days) != horizon:
            bad.append(f"{e}: {len(days)} days instead of {horizon}")
            continue
        counts: dict[str, int] = {}
        minutes = 0
        for d, s in enumerate(days):
            if not s:
                continue
            if s not in inst.lengths:
                bad.append(f"{e}: unknown shift {s!r} on day {d}")
                continue
            counts[s] = counts.get(s, 0) + 1
            minutes += inst.lengths[s]
            if d in inst.days_off.get(e, set()):
                bad.append(f"{e}: works on day off {d}")
            if d + 1 < horizon and days[d + 1] in inst.cannot_follow[s]:
                bad.append(f"{e}: {days[d + 1]} on day {d + 1} cannot follow {s}")
        for s, n in counts.items():
            if n > row.max_shifts.get(s, 0):
                bad.append(f"{e}: {n} shifts {s} > max {row.max_shifts.get(s, 0)}")
        if minutes > row.max_minutes:
            bad.append(f"{e}: {minutes} minutes > max {row.max_minutes}")
        if minutes < row.min_minutes:
            bad.append(f"{e}: {minutes} minutes < min {row.min_minutes}")
        # runs of days worked / off
        d = 0
        while d < horizon:
            on = bool(days[d])
            j = d
            while j + 1 < horizon and bool(days[j + 1]) == on:
                j += 1
            length = j - d + 1
            inner = d > 0 and j < horizon - 1
            if on and length > row.max_consecutive:
                bad.append(f"{e}: {length} consecutive shifts from day {d} > {row.max_consecutive}")
            if on and inner and length < row.min_consecutive:
                bad.append(f"{e}: {length} consecutive shifts from day {d} < {row.min_consecutive}")
            if not on and inner and length < row.min_days_off:
                bad.append(f"{e}: {length} consecutive days off from day {d} < {row.min_days_off}")
            d = j + 1
        weekends = sum(
            1 for w in range(horizon // 7) if days[7 * w + 5] or (7 * w + 6 < horizon and days[7 * w + 6])
        )
        if weekends > row.max_weekends:
            bad.append(f"{e}: {weekends} weekends > {row.max_weekends}")
    requests = 0
    for e, d, s, w in inst.on_requests:
        if roster[e][d] != s:
            requests += w
    for e, d, s, w in inst.off_requests:
        if roster[e][d] == s:
            requests += w
    cover = 0
    for (d, s), (req, under, over) in inst.cover.items():
        n = sum(1 for row in inst.staff if roster[row.id][d] == s)
        cover += under * max(0, req - n) + over * max(0, n - req)
    return Evaluation(cover + requests, bad, cover, requests)
