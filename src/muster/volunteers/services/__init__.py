"""Writes for volunteers. Each service is keyword-only, atomic, permission-checked and audited.

Who may do what
---------------
- A person's profile (skills, availability, preferences, limits, home observation): the person themself
  (through their login), or a coordinator holding ``org.change`` or ``mobilize.dispatch`` on the person's
  unit or party unit — so a leader keeps the profile of someone without an account.
- The skill list: an administrator (``mobilize.catalog``, like the measure catalog).
- A shift's needs, opening shifts for sign-up: whoever may edit the shift (``mobilize.dispatch`` on its
  unit). The audience (a team, or a unit or party branch with its subtree) must be in their scope.
- Sign-up and cancellation: the person themself, or their coordinator for them. The assignment itself
  is ``mobilize.services.shift_take`` — the same rules as a manual assignment (``mobilize.rules``).
- Call-ups: ``mobilize.dispatch`` on the calling unit; answers by the person (in the app or through the
  secret link of their message); picking adds the picked to the batch through
  ``mobilize.services.deployment_member_add``.

What the actor may not see is "not found" (404); what they see but may not do is 403.

The services live in a package: ``common`` (what they share), ``profiles`` (the skill list, a person's
profile), ``signup`` (shift needs, openings, sign-up and cancellation), ``callups`` (集结号). Every public
name is re-exported here, so callers keep ``from muster.volunteers import services``.
"""

from __future__ import annotations

from muster.volunteers.services.callups import (
    audience_people,
    callup_answer,
    callup_create,
    callup_pick,
    callup_suggest,
)
from muster.volunteers.services.common import (
    MAX_CALLUP,
    MAX_ROWS,
    PARTY,
    may_edit_person,
    skill_by_code,
)
from muster.volunteers.services.profiles import (
    WEEKDAYS,
    PreferenceIn,
    QualificationIn,
    WindowIn,
    profile_set,
    skill_save,
)
from muster.volunteers.services.signup import (
    CancelResult,
    need_set,
    opening_close,
    shifts_open,
    signup_cancel,
    signup_create,
)

__all__ = [
    "MAX_CALLUP",
    "MAX_ROWS",
    "PARTY",
    "WEEKDAYS",
    "CancelResult",
    "PreferenceIn",
    "QualificationIn",
    "WindowIn",
    "audience_people",
    "callup_answer",
    "callup_create",
    "callup_pick",
    "callup_suggest",
    "may_edit_person",
    "need_set",
    "opening_close",
    "profile_set",
    "shifts_open",
    "signup_cancel",
    "signup_create",
    "skill_by_code",
    "skill_save",
]
