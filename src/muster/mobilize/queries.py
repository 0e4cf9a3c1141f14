"""Reads for mobilization, always scoped through ``muster.orgs.access``.

Ledger sums (the definitions the reports build on)
--------------------------------------------------
- *Approved minutes before a cutoff T* of any set of ledger rows = Σ sign × (minutes of [start, end)
  before T). ``approved_minutes`` computes it exactly with one SUM over the rows that ended by T plus
  the few rows that straddle T (clipped in Python), so the figure is exact at any cutoff.
- *Pending* rows are the open requests of a chain: a row with ``sign = 0`` and ``op`` record or
  correct_request that no later row refers to. Pending minutes are shown apart and never counted.
- The *state* of an entry (a chain) comes from its rows (``chain_state``): its head (latest row), its
  net effect (Σ sign ∈ {0, 1}), the row whose +1 is in force, the current interval and its status.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.http import Http404

from muster import clock
from muster.clock import local_tz
from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    CheckKind,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    EntryOp,
    Post,
    Request,
    RequestStatus,
    ServiceEntry,
    Shift,
)
from muster.mobilize.policy import may_approve_entry
from muster.mobilize.shift_templates import HourCoverage, ShiftCover, coverage_grid
from muster.orgs.access import Perm, scoped
from muster.orgs.models import Person

# ---------------------------------------------------------------- ledger state

PENDING_OPS = (EntryOp.RECORD, EntryOp.CORRECT_REQUEST)
VERSION_OPS = (EntryOp.RECORD, EntryOp.CORRECT_APPROVE)


class EntryStatus:
    PENDING = "pending"  # recorded, waiting for approval
    APPROVED = "approved"
    CORRECTION_PENDING = "correction_pending"  # a correction waits; the approved version (if any) stands
    REJECTED = "rejected"
    REVERSED = "reversed"


@dataclass(frozen=True)
class ChainState:
    chain: uuid.UUID
    rows: tuple[ServiceEntry, ...]

    @property
    def origin(self) -> ServiceEntry:
        return self.rows[0]

    @property
    def head(self) -> ServiceEntry:
        return self.rows[-1]

    @property
    def net(self) -> int:
        return sum(r.sign for r in self.rows)

    @property
    def approved_row(self) -> ServiceEntry | None:
        """The row whose +1 is in force (None when nothing is approved)."""
        if self.net != 1:
            return None
        return next(r for r in reversed(self.rows) if r.sign == 1)

    @property
    def current(self) -> ServiceEntry:
        """The row holding the entry's current interval (the record or the last approved correction)."""
        return next(r for r in reversed(self.rows) if r.op in VERSION_OPS)

    @property
    def pending_row(self) -> ServiceEntry | None:
        h = self.head
        return h if h.sign == 0 and h.op in PENDING_OPS else None

    @property
    def status(self) -> str:
        h = self.head
        if h.op == EntryOp.RECORD and h.sign == 0:
            return EntryStatus.PENDING
        if h.op == EntryOp.CORRECT_REQUEST:
            return EntryStatus.CORRECTION_PENDING
        if self.net == 1:
            return EntryStatus.APPROVED
        if h.op == EntryOp.REVERSE:
            return EntryStatus.REVERSED
        return EntryStatus.REJECTED

    def intervals_claimed(self) -> list[clock.Interval]:
        """The intervals this entry holds against the person's other entries: the approved or pending
        version, and a proposed correction."""
        out = []
        if self.net == 1 or self.status == EntryStatus.PENDING:
            c = self.current
            out.append(clock.Interval(c.start, c.end))
        p = self.pending_row
        if p is not None and p.op == EntryOp.CORRECT_REQUEST:
            out.append(clock.Interval(p.start, p.end))
        return out


def chain_state(chain: uuid.UUID) -> ChainState:
    rows = tuple(ServiceEntry.objects.filter(chain=chain).select_related("person").order_by("id"))
    if not rows:
        raise ServiceEntry.DoesNotExist(chain)
    return ChainState(chain, rows)


def chain_states(rows: Iterable[ServiceEntry]) -> list[ChainState]:
    """Group rows (of whole chains, in id order) into chain states, ordered by their first row."""
    by_chain: dict[uuid.UUID, list[ServiceEntry]] = {}
    for r in sorted(rows, key=lambda r: r.pk):
        by_chain.setdefault(r.chain, []).append(r)
    return [ChainState(c, tuple(rs)) for c, rs in by_chain.items()]


# ---------------------------------------------------------------- ledger sums


def approved_minutes(rows: QuerySet[ServiceEntry], cutoff: datetime | None = None) -> int:
    """Σ sign × minutes-before-``cutoff`` over ``rows`` (all time when ``cutoff`` is None). Exact."""
    signed = rows.exclude(sign=0)
    if cutoff is None:
        return int(signed.aggregate(t=Sum(F("sign") * F("minutes")))["t"] or 0)
    c = clock.floor_minute(cutoff)
    whole = int(signed.filter(end__lte=c).aggregate(t=Sum(F("sign") * F("minutes")))["t"] or 0)
    part = sum(
        sign * clock.clip_minutes(start, end, c)
        for sign, start, end in signed.filter(start__lt=c, end__gt=c).values_list("sign", "start", "end")
    )
    return whole + part


