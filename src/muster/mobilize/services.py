"""Writes for mobilization. Each service is keyword-only, atomic, permission-checked and audited.

Views, the API, the CLI and the importers call these; they never write the models themselves.

Permissions
-----------
- ``Perm.MOBILIZE_DISPATCH`` (admin, manager, leader) on a unit: requests, batches, posts, shifts,
  assignments, roll-call for that subtree. ``Perm.MOBILIZE_APPROVE`` (admin, manager, leader,
  secretary): approve, reject, correct and reverse service entries. ``Perm.MOBILIZE_CATALOG`` (admin on
  a root unit): the measure catalog.
- The units that decide on an entry: for a batch's entry, the dispatching unit or the supported unit,
  and the batch's leader (the person linked to the user) even without a grant; for a post's shift,
  the post's unit; for community service (居家观察), the person's unit or party branch (so the branch
  secretary approves). Nobody approves their own entry (the CLI operator, ``SYSTEM``, excepted).
- Self-service: the person linked to the user (``Person.user``) checks in and out of their own shifts,
  reports community service and asks for corrections of their own entries, without any grant.
- What the actor may not see is "not found" (``Http404``); what they see but may not do is
  ``NotAllowed`` (403).

Conflicts
---------
A person cannot be on two overlapping shifts, in two overlapping batches, or on a shift overlapping a
batch it does not belong to (``ValidationError`` naming the other one). A gap shorter than
``settings.MUSTER_MIN_REST_MINUTES`` (default 480 = 8 hours: one 8-hour shift off between two shifts
of a three-shift rotation, the least rest such a rota gives) is a *warning*, returned by the service.
People are locked (``select_for_update``) while their commitments are checked, so two concurrent
assignments cannot both pass; the shift's row is locked too, so two people cannot both take its last
seat. The rules are ``mobilize.rules`` — the same the volunteers' sign-up (``shift_take``) uses, which
also refuses a short rest and a person's weekly limit.

Check-in/out
------------
A check event carries the client's idempotency key (unique). The same key posted again (a retry, or
two requests at once) returns the event already written — the assignment row is locked and the unique
key is the last guard. A check-out needs an open check-in; it closes the cycle and records a ledger
entry with source ``checkin``, pending until approved. A leader's roll-call records entries approved
at once (谁记录谁证明: whoever records certifies), except the leader's own. Times are the volunteer's
actual arrival and departure at the place of service: travel is not service (RULES.md), so nothing
adds travel time, and a leader corrects a check-in made on the way with a reason.

The ledger
----------
Rows are appended, never changed (see ``queries`` for the sums). Ops and their effect ``sign``:
record (0 pending, or +1 when recorded by someone who may approve it), approve (+1, same interval),
reject (0), correct_request (0, new interval), correct_approve (−1 ``reverse`` row of the approved
interval, then +1 of the new one), reverse (−1, voids an approved entry). An action names the row it
acts on, which must be the entry's head (its latest row): acting on a superseded row — e.g. correcting
a correction that was already decided — is refused, as is a second approval. Entries hold service
intervals only; an interval must have end > start, at most 24 hours, not in the future, and may not
overlap another live entry of the same person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import log_action
from muster.clock import local_tz
from muster.mobilize import rules as mrules
from muster.mobilize import signals
from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    CheckKind,
    CheckSource,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    EntryKind,
    EntryOp,
    EntrySource,
    MeasureKind,
    MeasureValue,
    Post,
    PostKind,
    Request,
    RequestStatus,
    ServiceEntry,
    Shift,
    ShiftMode,
)
from muster.mobilize.policy import can_any as _can_any
from muster.mobilize.policy import deployment_units as _deployment_units
from muster.mobilize.policy import is_self as _is_self
from muster.mobilize.policy import leads as _leads
from muster.mobilize.policy import may_approve as _may_approve
from muster.mobilize.policy import may_approve_entry, may_lead_shift
from muster.mobilize.queries import ChainState, chain_state, chain_states, shift_is_visible
from muster.mobilize.shift_templates import ShiftSpec, normalize_curve
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person, Tag, Team, Unit
from muster.orgs.validators import normalize_text

NOTE_MAX = 2000  # an entry's note (the self-report form's and the ledger import's limit)
FUTURE_TOLERANCE = timedelta(minutes=5)  # phones' clocks drift; a check-in may be a little "ahead"


def min_rest_minutes() -> int:
    return int(getattr(settings, "MUSTER_MIN_REST_MINUTES", 480))


@dataclass(frozen=True)
class ConflictWarning:
    """A short rest between two commitments of a person (not refused)."""

    person: Person
    other: str
    gap_minutes: int
    message: str


# ---------------------------------------------------------------- helpers


def _invalid(field_name: str, message: str, code: str) -> ValidationError:
    """A field error with a machine-readable ``code`` (API clients and tests read it)."""
    return ValidationError({field_name: ValidationError(message, code=code)})


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, local_tz()).strftime("%Y-%m-%d %H:%M")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _aware(value: datetime, field_name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError({field_name: _("A date and time is required.")})
    if timezone.is_naive(value):
        return value.replace(tzinfo=local_tz())
    return value


def _check_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise ValidationError(
            {
                "end": _("The end (%(end)s) must be after the start (%(start)s).")
                % {"end": _fmt(end), "start": _fmt(start)}
            }
        )
    return start, end


def _actor_person(actor: Any) -> Person | None:
    pk = getattr(actor, "pk", None)
    if pk is None:
        return None
    return Person.objects.filter(user_id=pk).first()


def _lock_people(people: Iterable[Person]) -> dict[int, Person]:
    """Lock the people's rows (in pk order, to avoid deadlocks) for the rest of the transaction."""
    pks = sorted({p.pk for p in people})
    return {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


def _may_see_person(actor: Any, person: Person) -> bool:
    return _is_self(actor, person) or access.scoped(Person.objects.filter(pk=person.pk), actor).exists()


def _deployment_visible(actor: Any, d: Deployment) -> bool:
    return access.scoped(Deployment.objects.filter(pk=d.pk), actor).exists() or (
        getattr(actor, "pk", None) is not None and d.memberships.filter(person__user_id=actor.pk).exists()
    )


# ---------------------------------------------------------------- conflicts


def _shift_name(s: Shift) -> str:
    return mrules.shift_name(s)


def _conflicts(
    person: Person,
    start: datetime,
    end: datetime,
    *,
    shift: Shift | None = None,
    deployment: Deployment | None = None,
) -> list[ConflictWarning]:
    """Refuse a hard conflict of ``person`` taking ``[start, end)`` (as ``shift`` or ``deployment``);
    return the short-rest warnings. The caller holds the person's lock. The rules are
    ``mobilize.rules.judge`` — the same the volunteers' sign-up uses."""
    breaches = _breaches(person, start, end, shift=shift, deployment=deployment)
    return _apply_breaches(person, breaches, strict=False)


def _breaches(
    person: Person,
    start: datetime,
    end: datetime,
    *,
    shift: Shift | None = None,
    deployment: Deployment | None = None,
    seats: int | None = None,
    taken: int = 0,
    week_limit_minutes: int | None = None,
) -> list[mrules.Breach]:
    own = deployment if deployment is not None else (shift.deployment if shift is not None else None)
    lo, hi = mrules.window(start, end)
    return mrules.judge(
        who=str(person),
        start=start,
        end=end,
        commitments=mrules.commitments_of([person.pk], lo, hi).get(person.pk, []),
        shift_id=shift.pk if shift is not None else None,
        deployment_id=own.pk if own is not None else None,
        seats=seats,
        taken=taken,
        week_limit_minutes=week_limit_minutes,
    )


def _apply_breaches(person: Person, breaches: list[mrules.Breach], *, strict: bool) -> list[ConflictWarning]:
    """Raise the first refused breach (a field error with the breach's code); the rest are warnings."""
    refused = mrules.STRICT if strict else mrules.HARD
    for b in breaches:
        if b.code in refused:
            raise _invalid("shift" if b.code == "full" else "person", b.message, b.code)
    return [ConflictWarning(person, b.other, b.gap_minutes, b.message) for b in breaches if b.code == "rest"]


# ---------------------------------------------------------------- measures catalog


def _require_catalog(actor: Any) -> None:
    if access.is_all_powerful(actor):
        return
    if not any(access.can(actor, Perm.MOBILIZE_CATALOG, r) for r in Unit.objects.get_root_nodes()):
        raise access.NotAllowed(Perm.MOBILIZE_CATALOG)


@transaction.atomic
def measure_kind_create(
    *, actor: Any, code: str, name: str, unit_label: str = "", order: int = 0
) -> MeasureKind:
    _require_catalog(actor)
    problems = rules.Problems()
    code = problems.code("code", code)
    name = problems.text("name", name, max_length=80)
    unit_label = problems.text("unit_label", unit_label, max_length=12)
    order = problems.integer("order", order, rules.MEASURE_ORDER)
    problems.raise_if_any()
    if MeasureKind.objects.filter(code=code).exists():
        raise ValidationError({"code": _("Another measure already has the code %(code)s.") % {"code": code}})
    kind = MeasureKind(code=code, name=name, unit_label=normalize_text(unit_label), order=order)
    kind.full_clean()
    kind.save()
    log_action(
        actor,
        action="mobilize.measure_kind.created",
        target=kind,
        changes={"code": code, "name": name, "unit_label": kind.unit_label},
    )
    return kind


@transaction.atomic
def measure_kind_update(
    *,
    actor: Any,
    kind: MeasureKind,
    name: str | None = None,
    unit_label: str | None = None,
    is_active: bool | None = None,
    order: int | None = None,
) -> MeasureKind:
    _require_catalog(actor)
    kind = MeasureKind.objects.select_for_update().get(pk=kind.pk)
    before = {
        "name": kind.name,
        "unit_label": kind.unit_label,
        "is_active": kind.is_active,
        "order": kind.order,
    }
    problems = rules.Problems()
    if name is not None:
        kind.name = problems.text("name", name, max_length=80)
    if unit_label is not None:
        kind.unit_label = problems.text("unit_label", unit_label, max_length=12)
    if is_active is not None:
        kind.is_active = is_active
    if order is not None:
        kind.order = problems.integer("order", order, rules.MEASURE_ORDER)
    problems.raise_if_any()
    kind.full_clean()
    after = {
        "name": kind.name,
        "unit_label": kind.unit_label,
        "is_active": kind.is_active,
        "order": kind.order,
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        kind.save()
        log_action(actor, action="mobilize.measure_kind.updated", target=kind, changes=changes)
    return kind


@transaction.atomic
def measure_record(
    *,
    actor: Any,
    kind: MeasureKind,
    value: int,
    deployment: Deployment | None = None,
    entry: ServiceEntry | None = None,
    on: date | None = None,
    note: str = "",
) -> MeasureValue:
    """Attach a named number to a batch or to an entry (stored on the entry's first row)."""
    if (deployment is None) == (entry is None):
        raise ValidationError({"deployment": _("A measure belongs to either a batch or a service entry.")})
    kind = MeasureKind.objects.get(pk=kind.pk)
    if not kind.is_active:
        raise ValidationError({"kind": _("The measure %(name)s is no longer in use.") % {"name": kind.name}})
    problems = rules.Problems()
    problems.integer("value", value, rules.MEASURE_VALUE)
    note = problems.text("note", note, max_length=300)
    problems.raise_if_any()
    if deployment is not None:
        if not _deployment_visible(actor, deployment):
            raise Http404
        units = _deployment_units(deployment)
        if not (
            _can_any(actor, Perm.MOBILIZE_DISPATCH, units)
            or _can_any(actor, Perm.MOBILIZE_APPROVE, units)
            or _leads(actor, deployment)
        ):
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        unit_path = deployment.unit.path
    else:
        assert entry is not None
        origin = chain_state(entry.chain).origin
        if not _may_see_person(actor, origin.person):
            raise Http404
        if not (_is_self(actor, origin.person) or may_approve_entry(actor, origin)):
            raise access.NotAllowed(Perm.MOBILIZE_APPROVE)
        entry = origin
        unit_path = origin.person.unit.path
    mv = MeasureValue.objects.create(
        kind=kind,
        deployment=deployment,
        entry=entry,
        value=value,
        on=on,
        note=normalize_text(note),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    log_action(
        actor,
        action="mobilize.measure.recorded",
        target=mv,
        unit_path=unit_path,
        changes={
            "kind": kind.code,
            "value": value,
            "on": on.isoformat() if on else None,
            "deployment": deployment.code if deployment else None,
            "entry": entry.pk if entry else None,
        },
    )
    return mv


@transaction.atomic
def measure_remove(*, actor: Any, value: MeasureValue, reason: str) -> None:
    """Remove a mistaken value; the audit log keeps what it was and why it went."""
    reason = rules.check_text("reason", reason, max_length=500)
    if not normalize_text(reason):
        raise ValidationError({"reason": _("Say why the value is removed.")})
    if value.deployment is not None:
        d = value.deployment
        if not _deployment_visible(actor, d):
            raise Http404
        if not (_can_any(actor, Perm.MOBILIZE_DISPATCH, _deployment_units(d)) or _leads(actor, d)):
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        unit_path = d.unit.path
    else:
        assert value.entry is not None
        if not _may_see_person(actor, value.entry.person):
            raise Http404
        if not (_is_self(actor, value.entry.person) or may_approve_entry(actor, value.entry)):
            raise access.NotAllowed(Perm.MOBILIZE_APPROVE)
        unit_path = value.entry.person.unit.path
    log_action(
        actor,
        action="mobilize.measure.removed",
        target=value,
        unit_path=unit_path,
        changes={
            "kind": value.kind.code,
            "value": value.value,
            "on": value.on.isoformat() if value.on else None,
            "reason": normalize_text(reason),
        },
    )
    value.delete()


# ---------------------------------------------------------------- requests


def _next_code(prefix: str, model: Any) -> str:
    n = model.objects.filter(code__startswith=prefix).count() + 1
    while model.objects.filter(code=f"{prefix}{n:03d}").exists():
        n += 1
    return f"{prefix}{n:03d}"


@transaction.atomic
def request_create(
    *,
    actor: Any,
    unit: Unit,
    partner: Partner,
    title: str,
    people_needed: int,
    start: datetime,
    end: datetime,
    site: str = "",
    description: str = "",
    skills: Iterable[str] = (),
    code: str = "",
) -> Request:
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    if not access.scoped(Partner.objects.filter(pk=partner.pk), actor).exists():
        raise ValidationError({"partner": _("Unknown partner.")})
    start, end = _check_span(start, end)
    problems = rules.Problems()
    title = problems.text("title", title, max_length=200)
    site = problems.text("site", site, max_length=200)
    description = problems.text("description", description, multiline=True)
    problems.integer("people_needed", people_needed, rules.PEOPLE_NEEDED)
    code = problems.code("code", code)
    problems.raise_if_any()
    errors = {}
    if not title:
        errors["title"] = _("Say what the task is.")
    code = code or _next_code(f"RQ-{unit.code}-", Request)
    if Request.objects.filter(code=code).exists():
        errors["code"] = _("Another request already has the code %(code)s.") % {"code": code}
    if errors:
        raise ValidationError(errors)
    req = Request.objects.create(
        code=code,
        unit=unit,
        partner=partner,
        title=title,
        description=description,
        site=normalize_text(site),
        people_needed=people_needed,
        start=start,
        end=end,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    from muster.orgs.services import tags_get_or_create

    tags: list[Tag] = tags_get_or_create(actor=actor, names=skills)
    req.skills.set(tags)
    log_action(
        actor,
        action="mobilize.request.created",
        target=req,
        unit_path=unit.path,
        changes={
            "code": code,
            "partner": partner.code,
            "title": title,
            "people_needed": people_needed,
            "start": _iso(start),
            "end": _iso(end),
            "skills": sorted(t.name for t in tags),
        },
    )
    return req


@transaction.atomic
def request_update(
    *,
    actor: Any,
    request: Request,
    status: str | None = None,
    people_needed: int | None = None,
    title: str | None = None,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Request:
    access.require(actor, Perm.MOBILIZE_DISPATCH, request.unit)
    req = Request.objects.select_for_update().get(pk=request.pk)
    before = {
        "status": req.status,
        "people_needed": req.people_needed,
        "title": req.title,
        "site": req.site,
        "start": _iso(req.start),
        "end": _iso(req.end),
    }
    if status is not None:
        if status not in RequestStatus.values:
            raise ValidationError({"status": _("Unknown status %(status)s.") % {"status": status}})
        req.status = status
    problems = rules.Problems()
    if people_needed is not None:
        req.people_needed = problems.integer("people_needed", people_needed, rules.PEOPLE_NEEDED)
    if title is not None:
        req.title = problems.text("title", title, max_length=200)
        if not req.title and "title" not in problems.errors:
            problems.add("title", _("Say what the task is."))
    if site is not None:
        req.site = problems.text("site", site, max_length=200)
    problems.raise_if_any()
    req.start, req.end = _check_span(start or req.start, end or req.end)
    after = {
        "status": req.status,
        "people_needed": req.people_needed,
        "title": req.title,
        "site": req.site,
        "start": _iso(req.start),
        "end": _iso(req.end),
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        req.save()
        log_action(
            actor, action="mobilize.request.updated", target=req, unit_path=req.unit.path, changes=changes
        )
    return req


# ---------------------------------------------------------------- deployments


@dataclass
class DispatchResult:
    deployment: Deployment
    warnings: list[ConflictWarning] = field(default_factory=list)


@dataclass
class MemberResult:
    member: DeploymentMember
    created: bool
    warnings: list[ConflictWarning] = field(default_factory=list)


def _visible_person(actor: Any, person: Person) -> Person:
    if not access.scoped(Person.objects.filter(pk=person.pk), actor).exists():
        raise ValidationError({"people": _("Unknown person %(code)s.") % {"code": person.code}})
    return person


def _add_member(
    actor: Any, d: Deployment, person: Person, team: Team | None
) -> tuple[DeploymentMember, bool, list[ConflictWarning]]:
    existing = DeploymentMember.objects.filter(deployment=d, person=person).first()
    if existing is not None:
        return existing, False, []
    warnings = _conflicts(person, d.start, d.end, deployment=d)
    m = DeploymentMember.objects.create(deployment=d, person=person, team=team)
    return m, True, warnings


@transaction.atomic
def deployment_dispatch(
    *,
    actor: Any,
    unit: Unit,
    title: str,
    start: datetime,
    end: datetime,
    teams: Sequence[Team] = (),
    people: Sequence[Person] = (),
    leader: Person | None = None,
    request: Request | None = None,
    partner: Partner | None = None,
    site: str = "",
    supported_unit: Unit | None = None,
    code: str = "",
    note: str = "",
) -> DispatchResult:
    """Send a batch: the members of ``teams`` (with their team) and hand-picked ``people``.

    The batch gets the unit's next number (第N批) under a lock of the unit's row; ``code`` defaults to
    ``<unit code>-<NNN>``. All members are checked for conflicts; any hard conflict refuses the whole batch.
    """
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    start, end = _check_span(start, end)
    problems = rules.Problems()
    title = problems.text("title", title, max_length=200)
    site = problems.text("site", site, max_length=200)
    note = problems.text("note", note, multiline=True)
    code = problems.code("code", code)
    problems.raise_if_any()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Say what the task is.")
    if supported_unit is not None and supported_unit.pk == unit.pk:
        errors["supported_unit"] = _("A unit does not support itself.")
    if request is not None and not access.scoped(Request.objects.filter(pk=request.pk), actor).exists():
        errors["request"] = _("Unknown request.")
    if partner is None and request is not None:
        partner = request.partner
    if partner is not None and not access.scoped(Partner.objects.filter(pk=partner.pk), actor).exists():
        errors["partner"] = _("Unknown partner.")
    for t in teams:
        if not access.scoped(Team.objects.filter(pk=t.pk), actor).exists():
            errors["teams"] = _("Unknown team %(code)s.") % {"code": t.code}
    if errors:
        raise ValidationError(errors)
    picked: dict[int, tuple[Person, Team | None]] = {}
    for t in teams:
        for m in t.memberships.select_related("person").order_by("person__code"):
            picked.setdefault(m.person_id, (m.person, t))
    for p in people:
        picked.setdefault(p.pk, (_visible_person(actor, p), None))
    if leader is not None:
        picked.setdefault(leader.pk, (_visible_person(actor, leader), None))
    if not picked:
        raise ValidationError({"people": _("A batch needs at least one person.")})

    locked_unit = Unit.objects.select_for_update().get(pk=unit.pk)  # serializes the numbering per unit
    seq = (Deployment.objects.filter(unit=locked_unit).aggregate(m=Max("seq"))["m"] or 0) + 1
    code = normalize_text(code)
    if code:
        if Deployment.objects.filter(code=code).exists():
            raise ValidationError(
                {"code": _("Another batch already has the code %(code)s.") % {"code": code}}
            )
    else:
        code = f"{unit.code}-{seq:03d}"
        n = 1
        while Deployment.objects.filter(code=code).exists():
            n += 1
            code = f"{unit.code}-{seq:03d}-{n}"
    d = Deployment.objects.create(
        unit=unit,
        seq=seq,
        code=code,
        title=title,
        request=request,
        partner=partner,
        site=normalize_text(site),
        start=start,
        end=end,
        leader=leader,
        supported_unit=supported_unit,
        note=note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _announce_deployment(d)
    locked = _lock_people(p for p, _t in picked.values())
    warnings: list[ConflictWarning] = []
    for pk, (_p, team) in picked.items():
        _m, _c, w = _add_member(actor, d, locked[pk], team)
        warnings += w
    log_action(
        actor,
        action="mobilize.deployment.dispatched",
        target=d,
        unit_path=unit.path,
        changes={
            "code": code,
            "seq": seq,
            "title": title,
            "start": _iso(start),
            "end": _iso(end),
            "site": d.site,
            "partner": partner.code if partner else None,
            "request": request.code if request else None,
            "supported_unit": supported_unit.code if supported_unit else None,
            "leader": leader.code if leader else None,
            "teams": [t.code for t in teams],
            "people": sorted(p.code for p, _t in picked.values()),
        },
    )
    return DispatchResult(d, warnings)


@transaction.atomic
def deployment_update(
    *,
    actor: Any,
    deployment: Deployment,
    title: str | None = None,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    leader: Person | None = None,
    note: str | None = None,
) -> DispatchResult:
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    d = Deployment.objects.select_for_update().get(pk=deployment.pk)
    before = {
        "title": d.title,
        "site": d.site,
        "start": _iso(d.start),
        "end": _iso(d.end),
        "leader": d.leader.code if d.leader else None,
        "note": d.note,
    }
    problems = rules.Problems()
    if title is not None:
        d.title = problems.text("title", title, max_length=200)
        if not d.title and "title" not in problems.errors:
            problems.add("title", _("Say what the task is."))
    if site is not None:
        d.site = problems.text("site", site, max_length=200)
    if note is not None:
        d.note = problems.text("note", note, multiline=True)
    problems.raise_if_any()
    if leader is not None:
        d.leader = _visible_person(actor, leader)
    d.start, d.end = _check_span(start or d.start, end or d.end)
    outside = d.shifts.filter(Q(start__lt=d.start) | Q(end__gt=d.end)).first()
    if outside is not None:
        raise ValidationError(
            {"start": _("%(shift)s would lie outside the batch.") % {"shift": _shift_name(outside)}}
        )
    d.save()
    _announce_deployment(d)
    warnings: list[ConflictWarning] = []
    members = list(d.memberships.select_related("person"))
    if before["start"] != _iso(d.start) or before["end"] != _iso(d.end):
        locked = _lock_people(m.person for m in members)
        for m in members:
            warnings += _conflicts(locked[m.person_id], d.start, d.end, deployment=d)
    if leader is not None and not d.memberships.filter(person=leader).exists():
        locked = _lock_people([leader])
        _m, _c, w = _add_member(actor, d, locked[leader.pk], None)
        warnings += w
    after = {
        "title": d.title,
        "site": d.site,
        "start": _iso(d.start),
        "end": _iso(d.end),
        "leader": d.leader.code if d.leader else None,
        "note": d.note,
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        log_action(
            actor, action="mobilize.deployment.updated", target=d, unit_path=d.unit.path, changes=changes
        )
    return DispatchResult(d, warnings)


@transaction.atomic
def deployment_cancel(*, actor: Any, deployment: Deployment, reason: str) -> Deployment:
    """Cancel a batch (it stops counting as a batch; entries already recorded stay in the ledger)."""
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    reason = rules.check_text("reason", reason, max_length=500)
    if not reason:
        raise ValidationError({"reason": _("Say why the batch is cancelled.")})
    d = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if d.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"status": _("The batch is already cancelled.")})
    d.status = DeploymentStatus.CANCELLED
    d.save(update_fields=["status"])
    _announce_deployment(d)
    log_action(
        actor,
        action="mobilize.deployment.cancelled",
        target=d,
        unit_path=d.unit.path,
        changes={"status": [DeploymentStatus.ACTIVE, DeploymentStatus.CANCELLED], "reason": reason},
    )
    return d


@transaction.atomic
def deployment_member_add(
    *, actor: Any, deployment: Deployment, person: Person, team: Team | None = None
) -> MemberResult:
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    _visible_person(actor, person)
    if deployment.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"deployment": _("The batch is cancelled.")})
    locked = _lock_people([person])
    m, created, warnings = _add_member(actor, deployment, locked[person.pk], team)
    if created:
        log_action(
            actor,
            action="mobilize.deployment.member_added",
            target=deployment,
            unit_path=deployment.unit.path,
            changes={"person": person.code, "team": team.code if team else None},
        )
    return MemberResult(m, created, warnings)


@transaction.atomic
def deployment_member_remove(*, actor: Any, deployment: Deployment, person: Person) -> None:
    """Take a person out of a batch (and its shifts) — refused once they have checked in or have entries."""
    access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    if (
        CheckEvent.objects.filter(
            assignment__person=person, assignment__shift__deployment=deployment
        ).exists()
        or ServiceEntry.objects.filter(person=person, deployment=deployment).exists()
    ):
        raise ValidationError(
            {"person": _("%(person)s has already served in this batch; keep them.") % {"person": person}}
        )
    Assignment.objects.filter(person=person, shift__deployment=deployment).delete()
    deleted, _n = DeploymentMember.objects.filter(deployment=deployment, person=person).delete()
    if deleted:
        log_action(
            actor,
            action="mobilize.deployment.member_removed",
            target=deployment,
            unit_path=deployment.unit.path,
            changes={"person": person.code},
        )


# ---------------------------------------------------------------- posts and shifts


@transaction.atomic
def post_create(
    *,
    actor: Any,
    unit: Unit,
    code: str,
    name: str,
    kind: str,
    partner: Partner | None = None,
    site: str = "",
    required_seats: Sequence[int] | Sequence[Sequence[int]] | None = None,
) -> Post:
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    problems = rules.Problems()
    code = problems.code("code", code)
    name = problems.text("name", name, max_length=120)
    site = problems.text("site", site, max_length=200)
    problems.raise_if_any()
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = _("A code is required.")
    elif Post.objects.filter(code=code).exists():
        errors["code"] = _("Another post already has the code %(code)s.") % {"code": code}
    if not name:
        errors["name"] = _("A name is required.")
    if kind not in PostKind.values:
        errors["kind"] = _("Unknown post type %(kind)s.") % {"kind": kind}
    curve: list[list[int]] = []
    if required_seats:
        try:
            curve = normalize_curve(required_seats)
        except (ValueError, TypeError):
            errors["required_seats"] = _(
                "Give 24 seat counts (every day) or 7 rows of 24 (Monday first), each zero or more."
            )
        else:
            if (problem := _curve_problem(curve)) is not None:
                errors["required_seats"] = problem
    if errors:
        raise ValidationError(errors)
    post = Post.objects.create(
        code=code,
        name=name,
        kind=kind,
        unit=unit,
        partner=partner,
        site=normalize_text(site),
        required_seats=curve,
    )
    log_action(
        actor,
        action="mobilize.post.created",
        target=post,
        unit_path=unit.path,
        changes={"code": code, "name": name, "kind": kind, "required_seats": curve},
    )
    return post


@transaction.atomic
def post_update(
    *,
    actor: Any,
    post: Post,
    name: str | None = None,
    site: str | None = None,
    required_seats: Sequence[int] | Sequence[Sequence[int]] | None = None,
    is_active: bool | None = None,
) -> Post:
    access.require(actor, Perm.MOBILIZE_DISPATCH, post.unit)
    p = Post.objects.select_for_update().get(pk=post.pk)
    before = {"name": p.name, "site": p.site, "required_seats": p.required_seats, "is_active": p.is_active}
    problems = rules.Problems()
    if name is not None:
        p.name = problems.text("name", name, max_length=120)
        if not p.name and "name" not in problems.errors:
            problems.add("name", _("A name is required."))
    if site is not None:
        p.site = problems.text("site", site, max_length=200)
    problems.raise_if_any()
    if required_seats is not None:
        try:
            p.required_seats = normalize_curve(required_seats) if required_seats else []
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                {
                    "required_seats": _(
                        "Give 24 seat counts (every day) or 7 rows of 24 (Monday first), each zero or more."
                    )
                }
            ) from exc
        if (problem := _curve_problem(p.required_seats)) is not None:
            raise ValidationError({"required_seats": problem})
    if is_active is not None:
        p.is_active = is_active
    after = {"name": p.name, "site": p.site, "required_seats": p.required_seats, "is_active": p.is_active}
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        p.save()
        log_action(actor, action="mobilize.post.updated", target=p, unit_path=p.unit.path, changes=changes)
    return p


def _curve_problem(curve: list[list[int]]) -> str | None:
    """Why a post's seats-per-hour curve is out of bounds (each hour: as many seats as a shift may have)."""
    lo, hi = rules.SEAT_CURVE
    if any(not lo <= v <= hi for row in curve for v in row):
        return rules.int_message("required_seats", lo, hi)
    return None


def _owner_check(actor: Any, deployment: Deployment | None, post: Post | None) -> Unit:
    if deployment is None and post is None:
        raise ValidationError({"deployment": _("A shift belongs to a batch or a post.")})
    unit = deployment.unit if deployment is not None else post.unit  # type: ignore[union-attr]
    if deployment is not None:
        if not (
            _can_any(actor, Perm.MOBILIZE_DISPATCH, _deployment_units(deployment))
            or _leads(actor, deployment)
        ):
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        if deployment.status == DeploymentStatus.CANCELLED:
            raise ValidationError({"deployment": _("The batch is cancelled.")})
    if post is not None:
        access.require(actor, Perm.MOBILIZE_DISPATCH, post.unit)
    return unit


@transaction.atomic
def shifts_create(
    *, actor: Any, specs: Sequence[ShiftSpec], deployment: Deployment | None = None, post: Post | None = None
) -> list[Shift]:
    """Create shifts (one by one or from a template of ``mobilize.shift_templates``) for a batch or a post.

    A batch's shifts must lie within the batch's start and end.
    """
    unit = _owner_check(actor, deployment, post)
    if not specs:
        raise ValidationError({"specs": _("No shifts to create.")})
    out = []
    for i, spec in enumerate(specs, start=1):
        start, end = _check_span(spec.start, spec.end)
        problems = rules.Problems()
        problems.integer("seats", spec.seats, rules.SEATS)
        label = problems.text("label", spec.label, max_length=60)
        problems.raise_if_any()
        if deployment is not None and (start < deployment.start or end > deployment.end):
            raise ValidationError(
                {
                    "start": _(
                        "Shift %(n)s (%(start)s–%(end)s) lies outside the batch (%(bstart)s–%(bend)s)."
                    )
                    % {
                        "n": i,
                        "start": _fmt(start),
                        "end": _fmt(end),
                        "bstart": _fmt(deployment.start),
                        "bend": _fmt(deployment.end),
                    }
                }
            )
        out.append(
            Shift(
                deployment=deployment,
                post=post,
                start=start,
                end=end,
                seats=spec.seats,
                mode=ShiftMode.REMOTE if spec.remote else ShiftMode.ONSITE,
                label=label,
            )
        )
    for s in out:
        s.save()
    log_action(
        actor,
        action="mobilize.shift.created",
        target=deployment or post,
        unit_path=unit.path,
        changes={"count": len(out), "first": _iso(out[0].start), "last": _iso(out[-1].end)},
    )
    return out


def shift_create(
    *,
    actor: Any,
    start: datetime,
    end: datetime,
    deployment: Deployment | None = None,
    post: Post | None = None,
    seats: int = 1,
    remote: bool = False,
    label: str = "",
) -> Shift:
    return shifts_create(
        actor=actor, deployment=deployment, post=post, specs=[ShiftSpec(start, end, seats, label, remote)]
    )[0]


@transaction.atomic
def shift_delete(*, actor: Any, shift: Shift) -> None:
    """Delete a shift nobody is on (assignments must be removed first)."""
    _owner_check(actor, shift.deployment, shift.post)
    if shift.assignments.exists():
        raise ValidationError({"shift": _("People are on this shift; remove them first.")})
    log_action(
        actor,
        action="mobilize.shift.deleted",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"start": _iso(shift.start), "end": _iso(shift.end)},
    )
    shift.delete()


@dataclass
class AssignResult:
    assignment: Assignment
    created: bool
    warnings: list[ConflictWarning] = field(default_factory=list)


@transaction.atomic
def shift_assign(*, actor: Any, shift: Shift, person: Person) -> AssignResult:
    """Put a person on a shift (and into the shift's batch if not yet a member). Refuses conflicts."""
    if not shift_is_visible(actor, shift):
        raise Http404
    if not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    _visible_person(actor, person)
    return _assign(actor, shift, person, strict=False, week_limit_minutes=None)


def _assign(
    actor: Any, shift: Shift, person: Person, *, strict: bool, week_limit_minutes: int | None
) -> AssignResult:
    """The one way onto a shift: lock the person, then the shift (so two people cannot both take its
    last seat), judge with ``mobilize.rules``, write the assignment (and batch membership)."""
    locked = _lock_people([person])[person.pk]
    Shift.objects.select_for_update().filter(pk=shift.pk).first()
    existing = Assignment.objects.filter(shift=shift, person=locked).first()
    if existing is not None:
        return AssignResult(existing, False)
    taken = shift.assignments.count()
    if taken >= shift.seats:
        raise _invalid(
            "shift",
            _("All %(n)s seats of %(shift)s are taken.") % {"n": shift.seats, "shift": _shift_name(shift)},
            "full",
        )
    breaches = _breaches(
        locked,
        shift.start,
        shift.end,
        shift=shift,
        seats=shift.seats,
        taken=taken,
        week_limit_minutes=week_limit_minutes,
    )
    warnings = _apply_breaches(locked, breaches, strict=strict)
    d = shift.deployment
    if d is not None and not DeploymentMember.objects.filter(deployment=d, person=locked).exists():
        _m, _c, w = _add_member(actor, d, locked, None)
        warnings += [x for x in w if x.message not in {y.message for y in warnings}]
    a = Assignment.objects.create(
        shift=shift, person=locked, created_by=actor if getattr(actor, "pk", None) else None
    )
    log_action(
        actor,
        action="mobilize.shift.assigned",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"person": locked.code, "start": _iso(shift.start), "end": _iso(shift.end)},
    )
    return AssignResult(a, True, warnings)


def _may_act_for(actor: Any, person: Person) -> bool:
    """The person themself, or a coordinator with dispatch rights on the person's unit or party unit."""
    return _is_self(actor, person) or _can_any(
        actor, Perm.MOBILIZE_DISPATCH, [u for u in (person.unit, person.party_unit) if u is not None]
    )


@transaction.atomic
def shift_take(
    *, actor: Any, shift: Shift, person: Person, week_limit_minutes: int | None = None
) -> AssignResult:
    """A seat taken by sign-up (报名): the person themself, or their coordinator for someone without an
    account. The same rules as ``shift_assign`` (``mobilize.rules``), stricter: a short rest or a weekly
    limit passed is refused, not warned. Whether the shift is open to the person is the caller's check."""
    if not _may_act_for(actor, person):
        raise Http404
    return _assign(actor, shift, person, strict=True, week_limit_minutes=week_limit_minutes)


@transaction.atomic
def shift_release(*, actor: Any, shift: Shift, person: Person) -> bool:
    """A seat given back (a sign-up cancelled): refused once the person has checked in. Returns whether
    there was an assignment. The batch membership stays unless no other shift of the batch holds them."""
    if not (_may_act_for(actor, person) or may_lead_shift(actor, shift)):
        raise Http404
    a = Assignment.objects.filter(shift=shift, person=person).first()
    if a is None:
        return False
    if a.check_events.exists():
        raise _invalid(
            "person", _("%(person)s has already checked in on this shift.") % {"person": person}, "checked_in"
        )
    a.delete()
    d = shift.deployment
    if (
        d is not None
        and not Assignment.objects.filter(person=person, shift__deployment=d).exists()
        and not ServiceEntry.objects.filter(person=person, deployment=d).exists()
    ):
        DeploymentMember.objects.filter(deployment=d, person=person).delete()
    log_action(
        actor,
        action="mobilize.shift.unassigned",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"person": person.code},
    )
    return True


