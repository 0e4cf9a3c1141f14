"""Writes for party life. Each service is keyword-only, atomic, permission-checked and audited.

One module per sub-domain, all re-exported here (``from muster.partylife import services`` is the way in):
``common`` (the actor, visibility and approver checks), ``membership`` (branch membership), ``meetings``
(records, attendance, review), ``compliance`` (rules, exemptions, snapshots), ``talks``, ``pipeline`` (the
membership pipeline) and ``posts`` (party posts, contact points, visits). Awards and commendations moved to
``muster.honors.awards`` (issue 23, item 4).

Permissions (``muster.orgs.access``)
------------------------------------
- ``Perm.PARTY_RECORD`` (secretary, admin) on a party organization: its membership history, meetings
  and attendance, talks, membership cases, posts, contact points.
- ``Perm.PARTY_APPROVE`` on the *committee above* (``membership.approval_unit``: the nearest party
  committee or general branch above the organization): review meetings, grant exemptions. So a branch
  secretary records, and the secretary (or admin) of the committee above approves.
- ``Perm.PARTY_RULES`` (admin; global rules need it on a root unit): the compliance rules.
- A member (the person linked to the user) records their own talks and their own contact visits.
- Not visible → ``Http404``; visible but not allowed → ``NotAllowed`` (403); bad input →
  ``ValidationError`` with a field dict; nothing is half written.

Meetings
--------
A meeting is recorded (draft) with its kinds — one meeting may count as several — and its expected
attendees are filled from the roster on its date (``membership.members_on``; only the committee for a
meeting that is nothing but a 支委会). Attendance of someone not in the organization on that date is
refused (record them as an observer). A meeting dated in the future cannot be marked held.
Review: draft → submitted → approved, or returned (with an opinion) → edited → submitted again. An
approved meeting cannot be edited: ``meeting_correction_start`` (with a reason) reopens it as the next
revision, reversing its points until it is approved again. Approval locks the meeting row, so of two
concurrent approvals one wins and the other is told it is no longer waiting; the points ledger's
unique (fact, generation, op) is the last guard against double points.
"""

from __future__ import annotations

# Re-exported as before the split, for callers that only import services.
from muster.partylife.models import COMMITTEE_ROLES
from muster.partylife.queries import meeting_fact, meeting_quorum

from .compliance import compliance_freeze, exemption_grant, exemption_revoke, requirement_change
from .meetings import (
    AttendanceMark,
    attendance_record,
    meeting_approve,
    meeting_attach,
    meeting_correction_start,
    meeting_create,
    meeting_mark_held,
    meeting_return,
    meeting_submit,
    meeting_update,
)
from .membership import branch_membership_end, branch_membership_set_role, branch_membership_start
from .pipeline import (
    membership_case_advance,
    membership_case_close,
    membership_case_extend,
    membership_case_open,
    membership_case_talk,
)
from .posts import (
    contact_point_create,
    contact_point_end,
    contact_visit_record,
    party_post_create,
    party_post_end,
)
from .talks import talk_record, talk_withdraw

__all__ = [
    "COMMITTEE_ROLES",
    "AttendanceMark",
    "attendance_record",
    "branch_membership_end",
    "branch_membership_set_role",
    "branch_membership_start",
    "compliance_freeze",
    "contact_point_create",
    "contact_point_end",
    "contact_visit_record",
    "exemption_grant",
    "exemption_revoke",
    "meeting_approve",
    "meeting_attach",
    "meeting_correction_start",
    "meeting_create",
    "meeting_fact",
    "meeting_mark_held",
    "meeting_quorum",
    "meeting_return",
    "meeting_submit",
    "meeting_update",
    "membership_case_advance",
    "membership_case_close",
    "membership_case_extend",
    "membership_case_open",
    "membership_case_talk",
    "party_post_create",
    "party_post_end",
    "requirement_change",
    "talk_record",
    "talk_withdraw",
]