def balance(person: Person, *, as_of: datetime | None = None, kind: str | None = None) -> int:
    """A person's approved service minutes (before ``as_of``; of one ``kind`` if given)."""
    rows = ServiceEntry.objects.filter(person=person)
    if kind:
        rows = rows.filter(kind=kind)
    return approved_minutes(rows, as_of)


def balance_by_kind(person: Person, *, as_of: datetime | None = None) -> dict[str, int]:
    kinds = ServiceEntry.objects.filter(person=person).values_list("kind", flat=True).distinct()
    return {k: balance(person, as_of=as_of, kind=k) for k in sorted(set(kinds))}


def pending_rows(rows: QuerySet[ServiceEntry]) -> QuerySet[ServiceEntry]:
    """The rows among ``rows`` that wait for a decision (see the module docstring)."""
    followed = ServiceEntry.objects.filter(refers_to=OuterRef("pk"))
    return rows.filter(sign=0, op__in=PENDING_OPS).filter(~Exists(followed))


def person_pending(person: Person) -> QuerySet[ServiceEntry]:
    """A person's entries and corrections waiting for approval."""
    return pending_rows(ServiceEntry.objects.filter(person=person)).order_by("start", "pk")


def pending_for_approver(user: Any) -> list[ServiceEntry]:
    """Pending rows the user may decide on (visible, approvable, not their own)."""
    qs = pending_rows(visible_entries(user)).select_related(
        "person",
        "person__unit",
        "person__party_unit",
        "deployment",
        "deployment__unit",
        "deployment__supported_unit",
        "deployment__leader",
        "shift",
        "shift__post",
        "shift__post__unit",
    )
    return [r for r in qs.order_by("start", "pk") if may_approve_entry(user, r)]


@dataclass(frozen=True)
class EntryView:
    """One entry as a person or an approver sees it."""

    state: ChainState

    @property
    def id(self) -> int:
        """The id to act on (approve, reject, correct): the chain's head row."""
        return self.state.head.pk

    @property
    def start(self) -> datetime:
        return self.state.current.start

    @property
    def end(self) -> datetime:
        return self.state.current.end

    @property
    def minutes(self) -> int:
        return self.state.current.minutes

    @property
    def approved_minutes(self) -> int:
        row = self.state.approved_row
        return row.minutes if row is not None else 0

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def proposed(self) -> ServiceEntry | None:
        p = self.state.pending_row
        return p if p is not None and p.op == EntryOp.CORRECT_REQUEST else None


def person_entries(person: Person) -> list[EntryView]:
    """A person's entries (chains), newest first."""
    rows = ServiceEntry.objects.filter(person=person).select_related("deployment", "shift").order_by("id")
    states = chain_states(rows)
    return sorted((EntryView(s) for s in states), key=lambda v: v.start, reverse=True)


def visible_entries(user: Any) -> QuerySet[ServiceEntry]:
    """Ledger rows the user may read: in scope, their own, or of a batch they lead."""
    q = Q(pk__in=scoped(ServiceEntry.objects.all(), user, Perm.VIEW).values("pk"))
    if getattr(user, "pk", None) is not None:
        q |= Q(person__user_id=user.pk) | Q(deployment__leader__user_id=user.pk)
    return ServiceEntry.objects.filter(q)


def entry_get_or_404(user: Any, pk: int) -> ServiceEntry:
    try:
        return visible_entries(user).select_related("person").get(pk=pk)
    except ServiceEntry.DoesNotExist as exc:
        raise Http404 from exc


# ---------------------------------------------------------------- requests, deployments, posts, shifts


def request_list(user: Any, *, status: str | None = RequestStatus.OPEN) -> QuerySet[Request]:
    """Requests in scope, annotated with ``assigned`` (distinct people in their active batches)."""
    qs = scoped(Request.objects.all(), user, Perm.VIEW).select_related("partner", "unit")
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        assigned=Count(
            "deployments__memberships__person",
            filter=Q(deployments__status=DeploymentStatus.ACTIVE),
            distinct=True,
        )
    ).order_by("start", "code")


@dataclass(frozen=True)
class RequestCoverage:
    needed: int
    assigned: int

    @property
    def missing(self) -> int:
        return max(0, self.needed - self.assigned)

    @property
    def ratio(self) -> float:
        return self.assigned / self.needed if self.needed else 1.0


def request_coverage(request: Request) -> RequestCoverage:
    assigned = (
        DeploymentMember.objects.filter(
            deployment__request=request, deployment__status=DeploymentStatus.ACTIVE
        )
        .values("person")
        .distinct()
        .count()
    )
    return RequestCoverage(request.people_needed, assigned)


