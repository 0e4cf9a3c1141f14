"""Editing a plan's proposal by hand: add, remove, lock and unlock an assignment."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from muster.mobilize.models import Shift
from muster.orgs.models import Person
from muster.roster.adapter import roster_errors, scope_shifts
from muster.roster.models import PlanStatus, ProposalSource, ProposedAssignment, RosterPlan, RunStatus

from .plan import plan_build
from .policy import _audit, _on_plan, _person_visible, _require_manage

EDIT_ACTIONS = ("add", "remove", "lock", "unlock")


@transaction.atomic
def proposal_edit(
    *, actor: Any, plan: RosterPlan, action: str, shift: Shift, person: Person
) -> ProposedAssignment | None:
    """Add a person to a shift (locked, checked against the hard rules), remove one, lock or unlock."""
    _require_manage(actor, plan)
    plan = RosterPlan.objects.select_for_update().get(pk=plan.pk)
    if action not in EDIT_ACTIONS:
        raise ValidationError({"action": _("Unknown action %(action)s.") % {"action": action}})
    if plan.status == PlanStatus.PUBLISHED:
        raise ValidationError({"plan": _("This plan is already published; start a new one.")})
    if (
        plan.status == PlanStatus.SOLVING
        or plan.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()
    ):
        raise ValidationError({"plan": _("Wait until the solve has finished.")})
    if (
        not scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date)
        .filter(pk=shift.pk)
        .exists()
    ):
        raise ValidationError({"shift": _("The shift is not in this plan's period.")})
    # Someone the actor may not see is "not found" (no name in any message): to add, the actor must see
    # the person (publishing assigns through ``shift_assign``, which asks the same); to remove, lock or
    # unlock, the person may also be one the plan's page already shows (on its proposal).
    visible = _person_visible(actor, person)
    if not visible and (action == "add" or not _on_plan(plan, person)):
        raise Http404
    row = plan.proposals.filter(shift=shift, person=person).first()
    if action == "add":
        if row is not None:
            raise ValidationError({"person": _("%(person)s is already on this shift.") % {"person": person}})
        built = plan_build(plan)
        if person.code not in built.people:
            raise ValidationError(
                {
                    "person": _(
                        "%(person)s cannot be rostered in this plan (not a candidate, or busy all the time)."
                    )
                    % {"person": person}
                }
            )
        roster = {(r.person.code, str(r.shift_id)) for r in plan.proposals.select_related("person")}
        roster.add((person.code, str(shift.pk)))
        errors = roster_errors(built, roster, person.code)
        if errors:
            raise ValidationError(
                {
                    "person": ValidationError(
                        _("%(person)s cannot take this shift: %(errors)s")
                        % {"person": person, "errors": " ".join(errors)},
                        code="hard_rule",
                    )
                }
            )
        row = ProposedAssignment.objects.create(
            plan=plan, shift=shift, person=person, locked=True, source=ProposalSource.MANUAL
        )
    else:
        if row is None:
            raise ValidationError({"person": _("%(person)s is not on this shift.") % {"person": person}})
        if action == "remove":
            row.delete()
            row = None
        else:
            row.locked = action == "lock"
            row.save(update_fields=["locked"])
    if plan.status == PlanStatus.DRAFT:
        plan.status = PlanStatus.PROPOSED
        plan.save(update_fields=["status", "updated_at"])
    _audit(actor, f"proposal.{action}", plan, shift=shift.pk, person=person.code)
    return row
