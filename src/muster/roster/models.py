"""Rostering in the app: a plan (a batch or a post over a period), its solve runs and its proposal.

The proposal (``ProposedAssignment``) is a draft: nothing reaches the mobilization assignments until the
plan is published (``muster.roster.services.plan_publish``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.mobilize.models import Deployment, Post, Shift
from muster.orgs.models import Person, Unit


class PlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("roster plan", "Draft")
    SOLVING = "solving", pgettext_lazy("roster plan", "Solving")
    PROPOSED = "proposed", pgettext_lazy("roster plan", "Proposed")
    PUBLISHED = "published", pgettext_lazy("roster plan", "Published")


class RosterPlan(models.Model):
    deployment = models.ForeignKey(
        Deployment,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="roster_plans",
    )
    post = models.ForeignKey(
        Post,
        verbose_name=_("post"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="roster_plans",
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    options = models.JSONField(_("options"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster plan")
        verbose_name_plural = _("roster plans")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deployment__isnull=False, post__isnull=True)
                | Q(deployment__isnull=True, post__isnull=False),
                name="rosterplan_one_scope",
            ),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="rosterplan_period"),
        ]

    def __str__(self) -> str:
        return f"{self.scope_name} {self.start_date}–{self.end_date}"

    @property
    def scope_name(self) -> str:
        if self.deployment is not None:
            return self.deployment.code
        return self.post.name if self.post is not None else ""

    @property
    def unit(self) -> Unit:
        if self.deployment is not None:
            return self.deployment.unit
        assert self.post is not None
        return self.post.unit

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class RunKind(models.TextChoices):
    SOLVE = "solve", _("Solve")
    REPAIR = "repair", _("Repair after a drop-out")


class SolveRun(models.Model):
    plan = models.ForeignKey(RosterPlan, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(_("kind"), max_length=8, choices=RunKind.choices, default=RunKind.SOLVE)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    seconds = models.FloatField(_("time limit (s)"), default=10)
    seed = models.IntegerField(_("seed"), default=0)
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    elapsed = models.FloatField(_("elapsed (s)"), default=0)
    objective = models.BigIntegerField(_("best penalty"), null=True, blank=True)
    bound = models.BigIntegerField(_("bound"), null=True, blank=True)
    history = models.JSONField(_("history"), default=list, blank=True)
    # the best roster found so far while solving: {"objective", "phase", "elapsed", "pairs": [[person
    # code, shift id], ...]} (see ``services._Progress``); the plan's page shows it until the result
    incumbent = models.JSONField(_("best roster so far"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    # the background task that runs it (django-tasks id; empty for a solve run inline by the command line)
    task_id = models.CharField(max_length=64, blank=True)
    # the attempt that owns the run (task id / attempt number): only its result is stored, so a rerun after
    # a worker died cannot write the proposal twice; attempts counts the workers that started it
    attempt = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("solve run")
        verbose_name_plural = _("solve runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.kind} {self.status}"

    @property
    def active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class ProposalSource(models.TextChoices):
    SOLVER = "solver", _("Solver")
    MANUAL = "manual", _("Manual")
    EXISTING = "existing", _("Already assigned")


class ProposedAssignment(models.Model):
    plan = models.ForeignKey(RosterPlan, on_delete=models.CASCADE, related_name="proposals")
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    locked = models.BooleanField(_("locked"), default=False)
    source = models.CharField(_("source"), max_length=10, choices=ProposalSource.choices)

    class Meta:
        verbose_name = _("proposed assignment")
        verbose_name_plural = _("proposed assignments")
        ordering = ["shift__start", "shift_id", "person__code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "shift", "person"], name="uniq_proposal_shift_person")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.shift_id} · {self.person_id}"