def deployment_list(
    user: Any, *, unit: Any = None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Deployment]:
    """Batches the user may see (dispatched or supported in scope); ``unit`` keeps one subtree."""
    qs = scoped(Deployment.objects.all(), user, Perm.VIEW).select_related(
        "unit", "supported_unit", "partner", "leader", "request"
    )
    if unit is not None:
        qs = qs.filter(Q(unit__path__startswith=unit.path) | Q(supported_unit__path__startswith=unit.path))
    if since is not None:
        qs = qs.filter(end__gt=since)
    if until is not None:
        qs = qs.filter(start__lt=until)
    return qs.annotate(member_count=Count("memberships", distinct=True)).order_by("-start", "code")


def deployment_get_or_404(user: Any, **lookup: Any) -> Deployment:
    """A batch the user may see (in scope, or one they are a member of); otherwise 404."""
    q = Q(pk__in=scoped(Deployment.objects.all(), user, Perm.VIEW).values("pk"))
    if getattr(user, "pk", None) is not None:
        q |= Q(memberships__person__user_id=user.pk)
    try:
        return (
            Deployment.objects.filter(q)
            .distinct()
            .select_related("unit", "supported_unit", "leader")
            .get(**lookup)
        )
    except Deployment.DoesNotExist as exc:
        raise Http404 from exc


def post_list(user: Any) -> QuerySet[Post]:
    return scoped(Post.objects.all(), user, Perm.VIEW).select_related("unit", "partner").order_by("code")


def visible_shifts(user: Any) -> QuerySet[Shift]:
    """Shifts in scope, plus the user's own (through their person).

    Both parts are subqueries on the shift's id, so the query needs no DISTINCT over a join (whose
    planning alone took 14 ms on PostgreSQL for every check-in).
    """
    q = Q(pk__in=scoped(Shift.objects.all(), user, Perm.VIEW).values("pk"))
    if getattr(user, "pk", None) is not None:
        q |= Q(pk__in=Assignment.objects.filter(person__user_id=user.pk).values("shift_id"))
    return Shift.objects.filter(q)


_VISIBLE_TO = "_muster_visible_to"


def shift_get_or_404(user: Any, **lookup: Any) -> Shift:
    """A shift the user may see (``token=…`` for the QR page, or ``pk=…``); otherwise 404."""
    shift = (
        Shift.objects.select_related(
            "deployment",
            "deployment__unit",
            "deployment__supported_unit",
            "deployment__leader",
            "post",
            "post__unit",
        )
        .filter(**lookup)
        .first()
    )
    if shift is None or not shift_is_visible(user, shift):
        raise Http404
    return shift


def shift_is_visible(user: Any, shift: Shift) -> bool:
    """Whether the user may see the shift; remembered on the instance for the rest of the request."""
    uid = getattr(user, "pk", None)
    if uid is not None and getattr(shift, _VISIBLE_TO, None) == uid:
        return True
    visible = visible_shifts(user).filter(pk=shift.pk).exists()
    if visible and uid is not None:
        setattr(shift, _VISIBLE_TO, uid)
    return visible


def check_state(assignment: Assignment) -> CheckEvent | None:
    """The last check event of an assignment (None before the first check-in)."""
    return CheckEvent.objects.filter(assignment=assignment).order_by("-id").first()


@dataclass(frozen=True)
class RollCallRow:
    assignment: Assignment
    last: CheckEvent | None

    @property
    def checked_in(self) -> bool:
        return self.last is not None and self.last.kind == CheckKind.IN


def shift_roll(shift: Shift) -> list[RollCallRow]:
    """Everyone on a shift with their check state (the leader's roll-call page)."""
    assignments = list(shift.assignments.select_related("person").order_by("person__code"))
    last: dict[int, CheckEvent] = {}
    for ev in CheckEvent.objects.filter(assignment__shift=shift).order_by("id"):
        last[ev.assignment_id] = ev
    return [RollCallRow(a, last.get(a.pk)) for a in assignments]


def person_upcoming_shifts(person: Person, *, now: datetime) -> QuerySet[Shift]:
    return (
        Shift.objects.filter(assignments__person=person, end__gt=now)
        .exclude(deployment__status=DeploymentStatus.CANCELLED)
        .select_related("deployment", "post")
        .order_by("start", "pk")
    )


def person_shifts(person: Person, *, since: datetime | None = None) -> QuerySet[Shift]:
    """All of a person's shifts (for the iCalendar feed)."""
    qs = Shift.objects.filter(assignments__person=person).exclude(
        deployment__status=DeploymentStatus.CANCELLED
    )
    if since is not None:
        qs = qs.filter(end__gt=since)
    return qs.select_related("deployment", "post").order_by("start", "pk")


def post_coverage(post: Post, *, start: datetime, end: datetime) -> list[HourCoverage]:
    """Required vs covered seats for every hour of ``[start, end)`` (the green/red grid)."""
    shifts = (
        Shift.objects.filter(post=post, start__lt=end, end__gt=start)
        .exclude(deployment__status=DeploymentStatus.CANCELLED)
        .annotate(assigned=Count("assignments"))
    )
    covers: Sequence[ShiftCover] = [ShiftCover(s.start, s.end, s.seats, s.assigned) for s in shifts]
    return coverage_grid(start, end, local_tz(), covers, post.required_seats or None)
