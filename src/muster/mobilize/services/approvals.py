"""Approvals in bulk and the flags an approver sees (outside the shift or batch window, overlapping,
unusual length). The arithmetic is ``muster.mobilize.entry_flags`` (pure); this module feeds it the
pending rows and the people's other entries, and approves "all unflagged" in one transaction."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.entry_flags import Flags, Span, entry_flags
from muster.mobilize.models import ServiceEntry
from muster.mobilize.queries import chain_states

from .checkin import entry_thresholds
from .ledger import entry_approve


@dataclass(frozen=True)
class OtherEntry:
    """An entry a flagged one overlaps: its interval and batch code, for the reason shown."""

    start: datetime
    end: datetime
    code: str


@dataclass
class PendingFlags:
    flags: Flags
    others: dict[Hashable, OtherEntry] = field(default_factory=dict)


def _span(row: ServiceEntry) -> Span:
    shift, d = row.shift, row.deployment
    return Span(
        key=row.chain,
        person=row.person_id,
        start=row.start,
        end=row.end,
        shift_start=shift.start if shift is not None else None,
        shift_end=shift.end if shift is not None else None,
        batch_start=d.start if d is not None else None,
        batch_end=d.end if d is not None else None,
    )


def pending_flags(rows: Sequence[ServiceEntry]) -> PendingFlags:
    """The flags of pending rows (each the head of its entry), keyed by the entry's chain. Overlaps count
    the same people's other live entries (approved, pending, or a proposed correction) besides these."""
    spans = [_span(r) for r in rows]
    result = PendingFlags(Flags())
    if not spans:
        return result
    chains = {r.chain for r in rows}
    for r in rows:
        result.others[r.chain] = OtherEntry(r.start, r.end, r.deployment.code if r.deployment else "")
    lo, hi = min(s.start for s in spans), max(s.end for s in spans)
    near = (
        ServiceEntry.objects.filter(person_id__in={r.person_id for r in rows}, start__lt=hi, end__gt=lo)
        .exclude(chain__in=chains)
        .values_list("chain", flat=True)
    )
    others: list[Span] = []
    states = chain_states(
        ServiceEntry.objects.filter(chain__in=set(near)).select_related("deployment", "person")
    )
    for st in states:
        d = st.origin.deployment
        for i, iv in enumerate(st.intervals_claimed()):
            key = (st.chain, i)
            others.append(Span(key=key, person=st.origin.person_id, start=iv.start, end=iv.end))
            result.others[key] = OtherEntry(iv.start, iv.end, d.code if d is not None else "")
    result.flags = entry_flags(spans, thresholds=entry_thresholds(), others=others)
    return result


@dataclass
class BulkApproval:
    approved: list[ServiceEntry] = field(default_factory=list)
    skipped: list[tuple[ServiceEntry, str]] = field(default_factory=list)  # (the row, why)


@transaction.atomic
def entry_approve_unflagged(*, actor: Any, entries: Sequence[ServiceEntry], reason: str = "") -> BulkApproval:
    """Approve every given pending entry that carries no flag, in one transaction; each approval is
    audited as one ``entry_approve`` (which checks scope and the approver's right). Entries that are
    flagged now, no longer pending, or not the actor's to approve are skipped with the reason — never
    silently; a summary event records the counts."""
    result = BulkApproval()
    flags = pending_flags(list(entries)).flags
    for row in entries:
        if flags.flagged(row.chain):
            result.skipped.append((row, _("It is flagged; decide it on its own.")))
            continue
        try:
            with transaction.atomic():  # a savepoint: one refusal leaves the others standing
                result.approved.append(entry_approve(actor=actor, entry=row, reason=reason))
        except ValidationError as exc:
            result.skipped.append((row, " ".join(exc.messages)))
        except (PermissionDenied, Http404):
            result.skipped.append((row, _("You may not approve it.")))
    log_action(
        actor,
        action="mobilize.entry.bulk_approved",
        changes={
            "approved": [r.refers_to_id for r in result.approved],
            "skipped": [r.pk for r, _why in result.skipped],
        },
    )
    return result