@transaction.atomic
def shift_unassign(*, actor: Any, shift: Shift, person: Person) -> None:
    if not shift_is_visible(actor, shift):
        raise Http404
    if not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    a = Assignment.objects.filter(shift=shift, person=person).first()
    if a is None:
        return
    if a.check_events.exists():
        raise ValidationError(
            {"person": _("%(person)s has already checked in on this shift.") % {"person": person}}
        )
    a.delete()
    log_action(
        actor,
        action="mobilize.shift.unassigned",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={"person": person.code},
    )


# ---------------------------------------------------------------- the ledger


def _kind_of_shift(shift: Shift) -> str:
    """A batch's shift is dispatch; a post's own shift is hotline or duty by the post's type."""
    if shift.deployment_id:
        return EntryKind.DISPATCH
    assert shift.post is not None
    return EntryKind.HOTLINE if shift.post.kind == PostKind.HOTLINE else EntryKind.DUTY


def _entry_span(start: datetime, end: datetime) -> tuple[datetime, datetime, int]:
    """Validate and normalize a service interval: whole minutes, end after start, ≤ 24 h, not future."""
    start, end = _aware(start, "start"), _aware(end, "end")
    start, end = clock.floor_minute(start), clock.floor_minute(end)
    if end <= start:
        raise _invalid(
            "end",
            _("The end (%(end)s) must be after the start (%(start)s).")
            % {"end": _fmt(end), "start": _fmt(start)},
            "end_before_start",
        )
    minutes = clock.minutes_between(start, end)
    if minutes > clock.MAX_ENTRY_MINUTES:
        raise _invalid(
            "end",
            _(
                "An entry cannot be longer than 24 hours (%(start)s–%(end)s is %(hours)s hours); "
                "split it by day."
            )
            % {"start": _fmt(start), "end": _fmt(end), "hours": clock.minutes_to_hours(minutes)},
            "too_long",
        )
    if end > timezone.now() + FUTURE_TOLERANCE:
        raise _invalid(
            "end", _("The service cannot end in the future (%(end)s).") % {"end": _fmt(end)}, "future"
        )
    return start, end, minutes


