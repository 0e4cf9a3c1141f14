"""Plans: create one for a batch or post (seeded with the period's assignments), its rules, limits and
problem, and its one-line summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from muster.mobilize.models import Assignment, Deployment, Post
from muster.roster import engine as eng
from muster.roster.adapter import MAX_SECONDS, Built, Rules, build_problem, scope_shifts
from muster.roster.models import PlanStatus, ProposalSource, ProposedAssignment, RosterPlan

from .policy import _audit, _scope_check


def _seconds(value: Any, cap: float | None) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"seconds": _("Give the time limit in seconds.")}) from exc
    if seconds <= 0 or (cap is not None and seconds > cap):
        raise ValidationError(
            {"seconds": _("The time limit must be more than 0 and at most %(max)s seconds.") % {"max": cap}}
        )
    return seconds


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    start: date,
    end: date,
    deployment: Deployment | None = None,
    post: Post | None = None,
    rules: Rules | None = None,
    seconds: float = 10,
    seed: int = 0,
    limits: eng.Limits = eng.WEB_LIMITS,
    max_seconds: float | None = MAX_SECONDS,
) -> RosterPlan:
    """A new plan for a batch or post over ``[start, end]`` (whole days), seeded with the assignments
    already made on the period's shifts (those with a check-in are locked). Checks the size first."""
    _scope_check(actor, deployment, post)
    rules = rules or Rules()
    rules.validate()
    seconds = _seconds(seconds, max_seconds)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        raise ValidationError({"seed": _("The seed is a whole number from 0 to 2147483647.")})
    build_problem(deployment=deployment, post=post, start=start, end=end, rules=rules, limits=limits)
    plan = RosterPlan.objects.create(
        deployment=deployment,
        post=post,
        start_date=start,
        end_date=end,
        status=PlanStatus.DRAFT,
        options={
            "rules": rules.to_dict(),
            "seconds": seconds,
            "seed": seed,
            "web_limits": limits == eng.WEB_LIMITS,
        },
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    existing = Assignment.objects.filter(shift__in=scope_shifts(deployment, post, start, end)).order_by("pk")
    ProposedAssignment.objects.bulk_create(
        [
            ProposedAssignment(
                plan=plan,
                shift_id=a.shift_id,
                person_id=a.person_id,
                locked=a.check_events.exists(),
                source=ProposalSource.EXISTING,
            )
            for a in existing
        ]
    )
    _audit(actor, "plan.created", plan, start=str(start), end=str(end), seconds=seconds, seed=seed)
    return plan


def plan_rules(plan: RosterPlan) -> Rules:
    return Rules.from_dict(plan.options.get("rules"))


def _limits(plan: RosterPlan) -> eng.Limits:
    return eng.WEB_LIMITS if plan.options.get("web_limits", True) else eng.Limits()


def plan_build(plan: RosterPlan) -> Built:
    rows = list(plan.proposals.values_list("person_id", "shift_id", "locked", "source"))
    return build_problem(
        deployment=plan.deployment,
        post=plan.post,
        start=plan.start_date,
        end=plan.end_date,
        rules=plan_rules(plan),
        locks=[(p, s) for p, s, locked, _src in rows if locked],
        keep=[(p, s) for p, s, locked, src in rows if not locked and src == ProposalSource.EXISTING],
        limits=_limits(plan),
    )


def summary_line(plan: RosterPlan) -> str:
    r = plan.result or {}
    n = plan.proposals.count()
    return ngettext(
        "%(n)s assignment, penalty %(obj)s, %(unc)s shift(s) short",
        "%(n)s assignments, penalty %(obj)s, %(unc)s shift(s) short",
        n,
    ) % {"n": n, "obj": r.get("objective", "—"), "unc": len(r.get("uncovered", []))}
