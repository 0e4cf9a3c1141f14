"""The service-hours ledger over the API: entries, decisions, balances, a person's own shifts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from django.db.models import Min, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Schema, Status

from muster import clock
from muster.api.common import PageParams, ReasonIn, actor, paginate, required_person
from muster.mobilize import policy, queries, services
from muster.mobilize.models import EntryOp, ServiceEntry
from muster.mobilize.queries import ChainState
from muster.orgs import access
from muster.orgs.models import Person

from .common import (
    NOT_FOUND,
    WRITE_ERRORS,
    MobilizeErrorOut,
    _my_person,
    _page,
    coded,
    iso,
    required_when,
    router,
    when,
)
from .deployments import ShiftOut, _get_deployment, _shift_out
from .entries import EntryOut, _entry_out, _state
from .shifts import _get_shift


class EntryRowOut(Schema):
    id: int
    op: str
    op_label: str
    sign: int
    start: str
    end: str
    minutes: int
    by: str
    reason: str
    at: str


class EntryDetailOut(EntryOut):
    history: list[EntryRowOut]
    may_decide: bool


class EntryPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[EntryOut]


class EntryFilters(Schema):
    mine: bool = Field(False, description="only your own entries")
    person: str | None = Field(None, description="staff number")
    deployment: str | None = Field(None, description="batch code")
    kind: str | None = None
    status: Literal["pending", "approved", "correction_pending", "rejected", "reversed"] | None = None


class EntryIn(Schema):
    person: str | None = Field(None, description="default: yourself (a self-report, pending)")
    kind: Literal["dispatch", "community", "hotline", "duty"]
    start: str
    end: str
    deployment: str | None = Field(None, description="batch code (none for community service)")
    shift: int | None = None
    note: str = ""
    approve: bool | None = Field(
        None, description="default: approved when you may approve it; false records it pending"
    )


class ApproveIn(Schema):
    reason: str = ""


class CorrectIn(Schema):
    start: str
    end: str
    reason: str


class BalanceOut(Schema):
    person: dict[str, str]
    as_of: str | None
    minutes: int
    hours: str
    by_kind: dict[str, int]
    pending: list[EntryOut]
    pending_minutes: int


def _entry_detail(user: Any, state: ChainState) -> dict[str, Any]:
    out = _entry_out(state)
    out["history"] = [
        {
            "id": r.pk,
            "op": r.op,
            "op_label": str(EntryOp(r.op).label),
            "sign": r.sign,
            "start": iso(r.start),
            "end": iso(r.end),
            "minutes": r.minutes,
            "by": r.actor_name,
            "reason": r.reason,
            "at": iso(r.created_at),
        }
        for r in state.rows
    ]
    out["may_decide"] = policy.may_approve_entry(user, state.head)
    return out


def _states(rows: QuerySet[ServiceEntry]) -> list[ChainState]:
    return queries.chain_states(rows.select_related("person", "deployment"))


@router.get("/entries", response=EntryPage, summary="Service entries (yours, or those you may see)")
@coded
def list_entries(
    request: HttpRequest, filters: Query[EntryFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    rows: QuerySet[ServiceEntry]
    if filters.mine:
        rows = ServiceEntry.objects.filter(person=_my_person(user))
    else:
        rows = queries.visible_entries(user)
    if filters.person:
        rows = rows.filter(person__code=filters.person)
    if filters.deployment:
        rows = rows.filter(deployment__code=filters.deployment)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    chains = rows.values("chain").annotate(first=Min("id")).order_by("-first")
    if filters.status is None:
        page_chains, meta = paginate(chains, page)
        wanted = [c["chain"] for c in page_chains]
        states = _states(ServiceEntry.objects.filter(chain__in=wanted))
        order = {c: i for i, c in enumerate(wanted)}
        states.sort(key=lambda s: order[s.chain])
    else:
        # The status comes from each chain's rows: filter in Python (narrow with the other filters).
        all_states = _states(ServiceEntry.objects.filter(chain__in=chains.values("chain")))
        matching = [s for s in reversed(all_states) if s.status == filters.status]
        states, meta = _page(matching, page)
    return {**meta, "items": [_entry_out(s) for s in states]}


@router.get(
    "/entries/pending",
    response=list[EntryOut],
    summary="Entries and corrections waiting for your decision",
)
def pending_entries(request: HttpRequest) -> list[dict[str, Any]]:
    user = actor(request)
    rows = queries.pending_for_approver(user)
    chains = list(dict.fromkeys(r.chain for r in rows))
    states = {s.chain: s for s in _states(ServiceEntry.objects.filter(chain__in=chains))}
    return [_entry_out(states[c]) for c in chains]


@router.get(
    "/entries/{entry_id}",
    response={200: EntryDetailOut, **NOT_FOUND},
    summary="An entry with its history",
)
def get_entry(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    user = actor(request)
    return _entry_detail(user, _state(queries.entry_get_or_404(user, entry_id)))


@router.post(
    "/entries",
    response={201: EntryDetailOut, **WRITE_ERRORS},
    summary="Record service (a self-report, e.g. community service during home observation)",
)
@coded
def record_entry(request: HttpRequest, payload: EntryIn) -> Status:
    user = actor(request)
    person = required_person(user, payload.person, "person") if payload.person else _my_person(user)
    deployment = _get_deployment(user, payload.deployment) if payload.deployment else None
    shift = _get_shift(user, payload.shift) if payload.shift is not None else None
    row = services.entry_record(
        actor=user,
        person=person,
        kind=payload.kind,
        start=required_when(payload.start, "start"),
        end=required_when(payload.end, "end"),
        deployment=deployment,
        shift=shift,
        note=payload.note,
        approve=payload.approve,
    )
    return Status(201, _entry_detail(user, _state(row)))


def _entry_action(
    request: HttpRequest, entry_id: int, do: Callable[[Any, ServiceEntry], ServiceEntry]
) -> dict[str, Any]:
    user = actor(request)
    row = queries.entry_get_or_404(user, entry_id)
    new = do(user, row)
    return _entry_detail(user, _state(new))


@router.post("/entries/{entry_id}/approve", response={200: EntryDetailOut, **WRITE_ERRORS}, summary="Approve")
@coded
def approve_entry(request: HttpRequest, entry_id: int, payload: ApproveIn) -> dict[str, Any]:
    return _entry_action(
        request, entry_id, lambda u, e: services.entry_approve(actor=u, entry=e, reason=payload.reason)
    )


@router.post("/entries/{entry_id}/reject", response={200: EntryDetailOut, **WRITE_ERRORS}, summary="Reject")
@coded
def reject_entry(request: HttpRequest, entry_id: int, payload: ReasonIn) -> dict[str, Any]:
    return _entry_action(
        request, entry_id, lambda u, e: services.entry_reject(actor=u, entry=e, reason=payload.reason)
    )


@router.post(
    "/entries/{entry_id}/correct",
    response={200: EntryDetailOut, **WRITE_ERRORS},
    summary="Correct the times: a request for your own entry, at once for an approver",
)
@coded
def correct_entry(request: HttpRequest, entry_id: int, payload: CorrectIn) -> dict[str, Any]:
    start, end = required_when(payload.start, "start"), required_when(payload.end, "end")
    return _entry_action(
        request,
        entry_id,
        lambda u, e: services.entry_correct(actor=u, entry=e, start=start, end=end, reason=payload.reason),
    )


@router.post(
    "/entries/{entry_id}/reverse", response={200: EntryDetailOut, **WRITE_ERRORS}, summary="Reverse (void)"
)
@coded
def reverse_entry(request: HttpRequest, entry_id: int, payload: ReasonIn) -> dict[str, Any]:
    return _entry_action(
        request, entry_id, lambda u, e: services.entry_reverse(actor=u, entry=e, reason=payload.reason)
    )


def _balance(person: Person, as_of: datetime | None) -> dict[str, Any]:
    minutes = queries.balance(person, as_of=as_of)
    pending_rows = list(queries.person_pending(person))
    chains = list(dict.fromkeys(r.chain for r in pending_rows))
    states = {s.chain: s for s in _states(ServiceEntry.objects.filter(chain__in=chains))}
    return {
        "person": {"code": person.code, "name": person.name},
        "as_of": iso(as_of),
        "minutes": minutes,
        "hours": str(clock.minutes_to_hours(minutes)),
        "by_kind": queries.balance_by_kind(person, as_of=as_of),
        "pending": [_entry_out(states[c]) for c in chains],
        "pending_minutes": sum(r.minutes for r in pending_rows),
    }


@router.get(
    "/me/balance",
    response={200: BalanceOut, 422: MobilizeErrorOut},
    summary="Your approved hours, by kind, and what is pending",
)
@coded
def my_balance(request: HttpRequest, as_of: str | None = None) -> dict[str, Any]:
    return _balance(_my_person(actor(request)), when(as_of, "as_of"))


@router.get(
    "/me/shifts", response={200: list[ShiftOut], 422: MobilizeErrorOut}, summary="Your upcoming shifts"
)
@coded
def my_shifts(request: HttpRequest) -> list[dict[str, Any]]:
    person = _my_person(actor(request))
    shifts = queries.person_upcoming_shifts(person, now=timezone.now()).prefetch_related(
        "assignments__person"
    )
    return [_shift_out(s) for s in shifts]


@router.get(
    "/people/{code}/balance",
    response={200: BalanceOut, **NOT_FOUND, 422: MobilizeErrorOut},
    summary="A person's approved hours",
)
@coded
def person_balance(request: HttpRequest, code: str, as_of: str | None = None) -> dict[str, Any]:
    user = actor(request)
    person = access.get_scoped_or_404(Person.objects.all(), user, code=code)
    return _balance(person, when(as_of, "as_of"))
