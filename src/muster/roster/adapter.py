"""From the app to the engine: a batch or a post over a period becomes an engine ``Problem``.

Who can be rostered (documented choice):

- a **batch** (``Deployment``): its members;
- a **post**: the active people (in service or seconded) of the post's unit and its sub-units, plus anyone
  already assigned to one of the post's shifts in the period.

The period is whole local days ``[start date, end date]`` (both included); day 0 is the start date,
00:00 Asia/Shanghai. The shifts of the period are the scope's shifts that *start* in it.

What a person already does elsewhere becomes unavailability, so publishing never hits a hard conflict:
every other shift they are on (padded with the minimum rest on both sides) and every other active batch
they belong to. Shifts they worked in the seven days before the period are the engine's *tail*, so rest
and consecutive-day rules hold across the boundary. Locked rows of the proposal are engine locks;
rows that were already published (and not locked) are weak wishes to keep them (fewer changes).

A person with no free time at all in the period is left out (and listed in the plan's notes); locking
such a person is refused. Shift kinds come from the local start hour: morning 04–12, evening 12–20,
night 20–04; "no morning after a night" forbids a morning shift the day after a night shift.

What volunteers record (``muster.volunteers``) feeds the engine:

- a shift's needs: "all of" skills are the engine shift's skills; "one of" becomes one synthetic skill
  (``any:<codes>``) held by whoever holds any of them. A skill counts when it is valid on the period's
  last day (an expiring qualification is not relied on). The minimum of party members or of a skill's
  holders per shift is not a hard rule of the engine: :func:`shortfalls` reports where it is missed;
- weekly windows, the overall period and dates off narrow the person's availability (dates off are the
  engine's days off); home observation over the whole period restricts the person to remote seats
  (engine mode ``remote``), over part of it makes those days off (never an on-site seat then);
- personal limits: the smaller of the plan's and the person's weekly hours; "no nights" forbids the
  night kind;
- preferences (shift kind hotline/duty/dispatch/remote/onsite, site, time morning/evening/night) are
  engine wishes with the person's weight (× ``PREF_WEIGHT``); :func:`wishes_met` counts them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from muster.clock import local_tz
from muster.mobilize.models import Assignment, Deployment, DeploymentMember, DeploymentStatus, Post, Shift
from muster.orgs.models import EmploymentStatus, Person
from muster.roster import engine as eng
from muster.roster.engine.explain import REASON_TEXT
from muster.volunteers import fit as vfit
from muster.volunteers.models import Preference as VPreference
from muster.volunteers.models import Profile as VProfile
from muster.volunteers.models import ShiftNeed
from muster.volunteers.models import Skill as VSkill
from muster.volunteers.queries import needs_of, people_facts

TAIL_DAYS = 7
MAX_SECONDS = 60  # a web or API solve never runs longer
KEEP_WEIGHT = 5  # penalty for dropping an already published assignment (when not locked)
PREF_WEIGHT = 2  # a volunteer's wish of weight w costs w × PREF_WEIGHT when not met


@dataclass
class Rules:
    """The hard rules of a solve (editable on the form). 0 means "no limit" for the optional ones."""

    min_rest_minutes: int = -1  # -1: settings.MUSTER_MIN_REST_MINUTES
    max_hours_day: int = 12
    max_hours_week: int = 48
    max_consecutive_days: int = 6
    max_shifts_per_day: int = 1
    no_night_then_morning: bool = True
    fairness: int = 1  # weight of the spread of hours and nights between people

    def __post_init__(self) -> None:
        if self.min_rest_minutes < 0:
            self.min_rest_minutes = int(getattr(settings, "MUSTER_MIN_REST_MINUTES", 480))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Rules:
        data = data or {}
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        rules = cls(**known)
        rules.validate()
        return rules

    def validate(self) -> None:
        errors: dict[str, str] = {}
        bounds = {
            "min_rest_minutes": (0, 48 * 60),
            "max_hours_day": (0, 24),
            "max_hours_week": (0, 168),
            "max_consecutive_days": (0, 92),
            "max_shifts_per_day": (1, 24),
            "fairness": (0, 100),
        }
        for name, (lo, hi) in bounds.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                errors[name] = _("Must be a whole number from %(lo)s to %(hi)s.") % {"lo": lo, "hi": hi}
        if errors:
            raise ValidationError(errors)


def _kind(dt: datetime) -> str:
    h = dt.astimezone(local_tz()).hour
    if 4 <= h < 12:
        return "morning"
    if 12 <= h < 20:
        return "evening"
    return "night"


def day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=local_tz())


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return day_start(start), day_start(end + timedelta(days=1))


def check_period(start: Any, end: Any, limits: eng.Limits) -> None:
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValidationError({"start_date": _("Give the first and the last day of the period.")})
    if end < start:
        raise ValidationError(
            {
                "end_date": ValidationError(
                    _("The period ends (%(end)s) before it starts (%(start)s).")
                    % {"end": end, "start": start},
                    code="end_before_start",
                )
            }
        )
    days = (end - start).days + 1
    if days > limits.max_days:
        raise too_large(_("%(n)s days; the limit is %(limit)s days.") % {"n": days, "limit": limits.max_days})


def too_large(detail: str) -> ValidationError:
    return ValidationError(
        ValidationError(
            _("The request is too large to roster at once: %(detail)s Choose a shorter period.")
            % {"detail": detail},
            code="too_large",
        )
    )


def scope_shifts(deployment: Deployment | None, post: Post | None, start: date, end: date) -> Any:
    lo, hi = period_bounds(start, end)
    qs = Shift.objects.filter(start__gte=lo, start__lt=hi)
    qs = qs.filter(deployment=deployment) if deployment is not None else qs.filter(post=post)
    return qs.select_related("deployment", "post").order_by("start", "id")


def candidates(deployment: Deployment | None, post: Post | None, shift_ids: list[int]) -> Any:
    if deployment is not None:
        q = Q(deployment_memberships__deployment=deployment)
    else:
        assert post is not None
        q = Q(
            unit__path__startswith=post.unit.path,
            unit__is_active=True,
            employment_status__in=[EmploymentStatus.ACTIVE, EmploymentStatus.SECONDED],
        )
    q |= Q(assignments__shift_id__in=shift_ids)
    return Person.objects.filter(q).distinct().select_related("user").order_by("code")


@dataclass
class Built:
    problem: eng.Problem
    day0: datetime
    rules: Rules
    people: dict[str, Person]  # engine person id (staff number) -> person
    shifts: dict[str, Shift]  # engine shift id (pk) -> shift
    excluded: list[Person] = field(default_factory=list)
    wishes: list[eng.Preference] = field(default_factory=list)  # the volunteers' own wishes
    needs: dict[str, tuple[int, str | None, int]] = field(default_factory=dict)  # sid -> party, skill, n
    facts: dict[str, vfit.PersonFacts] = field(default_factory=dict)  # person code -> facts
    observed: set[str] = field(default_factory=set)  # codes restricted to remote seats

    def shift_id(self, shift: Shift) -> str:
        return str(shift.pk)


def _minutes(dt: datetime, day0: datetime) -> int:
    return int((dt - day0).total_seconds() // 60)


def _complement(busy: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    out = []
    cur = lo
    for a, b in sorted(busy):
        if b <= cur:
            continue
        if a > cur:
            out.append((cur, min(a, hi)))
        cur = max(cur, b)
        if cur >= hi:
            break
    if cur < hi:
        out.append((cur, hi))
    return [(a, b) for a, b in out if b > a]


def build_problem(
    *,
    deployment: Deployment | None,
    post: Post | None,
    start: date,
    end: date,
    rules: Rules,
    locks: list[tuple[int, int]] = (),  # type: ignore[assignment]
    keep: list[tuple[int, int]] = (),  # type: ignore[assignment]
    limits: eng.Limits = eng.WEB_LIMITS,
) -> Built:
    """The engine problem of a scope and period. ``locks`` and ``keep`` are (person pk, shift pk)."""
    check_period(start, end, limits)
    days = (end - start).days + 1
    day0 = day_start(start)
    shifts_qs = scope_shifts(deployment, post, start, end)
    n_shifts = shifts_qs.count()
    if n_shifts > limits.max_shifts:
        raise too_large(
            _("%(n)s shifts; the limit is %(limit)s.") % {"n": n_shifts, "limit": limits.max_shifts}
        )
    if n_shifts == 0:
        raise ValidationError(
            ValidationError(
                _("There are no shifts from %(start)s to %(end)s to roster.") % {"start": start, "end": end},
                code="no_shifts",
            )
        )
    shifts = list(shifts_qs)
    shift_pks = [s.pk for s in shifts]
    people_qs = candidates(deployment, post, shift_pks)
    n_people = people_qs.count()
    if n_people > limits.max_people:
        raise too_large(
            _("%(n)s people; the limit is %(limit)s.") % {"n": n_people, "limit": limits.max_people}
        )
    if n_people * n_shifts > limits.max_pairs:
        raise too_large(
            _("%(n)s person × shift pairs; the limit is %(limit)s.")
            % {"n": n_people * n_shifts, "limit": limits.max_pairs}
        )
    people = list(people_qs)
    if not people:
        raise ValidationError(ValidationError(_("There is nobody to roster."), code="no_people"))
    rest = rules.min_rest_minutes
    lo_dt = day0 - timedelta(days=TAIL_DAYS)
    hi_dt = day0 + timedelta(days=days + 2)
    period_shift_set = set(shift_pks)
    own_deployments = {s.deployment_id for s in shifts if s.deployment_id}
    by_pk = {p.pk: p for p in people}

    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    tail: list[eng.TailShift] = []
    assigned = (
        Assignment.objects.filter(person_id__in=by_pk, shift__start__lt=hi_dt, shift__end__gt=lo_dt)
        .exclude(shift__deployment__status=DeploymentStatus.CANCELLED)
        .select_related("shift")
        .order_by("shift__start", "shift_id", "person_id")
    )
    for a in assigned:
        s = a.shift
        if s.pk in period_shift_set:
            continue
        busy[a.person_id].append((_minutes(s.start, day0) - rest, _minutes(s.end, day0) + rest))
        if s.start < day0:
            d = (s.start.astimezone(local_tz()).date() - start).days
            tail.append(
                eng.TailShift(
                    person=by_pk[a.person_id].code,
                    day=min(d, -1),
                    start=_minutes(s.start, day0),
                    end=_minutes(s.end, day0),
                    kind=_kind(s.start),
                )
            )
    memberships = (
        DeploymentMember.objects.filter(
            person_id__in=by_pk,
            deployment__start__lt=hi_dt,
            deployment__end__gt=lo_dt,
            deployment__status=DeploymentStatus.ACTIVE,
        )
        .exclude(deployment_id__in=own_deployments)
        .order_by("pk")
        .values_list("person_id", "deployment__start", "deployment__end")
    )
    for pid, d_start, d_end in memberships:
        busy[pid].append((_minutes(d_start, day0), _minutes(d_end, day0)))

    horizon_lo, horizon_hi = -TAIL_DAYS * 1440, (days + 2) * 1440
    weekday = start.weekday()
    engine_people: list[eng.Person] = []
    mapped: dict[str, Person] = {}
    excluded: list[Person] = []
    facts = people_facts(by_pk)
    week_limits = dict(
        VProfile.objects.filter(person_id__in=by_pk, max_hours_week__isnull=False).values_list(
            "person_id", "max_hours_week"
        )
    )
    needs = needs_of(shift_pks)
    any_sets = {frozenset(any_) for _all, any_ in needs.values() if any_}
    last_day = end
    observed: set[str] = set()
    for p in people:
        f = facts[p.pk]
        own = _own_availability(f, start, days)
        off_days = {d for d in range(days) if (start + timedelta(days=d)) in f.days_off}
        obs_days = {d for d in range(days) if vfit.under_observation(f, [start + timedelta(days=d)])}
        mode: Literal["any", "remote", "local"] = "any"
        if obs_days and len(obs_days) == days:
            mode = "remote"
            observed.add(p.code)
        else:
            off_days |= obs_days
        if len(off_days) >= days:
            excluded.append(p)  # days off (or home observation) over the whole period
            continue
        windows: tuple[tuple[int, int], ...] | None = None
        if busy.get(p.pk) or own is not None:
            free = _complement(busy.get(p.pk, []), horizon_lo, horizon_hi)
            if own is not None:
                free = _intersect(free, own)
            inside = [(a, b) for a, b in free if b > 0 and a < days * 1440]
            if not inside:
                excluded.append(p)
                continue
            windows = tuple(free)
        held = {c for c in f.skills if vfit.holds(f, c, last_day)}
        held |= {_any_skill(any_) for any_ in any_sets if held & any_}
        week = rules.max_hours_week * 60 or None
        if p.pk in week_limits:
            mine = int(week_limits[p.pk] or 0) * 60
            week = min(week, mine) if week is not None else mine
        mapped[p.code] = p
        engine_people.append(
            eng.Person(
                id=p.code,
                skills=frozenset(held),
                home_unit=str(p.unit_id),
                mode=mode,
                days_off=frozenset(off_days),
                availability=windows,
                max_shifts_per_day=rules.max_shifts_per_day,
                max_shifts_per_kind={"night": 0} if f.no_nights else {},
                max_minutes_day=rules.max_hours_day * 60 or None,
                max_minutes_week=week,
                max_consecutive_days=rules.max_consecutive_days or None,
                min_rest_minutes=rest,
            )
        )
    if not engine_people:
        raise ValidationError(
            ValidationError(_("Nobody is free in the period: everyone is busy elsewhere."), code="no_people")
        )
    engine_shifts = []
    shift_map: dict[str, Shift] = {}
    for s in shifts:
        sid = str(s.pk)
        shift_map[sid] = s
        kind = _kind(s.start)
        sk_all, sk_any = needs.get(s.pk, (frozenset(), frozenset()))
        skills = set(sk_all) | ({_any_skill(sk_any)} if sk_any else set())
        engine_shifts.append(
            eng.Shift(
                id=sid,
                day=(s.start.astimezone(local_tz()).date() - start).days,
                start=_minutes(s.start, day0),
                end=_minutes(s.end, day0),
                kind=kind,
                site=(s.post.code if s.post is not None else ""),
                required=s.seats,
                max_count=s.seats,
                skills=frozenset(skills),
                remote=s.mode == "remote",
                night=kind == "night",
            )
        )
    code_of = {p.pk: p.code for p in people}
    excluded_pks = {p.pk for p in excluded}
    engine_locks = []
    for person_pk, shift_pk in locks:
        if person_pk in excluded_pks:
            raise ValidationError(
                {
                    "person": _("%(person)s is locked on a shift but is busy elsewhere for the whole period.")
                    % {"person": by_pk[person_pk]}
                }
            )
        if person_pk in code_of and str(shift_pk) in shift_map:
            engine_locks.append(eng.Lock(code_of[person_pk], str(shift_pk)))
    prefs = [
        eng.Preference(code_of[pp], str(sp), KEEP_WEIGHT)
        for pp, sp in keep
        if pp in code_of and pp not in excluded_pks and str(sp) in shift_map
    ]
    wishes = _wishes(mapped, shifts, excluded_pks)
    prefs += wishes
    problem = eng.Problem(
        days=days,
        people=engine_people,
        shifts=engine_shifts,
        forbidden_successions=frozenset({("night", "morning")})
        if rules.no_night_then_morning
        else frozenset(),
        preferences=prefs,
        locks=engine_locks,
        tail=[t for t in tail if t.person in mapped],
        tail_days=TAIL_DAYS,
        start_weekday=weekday,
        weights=eng.Weights(under=100, over=1, spread_hours=rules.fairness, spread_nights=rules.fairness),
    )
    need_rows = {
        str(n.shift_id): (n.min_party_members, n.min_skill.code if n.min_skill else None, n.min_skill_count)
        for n in ShiftNeed.objects.filter(shift_id__in=shift_pks).select_related("min_skill")
        if n.min_party_members or n.min_skill_count
    }
    return Built(
        problem,
        day0,
        rules,
        mapped,
        shift_map,
        excluded,
        wishes=wishes,
        needs=need_rows,
        facts={p.code: facts[p.pk] for p in mapped.values()},
        observed=observed,
    )


def _any_skill(codes: frozenset[str]) -> str:
    return "any:" + "|".join(sorted(codes))


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for x0, x1 in a:
        for y0, y1 in b:
            lo, hi = max(x0, y0), min(x1, y1)
            if hi > lo:
                out.append((lo, hi))
    return sorted(out)


def _own_availability(f: vfit.PersonFacts, start: date, days: int) -> list[tuple[int, int]] | None:
    """The person's own availability (weekly windows, overall period) in engine minutes, or None for
    "any time". Outside the period (the tail, the days after) nothing is restricted."""
    if not f.windows and f.available_from is None and f.available_until is None:
        return None
    spans: list[tuple[int, int]] = [(-TAIL_DAYS * 1440, 0), (days * 1440, (days + 2) * 1440)]
    by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for wd, a, b in f.windows:
        by_day[wd].append((a, b))
    for d in range(days):
        day = start + timedelta(days=d)
        if (f.available_from and day < f.available_from) or (f.available_until and day > f.available_until):
            continue
        if f.windows:
            spans += [(d * 1440 + a, d * 1440 + b) for a, b in by_day.get(day.weekday(), [])]
        else:
            spans.append((d * 1440, (d + 1) * 1440))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _shift_kinds(s: Shift) -> set[str]:
    kinds = {s.mode}
    kinds.add(s.post.kind if s.post is not None else "dispatch")
    return kinds


def _shift_sites(s: Shift) -> set[str]:
    out = set()
    if s.post is not None:
        out |= {s.post.code, s.post.name, s.post.site}
    if s.deployment is not None:
        out.add(s.deployment.site)
    return {x for x in out if x}


def _wishes(mapped: dict[str, Person], shifts: list[Shift], excluded: set[int]) -> list[eng.Preference]:
    """The volunteers' preferences as engine wishes (person × matching shift)."""
    out: list[eng.Preference] = []
    prefs = VPreference.objects.filter(person__in=list(mapped.values())).select_related("person")
    for pref in prefs:
        if pref.person_id in excluded:
            continue
        for s in shifts:
            if pref.kind == "kind":
                hit = pref.value in _shift_kinds(s)
            elif pref.kind == "site":
                hit = any(pref.value in site for site in _shift_sites(s))
            else:
                hit = _kind(s.start) == pref.value
            if hit:
                out.append(
                    eng.Preference(pref.person.code, str(s.pk), pref.weight * PREF_WEIGHT, pref.wanted)
                )
    return out


