"""Writes for mobilization. Each service is keyword-only, atomic, permission-checked and audited.

Views, the API, the CLI and the importers call these; they never write the models themselves.

One module per sub-domain, all re-exported here (``from muster.mobilize import services`` is the way in):
``common`` (input checks, locking, the conflict and rest rules, domain-event announcements),
``measures``, ``requests``, ``deployments`` (dispatch, update, cancel, members), ``posts``, ``shifts``
(create, assign, take, release, unassign), ``ledger`` (record, approve, reject, correct, reverse) and
``checkin`` (check-in/out, roll-call, fixes). The ``may_*`` permission helpers live in
``muster.mobilize.policy``.

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

# ``_leads``, ``_lock_people``, ``_record``, ``_shift_name`` and ``may_*`` are kept for callers that reach
# past the public names (``mobilize.ledger_io``, ``roster.services``, ``volunteers.services``, views);
# new code imports them from their homes: ``mobilize.policy`` and the submodules.
from muster.mobilize.policy import leads as _leads
from muster.mobilize.policy import may_approve_entry, may_lead_shift

from .approvals import BulkApproval, PendingFlags, entry_approve_unflagged, pending_flags
from .checkin import (
    CheckResult,
    RollCallLine,
    RollCallResult,
    checkin_fix,
    checkin_record,
    checkout_record,
    entry_thresholds,
    rollcall_record,
    shift_checkin_window,
)
from .common import FUTURE_TOLERANCE, NOTE_MAX, ConflictWarning, _lock_people, _shift_name, min_rest_minutes
from .deployments import (
    DispatchResult,
    MemberResult,
    deployment_cancel,
    deployment_dispatch,
    deployment_member_add,
    deployment_member_remove,
    deployment_update,
)
from .ledger import _record, entry_approve, entry_correct, entry_record, entry_reject, entry_reverse
from .measures import measure_kind_create, measure_kind_update, measure_record, measure_remove
from .posts import post_create, post_update
from .requests import request_create, request_update
from .shifts import (
    AssignResult,
    shift_assign,
    shift_create,
    shift_delete,
    shift_release,
    shift_take,
    shift_unassign,
    shifts_create,
)

__all__ = [
    "FUTURE_TOLERANCE",
    "NOTE_MAX",
    "AssignResult",
    "BulkApproval",
    "CheckResult",
    "ConflictWarning",
    "DispatchResult",
    "MemberResult",
    "PendingFlags",
    "RollCallLine",
    "RollCallResult",
    "_leads",
    "_lock_people",
    "_record",
    "_shift_name",
    "checkin_fix",
    "checkin_record",
    "checkout_record",
    "deployment_cancel",
    "deployment_dispatch",
    "deployment_member_add",
    "deployment_member_remove",
    "deployment_update",
    "entry_approve",
    "entry_approve_unflagged",
    "entry_correct",
    "entry_record",
    "entry_reject",
    "entry_reverse",
    "entry_thresholds",
    "may_approve_entry",
    "may_lead_shift",
    "measure_kind_create",
    "measure_kind_update",
    "measure_record",
    "measure_remove",
    "min_rest_minutes",
    "pending_flags",
    "post_create",
    "post_update",
    "request_create",
    "request_update",
    "rollcall_record",
    "shift_assign",
    "shift_checkin_window",
    "shift_create",
    "shift_delete",
    "shift_release",
    "shift_take",
    "shift_unassign",
    "shifts_create",
]
