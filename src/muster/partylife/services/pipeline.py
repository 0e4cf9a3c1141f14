"""The membership pipeline (发展党员): open a case, talks, advance through the stages, extend, close."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import today
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, PoliticalStatus, Unit
from muster.orgs.services import person_update
from muster.partylife import pipeline
from muster.partylife.membership import MEETING_UNIT_KINDS
from muster.partylife.models import BranchMembership, MembershipCase, MembershipStep, Stage

from .common import _see_person, _text, _who
from .membership import branch_membership_start

_PROBLEMS = {
    pipeline.WRONG_ORDER: lambda p: (
        _("A case moves one stage at a time (from %(current)s the next stage is not %(target)s).") % p
    ),
    pipeline.TOO_EARLY: lambda p: _("Too early: the standard waiting period ends on %(date)s.") % p,
    pipeline.BEFORE_PREVIOUS: lambda p: _("The date cannot be before the previous step (%(date)s).") % p,
    pipeline.INTRODUCERS: lambda p: _("Two full members must be introducers (given: %(count)s).") % p,
    pipeline.UNDER_AGE: lambda p: _("The applicant was under 18 when applying (age %(age)s).") % p,
}


_STAGE_FIELD = {
    Stage.ACTIVIST: "activist_on",
    Stage.CANDIDATE: "candidate_on",
    Stage.PROBATIONARY: "probationary_on",
    Stage.FULL_MEMBER: "full_on",
}


def _step(case: MembershipCase, stage: str, on: date, actor: Any, note: str = "") -> None:
    MembershipStep.objects.create(case=case, stage=stage, on=on, note=note[:300], **_who(actor))


@transaction.atomic
def membership_case_open(
    *, actor: Any, person: Person, branch: Unit, applied_on: date, note: str = ""
) -> MembershipCase:
    """Record an application to join the party (入党申请书) received by ``branch``."""
    access.require(actor, Perm.PARTY_RECORD, branch)
    _see_person(actor, person)
    errors: dict[str, str] = {}
    if branch.kind not in MEETING_UNIT_KINDS:
        errors["branch"] = _("Applications are received by a branch, a general branch or a party group.")
    if person.political_status in (PoliticalStatus.MEMBER, PoliticalStatus.PROBATIONARY):
        errors["person"] = _("%(person)s is already a party member.") % {"person": person.name}
    if applied_on > today():
        errors["applied_on"] = _("The application date cannot be in the future.")
    if MembershipCase.objects.filter(person=person, closed=False).exists():
        errors["person"] = _("%(person)s already has an open case.") % {"person": person.name}
    if errors:
        raise ValidationError(errors)
    case = MembershipCase.objects.create(person=person, branch=branch, applied_on=applied_on, note=note or "")
    _step(case, Stage.APPLICANT, applied_on, actor, note)
    log_action(
        actor,
        action="partylife.case.opened",
        target=case,
        unit_path=branch.path,
        changes={"person": person.code, "applied_on": applied_on.isoformat()},
    )
    return case


def _lock_case(case: MembershipCase) -> MembershipCase:
    return (
        MembershipCase.objects.select_for_update(of=("self",))
        .select_related("person", "branch")
        .get(pk=case.pk)
    )


@transaction.atomic
def membership_case_talk(*, actor: Any, case: MembershipCase, on: date) -> MembershipCase:
    """The branch talked with the applicant (due within a month of the application)."""
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    if on < case.applied_on or on > today():
        raise ValidationError({"on": _("The talk must be between the application and today.")})
    case.talked_on = on
    case.save(update_fields=["talked_on", "updated_at"])
    _step(case, case.stage, on, actor, _("First talk with the applicant"))
    log_action(
        actor,
        action="partylife.case.talked",
        target=case,
        unit_path=case.branch.path,
        changes={"on": on.isoformat()},
    )
    return case


@transaction.atomic
def membership_case_advance(
    *,
    actor: Any,
    case: MembershipCase,
    stage: str,
    on: date,
    introducers: Sequence[Person] = (),
    note: str = "",
) -> MembershipCase:
    """Move a case to its next stage on ``on``, checking the standard waiting periods (``pipeline``).

    Becoming a probationary member needs two full-member introducers, sets the person's political status
    and starts their branch membership; becoming a full member sets the status again.
    """
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    if case.closed:
        raise ValidationError({"case": _("This case is closed.")})
    if on > today():
        raise ValidationError({"on": _("The date cannot be in the future.")})
    if stage == Stage.PROBATIONARY:
        bad = [
            p.name
            for p in introducers
            if p.political_status != PoliticalStatus.MEMBER or p.pk == case.person_id
        ]
        if bad:
            raise ValidationError(
                {"introducers": _("Introducers must be full members: %(names)s.") % {"names": "、".join(bad)}}
            )
    problems = pipeline.check_advance(
        case.stage,
        stage,
        on=on,
        dates=case.dates(),
        birth_date=case.person.birth_date,
        introducers=len({p.pk for p in introducers}),
    )
    if problems:
        raise ValidationError({"stage": [_PROBLEMS[code](params) for code, params in problems]})
    setattr(case, _STAGE_FIELD[Stage(stage)], on)
    case.stage = stage
    if stage == Stage.FULL_MEMBER:
        case.closed = True
        case.closed_reason = _("Became a full member")
    case.save()
    if stage == Stage.PROBATIONARY:
        case.introducers.set(introducers)
        person_update(actor=actor, person=case.person, political_status=PoliticalStatus.PROBATIONARY)
        if not BranchMembership.objects.filter(
            person=case.person, branch=case.branch, end__isnull=True
        ).exists():
            branch_membership_start(actor=actor, person=case.person, branch=case.branch, start=on)
    elif stage == Stage.FULL_MEMBER:
        person_update(actor=actor, person=case.person, political_status=PoliticalStatus.MEMBER)
    _step(case, stage, on, actor, note)
    log_action(
        actor,
        action="partylife.case.advanced",
        target=case,
        unit_path=case.branch.path,
        changes={"stage": stage, "on": on.isoformat(), "introducers": [p.code for p in introducers]},
    )
    return case


@transaction.atomic
def membership_case_extend(*, actor: Any, case: MembershipCase, months: int, reason: str) -> MembershipCase:
    """Extend a probation (once, by at most 12 months — 党章 第七条)."""
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    errors: dict[str, str] = {}
    if case.stage != Stage.PROBATIONARY:
        errors["case"] = _("Only a probation can be extended.")
    elif case.extension_months:
        errors["months"] = _("A probation can be extended only once.")
    if not 1 <= months <= pipeline.MAX_EXTENSION_MONTHS:
        errors["months"] = _("An extension is 1 to 12 months.")
    if not _text(reason):
        errors["reason"] = _("A reason is required.")
    if errors:
        raise ValidationError(errors)
    case.extension_months = months
    case.save(update_fields=["extension_months", "updated_at"])
    _step(case, case.stage, today(), actor, _text(reason))
    log_action(
        actor,
        action="partylife.case.extended",
        target=case,
        unit_path=case.branch.path,
        changes={"months": months, "reason": _text(reason)},
    )
    return case


@transaction.atomic
def membership_case_close(*, actor: Any, case: MembershipCase, reason: str) -> MembershipCase:
    """Close a case without admission (withdrawn, not admitted, moved away), with the reason."""
    access.require(actor, Perm.PARTY_RECORD, case.branch)
    case = _lock_case(case)
    if case.closed:
        raise ValidationError({"case": _("This case is closed.")})
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    case.closed = True
    case.closed_reason = _text(reason)[:200]
    case.save(update_fields=["closed", "closed_reason", "updated_at"])
    _step(case, case.stage, today(), actor, case.closed_reason)
    log_action(
        actor,
        action="partylife.case.closed",
        target=case,
        unit_path=case.branch.path,
        changes={"reason": case.closed_reason},
    )
    return case