def wishes_met(built: Built, assignments: set[tuple[str, str]] | list[tuple[str, str]]) -> tuple[int, int]:
    """(wishes met, wishes) of the volunteers' preferences in a roster of (person code, shift id)."""
    roster = set(assignments)
    met = sum(1 for w in built.wishes if ((w.person, w.shift) in roster) == w.wanted)
    return met, len(built.wishes)


def shortfalls(built: Built, result: eng.Result) -> list[dict[str, Any]]:
    """Each short shift, explained in the volunteers' terms ("无人具备 医护", "3 人居家观察，只能远程"),
    plus the shifts whose minimum of party members or of a skill's holders is missed."""
    names = dict(VSkill.objects.values_list("code", "name"))
    shifts = {s.id: s for s in built.problem.shifts}

    def skill_names(codes: frozenset[str]) -> str:
        parts = []
        for c in sorted(codes):
            if c.startswith("any:"):
                parts.append(_(" or ").join(names.get(x, x) for x in c[4:].split("|")))
            else:
                parts.append(names.get(c, c))
        return "、".join(parts)

    out: list[dict[str, Any]] = []
    for u in result.uncovered:
        s = shifts[u.shift]
        lines = []
        for code, n in sorted(u.reasons.items()):
            if code == "skill":
                lacking = {c for c in s.skills if not any(c in p.skills for p in built.problem.people)}
                if lacking:
                    lines.append(_("Nobody holds %(skills)s") % {"skills": skill_names(frozenset(lacking))})
                else:
                    lines.append(_("%(n)s lack %(skills)s") % {"n": n, "skills": skill_names(s.skills)})
            elif code == "mode_remote":
                lines.append(_("%(n)s under home observation, remote seats only") % {"n": n})
            elif code == "day_off":
                lines.append(_("%(n)s have the day off") % {"n": n})
            elif code == "unavailable":
                lines.append(_("%(n)s not available then") % {"n": n})
            elif code == "kind_limit":
                lines.append(_("%(n)s take no night shifts") % {"n": n})
            else:
                lines.append(
                    f"{n} × {REASON_TEXT.get(code, code)}"
                )
        out.append({"shift": built.shifts[u.shift].pk, "missing": u.missing, "lines": lines})
    by_shift: dict[str, list[str]] = defaultdict(list)
    for code, sid in result.assignments:
        by_shift[sid].append(code)
    party = set(
        Person.objects.filter(
            code__in=list(built.people), political_status__in=["member", "probationary"]
        ).values_list("code", flat=True)
    )
    for sid, (min_party, skill, min_skill) in built.needs.items():
        on = by_shift.get(sid, [])
        if min_party and sum(1 for c in on if c in party) < min_party:
            out.append(
                {
                    "shift": built.shifts[sid].pk,
                    "missing": 0,
                    "lines": [_("Needs %(n)s party member(s) on the shift") % {"n": min_party}],
                }
            )
        if skill and min_skill:
            day = built.shifts[sid].start.astimezone(local_tz()).date()
            have = sum(1 for c in on if vfit.holds(built.facts.get(c, vfit.PersonFacts()), skill, day))
            if have < min_skill:
                out.append(
                    {
                        "shift": built.shifts[sid].pk,
                        "missing": 0,
                        "lines": [
                            _("Needs %(n)s holding %(skill)s on the shift")
                            % {"n": min_skill, "skill": names.get(skill, skill)}
                        ],
                    }
                )
    return out


