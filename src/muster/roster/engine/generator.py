"""Seeded generator of realistic mobilization rosters (volunteers, duty posts, hotline seats).

Sites are grouped four to a community (unit). Three kinds of posts:

* checkpoint (three-shift post): 06–14, 14–22, 22–06 (night), 2 / 2 / 1 people;
* 24 h post: 08–20 and 20–08 (night), one general seat and one seat needing the ``medic`` skill;
* hotline (one per 100 sites, at least one): remote seats, 12 by day (08–14, 14–20) and 4 by night
  (20–02, 02–08), needing the ``hotline`` skill.

Local volunteers work only at the sites of their own community; about 15 % are in home observation:
remote only, with the ``hotline`` skill. Limits: 40 h a week, at most 6 days in a row, 11 h rest, no
day shift after a night, 1–2 days off a week, three weekends in four. Some people prefer not to work
nights (weight 5) or ask for particular shifts (weight 3).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .model import DAY, Person, Preference, Problem, Shift, Weights


@dataclass(frozen=True)
class VolunteerSpec:
    people: int = 50
    days: int = 7
    sites: int = 5
    seed: int = 0


def volunteer_problem(spec: VolunteerSpec) -> Problem:
    rng = random.Random(spec.seed)
    n_units = max(1, spec.sites // 4)
    n_hotlines = max(1, spec.sites // 100)
    shifts: list[Shift] = []
    site_unit: dict[str, str] = {}
    for i in range(spec.sites):
        site = f"S{i:03d}"
        unit = f"U{i % n_units:02d}"
        site_unit[site] = unit
        kind = "post24" if i % 5 == 4 else "checkpoint"
        for d in range(spec.days):
            base = d * DAY
            if kind == "checkpoint":
                for code, a, b, req, night in (
                    ("M", 6, 14, 2, False),
                    ("E", 14, 22, 2, False),
                    ("N", 22, 30, 1, True),
                ):
                    shifts.append(
                        Shift(
                            f"{site}-{d}-{code}",
                            d,
                            base + a * 60,
                            base + b * 60,
                            code,
                            site,
                            req,
                            night=night,
                        )
                    )
            else:
                for code, a, b, night in (("D", 8, 20, False), ("N", 20, 32, True)):
                    shifts.append(
                        Shift(
                            f"{site}-{d}-{code}", d, base + a * 60, base + b * 60, code, site, 1, night=night
                        )
                    )
                    shifts.append(
                        Shift(
                            f"{site}-{d}-{code}m",
                            d,
                            base + a * 60,
                            base + b * 60,
                            code,
                            site,
                            1,
                            skills=frozenset({"medic"}),
                            night=night,
                        )
                    )
    hotlines = [f"H{i}" for i in range(n_hotlines)]
    for h in hotlines:
        for d in range(spec.days):
            base = d * DAY
            for code, a, b, seats, night in (
                ("h1", 8, 14, 12, False),
                ("h2", 14, 20, 12, False),
                ("h3", 20, 26, 4, True),
                ("h4", 26, 32, 4, True),
            ):
                shifts.append(
                    Shift(
                        f"{h}-{d}-{code}",
                        d,
                        base + a * 60,
                        base + b * 60,
                        code,
                        h,
                        seats,
                        skills=frozenset({"hotline"}),
                        remote=True,
                        night=night,
                        max_count=seats,
                    )
                )
    weeks = math.ceil(spec.days / 7)
    n_weekends = (spec.days + 1) // 7 if spec.days >= 6 else 0
    people: list[Person] = []
    prefs: list[Preference] = []
    by_site_shifts: dict[str, list[Shift]] = {}
    for s in shifts:
        by_site_shifts.setdefault(s.site, []).append(s)
    for i in range(spec.people):
        pid = f"V{i:05d}"
        home = rng.random() < 0.15
        off = set()
        for w in range(weeks):
            for _ in range(rng.choice((1, 1, 2))):
                d = w * 7 + rng.randrange(7)
                if d < spec.days:
                    off.add(d)
        if len(off) >= spec.days:
            off = set()
        if home:
            unit = "HOME"
            person = Person(
                id=pid,
                skills=frozenset({"hotline"}),
                home_unit=unit,
                sites=frozenset(hotlines),
                mode="remote",
                group="remote",
            )
        else:
            unit = f"U{rng.randrange(n_units):02d}"
            skills = {"medic"} if rng.random() < 0.3 else set()
            person = Person(
                id=pid,
                skills=frozenset(skills),
                home_unit=unit,
                sites=frozenset(s for s, u in site_unit.items() if u == unit),
                mode="local",
                group="local-medic" if skills else "local",
            )
        person.days_off = frozenset(off)
        person.max_minutes_week = 40 * 60
        person.max_minutes_period = 40 * 60 * weeks
        person.max_consecutive_days = 6
        person.min_rest_minutes = 11 * 60
        person.max_weekends = max(1, math.ceil(n_weekends * 0.75)) if n_weekends else None
        people.append(person)
        r = rng.random()
        if r < 0.2:
            for site in sorted(person.sites or ()):
                for s in by_site_shifts.get(site, []):
                    if s.night:
                        prefs.append(Preference(pid, s.id, 5, wanted=False))
        elif r < 0.3:
            cands = [s for s in _candidates(person, by_site_shifts) if s.skills <= person.skills]
            for s in rng.sample(cands, k=min(3, len(cands))):
                prefs.append(Preference(pid, s.id, 3, wanted=True))
    return Problem(
        days=spec.days,
        people=people,
        shifts=shifts,
        forbidden_successions=frozenset({("N", "M"), ("N", "D"), ("N", "E"), ("h4", "h1")}),
        preferences=prefs,
        start_weekday=0,
        weights=Weights(under=100, over=5, spread_hours=1, spread_nights=2, spread_weekends=2),
    )


def _candidates(person: Person, by_site: dict[str, list[Shift]]) -> list[Shift]:
    return [s for site in sorted(person.sites or ()) for s in by_site.get(site, [])]