def _check_entry_overlap(
    person: Person, start: datetime, end: datetime, *, exclude_chain: Any = None
) -> None:
    """Refuse an interval overlapping another live entry of the person (the person's lock is held)."""
    rows = ServiceEntry.objects.filter(person=person, start__lt=end, end__gt=start)
    if exclude_chain is not None:
        rows = rows.exclude(chain=exclude_chain)
    chains = set(rows.values_list("chain", flat=True))
    if not chains:
        return
    for st in chain_states(ServiceEntry.objects.filter(chain__in=chains).select_related("deployment")):
        for iv in st.intervals_claimed():
            if clock.overlaps(start, end, iv.start, iv.end):
                d = st.origin.deployment
                raise _invalid(
                    "start",
                    _("%(person)s already has service recorded %(start)s–%(end)s%(batch)s.")
                    % {
                        "person": person,
                        "start": _fmt(iv.start),
                        "end": _fmt(iv.end),
                        "batch": (" (" + d.code + ")") if d is not None else "",
                    },
                    "overlap",
                )


def _write(actor: Any, **fields: Any) -> ServiceEntry:
    if "reason" in fields:
        fields["reason"] = rules.check_text("reason", fields["reason"], max_length=500)
    who = getattr(actor, "pk", None)
    row = ServiceEntry.objects.create(
        actor=actor if who is not None else None,
        actor_name=(actor.get_username() if who is not None else getattr(actor, "display_name", "system")),
        **fields,
    )
    _announce_rows(actor, row)
    return row


