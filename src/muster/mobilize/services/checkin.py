"""Check-in/out, the leader's roll-call and fixes. A check event carries the client's idempotency key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.entry_flags import Thresholds, Window, checkin_window
from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    CheckKind,
    CheckSource,
    DeploymentStatus,
    EntrySource,
    ServiceEntry,
    Shift,
)
from muster.mobilize.policy import is_self as _is_self
from muster.mobilize.policy import may_lead_shift
from muster.mobilize.queries import chain_state, shift_is_visible
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.orgs.validators import normalize_text

from .common import FUTURE_TOLERANCE, _actor_person, _aware, _fmt, _invalid, _iso
from .ledger import _kind_of_shift, _record, entry_correct


def entry_thresholds() -> Thresholds:
    """The check-in window and the approvals' duration flags, from the settings (minutes)."""
    return Thresholds(
        early=int(getattr(settings, "MUSTER_CHECKIN_EARLY_MINUTES", 60)),
        late=int(getattr(settings, "MUSTER_CHECKIN_LATE_MINUTES", 120)),
        short=int(getattr(settings, "MUSTER_ENTRY_SHORT_MINUTES", 15)),
        long_extra=int(getattr(settings, "MUSTER_ENTRY_LONG_EXTRA_MINUTES", 120)),
        long_alone=int(getattr(settings, "MUSTER_ENTRY_LONG_MINUTES", 720)),
    )


def shift_checkin_window(shift: Shift) -> Window:
    """When a check-in/out on ``shift`` is accepted (local times shown with ``_fmt``)."""
    t = entry_thresholds()
    return checkin_window(shift.start, shift.end, early=t.early, late=t.late)


def _require_window(shift: Shift, at: datetime) -> None:
    """A volunteer's or a roll-call's check outside the shift's window is refused, saying which window;
    a leader's fix (with a reason) may set any time."""
    w = shift_checkin_window(shift)
    if not w.holds(at):
        raise _invalid(
            "at",
            _(
                "Check-in and check-out for this shift are open from %(opens)s to %(closes)s; %(at)s is "
                "outside that time. Ask your leader if the times need fixing."
            )
            % {"opens": _fmt(w.opens), "closes": _fmt(w.closes), "at": _fmt(at)},
            "outside_window",
        )


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
    if source != CheckSource.FIX:
        _require_window(shift, at)
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
