"""Who may roster what: the scope check of a batch or post, and the plans, people and shifts a user
may see or name (out of scope = 404, not allowed = 403)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize import services as mob
from muster.mobilize.models import Deployment, DeploymentStatus, Post, Shift
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person
from muster.roster.adapter import candidates, scope_shifts
from muster.roster.models import RosterPlan


def _deployment_visible(actor: Any, d: Deployment) -> bool:
    return access.scoped(Deployment.objects.filter(pk=d.pk), actor).exists()


def _may_manage(actor: Any, deployment: Deployment | None, post: Post | None) -> bool:
    if deployment is not None:
        units = [u for u in (deployment.unit, deployment.supported_unit) if u is not None]
        return any(access.can(actor, Perm.MOBILIZE_DISPATCH, u) for u in units) or mob._leads(
            actor, deployment
        )
    assert post is not None
    return access.can(actor, Perm.MOBILIZE_DISPATCH, post.unit)


def _scope_check(actor: Any, deployment: Deployment | None, post: Post | None) -> None:
    if (deployment is None) == (post is None):
        raise ValidationError({"deployment": _("Roster either a batch or a post.")})
    if deployment is not None:
        visible = _deployment_visible(actor, deployment) or mob._leads(actor, deployment)
    else:
        assert post is not None
        visible = access.scoped(Post.objects.filter(pk=post.pk), actor).exists()
    if not visible:
        raise Http404
    if not _may_manage(actor, deployment, post):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
    if deployment is not None and deployment.status == DeploymentStatus.CANCELLED:
        raise ValidationError({"deployment": _("The batch is cancelled.")})


def may_manage_plan(actor: Any, plan: RosterPlan) -> bool:
    return _may_manage(actor, plan.deployment, plan.post)


def plans_visible(actor: Any) -> Any:
    """Plans whose batch or post the user may see."""
    deployments = access.scoped(Deployment.objects.all(), actor).values("pk")
    posts = access.scoped(Post.objects.all(), actor).values("pk")
    from django.db.models import Q

    q = Q(deployment__in=deployments) | Q(post__in=posts)
    if getattr(actor, "pk", None) is not None:
        q |= Q(deployment__leader__user_id=actor.pk)
    return RosterPlan.objects.filter(q).select_related("deployment", "post", "deployment__unit", "post__unit")


def plan_get_or_404(actor: Any, pk: Any) -> RosterPlan:
    try:
        return plans_visible(actor).get(pk=pk)
    except (RosterPlan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _require_manage(actor: Any, plan: RosterPlan) -> None:
    if not plans_visible(actor).filter(pk=plan.pk).exists():
        raise Http404
    if not may_manage_plan(actor, plan):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def _person_visible(actor: Any, person: Person) -> bool:
    """Whether the actor may see the person (their own record included): the one scoping rule."""
    return access.scoped(Person.objects.filter(pk=person.pk), actor, Perm.VIEW).exists()


def _on_plan(plan: RosterPlan, person: Person) -> bool:
    return plan.proposals.filter(person=person).exists()


def plan_people(actor: Any, plan: RosterPlan) -> Any:
    """The people ``actor`` may name in ``plan``: those they may see, and those already on its proposal
    (the plan's page shows them). Anyone else is "not found", exactly like someone who does not exist."""
    visible = access.scoped(Person.objects.all(), actor, Perm.VIEW).values("pk")
    return Person.objects.filter(Q(pk__in=visible) | Q(pk__in=plan.proposals.values("person_id")))


def plan_person_or_404(actor: Any, plan: RosterPlan, *, pk: Any = None, code: str | None = None) -> Person:
    """A person of ``plan_people`` by primary key or staff number; otherwise 404."""
    lookup = {"pk": pk} if code is None else {"code": code}
    try:
        return plan_people(actor, plan).get(**lookup)
    except (Person.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def plan_shift(plan: RosterPlan, pk: Any) -> Shift | None:
    """The shift ``pk`` if it is one of the plan's shifts; ``None`` for any other (unknown or elsewhere)."""
    try:
        return scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date).filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def rostering_candidates(actor: Any, plan: RosterPlan, shift_ids: list[int]) -> Any:
    """Whom ``actor`` may add to the plan by hand: its candidates (see ``adapter``) whom they may see."""
    visible = access.scoped(Person.objects.all(), actor, Perm.VIEW).values("pk")
    return candidates(plan.deployment, plan.post, shift_ids).filter(pk__in=visible)


def _audit(actor: Any, action: str, plan: RosterPlan, **changes: Any) -> None:
    log_action(actor, action=f"roster.{action}", target=plan, unit_path=plan.unit.path, changes=changes)
