"""Reads for volunteers: a person's facts for the fit rules, the open shifts that fit a person, call-up
figures. Scoping: a person is reached through ``orgs.access`` (their unit or party unit, or themself)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import FloatField, Func, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from muster.mobilize import rules as mrules
from muster.mobilize.models import Assignment, DeploymentStatus, ShiftMode
from muster.mobilize.queries import shift_is_visible
from muster.orgs import access
from muster.orgs.models import Person, TeamMembership
from muster.volunteers import fit
from muster.volunteers.fit import Misfit, PersonFacts, ShiftFacts
from muster.volunteers.models import (
    AnswerChoice,
    CallUp,
    CallUpInvite,
    DayOff,
    HomeObservation,
    Opening,
    Profile,
    Qualification,
    ShiftNeed,
    SignUp,
    SignUpStatus,
    WeeklyWindow,
)


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def is_self(user: Any, person: Person) -> bool:
    return getattr(user, "pk", None) is not None and person.user_id == user.pk


def person_visible(user: Any, person: Person) -> bool:
    return is_self(user, person) or access.scoped(Person.objects.filter(pk=person.pk), user).exists()


def person_get_or_404(user: Any, code: str) -> Person:
    p = Person.objects.select_related("unit", "party_unit").filter(code=code).first()
    if p is None or not person_visible(user, p):
        raise Http404
    return p


def own_person(user: Any) -> Person | None:
    if getattr(user, "pk", None) is None:
        return None
    return Person.objects.select_related("unit", "party_unit").filter(user_id=user.pk).first()


FACTS = frozenset({"skills", "windows", "days_off", "home_observation", "profile"})


def people_facts(person_ids: Iterable[int], parts: Iterable[str] = FACTS) -> dict[int, PersonFacts]:
    """The fit facts of many people, in up to six queries; ``parts`` names the facts a caller's check
    looks at (the others are left empty, unread)."""
    ids = list(person_ids)
    want = frozenset(parts)
    skills: dict[int, dict[str, Any]] = defaultdict(dict)
    if "skills" in want:
        for pid, code, until in Qualification.objects.filter(person_id__in=ids).values_list(
            "person_id", "skill__code", "valid_until"
        ):
            skills[pid][code] = until
    windows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    if "windows" in want:
        for pid, wd, a, b in WeeklyWindow.objects.filter(person_id__in=ids).values_list(
            "person_id", "weekday", "start_minute", "end_minute"
        ):
            windows[pid].append((wd, a, b))
    off: dict[int, set[Any]] = defaultdict(set)
    if "days_off" in want:
        for pid, day in DayOff.objects.filter(person_id__in=ids).values_list("person_id", "day"):
            off[pid].add(day)
    obs: dict[int, list[Any]] = defaultdict(list)
    if "home_observation" in want:
        for pid, o_start, o_end in HomeObservation.objects.filter(person_id__in=ids).values_list(
            "person_id", "start", "end"
        ):
            obs[pid].append((o_start, o_end))
    profiles = {}
    if "profile" in want:
        profiles = {
            p.person_id: p
            for p in Profile.objects.filter(person_id__in=ids).only(
                "person_id", "available_from", "available_until", "no_nights", "max_hours_week"
            )
        }
    out = {}
    for pid in ids:
        pr = profiles.get(pid)
        out[pid] = PersonFacts(
            skills=dict(skills[pid]),
            windows=tuple(windows[pid]),
            days_off=frozenset(off[pid]),
            home_observation=tuple(obs[pid]),
            available_from=pr.available_from if pr else None,
            available_until=pr.available_until if pr else None,
            no_nights=pr.no_nights if pr else False,
        )
    return out


def week_limit_minutes(person: Person) -> int | None:
    pr = Profile.objects.filter(person=person).values_list("max_hours_week", flat=True).first()
    return pr * 60 if pr else None


def needs_of(
    shift_ids: Iterable[int] | None = None, *, where: Q | None = None
) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """{shift id: (skills needed all, skills needed any)} (codes) of the shifts given (or matching
    ``where``, a condition on the shift need)."""
    qs = (
        ShiftNeed.objects.filter(where)
        if where is not None
        else ShiftNeed.objects.filter(shift_id__in=list(shift_ids or []))
    )
    need_ids = dict(qs.values_list("pk", "shift_id"))
    all_: dict[int, set[str]] = defaultdict(set)
    any_: dict[int, set[str]] = defaultdict(set)
    for nid, code in ShiftNeed.skills_all.through.objects.filter(shiftneed_id__in=need_ids).values_list(
        "shiftneed_id", "skill__code"
    ):
        all_[need_ids[nid]].add(code)
    for nid, code in ShiftNeed.skills_any.through.objects.filter(shiftneed_id__in=need_ids).values_list(
        "shiftneed_id", "skill__code"
    ):
        any_[need_ids[nid]].add(code)
    return {sid: (frozenset(all_[sid]), frozenset(any_[sid])) for sid in need_ids.values()}


def shift_facts(
    start: datetime, end: datetime, mode: str, need: tuple[frozenset[str], frozenset[str]] | None
) -> ShiftFacts:
    z = tz()
    sk_all, sk_any = need if need is not None else (frozenset(), frozenset())
    return ShiftFacts(
        start=start.astimezone(z),
        end=end.astimezone(z),
        remote=mode == ShiftMode.REMOTE,
        skills_all=sk_all,
        skills_any=sk_any,
    )


def audience_q(person: Person) -> Q:
    """Openings (or call-ups, with the field names given) whose audience holds ``person``."""
    teams = list(TeamMembership.objects.filter(person=person).values_list("team_id", flat=True))
    paths = [u.path for u in (person.unit, person.party_unit) if u is not None]
    q = Q(team_id__in=teams)
    # a unit audience holds the people of its subtree: the unit's path is a prefix of the person's
    for path in paths:
        for n in range(4, len(path) + 1, 4):
            q |= Q(unit__path=path[:n])
    return q


def in_audience(opening: Opening, person: Person) -> bool:
    if opening.team_id is not None:
        return TeamMembership.objects.filter(team_id=opening.team_id, person=person).exists()
    assert opening.unit is not None
    return any(
        u is not None and u.path.startswith(opening.unit.path) for u in (person.unit, person.party_unit)
    )


_UNREAD: Any = object()


def opening_get_or_404(user: Any, pk: int, *, me: Person | None = _UNREAD) -> Opening:
    """An opening the user may reach: its shift is visible to them (``mobilize.queries``), or their own
    person (``me``: ``own_person(user)``, read here unless the caller has it) is in its audience (signing
    themself up); otherwise 404, as if it did not exist."""
    o = Opening.objects.select_related("shift", "unit").filter(pk=pk).first()
    if o is None:
        raise Http404
    if me is _UNREAD:
        me = own_person(user)  # a volunteer signing themself up: the audience is the cheaper question
    if (me is not None and in_audience(o, me)) or shift_is_visible(user, o.shift):
        return o
    raise Http404


@dataclass
class OpenShift:
    opening_id: int
    shift_id: int
    start: datetime
    end: datetime
    mode: str
    label: str
    seats: int
    taken: int
    deadline: datetime
    cancel_cutoff: datetime
    mine: str  # "", "seated", "waiting"
    misfits: list[Misfit]
    breaches: list[mrules.Breach]
    opening: Opening | None = None  # loaded with ``load=True`` (pages)

    @property
    def fits(self) -> bool:
        return not self.misfits and not [b for b in self.breaches if b.code != "full"]


class Epoch(Func):
    """A datetime column as seconds since 1970 (a float): thousands of rows read as numbers, not as datetimes
    (each of which the driver would parse from text and Django give its zone, one at a time)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # stored as text 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: the whole seconds, then the fraction (a
        # column: no parameters, so naming it twice is safe); '%%%%s' reaches SQLite as '%s'
        return self.as_sql(
            compiler,
            connection,
            template="(CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
            " + CAST(substr(%(expressions)s, 20) AS REAL))",
            **extra,
        )