# Other apps learn of ledger rows and batch changes through ``muster.mobilize.signals`` (the reports'
# rollup facts, the points app's service hours), inside the transaction that writes them: every ledger
# row goes through ``_write``; every batch creation, time change and cancellation calls
# ``_announce_deployment``.
def _announce_rows(actor: Any, row: ServiceEntry) -> None:
    signals.ledger_rows_written.send(sender=ServiceEntry, actor=actor, rows=[row])


def _announce_deployment(d: Deployment) -> None:
    signals.deployment_changed.send(sender=Deployment, deployment=d)


def _copy(row: ServiceEntry, **over: Any) -> dict[str, Any]:
    base = {
        "chain": row.chain,
        "person": row.person,
        "deployment": row.deployment,
        "shift": row.shift,
        "kind": row.kind,
        "source": row.source,
        "start": row.start,
        "end": row.end,
        "minutes": row.minutes,
    }
    base.update(over)
    return base


def _audit_entry(actor: Any, action: str, row: ServiceEntry, **extra: Any) -> None:
    changes = {
        "op": row.op,
        "sign": row.sign,
        "person": row.person.code,
        "kind": row.kind,
        "start": _iso(row.start),
        "end": _iso(row.end),
        "minutes": row.minutes,
        "refers_to": row.refers_to_id,
        "chain": str(row.chain),
    }
    changes.update(extra)
    log_action(actor, action=action, target=row, unit_path=row.person.unit.path, changes=changes)


