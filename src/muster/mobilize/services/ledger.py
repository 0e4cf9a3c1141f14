"""The service-hours ledger (台账): record, approve, reject, correct, reverse. Rows are appended, never
changed; see the package docstring for the ops and their signs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import log_action
from muster.mobilize.models import (
    Assignment,
    Deployment,
    DeploymentMember,
    EntryKind,
    EntryOp,
    EntrySource,
    PostKind,
    ServiceEntry,
    Shift,
)
from muster.mobilize.policy import can_any as _can_any
from muster.mobilize.policy import deployment_units as _deployment_units
from muster.mobilize.policy import is_self as _is_self
from muster.mobilize.policy import may_approve as _may_approve
from muster.mobilize.policy import may_approve_entry, may_see_deployment, may_see_person
from muster.mobilize.queries import ChainState, chain_state, chain_states
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.orgs.validators import normalize_text

from .common import (
    FUTURE_TOLERANCE,
    NOTE_MAX,
    _announce_rows,
    _aware,
    _fmt,
    _invalid,
    _iso,
    _lock_people,
)


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
    if deployment is not None and not may_see_deployment(actor, deployment):
        raise Http404
    if deployment is None and not may_see_person(actor, person):
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
    if not may_see_person(actor, row.person) and not (
        row.deployment is not None and may_see_deployment(actor, row.deployment)
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