_OPEN_FIELDS = (
    "pk",
    "shift_id",
    "e_start",
    "e_end",
    "shift__mode",
    "shift__label",
    "shift__seats",
    "shift__deployment_id",
    "e_deadline",
    "e_cutoff",
)
_EPOCHS = {
    "e_start": Epoch("shift__start"),
    "e_end": Epoch("shift__end"),
    "e_deadline": Epoch("deadline"),
    "e_cutoff": Epoch("cancel_cutoff"),
}


CHUNK = 100  # open shifts read at a time when a page of them is asked for


def open_shifts(
    person: Person,
    *,
    now: datetime | None = None,
    only_fitting: bool = True,
    load: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[OpenShift]:
    """Open shifts whose audience holds ``person``, sign-up still open, with why each does (not) fit:
    the fit rules (``volunteers.fit``) and the assignment rules (``mobilize.rules.judge``).

    ``limit`` (with ``offset``): a page of the list — the open shifts are read in order of start, a chunk
    at a time (their seats taken, needs and the person's commitments for that chunk only), until the
    page is full; a page of 50 among 5,000 open shifts reads one or two chunks. Without ``limit`` the
    whole list (every open shift read at once, their seats and needs by a join). Rows are read as plain
    values; ``load`` also fetches the ``Opening`` objects of the rows returned."""
    now = now or timezone.now()
    base = (
        Opening.objects.filter(audience_q(person), is_open=True, deadline__gt=now, shift__start__gt=now)
        .exclude(shift__deployment__status=DeploymentStatus.CANCELLED)
        .order_by("shift__start", "shift_id")
        .annotate(**_EPOCHS)
        .values_list(*_OPEN_FIELDS)
    )
    ctx = _FitContext(person, now)
    out: list[OpenShift] = []
    if limit is None:
        rows = list(base)
        if rows:
            # the open shifts' seats taken and needs, by a join rather than a list of thousands of ids
            live = Q(shift__opening__is_open=True, shift__opening__deadline__gt=now, shift__start__gt=now)
            taken: dict[int, int] = defaultdict(int)
            for sid in Assignment.objects.filter(live).values_list("shift_id", flat=True):
                taken[sid] += 1
            out = ctx.judge_rows(rows, taken, needs_of(where=live), only_fitting)
    else:
        want = offset + limit
        pos = 0
        while len(out) < want:
            rows = list(base[pos : pos + CHUNK])
            if not rows:
                break
            sids = [r[1] for r in rows]
            taken = defaultdict(int)
            for sid in Assignment.objects.filter(shift_id__in=sids).values_list("shift_id", flat=True):
                taken[sid] += 1
            out += ctx.judge_rows(rows, taken, needs_of(sids), only_fitting)
            pos += CHUNK
        out = out[offset:want]
    if load and out:
        objs = Opening.objects.select_related("shift", "shift__deployment", "shift__post").in_bulk(
            [r.opening_id for r in out]
        )
        for r in out:
            r.opening = objs[r.opening_id]
    return out


class _FitContext:
    """What judging the open shifts for one person needs once: their facts, sign-ups, weekly limit."""

    def __init__(self, person: Person, now: datetime) -> None:
        self.person = person
        self.mine = dict(
            SignUp.objects.filter(person=person, opening__is_open=True, opening__deadline__gt=now)
            .exclude(status=SignUpStatus.CANCELLED)
            .values_list("opening_id", "status")
        )
        self.facts = people_facts([person.pk])[person.pk]
        self.limit = week_limit_minutes(person)
        self.rest = mrules.min_rest_minutes()
        self.plain = self.facts == PersonFacts()  # nothing recorded: only needed skills can rule out

    def judge_rows(
        self,
        rows: list[tuple[Any, ...]],
        taken: dict[int, int],
        needs: dict[int, tuple[frozenset[str], frozenset[str]]],
        only_fitting: bool,
    ) -> list[OpenShift]:
        """Judge many open shifts at once: the person's facts, commitments and limits are loaded once, and
        each shift is judged by the one set of rules (``fit.misfits``, ``mrules.judge``) — except where
        those rules have nothing to look at (see ``_nothing_to_judge``)."""
        person = self.person
        stamp = datetime.fromtimestamp
        first, last = stamp(rows[0][2], UTC), stamp(max(r[3] for r in rows), UTC)
        lo, _ = mrules.window(first, first)
        _, hi = mrules.window(last, last)
        commitments = sorted(
            mrules.commitments_of([person.pk], lo, hi).get(person.pk, []), key=lambda c: c.start
        )
        # a week and the rest either side hold every commitment judge needs
        reach = timedelta(days=8).total_seconds()
        spans = [(c.start.timestamp() - reach, c.end.timestamp() + reach) for c in commitments]
        limit = None if self.limit is None else self.limit * 60
        fitter = fit.Fitter(self.facts)
        out = []
        for pk, sid, e_start, e_end, mode, label, seats, did, e_deadline, e_cutoff in rows:
            start, end = stamp(e_start, UTC), stamp(e_end, UTC)
            need = needs.get(sid)
            bad = [] if self.plain and need is None else fitter.misfits(shift_facts(start, end, mode, need))
            status = self.mine.get(pk, "")
            n_taken = taken[sid]
            breaches: list[mrules.Breach] = []
            if status != SignUpStatus.SEATED:
                near = [c for c, (a, b) in zip(commitments, spans, strict=True) if a < e_end and b > e_start]
                if not _nothing_to_judge(near, seats, n_taken, e_end - e_start, limit):
                    breaches = mrules.judge(
                        who=str(person),
                        start=start,
                        end=end,
                        commitments=near,
                        shift_id=sid,
                        deployment_id=did,
                        seats=seats,
                        taken=n_taken,
                        rest_minutes=self.rest,
                        week_limit_minutes=self.limit,
                    )
            if only_fitting and (bad or breaches) and not status:
                if bad or any(b.code != "full" for b in breaches):
                    continue
            out.append(
                OpenShift(
                    pk,
                    sid,
                    start,
                    end,
                    mode,
                    label,
                    seats,
                    n_taken,
                    stamp(e_deadline, UTC),
                    stamp(e_cutoff, UTC),
                    status,
                    bad,
                    breaches,
                )
            )
        return out


def _nothing_to_judge(
    near: list[mrules.Commitment], seats: int, taken: int, seconds: float, limit_seconds: int | None
) -> bool:
    """Whether ``mrules.judge`` has nothing to look at for a shift: no commitment near it (none to overlap,
    rest beside or add to its week), a seat free, and the shift alone within the weekly limit — then it
    finds no breach (``tests/volunteers/test_open_pages.py`` checks this against ``judge`` itself), and
    thousands of open shifts are listed without calling it for each."""
    return not near and taken < seats and (limit_seconds is None or seconds <= limit_seconds)


def openings_visible(user: Any) -> QuerySet[Opening]:
    """Openings of shifts the user may see as a coordinator (scoped through the shift)."""
    from muster.mobilize.queries import visible_shifts

    return Opening.objects.filter(shift__in=visible_shifts(user)).select_related("shift", "team", "unit")


def callups_visible(user: Any) -> QuerySet[CallUp]:
    paths = access.scope_paths(user, access.Perm.VIEW)
    qs = CallUp.objects.select_related("unit", "team", "audience_unit", "deployment")
    if paths is None:
        return qs
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(unit__path__startswith=p)
    return qs.filter(q)


def callup_get_or_404(user: Any, code: str) -> CallUp:
    c = callups_visible(user).filter(code=code).first()
    if c is None:
        raise Http404
    return c


@dataclass
class CallUpFigures:
    invited: int
    answered: int
    yes: int
    no: int
    picked: int
    response_rate: float  # answered / invited
    minutes_to_fill: int | None  # from the call to the N-th "yes"


def callup_figures(c: CallUp) -> CallUpFigures:
    rows = CallUpInvite.objects.filter(callup=c)
    answered = rows.exclude(answer="").count()
    yes = rows.filter(answer=AnswerChoice.YES).count()
    picked = rows.filter(picked=True).count()
    fill = None
    if c.filled_at is not None:
        fill = int((c.filled_at - c.created_at).total_seconds() // 60)
    return CallUpFigures(
        invited=c.invited,
        answered=answered,
        yes=yes,
        no=answered - yes,
        picked=picked,
        response_rate=round(answered / c.invited, 4) if c.invited else 0.0,
        minutes_to_fill=fill,
    )