def _record(
    actor: Any,
    *,
    person: Person,
    kind: str,
    source: str,
    start: datetime,
    end: datetime,
    deployment: Deployment | None,
    shift: Shift | None,
    note: str = "",
    reason: str = "",
    evidence: File | None = None,
    approve: bool | None = None,
) -> ServiceEntry:
    """Write the first row of an entry. The caller holds the person's lock and has checked access."""
    note = rules.check_text("note", note, max_length=NOTE_MAX, multiline=True)
    start, end, minutes = _entry_span(start, end)
    _check_entry_overlap(person, start, end)
    may = _may_approve(actor, person, deployment, shift)
    approved = may if approve is None else (approve and may)
    if approve and not may:
        raise access.NotAllowed(Perm.MOBILIZE_APPROVE)
    row = _write(
        actor,
        person=person,
        deployment=deployment,
        shift=shift,
        kind=kind,
        source=source,
        start=start,
        end=end,
        minutes=minutes,
        sign=1 if approved else 0,
        op=EntryOp.RECORD,
        note=note,
        reason=normalize_text(reason),
        **({"evidence": evidence} if evidence else {}),
    )
    _audit_entry(actor, "mobilize.entry.recorded", row)
    return row


@transaction.atomic
def entry_record(
    *,
    actor: Any,
    person: Person,
    kind: str,
    start: datetime,
    end: datetime,
    deployment: Deployment | None = None,
    shift: Shift | None = None,
    source: str | None = None,
    note: str = "",
    evidence: File | None = None,
    approve: bool | None = None,
) -> ServiceEntry:
    """Record service directly (补录, community service self-reports, imports).

    The person may report their own service (pending). An organizer who may approve it records it
    approved (``approve=None``), or pending with ``approve=False``. A batch's entry needs the person to be
    a member of the batch; a shift's entry needs them on the shift. Community service has no batch.
    """
    if kind not in EntryKind.values:
        raise ValidationError({"kind": _("Unknown kind of service %(kind)s.") % {"kind": kind}})
    if shift is not None:
        if deployment is not None and shift.deployment_id != deployment.pk:
            raise ValidationError({"shift": _("The shift does not belong to that batch.")})
        deployment = shift.deployment
    if kind == EntryKind.COMMUNITY and deployment is not None:
        raise ValidationError({"kind": _("Community service during home observation has no batch.")})
    if kind == EntryKind.DISPATCH and deployment is None:
        raise ValidationError({"deployment": _("Dispatch service names its batch.")})
    self_report = _is_self(actor, person)
    if deployment is not None and not _deployment_visible(actor, deployment):
        raise Http404
    if deployment is None and not _may_see_person(actor, person):
        raise Http404
    if not self_report and not (
        _may_approve(actor, person, deployment, shift)
        or (deployment is not None and _can_any(actor, Perm.MOBILIZE_DISPATCH, _deployment_units(deployment)))
    ):
        raise access.NotAllowed(Perm.MOBILIZE_APPROVE)
    if source is None:
        source = EntrySource.SELF if self_report else EntrySource.MANUAL
    if source not in EntrySource.values:
        raise ValidationError({"source": _("Unknown source %(source)s.") % {"source": source}})
    locked = _lock_people([person])[person.pk]
    if (
        deployment is not None
        and not DeploymentMember.objects.filter(deployment=deployment, person=locked).exists()
    ):
        raise ValidationError(
            {
                "person": _("%(person)s is not in batch %(code)s.")
                % {"person": person, "code": deployment.code}
            }
        )
    if shift is not None and not Assignment.objects.filter(shift=shift, person=locked).exists():
        raise ValidationError({"person": _("%(person)s is not on this shift.") % {"person": person}})
    return _record(
        actor,
        person=locked,
        kind=kind,
        source=source,
        start=start,
        end=end,
        deployment=deployment,
        shift=shift,
        note=note,
        evidence=evidence,
        approve=False if self_report else approve,
    )


