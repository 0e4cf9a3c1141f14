"""Reads for party life, scoped through ``muster.orgs.access`` (out of scope = ``Http404`` / absent).

Compliance (see ``compliance`` for the definitions): ``compliance_lines`` evaluates one organization;
``compliance_dashboard`` every organization under a scope for a period — from the frozen snapshot when
the period was frozen (``services.compliance_freeze``), live otherwise. The requirement version in
force on a window's first day applies to that window; a requirement for a subtree replaces the one
with the same code above it (the deepest wins); a version with count 0 switches it off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.http import Http404

from muster.clock import last_day, local_date
from muster.clock import local_midnight as _day_start
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.partylife import compliance, pipeline
from muster.partylife.membership import MEETING_UNIT_KINDS, MemberEntry, approval_unit, members_on
from muster.partylife.models import (
    AttendanceStatus,
    BranchMembership,
    ComplianceSnapshot,
    Exemption,
    Meeting,
    MeetingRequirement,
    MembershipCase,
    ReviewStatus,
    Talk,
)


def _see(user: Any, unit: Unit) -> None:
    if not access.can(user, Perm.VIEW, unit):
        raise Http404


# ---------------------------------------------------------------- membership and meetings


def branch_members(user: Any, unit: Unit, on: date) -> list[MemberEntry]:
    """Members of ``unit`` (and its party groups) on ``on``."""
    _see(user, unit)
    return members_on(unit, on)


def meeting_list(
    user: Any,
    *,
    unit: Unit | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> QuerySet[Meeting]:
    qs = access.scoped(Meeting.objects.select_related("unit"), user, Perm.VIEW)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if start is not None:
        qs = qs.filter(starts_at__gte=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    if kind:
        qs = qs.filter(kind_links__kind=kind)
    if status:
        qs = qs.filter(review_status=status)
    return qs.prefetch_related("kind_links").distinct()


def meeting_get(user: Any, pk: Any) -> Meeting:
    return access.get_scoped_or_404(
        Meeting.objects.select_related("unit", "host", "recorder", "lecturer").prefetch_related(
            "kind_links", "attendance__person", "reviews", "attachments"
        ),
        user,
        pk=pk,
    )


def review_queue(user: Any) -> list[Meeting]:
    """Submitted meetings the user may approve (they hold ``PARTY_APPROVE`` on the committee above)."""
    out = []
    for m in meeting_list(user, status=ReviewStatus.SUBMITTED).order_by("starts_at", "pk"):
        above = approval_unit(m.unit)
        if (above is None and access.is_all_powerful(user)) or (
            above is not None and access.can(user, Perm.PARTY_APPROVE, above)
        ):
            out.append(m)
    return out


# ---------------------------------------------------------------- compliance


def _applies(req: MeetingRequirement, unit: Unit) -> bool:
    return req.applies_to == unit.kind and (req.unit is None or unit.path.startswith(req.unit.path))


def _requirements(unit: Unit, start: date, end: date) -> list[MeetingRequirement]:
    qs = (
        MeetingRequirement.objects.select_related("unit")
        .filter(applies_to=unit.kind, valid_from__lt=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    )
    return [r for r in qs if _applies(r, unit)]


def requirements_in_force(unit: Unit, on: date) -> list[MeetingRequirement]:
    """The requirement versions in force for ``unit`` on ``on`` (deepest per code; switched-off ones
    left out)."""
    best: dict[str, MeetingRequirement] = {}
    for r in _requirements(unit, on, on + timedelta(days=1)):
        cur = best.get(r.code)
        if (
            cur is None
            or _depth(r) > _depth(cur)
            or (_depth(r) == _depth(cur) and r.valid_from > cur.valid_from)
        ):
            best[r.code] = r
    return [r for r in best.values() if r.count > 0 and r.is_active]


def _depth(r: MeetingRequirement) -> int:
    return len(r.unit.path) if r.unit_id and r.unit else 0


def _meeting_facts(
    units: Sequence[Unit], start: date, end: date, through: date
) -> dict[int, list[compliance.MeetingFact]]:
    out: dict[int, list[compliance.MeetingFact]] = defaultdict(list)
    qs = (
        Meeting.objects.filter(unit__in=units, review_status=ReviewStatus.APPROVED, held=True)
        .select_related("unit")
        .prefetch_related("kind_links", "attendance")
    )
    # windows may start before ``start`` (a year rule in a quarter report): take the whole years
    lo, hi = date(start.year, 1, 1), date(end.year + 1, 1, 1)
    for m in qs:
        on = local_date(m.starts_at)
        if lo <= on < hi and on <= through:
            out[m.unit_id].append(meeting_fact(m))
    return out


def _exemptions(unit: Unit) -> list[compliance.ExemptionFact]:
    return [
        compliance.ExemptionFact(x.requirement_code, x.start, x.end)
        for x in Exemption.objects.filter(unit=unit, revoked=False)
    ]


def compliance_lines(
    unit: Unit,
    start: date,
    end: date,
    *,
    through: date,
    meetings: Sequence[compliance.MeetingFact] | None = None,
    requirements: Sequence[MeetingRequirement] | None = None,
    exemptions: Sequence[compliance.ExemptionFact] | None = None,
) -> list[compliance.Line]:
    """Required vs held per requirement and window for one organization (unscoped; callers check).
    ``requirements`` (those of the window for any organization) and ``exemptions`` (the unit's) may be
    given by a caller that read them for many organizations at once."""
    if meetings is None:
        meetings = _meeting_facts([unit], start, end, through).get(unit.pk, [])
    if exemptions is None:
        exemptions = _exemptions(unit)
    reqs = (
        _requirements(unit, start, end)
        if requirements is None
        else [r for r in requirements if _applies(r, unit)]
    )
    chosen: dict[tuple[str, date], tuple[MeetingRequirement, compliance.Line]] = {}
    for req in reqs:
        for line in compliance.evaluate(
            [req.as_engine()], meetings, exemptions, start=start, end=end, through=through
        ):
            if not (req.valid_from <= line.start and (req.valid_to is None or line.start < req.valid_to)):
                continue
            key = (req.code, line.start)
            cur = chosen.get(key)
            if cur is None or (_depth(req), req.valid_from) > (_depth(cur[0]), cur[0].valid_from):
                chosen[key] = (req, line)
    lines = [ln for req, ln in chosen.values() if req.count > 0 and req.is_active]
    return sorted(lines, key=lambda ln: (ln.start, ln.code))


@dataclass
class OrgRow:
    unit: Unit
    status: str  # ok · due · behind
    lines: list[compliance.Line]

    @property
    def quorum_failures(self) -> list[int]:
        return sorted({m for ln in self.lines for m in ln.quorum_failures})


def compliance_rows(scope: Unit, start: date, end: date, *, through: date) -> list[OrgRow]:
    """Every active branch, general branch and party group under ``scope`` (unscoped; callers check)."""
    units = list(
        Unit.objects.filter(
            path__startswith=scope.path, kind__in=MEETING_UNIT_KINDS, is_active=True
        ).order_by("path")
    )
    return compliance_rows_of(units, start, end, through=through)


def compliance_rows_of(units: Sequence[Unit], start: date, end: date, *, through: date) -> list[OrgRow]:
    """The rows of just these organizations (a page of a long list), in the order given (unscoped)."""
    units = list(units)
    facts = _meeting_facts(units, start, end, through)
    # the requirements and exemptions of every organization read once, not once per organization
    requirements = list(
        MeetingRequirement.objects.select_related("unit")
        .filter(applies_to__in={u.kind for u in units}, valid_from__lt=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    )
    exemptions: dict[int, list[compliance.ExemptionFact]] = defaultdict(list)
    for x in Exemption.objects.filter(unit__in=units, revoked=False):
        exemptions[x.unit_id].append(compliance.ExemptionFact(x.requirement_code, x.start, x.end))
    rows = []
    # An organization with no meetings and no exemptions in the period has the lines of any other such
    # organization under the same requirements: evaluated once per set of requirements, not per unit.
    bare: dict[tuple[int, ...], list[compliance.Line]] = {}
    for u in units:
        u_facts, u_exemptions = facts.get(u.pk, []), exemptions.get(u.pk, [])
        key = tuple(r.pk for r in requirements if _applies(r, u))
        lines = None if u_facts or u_exemptions else bare.get(key)
        if lines is None:
            lines = compliance_lines(
                u,
                start,
                end,
                through=through,
                meetings=u_facts,
                requirements=requirements,
                exemptions=u_exemptions,
            )
            if not (u_facts or u_exemptions):
                bare[key] = lines
        rows.append(OrgRow(u, compliance.overall(lines), lines))
    return rows


def rows_to_json(rows: Sequence[OrgRow]) -> list[dict[str, Any]]:
    return [
        {
            "unit_id": r.unit.pk,
            "unit_code": r.unit.code,
            "unit_name": r.unit.name,
            "status": r.status,
            "lines": [
                {
                    "code": ln.code,
                    "kind": ln.kind,
                    "period": ln.period,
                    "start": ln.start.isoformat(),
                    "end": ln.end.isoformat(),
                    "required": ln.required,
                    "held": ln.held,
                    "gap": ln.gap,
                    "exempt": ln.exempt,
                    "status": ln.status,
                    "meetings": list(ln.meetings),
                    "quorum_failures": list(ln.quorum_failures),
                }
                for ln in r.lines
            ],
        }
        for r in rows
    ]


@dataclass
class Dashboard:
    scope: Unit
    start: date
    end: date
    through: date
    frozen: bool
    frozen_at: datetime | None
    rows: list[dict[str, Any]]  # as ``rows_to_json``

    @property
    def behind(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == compliance.BEHIND]


def compliance_dashboard(user: Any, scope: Unit, *, start: date, end: date, as_of: datetime) -> Dashboard:
    """Which organizations under ``scope`` are behind for [start, end), as of a cutoff.

    A frozen period answers from its snapshot (the figures as they were when it closed), whatever the
    cutoff; otherwise the figures are computed live, counting what happened before the cutoff.
    """
    _see(user, scope)
    snap = ComplianceSnapshot.objects.filter(unit=scope, start=start, end=end).first()
    if snap is not None:
        return Dashboard(scope, start, end, end - timedelta(days=1), True, snap.frozen_at, snap.data)
    through = min(last_day(as_of), end - timedelta(days=1))
    rows = compliance_rows(scope, start, end, through=through)
    visible = [r for r in rows if access.can(user, Perm.VIEW, r.unit)]
    return Dashboard(scope, start, end, through, False, None, rows_to_json(visible))


@dataclass(frozen=True)
class Due:
    unit: Unit
    line: compliance.Line

    @property
    def due_on(self) -> date:
        """The last day of the window."""
        return self.line.end - timedelta(days=1)


def compliance_calendar(user: Any, unit: Unit, *, start: date, end: date, as_of: datetime) -> list[Due]:
    """What is still due (or was missed) under ``unit`` in [start, end), soonest first."""
    _see(user, unit)
    through = min(last_day(as_of), end - timedelta(days=1))
    out = [
        Due(r.unit, ln)
        for r in compliance_rows(unit, start, end, through=through)
        for ln in r.lines
        if ln.status in (compliance.DUE, compliance.MISSED, compliance.UPCOMING)
    ]
    return sorted(out, key=lambda d: (d.line.end, d.unit.path, d.line.code))


# ---------------------------------------------------------------- the six-month rule


@dataclass(frozen=True)
class InactivityWarning:
    person: Person
    branch: Unit
    months: int
    level: int  # 3, 4, 5 — or 6 once the six-month line is crossed
    last_life: date | None


def last_life_dates(person_ids: Sequence[int], through: date) -> dict[int, date]:
    """The last approved, held meeting each person attended (present), on or before ``through``."""
    rows = (
        Meeting.objects.filter(
            review_status=ReviewStatus.APPROVED,
            held=True,
            starts_at__lt=_day_start(through + timedelta(days=1)),
            attendance__person_id__in=person_ids,
            attendance__status=AttendanceStatus.PRESENT,
        )
        .values("attendance__person_id")
        .annotate(last=Max("starts_at"))
        .order_by()
    )
    return {r["attendance__person_id"]: local_date(r["last"]) for r in rows}


def inactivity_warnings(
    user: Any, unit: Unit, *, as_of: datetime, thresholds: Sequence[int] = compliance.WARNING_MONTHS
) -> list[InactivityWarning]:
    """Members under ``unit`` with no organizational life for 3, 4, 5 months (or 6+: the six-month rule)."""
    _see(user, unit)
    through = last_day(as_of)
    members = members_on(unit, through)
    last = last_life_dates([e.person.pk for e in members], through)
    out = []
    for e in members:
        ld = last.get(e.person.pk)
        since = e.since or date.min
        if ld is None and e.since is None:
            since = e.person.created_at.date() if e.person.created_at else through
        months = compliance.inactivity_months(ld, since, through)
        level = compliance.warning_level(months, thresholds)
        if level is not None:
            out.append(InactivityWarning(e.person, e.branch, months, level, ld))
    return sorted(out, key=lambda w: (-w.months, w.person.code))


# ---------------------------------------------------------------- talks


@dataclass
class TalkMatrix:
    branch: Unit
    year: int
    people: list[MemberEntry]
    coverage: compliance.Coverage

    def covered(self, a: int, b: int) -> int:
        return self.coverage.counts.get((min(a, b), max(a, b)), 0)


def talk_matrix(user: Any, branch: Unit, year: int, *, as_of: datetime | None = None) -> TalkMatrix:
    """The pair-coverage matrix of heart-to-heart talks for one year (RULES.md: every pair, once a year)."""
    _see(user, branch)
    through = date(year, 12, 31)
    if as_of is not None:
        through = min(through, last_day(as_of))
    members = members_on(branch, through)
    talks = Talk.objects.filter(
        unit__path__startswith=branch.path, withdrawn=False, held_on__year=year, held_on__lte=through
    ).prefetch_related("participations")
    cov = compliance.pair_coverage(
        {e.person.pk: e.is_committee for e in members},
        [[p.person_id for p in t.participations.all()] for t in talks],
    )
    return TalkMatrix(branch, year, members, cov)


# ---------------------------------------------------------------- membership pipeline


@dataclass(frozen=True)
class PipelineDue:
    case: MembershipCase
    milestone: pipeline.Milestone


def pipeline_cases(user: Any, unit: Unit, *, include_closed: bool = False) -> QuerySet[MembershipCase]:
    _see(user, unit)
    qs = access.scoped(MembershipCase.objects.select_related("person", "branch"), user, Perm.VIEW).filter(
        branch__path__startswith=unit.path
    )
    return qs if include_closed else qs.filter(closed=False)


def pipeline_due(user: Any, unit: Unit, *, as_of: datetime) -> list[PipelineDue]:
    """Who is due for what in the membership pipeline under ``unit``, as of a cutoff (soonest first)."""
    through = last_day(as_of)
    out = [
        PipelineDue(c, m)
        for c in pipeline_cases(user, unit)
        for m in pipeline.milestones(c.stage, c.dates(), through=through)
    ]
    return sorted(out, key=lambda d: (d.milestone.date, d.case.person.code))


# ---------------------------------------------------------------- one meeting as compliance sees it


def meeting_fact(meeting: Meeting) -> compliance.MeetingFact:
    """The meeting as the compliance engine sees it (attendance counts, lecturer role)."""
    expected = present = ev = pv = ec = pc = 0
    for a in meeting.attendance.all():
        if not a.expected:
            continue
        here = a.status == AttendanceStatus.PRESENT
        expected += 1
        present += here
        if a.voting:
            ev += 1
            pv += here
        if a.committee:
            ec += 1
            pc += here
    roles: frozenset[str] = frozenset()
    if meeting.lecturer_id:
        on = local_date(meeting.starts_at)
        roles = frozenset(
            BranchMembership.objects.filter(
                person_id=meeting.lecturer_id, start__lte=on, branch__path__startswith=meeting.unit.path
            )
            .filter(Q(end__isnull=True) | Q(end__gte=on))
            .values_list("role", flat=True)
        )
    return compliance.MeetingFact(
        meeting.pk,
        local_date(meeting.starts_at),
        frozenset(meeting.kinds),
        expected,
        present,
        ev,
        pv,
        ec,
        pc,
        roles,
    )


def meeting_quorum(meeting: Meeting) -> dict[str, bool]:
    """{kind: quorum met} for each kind of the meeting a requirement sets a quorum for."""
    fact = meeting_fact(meeting)
    out: dict[str, bool] = {}
    for req in requirements_in_force(meeting.unit, fact.on):
        if req.kind in fact.kinds and req.quorum:
            out[req.kind] = out.get(req.kind, True) and compliance.quorum_met(req.quorum, fact)
    return out
