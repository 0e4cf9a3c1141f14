"""Check-in/out, the leader's roll-call and fixes over the API (idempotent by the client's key)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Schema

from muster.api.common import ErrorOut, actor
from muster.mobilize import policy, queries, services
from muster.mobilize.models import Assignment, CheckEvent, Shift
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person

from .common import WRITE_ERRORS, coded, iso, required_when, router, when
from .entries import EntryOut, _entry_out, _state
from .shifts import _get_shift


class CheckIn(Schema):
    key: str = Field(description="a client-generated idempotency key (1–80 characters)")
    at: str | None = Field(None, description="default: now")
    person: str | None = Field(None, description="a leader checking someone in; default: yourself")


class CheckEventOut(Schema):
    id: int
    kind: str
    at: str
    source: str
    key: str
    person: str


class CheckResultOut(Schema):
    event: CheckEventOut
    entry: EntryOut | None


class RollLineIn(Schema):
    person: str
    check_in: str | None = None
    check_out: str | None = None


class RollCallIn(Schema):
    key: str = Field(description="identifies this roll-call; a retry with the same key writes nothing")
    lines: list[RollLineIn]


class RollRowOut(Schema):
    person: str
    name: str
    checked_in: bool
    last: dict[str, Any] | None


class RollCallOut(Schema):
    written: int
    entries: list[EntryOut]
    roll: list[RollRowOut]


class FixIn(Schema):
    person: str
    check_in: str
    check_out: str | None = None
    reason: str
    key: str


def _event_out(ev: CheckEvent) -> dict[str, Any]:
    return {
        "id": ev.pk,
        "kind": ev.kind,
        "at": iso(ev.at),
        "source": ev.source,
        "key": ev.key,
        "person": ev.assignment.person.code,
    }


def _check_response(result: services.CheckResult) -> HttpResponse:
    ev = CheckEvent.objects.select_related("assignment__person").get(pk=result.event.pk)
    body = {"event": _event_out(ev), "entry": _entry_out(_state(result.entry)) if result.entry else None}
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    if not result.created:
        response["Idempotent-Replayed"] = "true"
    return response


def _on_shift(shift: Shift, code: str | None, user: Any) -> Person | None:
    if code is None:
        return None
    p = Person.objects.filter(code=code, assignments__shift=shift).first()
    if p is None:
        raise ValidationError({"person": _("%(code)s is not on this shift.") % {"code": code}})
    return p


@router.post(
    "/shifts/{shift_id}/checkin",
    response={200: CheckResultOut, **WRITE_ERRORS},
    summary="Check in (idempotent by key)",
)
@coded
def checkin(request: HttpRequest, shift_id: int, payload: CheckIn) -> HttpResponse:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    result = services.checkin_record(
        actor=user,
        shift=shift,
        key=payload.key,
        at=when(payload.at, "at"),
        person=_on_shift(shift, payload.person, user),
    )
    return _check_response(result)


@router.post(
    "/shifts/{shift_id}/checkout",
    response={200: CheckResultOut, **WRITE_ERRORS},
    summary="Check out (idempotent by key); records the service entry",
)
@coded
def checkout(request: HttpRequest, shift_id: int, payload: CheckIn) -> HttpResponse:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    result = services.checkout_record(
        actor=user,
        shift=shift,
        key=payload.key,
        at=when(payload.at, "at"),
        person=_on_shift(shift, payload.person, user),
    )
    return _check_response(result)


def _roll(shift: Shift) -> list[dict[str, Any]]:
    return [
        {
            "person": r.assignment.person.code,
            "name": r.assignment.person.name,
            "checked_in": r.checked_in,
            "last": {"kind": r.last.kind, "at": iso(r.last.at), "source": r.last.source} if r.last else None,
        }
        for r in queries.shift_roll(shift)
    ]


def _require_lead(user: Any, shift: Shift) -> None:
    if not policy.may_lead_shift(user, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


@router.get(
    "/shifts/{shift_id}/roll",
    response={200: list[RollRowOut], 403: ErrorOut, 404: ErrorOut},
    summary="Everyone on a shift with their check state",
)
def get_roll(request: HttpRequest, shift_id: int) -> list[dict[str, Any]]:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    _require_lead(user, shift)
    return _roll(shift)


@router.post(
    "/shifts/{shift_id}/rollcall",
    response={200: RollCallOut, **WRITE_ERRORS},
    summary="Roll-call: check people in and/or out in one go",
)
@coded
def rollcall(request: HttpRequest, shift_id: int, payload: RollCallIn) -> dict[str, Any]:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    lines = []
    for i, line in enumerate(payload.lines):
        person = _on_shift(shift, line.person, user)
        assert person is not None
        lines.append(
            services.RollCallLine(
                person=person,
                check_in=when(line.check_in, f"lines.{i}.check_in"),
                check_out=when(line.check_out, f"lines.{i}.check_out"),
            )
        )
    result = services.rollcall_record(actor=user, shift=shift, lines=lines, key=payload.key)
    return {
        "written": sum(1 for r in result.results if r.created),
        "entries": [_entry_out(_state(e)) for e in result.entries],
        "roll": _roll(shift),
    }


@router.post(
    "/shifts/{shift_id}/fix",
    response={200: CheckResultOut, **WRITE_ERRORS},
    summary="A leader fixes a person's times, with a reason",
)
@coded
def fix_times(request: HttpRequest, shift_id: int, payload: FixIn) -> HttpResponse:
    user = actor(request)
    shift = _get_shift(user, shift_id)
    person = _on_shift(shift, payload.person, user)
    assignment = Assignment.objects.select_related("shift", "person").get(shift=shift, person=person)
    result = services.checkin_fix(
        actor=user,
        assignment=assignment,
        check_in=required_when(payload.check_in, "check_in"),
        check_out=when(payload.check_out, "check_out"),
        reason=payload.reason,
        key=payload.key,
    )
    return _check_response(result)
