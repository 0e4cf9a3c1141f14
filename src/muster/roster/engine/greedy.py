"""Fast greedy construction: day by day, each shift filled with the best candidate that breaks no rule
checkable so far (rules needing the future — minimum runs, minimum minutes — are left to the repair)."""

from __future__ import annotations

import random

from .evaluate import Solution
from .index import Index

# candidate keys (lower is better): 10 per hour already worked, so one 8-hour shift is 80
WEEKEND_REUSE = 40
WEEKEND_RATION = 600
WEEK_URGENT = 150


class _State:
    def __init__(self, idx: Index, p: int) -> None:
        pr = idx.problem
        self.person = pr.people[p]
        self.shifts: set[int] = set()
        self.by_day: dict[int, list[int]] = {}
        self.day_count: dict[int, int] = {}
        self.day_minutes: dict[int, int] = {}
        self.week_minutes: dict[int, int] = {}
        self.kind_count: dict[str, int] = {}
        self.weekends: set[int] = set()
        self.minutes = 0
        self.hours = 0
        # worked days including the known tail (for consecutive rules)
        self.worked: set[int] = set(d for d in idx.tail_days_worked[p] if d >= -pr.tail_days)


def greedy(idx: Index, seed: int = 0) -> Solution:
    pr = idx.problem
    rng = random.Random(seed)
    sh = pr.shifts
    n = len(pr.people)
    states = [_State(idx, p) for p in range(n)]
    tie = [rng.random() for _ in range(n)]
    takers: dict[int, list[int]] = {}
    for p in range(n):
        for s in idx.elig[p]:
            takers.setdefault(s, []).append(p)
    counts = [0] * len(sh)
    # per person and day: the days from that day to the end of its week the person can work at all
    days_left: list[list[int]] = []
    for p in range(n):
        row = [0] * (pr.days + 1)
        avail = {sh[s].day for s in idx.elig[p]}
        for d in range(pr.days - 1, -1, -1):
            same_week = d + 1 < pr.days and idx.week_of_day[d + 1] == idx.week_of_day[d]
            row[d] = (d in avail) + (row[d + 1] if same_week else 0)
        days_left.append(row)

    def add(p: int, s: int) -> None:
        st = states[p]
        shift = sh[s]
        st.shifts.add(s)
        st.by_day.setdefault(shift.day, []).append(s)
        st.day_count[shift.day] = st.day_count.get(shift.day, 0) + 1
        st.day_minutes[shift.day] = st.day_minutes.get(shift.day, 0) + shift.minutes
        w = idx.week_of_day[shift.day]
        st.week_minutes[w] = st.week_minutes.get(w, 0) + shift.minutes
        st.kind_count[shift.kind] = st.kind_count.get(shift.kind, 0) + 1
        if idx.weekend_of_day[shift.day] >= 0:
            st.weekends.add(idx.weekend_of_day[shift.day])
        st.minutes += shift.minutes
        st.hours += idx.hours[s]
        st.worked.add(shift.day)
        counts[s] += 1

    def can(p: int, s: int) -> bool:
        st = states[p]
        person = st.person
        shift = sh[s]
        d = shift.day
        if s in st.shifts or st.day_count.get(d, 0) >= person.max_shifts_per_day:
            return False
        limit = person.max_shifts_per_kind.get(shift.kind)
        if limit is not None and st.kind_count.get(shift.kind, 0) >= limit:
            return False
        if person.max_minutes_period is not None and st.minutes + shift.minutes > person.max_minutes_period:
            return False
        if person.max_minutes_day is not None and st.day_minutes.get(d, 0) + shift.minutes > (
            person.max_minutes_day
        ):
            return False
        if (
            person.max_minutes_week is not None
            and st.week_minutes.get(idx.week_of_day[d], 0) + (shift.minutes) > person.max_minutes_week
        ):
            return False
        wk = idx.weekend_of_day[d]
        if (
            person.max_weekends is not None
            and wk >= 0
            and wk not in st.weekends
            and len(st.weekends) >= person.max_weekends
        ):
            return False
        if d not in st.worked:
            k = person.max_consecutive_days
            if k is not None:
                run = 1
                x = d - 1
                while x in st.worked:
                    run += 1
                    x -= 1
                x = d + 1
                while x in st.worked:
                    run += 1
                    x += 1
                if run > k:
                    return False
            m = person.min_consecutive_days_off
            if m > 1:
                # the days-off run ending at d-1 must not become too short
                x = d - 1
                gap = 0
                while x >= -pr.tail_days and x not in st.worked:
                    gap += 1
                    x -= 1
                if 0 < gap < m and x >= -pr.tail_days:
                    return False
        for d2 in (d - 2, d - 1, d, d + 1, d + 2):
            for s2 in st.by_day.get(d2, ()):
                if idx.clash(p, s, s2):
                    return False
        return True

    for p in range(n):
        for s in sorted(idx.locked[p], key=lambda s: sh[s].start):
            add(p, s)

    by_day: dict[int, list[int]] = {}
    for s, shift in enumerate(sh):
        by_day.setdefault(shift.day, []).append(s)
    for d in range(pr.days):
        todo = sorted(by_day.get(d, []), key=lambda s: (len(takers.get(s, ())) - sh[s].required, s))
        for s in todo:
            shift = sh[s]
            need = shift.required - counts[s]
            if need <= 0:
                continue
            cands = []
            for p in takers.get(s, ()):
                if not can(p, s):
                    continue
                st = states[p]
                person = st.person
                key = 0.0
                key -= 1000 * idx.pref_wanted.get((p, s), 0)
                key += 1000 * idx.pref_unwanted.get((p, s), 0)
                if (d - 1) in st.worked:
                    run = 1
                    x = d - 2
                    while x in st.worked:
                        run += 1
                        x -= 1
                    if run < person.min_consecutive_days:
                        key -= 500  # finish a run that is still too short
                if person.min_minutes_period:
                    key -= 300 * (person.min_minutes_period - st.minutes) / max(1, person.min_minutes_period)
                wk = idx.weekend_of_day[d]
                if wk >= 0 and person.max_weekends is not None:
                    if wk in st.weekends:
                        key -= WEEKEND_REUSE  # this weekend is already spent: use it
                    else:
                        # ration the weekends: someone who must still skip some of the remaining
                        # weekends pays for spending one (else everyone works the early weekends and
                        # nobody is left for the last)
                        left = idx.n_weekends - wk
                        allowed = person.max_weekends - len(st.weekends)
                        key += WEEKEND_RATION * max(0, left - allowed) / left
                # someone who can no longer use the week's hours if they skip today goes first (no
                # weekly limit counts as room for every day left)
                if person.max_minutes_week is None:
                    key -= WEEK_URGENT
                else:
                    fits = (person.max_minutes_week - st.week_minutes.get(idx.week_of_day[d], 0)) // max(
                        1, shift.minutes
                    )
                    if fits >= days_left[p][d]:
                        key -= WEEK_URGENT
                key += st.hours * 10 + tie[p]
                cands.append((key, p))
            cands.sort()
            for _, p in cands[:need]:
                add(p, s)
    return [st.shifts for st in states]