def _locked_state(entry: ServiceEntry) -> ChainState:
    _lock_people([entry.person])
    return chain_state(entry.chain)


def _entry_access(actor: Any, row: ServiceEntry) -> None:
    if not _may_see_person(actor, row.person) and not (
        row.deployment is not None and _deployment_visible(actor, row.deployment)
    ):
        raise Http404


def _require_head(state: ChainState, entry: ServiceEntry, *, doing: str) -> None:
    head = state.head
    if entry.pk == head.pk:
        return
    if doing == "approve" and state.pending_row is None and state.net == 1:
        raise _invalid("entry", _("This entry is already approved."), "already_approved")
    raise _invalid(
        "entry",
        _(
            "Row #%(row)s is not the current version of this entry: "
            "it was superseded by #%(head)s (%(op)s by "
            "%(by)s). Act on the current version."
        )
        % {"row": entry.pk, "head": head.pk, "op": head.get_op_display(), "by": head.actor_name},
        "superseded",
    )


def _require_approver(actor: Any, row: ServiceEntry) -> None:
    if not may_approve_entry(actor, row):
        raise access.NotAllowed(Perm.MOBILIZE_APPROVE)


def _apply_new_version(
    actor: Any,
    state: ChainState,
    refers_to: ServiceEntry,
    start: datetime,
    end: datetime,
    minutes: int,
    reason: str,
) -> ServiceEntry:
    """−1 of the approved interval (if any), then +1 of the new one."""
    old = state.approved_row
    if old is not None:
        _write(actor, **_copy(old), sign=-1, op=EntryOp.REVERSE, refers_to=old, reason=reason)
    return _write(
        actor,
        **_copy(refers_to, start=start, end=end, minutes=minutes),
        sign=1,
        op=EntryOp.CORRECT_APPROVE,
        refers_to=refers_to,
        reason=reason,
    )