# ---------------------------------------------------------------- checking an edited roster


def roster_errors(built: Built, roster: set[tuple[str, str]], person: str) -> list[str]:
    """The hard rules that ``person``'s shifts in ``roster`` (engine ids) break, as messages."""
    pr = built.problem
    people = {p.id: p for p in pr.people}
    shifts = {s.id: s for s in pr.shifts}
    p = people[person]
    errors: list[str] = []
    counts: dict[str, int] = defaultdict(int)
    for _pid, sid in roster:
        counts[sid] += 1
    mine = sorted((shifts[sid] for pid, sid in roster if pid == person), key=lambda s: (s.start, s.id))
    for s in mine:
        if s.max_count is not None and counts[s.id] > s.max_count:
            errors.append(_("The shift has only %(n)s seats.") % {"n": s.max_count})
        if p.availability is not None and not any(a <= s.start and s.end <= b for a, b in p.availability):
            errors.append(_("The person is busy elsewhere at that time (or too close to it)."))
    per_day: dict[int, list[eng.Shift]] = defaultdict(list)
    for s in mine:
        per_day[s.day].append(s)
    for day_shifts in per_day.values():
        if len(day_shifts) > p.max_shifts_per_day:
            errors.append(_("More than %(n)s shift(s) on one day.") % {"n": p.max_shifts_per_day})
        if p.max_minutes_day is not None and sum(s.minutes for s in day_shifts) > p.max_minutes_day:
            errors.append(_("More than %(n)s hours on one day.") % {"n": p.max_minutes_day // 60})
    if p.max_minutes_week is not None:
        weeks: dict[int, int] = defaultdict(int)
        for s in mine:
            weeks[(s.day + pr.start_weekday) // 7] += s.minutes
        if any(m > p.max_minutes_week for m in weeks.values()):
            errors.append(_("More than %(n)s hours in one week.") % {"n": p.max_minutes_week // 60})
    timeline = [(t.start, t.end, t.day, t.kind) for t in pr.tail if t.person == person]
    timeline += [(s.start, s.end, s.day, s.kind) for s in mine]
    timeline.sort()
    for (_a0, a1, ad, ak), (b0, _b1, bd, bk) in pairwise(timeline):
        if b0 < a1:
            errors.append(_("Two of the shifts overlap."))
        elif b0 - a1 < p.min_rest_minutes:
            errors.append(
                _("Less than %(h)s hours of rest between two shifts.")
                % {"h": round(p.min_rest_minutes / 60, 1)}
            )
        if (ak, bk) in pr.forbidden_successions and bd == ad + 1:
            errors.append(_("A morning shift the day after a night shift."))
    if p.max_consecutive_days is not None:
        worked = sorted({d for _a, _b, d, _k in timeline})
        run = 0
        prev = None
        for d in worked:
            run = run + 1 if prev is not None and d == prev + 1 else 1
            prev = d
            if run > p.max_consecutive_days:
                errors.append(_("More than %(n)s consecutive days.") % {"n": p.max_consecutive_days})
                break
    return list(dict.fromkeys(errors))
