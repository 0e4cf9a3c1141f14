"""Rostering over the API (/api/v1/roster/…): create a plan, start a solve, follow its progress, read
the proposal, edit it, publish it. Thin: ``muster.roster.services`` checks, decides and audits; a plan
out of scope is 404, visible but not allowed is 403, bad input is 422 with ``{field: [messages]}``."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from muster.api.common import BoundedDate, ErrorOut, actor
from muster.mobilize import queries
from muster.mobilize.models import Post
from muster.orgs import access
from muster.orgs.models import Person
from muster.roster import services
from muster.roster.adapter import Rules
from muster.roster.models import RosterPlan, SolveRun

router = Router(tags=["rostering"])
ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class RulesIn(Schema):
    min_rest_minutes: int | None = None
    max_hours_day: int = 12
    max_hours_week: int = 48
    max_consecutive_days: int = 6
    max_shifts_per_day: int = 1
    no_night_then_morning: bool = True
    fairness: int = 1


class PlanIn(Schema):
    deployment: str | None = None  # batch code
    post: str | None = None  # post code
    start: BoundedDate
    end: BoundedDate
    seconds: float = 10
    seed: int = 0
    rules: RulesIn | None = None
    solve: bool = True


class RunOut(Schema):
    id: int
    kind: str
    status: str
    phase: str
    elapsed: float
    seconds: float
    objective: int | None
    bound: int | None
    error: str
    history: list[dict[str, Any]]


class RowOut(Schema):
    shift: int
    start: str
    end: str
    person: str
    name: str
    locked: bool
    source: str


class PlanOut(Schema):
    id: int
    deployment: str | None
    post: str | None
    start: date
    end: date
    status: str
    options: dict[str, Any]
    result: dict[str, Any]
    notes: list[dict[str, Any]]
    run: RunOut | None
    proposal: list[RowOut]


class SolveIn(Schema):
    seconds: float | None = None
    seed: int | None = None
    drop: str | None = None  # staff number of a person who drops out: repair instead of a full solve


class EditIn(Schema):
    action: Literal["add", "remove", "lock", "unlock"]
    shift: int
    person: str


class PublishOut(Schema):
    added: int
    removed: int
    notified: int
    warnings: list[str]


def _run_out(run: SolveRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "phase": run.phase,
        "elapsed": run.elapsed,
        "seconds": run.seconds,
        "objective": run.objective,
        "bound": run.bound,
        "error": run.error,
        "history": run.history,
    }


def _plan_out(plan: RosterPlan) -> dict[str, Any]:
    plan.refresh_from_db()
    rows = plan.proposals.select_related("person", "shift").order_by(
        "shift__start", "shift_id", "person__code"
    )
    return {
        "id": plan.pk,
        "deployment": plan.deployment.code if plan.deployment else None,
        "post": plan.post.code if plan.post else None,
        "start": plan.start_date,
        "end": plan.end_date,
        "status": plan.status,
        "options": plan.options,
        "result": plan.result,
        "notes": plan.notes,
        "run": _run_out(plan.runs.order_by("-created_at", "-id").first()),
        "proposal": [
            {
                "shift": r.shift_id,
                "start": services._fmt(r.shift.start),
                "end": services._fmt(r.shift.end),
                "person": r.person.code,
                "name": r.person.name,
                "locked": r.locked,
                "source": r.source,
            }
            for r in rows
        ],
    }


def _person(user: Any, plan: RosterPlan, code: str) -> Person:
    """A person the user may name in the plan (``services.plan_people``); unknown and out of scope: 404."""
    return services.plan_person_or_404(user, plan, code=code)


@router.post("/plans", response={201: PlanOut, **ERRORS}, summary="Create a roster plan (and start solving)")
def create_plan(request: HttpRequest, payload: PlanIn) -> Status:
    user = actor(request)
    deployment = post = None
    if payload.deployment:
        try:
            deployment = queries.deployment_get_or_404(user, code=payload.deployment)
        except Exception as exc:
            raise ValidationError(
                {"deployment": _("There is no batch with the code %(code)s.") % {"code": payload.deployment}}
            ) from exc
    if payload.post:
        post = access.scoped(Post.objects.all(), user).filter(code=payload.post).first()
        if post is None:
            raise ValidationError(
                {"post": _("There is no post with the code %(code)s.") % {"code": payload.post}}
            )
    rules = Rules(
        **{k: v for k, v in (payload.rules.dict() if payload.rules else {}).items() if v is not None}
    )
    plan = services.plan_create(
        actor=user,
        deployment=deployment,
        post=post,
        start=payload.start,
        end=payload.end,
        rules=rules,
        seconds=payload.seconds,
        seed=payload.seed,
    )
    if payload.solve:
        services.solve_start(actor=user, plan=plan)
    return Status(201, _plan_out(plan))


@router.get("/plans/{plan_id}", response={200: PlanOut, 404: ErrorOut}, summary="A plan and its proposal")
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    return _plan_out(services.plan_get_or_404(actor(request), plan_id))


@router.get(
    "/plans/{plan_id}/progress", response={200: RunOut, 404: ErrorOut}, summary="Progress of the last solve"
)
def get_progress(request: HttpRequest, plan_id: int) -> Any:
    plan = services.plan_get_or_404(actor(request), plan_id)
    run = plan.runs.order_by("-created_at", "-id").first()
    if run is None:
        raise ValidationError(_("This plan has not been solved yet."))
    return _run_out(run)


@router.post("/plans/{plan_id}/solve", response={202: RunOut, **ERRORS}, summary="Solve again, or repair")
def solve(request: HttpRequest, plan_id: int, payload: SolveIn) -> Status:
    user = actor(request)
    plan = services.plan_get_or_404(user, plan_id)
    drop = _person(user, plan, payload.drop) if payload.drop else None
    run = services.solve_start(actor=user, plan=plan, seconds=payload.seconds, seed=payload.seed, drop=drop)
    return Status(202, _run_out(run))


@router.post("/plans/{plan_id}/cancel", response={200: PlanOut, **ERRORS}, summary="Stop the running solve")
def cancel(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    user = actor(request)
    plan = services.plan_get_or_404(user, plan_id)
    services.solve_cancel(actor=user, plan=plan)
    return _plan_out(plan)


@router.post("/plans/{plan_id}/edit", response={200: PlanOut, **ERRORS}, summary="Edit the proposal")
def edit(request: HttpRequest, plan_id: int, payload: EditIn) -> dict[str, Any]:
    user = actor(request)
    plan = services.plan_get_or_404(user, plan_id)
    shift = services.plan_shift(plan, payload.shift)  # unknown and another plan's shift: the same answer
    if shift is None:
        raise ValidationError({"shift": _("The shift is not in this plan's period.")})
    services.proposal_edit(
        actor=user, plan=plan, action=payload.action, shift=shift, person=_person(user, plan, payload.person)
    )
    return _plan_out(plan)


@router.post("/plans/{plan_id}/publish", response={200: PublishOut, **ERRORS}, summary="Publish the roster")
def publish(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    user = actor(request)
    res = services.plan_publish(actor=user, plan=services.plan_get_or_404(user, plan_id))
    return {"added": res.added, "removed": res.removed, "notified": res.notified, "warnings": res.warnings}