@transaction.atomic
def entry_approve(*, actor: Any, entry: ServiceEntry, reason: str = "") -> ServiceEntry:
    """Approve the pending version of an entry: a record (+1) or a correction request (−1 old, +1 new)."""
    _entry_access(actor, entry)
    _require_approver(actor, entry)
    state = _locked_state(entry)
    _require_head(state, entry, doing="approve")
    pending = state.pending_row
    if pending is None:
        if state.net == 1:
            raise _invalid("entry", _("This entry is already approved."), "already_approved")
        raise _invalid(
            "entry",
            _("This entry is %(status)s; there is nothing to approve.") % {"status": state.status},
            "not_pending",
        )
    reason = normalize_text(reason)
    if pending.op == EntryOp.RECORD:
        row = _write(actor, **_copy(pending), sign=1, op=EntryOp.APPROVE, refers_to=pending, reason=reason)
        _audit_entry(actor, "mobilize.entry.approved", row)
        return row
    row = _apply_new_version(actor, state, pending, pending.start, pending.end, pending.minutes, reason)
    _audit_entry(
        actor, "mobilize.entry.corrected", row, previous=[_iso(state.current.start), _iso(state.current.end)]
    )
    return row


@transaction.atomic
def entry_reject(*, actor: Any, entry: ServiceEntry, reason: str) -> ServiceEntry:
    """Reject a pending record or correction request (the approved version, if any, stands)."""
    _entry_access(actor, entry)
    _require_approver(actor, entry)
    if not normalize_text(reason):
        raise ValidationError({"reason": _("Say why the entry is rejected.")})
    state = _locked_state(entry)
    _require_head(state, entry, doing="reject")
    pending = state.pending_row
    if pending is None:
        raise _invalid("entry", _("Only a pending entry or correction can be rejected."), "not_pending")
    row = _write(
        actor, **_copy(pending), sign=0, op=EntryOp.REJECT, refers_to=pending, reason=normalize_text(reason)
    )
    _audit_entry(actor, "mobilize.entry.rejected", row, reason=row.reason)
    return row


@transaction.atomic
def entry_correct(
    *, actor: Any, entry: ServiceEntry, start: datetime, end: datetime, reason: str
) -> ServiceEntry:
    """Correct an entry's interval. The person asks (a pending ``correct_request``); an approver corrects
    at once (``reverse`` −1 of the old approved interval, ``correct_approve`` +1 of the new).

    ``entry`` must be the entry's current head; a correction already waiting must be decided first.
    """
    _entry_access(actor, entry)
    self_request = _is_self(actor, entry.person)
    if not self_request:
        _require_approver(actor, entry)
    if not normalize_text(reason):
        raise ValidationError({"reason": _("Say why the entry is corrected.")})
    reason = normalize_text(reason)
    state = _locked_state(entry)
    _require_head(state, entry, doing="correct")
    head = state.head
    if head.op == EntryOp.CORRECT_REQUEST:
        raise _invalid(
            "entry",
            _("A correction of this entry is already waiting for approval; it must be decided first."),
            "correction_pending",
        )
    if head.op == EntryOp.REVERSE:
        raise _invalid("entry", _("This entry was reversed; record a new one instead."), "reversed")
    start, end, minutes = _entry_span(start, end)
    cur = state.current
    if (start, end) == (cur.start, cur.end) and state.net == 1:
        raise _invalid("start", _("The times are unchanged."), "unchanged")
    _check_entry_overlap(entry.person, start, end, exclude_chain=state.chain)
    if self_request:
        row = _write(
            actor,
            **_copy(head, start=start, end=end, minutes=minutes),
            sign=0,
            op=EntryOp.CORRECT_REQUEST,
            refers_to=head,
            reason=reason,
        )
        _audit_entry(actor, "mobilize.entry.correction_requested", row, reason=reason)
        return row
    row = _apply_new_version(actor, state, head, start, end, minutes, reason)
    _audit_entry(
        actor, "mobilize.entry.corrected", row, reason=reason, previous=[_iso(cur.start), _iso(cur.end)]
    )
    return row


@transaction.atomic
def entry_reverse(*, actor: Any, entry: ServiceEntry, reason: str) -> ServiceEntry:
    """Void an approved entry (a −1 row); its history stays."""
    _entry_access(actor, entry)
    _require_approver(actor, entry)
    if not normalize_text(reason):
        raise ValidationError({"reason": _("Say why the entry is reversed.")})
    state = _locked_state(entry)
    _require_head(state, entry, doing="reverse")
    if state.pending_row is not None:
        raise _invalid("entry", _("Decide the pending version first."), "pending")
    old = state.approved_row
    if old is None:
        raise _invalid("entry", _("Only an approved entry can be reversed."), "not_approved")
    row = _write(
        actor, **_copy(old), sign=-1, op=EntryOp.REVERSE, refers_to=old, reason=normalize_text(reason)
    )
    _audit_entry(actor, "mobilize.entry.reversed", row, reason=row.reason)
    return row


# ---------------------------------------------------------------- check-in/out


@dataclass
class CheckResult:
    event: CheckEvent
    created: bool
    entry: ServiceEntry | None = None


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if (problem := rules.text_problem(key, "key")) is not None:
        raise ValidationError({"key": problem})
    if not key or len(key) > 80:
        raise ValidationError({"key": _("A check-in needs a client key of 1 to 80 characters.")})
    return key


def _replay(
    key: str, assignment: Assignment | None, kind: str, *, read: bool = False, ev: CheckEvent | None = None
) -> CheckResult | None:
    """The earlier answer to a request with this key (``read``: ``ev`` is the event with the key, or None
    if there is none, as already read)."""
    if not read:
        ev = CheckEvent.objects.filter(key=key).select_related("entry").first()
    if ev is None:
        return None
    if assignment is None or ev.assignment_id != assignment.pk or ev.kind != kind:
        raise ValidationError({"key": _("This key was already used for another check-in or check-out.")})
    return CheckResult(ev, False, ev.entry)


def _check_events(key: str, assignment: Assignment) -> tuple[CheckEvent | None, CheckEvent | None]:
    """(the event with ``key``, the assignment's last event), in one query (the caller holds the lock)."""
    rows = list(
        CheckEvent.objects.filter(Q(key=key) | Q(pk=Subquery(_last_event(assignment))))
        .select_related("entry")
        .order_by("-id")
    )
    with_key = next((ev for ev in rows if ev.key == key), None)
    last = next((ev for ev in rows if ev.assignment_id == assignment.pk and ev.key != key), None)
    return with_key, last


def _last_event(assignment: Assignment) -> Any:
    return CheckEvent.objects.filter(assignment=assignment).order_by("-id").values("pk")[:1]


def _resolve_check(actor: Any, shift: Shift, person: Person | None) -> tuple[Person, bool]:
    """The person checking in and whether it is self-service; 404 / NotAllowed as appropriate."""
    if person is None:
        person = _actor_person(actor)
        if person is None:
            raise ValidationError({"person": _("Your login is not linked to a person.")})
    is_self = _is_self(actor, person)
    if not shift_is_visible(actor, shift):
        raise Http404
    if not is_self and not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    return person, is_self


def _check(
    actor: Any,
    *,
    shift: Shift,
    key: str,
    kind: str,
    at: datetime | None,
    person: Person | None,
    source: str,
    reason: str = "",
) -> CheckResult:
    key = _check_key(key)
    # The check-out writes a ledger entry: the person's lock (taken before the assignment's, as everywhere)
    # guards the overlap check against their other entries. A volunteer's own check-in writes no entry and
    # is the whole transaction: the assignment's lock alone orders the check events of one person on one
    # shift. A roll-call or a fix goes on to check out in the same transaction, so it takes the person's
    # lock first for the check-in too (never an assignment's lock before a person's: no deadlock). A
    # volunteer is found with the lock (one query, not a look-up and then a lock).
    uid = getattr(actor, "pk", None)
    locked = Assignment.objects.select_for_update(of=("self",)).filter(shift=shift)
    people = Person.objects.select_for_update(of=("self",)).select_related("unit")
    lock_person = kind == CheckKind.OUT or source != CheckSource.SELF
    assignment = None
    person_locked = False
    if person is None and uid is not None:
        if lock_person:
            person = people.filter(user_id=uid).order_by("pk").first()
            person_locked = person is not None
        else:
            assignment = locked.select_related("person").filter(person__user_id=uid).first()
            person = assignment.person if assignment is not None else None
    person, is_self = _resolve_check(actor, shift, person)
    if lock_person and not person_locked:
        person = people.get(pk=person.pk)  # named by a leader: lock them now
    if assignment is None or assignment.person_id != person.pk:
        assignment = locked.filter(person=person).first()
    if assignment is None:
        raise ValidationError({"person": _("%(person)s is not on this shift.") % {"person": person}})
    # Under the lock: the replay check (a concurrent request with the same key has committed by now) and
    # the state, in one query.
    with_key, last = _check_events(key, assignment)
    replay = _replay(key, assignment, kind, read=True, ev=with_key)
    if replay is not None:
        return replay
    if shift.deployment is not None and shift.deployment.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"shift": _("The batch is cancelled.")})
    now = timezone.now()
    at = _aware(at, "at") if at is not None else now
    if at > now + FUTURE_TOLERANCE:
        raise ValidationError({"at": _("The time %(at)s is in the future.") % {"at": _fmt(at)}})
    if kind == CheckKind.IN:
        if last is not None and last.kind == CheckKind.IN and source != CheckSource.FIX:
            raise _invalid(
                "at",
                _("%(person)s already checked in at %(at)s.") % {"person": person, "at": _fmt(last.at)},
                "already_in",
            )
        if last is not None and last.kind == CheckKind.OUT and at < last.at:
            raise ValidationError(
                {
                    "at": _("The check-in (%(at)s) is before the last check-out (%(out)s).")
                    % {"at": _fmt(at), "out": _fmt(last.at)}
                }
            )
    elif last is None or last.kind != CheckKind.IN:
        raise _invalid(
            "at",
            _("%(person)s has not checked in on this shift; check in first.") % {"person": person},
            "not_checked_in",
        )
    try:
        with transaction.atomic():  # a savepoint: a lost race on the key undoes the entry too
            entry = None
            if kind == CheckKind.OUT:
                assert last is not None
                entry_source = EntrySource.CHECKIN if source == CheckSource.SELF else EntrySource.ROLLCALL
                entry = _record(
                    actor,
                    person=person,
                    kind=_kind_of_shift(shift),
                    source=entry_source,
                    start=last.at,
                    end=at,
                    deployment=shift.deployment,
                    shift=shift,
                    reason=reason,
                    approve=False if is_self else None,
                )
            ev = CheckEvent.objects.create(
                key=key,
                assignment=assignment,
                kind=kind,
                at=at,
                source=source,
                reason=rules.check_text("reason", reason, max_length=500),
                entry=entry,
                actor=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        # The unique key is the last guard (a database without row locks): the other request won.
        replay = _replay(key, assignment, kind)
        if replay is None:
            raise
        return replay
    log_action(
        actor,
        action="mobilize.check.in" if kind == CheckKind.IN else "mobilize.check.out",
        target=ev,
        unit_path=shift.owner_unit.path,
        changes={
            "person": person.code,
            "at": _iso(at),
            "source": source,
            "key": key,
            "entry": entry.pk if entry else None,
        },
    )
    return CheckResult(ev, True, entry)


@transaction.atomic
def checkin_record(
    *, actor: Any, shift: Shift, key: str, at: datetime | None = None, person: Person | None = None
) -> CheckResult:
    """Check in on a shift (the volunteer themselves, or a leader for a person). Idempotent by ``key``."""
    src = CheckSource.SELF if person is None or _is_self(actor, person) else CheckSource.ROLLCALL
    return _check(actor, shift=shift, key=key, kind=CheckKind.IN, at=at, person=person, source=src)


@transaction.atomic
def checkout_record(
    *, actor: Any, shift: Shift, key: str, at: datetime | None = None, person: Person | None = None
) -> CheckResult:
    """Check out; writes the service entry (pending for self-service). Refused without a check-in."""
    src = CheckSource.SELF if person is None or _is_self(actor, person) else CheckSource.ROLLCALL
    return _check(actor, shift=shift, key=key, kind=CheckKind.OUT, at=at, person=person, source=src)


@dataclass(frozen=True)
class RollCallLine:
    person: Person
    check_in: datetime | None = None
    check_out: datetime | None = None


@dataclass
class RollCallResult:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def entries(self) -> list[ServiceEntry]:
        return [r.entry for r in self.results if r.entry is not None]


@transaction.atomic
def rollcall_record(*, actor: Any, shift: Shift, lines: Sequence[RollCallLine], key: str) -> RollCallResult:
    """A leader checks people in and/or out in one go. ``key`` identifies the roll-call (retries are
    idempotent: each line's events use ``key:person:in|out``). A person already checked in keeps their
    own check-in time; use ``checkin_fix`` to change it. All or nothing."""
    key = _check_key(key)
    if not shift_is_visible(actor, shift):
        raise Http404
    if not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    result = RollCallResult()
    for line in lines:
        if line.check_in is None and line.check_out is None:
            continue
        a = Assignment.objects.filter(shift=shift, person=line.person).first()
        in_key, out_key = f"{key}:{line.person.pk}:in", f"{key}:{line.person.pk}:out"
        done = {
            ev.key: ev for ev in CheckEvent.objects.filter(key__in=[in_key, out_key]).select_related("entry")
        }
        if out_key in done:  # a retry of a line already applied
            result.results += [
                CheckResult(done[k], False, done[k].entry) for k in (in_key, out_key) if k in done
            ]
            continue
        last = CheckEvent.objects.filter(assignment=a).order_by("-id").first() if a is not None else None
        already_in = last is not None and last.kind == CheckKind.IN and last.key != in_key
        if line.check_in is not None and not already_in:
            result.results.append(
                _check(
                    actor,
                    shift=shift,
                    key=in_key,
                    kind=CheckKind.IN,
                    at=line.check_in,
                    person=line.person,
                    source=CheckSource.ROLLCALL,
                )
            )
        if line.check_out is not None:
            result.results.append(
                _check(
                    actor,
                    shift=shift,
                    key=out_key,
                    kind=CheckKind.OUT,
                    at=line.check_out,
                    person=line.person,
                    source=CheckSource.ROLLCALL,
                )
            )
    log_action(
        actor,
        action="mobilize.rollcall.recorded",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={
            "key": key,
            "people": [ln.person.code for ln in lines],
            "written": sum(1 for r in result.results if r.created),
        },
    )
    return result


@transaction.atomic
def checkin_fix(
    *,
    actor: Any,
    assignment: Assignment,
    check_in: datetime,
    reason: str,
    key: str,
    check_out: datetime | None = None,
) -> CheckResult:
    """A leader fixes a person's times on a shift, with a reason.

    While the person is checked in: a fixed check-in (and, with ``check_out``, the check-out and its
    approved entry). After the check-out: the ledger entry of the last cycle is corrected (``entry_correct``).
    """
    shift = assignment.shift
    if not shift_is_visible(actor, shift):
        raise Http404
    if not may_lead_shift(actor, shift):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    if not rules.check_text("reason", reason, max_length=500):
        raise ValidationError({"reason": _("Say why the time is fixed.")})
    key = _check_key(key)
    last = CheckEvent.objects.filter(assignment=assignment).order_by("-id").first()
    if last is not None and last.kind == CheckKind.OUT and last.entry is not None:
        state = chain_state(last.entry.chain)
        row = entry_correct(
            actor=actor, entry=state.head, start=check_in, end=check_out or state.current.end, reason=reason
        )
        log_action(
            actor,
            action="mobilize.check.fixed",
            target=assignment.shift,
            unit_path=shift.owner_unit.path,
            changes={"person": assignment.person.code, "entry": row.pk, "reason": normalize_text(reason)},
        )
        return CheckResult(last, False, row)
    res = _check(
        actor,
        shift=shift,
        key=f"{key}:in",
        kind=CheckKind.IN,
        at=check_in,
        person=assignment.person,
        source=CheckSource.FIX,
        reason=reason,
    )
    if check_out is not None:
        res = _check(
            actor,
            shift=shift,
            key=f"{key}:out",
            kind=CheckKind.OUT,
            at=check_out,
            person=assignment.person,
            source=CheckSource.FIX,
            reason=reason,
        )
    log_action(
        actor,
        action="mobilize.check.fixed",
        target=shift,
        unit_path=shift.owner_unit.path,
        changes={
            "person": assignment.person.code,
            "check_in": _iso(check_in),
            "check_out": _iso(check_out),
            "reason": normalize_text(reason),
        },
    )
    return res
