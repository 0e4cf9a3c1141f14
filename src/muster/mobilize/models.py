"""Mobilization: requests, deployments (派出批次), posts, shifts, assignments, check-in/out, the
service-hours ledger and measures.

The ledger (``ServiceEntry``) is append-only, like the audit log: rows are never updated or deleted,
and every figure is a sum. See ``muster.mobilize.services`` for the rules that write it and
``muster.mobilize.queries`` for the sums.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from muster.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from muster.orgs.models import Partner, Person, Tag, Team, Unit

# ---------------------------------------------------------------- measures


class MeasureKind(models.Model):
    """An entry of the editable catalog of named numbers (households served, calls answered, …)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    unit_label = models.CharField(
        _("unit of count"), max_length=12, blank=True, help_text=_("e.g. 户, 人, 通")
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- requests


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Request(models.Model):
    """A partner asks for N people with given skills for a task at a place and time (需求/求援)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("handling unit"),
        on_delete=models.PROTECT,
        related_name="mobilize_requests",
        help_text=_("The unit whose coordinators answer the request; it scopes who sees it."),
    )
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="requests"
    )
    title = models.CharField(_("task"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    site = models.CharField(_("place"), max_length=200, blank=True)
    skills = models.ManyToManyField(Tag, verbose_name=_("skills"), blank=True, related_name="+")
    people_needed = models.PositiveIntegerField(_("people needed"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-start", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="request_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.title}"


# ---------------------------------------------------------------- deployments


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")


class Deployment(models.Model):
    """A batch (派出批次): one unit sends a group to one task. Numbered per dispatching unit (第N批).

    A batch sent by one unit to support another (宝山 supporting 松江) names the ``supported_unit``; it is
    visible in both subtrees. Reports count it for the dispatching unit.
    """

    unit = models.ForeignKey(
        Unit, verbose_name=_("dispatching unit"), on_delete=models.PROTECT, related_name="deployments"
    )
    seq = models.PositiveIntegerField(_("batch number"))
    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("task"), max_length=200)
    request = models.ForeignKey(
        Request,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
    )
    site = models.CharField(_("place"), max_length=200, blank=True)
    start = models.DateTimeField(_("start"), db_index=True)
    end = models.DateTimeField(_("end"))
    leader = models.ForeignKey(
        Person, verbose_name=_("leader"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supported_unit = models.ForeignKey(
        Unit,
        verbose_name=_("supported unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supporting_deployments",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DeploymentStatus.choices, default=DeploymentStatus.ACTIVE
    )
    note = models.TextField(_("note"), blank=True)
    members: models.ManyToManyField[Person, DeploymentMember] = models.ManyToManyField(
        Person, through="DeploymentMember", related_name="deployments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        ordering = ["-start", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "seq"], name="uniq_deployment_unit_seq"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="deployment_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class DeploymentMember(models.Model):
    """A person in a batch, with the team they came from (if any)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="deployment_memberships")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deployment member")
        verbose_name_plural = _("deployment members")
        constraints = [
            models.UniqueConstraint(fields=["deployment", "person"], name="uniq_deployment_person")
        ]

    def __str__(self) -> str:
        return f"{self.deployment} · {self.person}"


# ---------------------------------------------------------------- posts and shifts


class PostKind(models.TextChoices):
    HOTLINE = "hotline", _("Hotline seats")
    DUTY = "duty", _("Duty")


class Post(models.Model):
    """A standing post (hotline seats, 24-hour duty) with an optional required-seats curve (7×24)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=12, choices=PostKind.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="posts")
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.CharField(_("place"), max_length=200, blank=True)
    required_seats = models.JSONField(
        _("required seats"),
        default=list,
        blank=True,
        help_text=_(
            "Seats needed per hour: 24 values, or 7 rows of 24 (Monday first); empty = the shifts' seats."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ShiftMode(models.TextChoices):
    ONSITE = "onsite", _("On site")
    REMOTE = "remote", _("Remote")


def new_token() -> str:
    return secrets.token_urlsafe(16)


class Shift(models.Model):
    """A stretch of time to staff, belonging to a deployment, a post, or both (a batch staffing a post)."""

    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.PROTECT, related_name="shifts"
    )
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.PROTECT, related_name="shifts")
    start = models.DateTimeField(_("start"), db_index=True)
    end = models.DateTimeField(_("end"))
    seats = models.PositiveSmallIntegerField(_("seats"), default=1)
    mode = models.CharField(_("mode"), max_length=8, choices=ShiftMode.choices, default=ShiftMode.ONSITE)
    label = models.CharField(_("label"), max_length=60, blank=True)
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)  # QR code target
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_end_after_start"),
            models.CheckConstraint(
                condition=Q(deployment__isnull=False) | Q(post__isnull=False), name="shift_has_owner"
            ),
        ]

    def __str__(self) -> str:
        owner = self.deployment.code if self.deployment_id and self.deployment else str(self.post)
        return f"{owner} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"

    @property
    def owner_unit(self) -> Unit:
        if self.deployment_id:
            assert self.deployment is not None
            return self.deployment.unit
        assert self.post is not None
        return self.post.unit


class Assignment(models.Model):
    """A person on a shift."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="assignments")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assignments")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["shift", "person"], name="uniq_shift_person")]

    def __str__(self) -> str:
        return f"{self.shift} · {self.person}"


# ---------------------------------------------------------------- ledger


class EntryKind(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")
    COMMUNITY = "community", _("Community service during home observation")
    HOTLINE = "hotline", _("Hotline")
    DUTY = "duty", _("Duty")


class EntrySource(models.TextChoices):
    CHECKIN = "checkin", _("Check-in/out")
    ROLLCALL = "rollcall", _("Roll-call")
    SELF = "self", _("Self-reported")
    MANUAL = "manual", _("Recorded by an organizer")
    IMPORT = "import", _("Imported")


class EntryOp(models.TextChoices):
    RECORD = "record", _("Recorded")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    CORRECT_REQUEST = "correct_request", _("Correction requested")
    CORRECT_APPROVE = "correct_approve", _("Correction approved")
    REVERSE = "reverse", _("Reversed")


class ServiceEntry(AppendOnlyModel):
    """One row of the service-hours ledger. Never updated or deleted.

    Rows of one entry share a ``chain`` id. ``sign`` is the row's effect on the approved balance:
    approved minutes before a cutoff T = Σ sign × (minutes of [start, end) before T).
    """

    chain = models.UUIDField(_("entry"), default=uuid.uuid4, db_index=True, editable=False)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="service_rows"
    )
    deployment = models.ForeignKey(
        Deployment,
        verbose_name=_("deployment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_rows",
    )
    shift = models.ForeignKey(
        Shift,
        verbose_name=_("shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_rows",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    source = models.CharField(_("source"), max_length=12, choices=EntrySource.choices)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    minutes = models.PositiveIntegerField(_("minutes"))
    sign = models.SmallIntegerField(_("effect"), choices=[(1, "+1"), (0, "0"), (-1, "-1")])
    op = models.CharField(_("operation"), max_length=16, choices=EntryOp.choices)
    refers_to = models.ForeignKey(
        "self",
        verbose_name=_("refers to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence = models.FileField(_("photo or file"), upload_to="mobilize/evidence/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("service entry")
        verbose_name_plural = _("service entries")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["person", "end"], name="svc_person_end"),
            models.Index(fields=["deployment", "person"], name="svc_deployment_person"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="entry_end_after_start"),
            models.CheckConstraint(condition=Q(minutes__lte=24 * 60), name="entry_at_most_24h"),
            models.CheckConstraint(condition=Q(sign__in=[-1, 0, 1]), name="entry_sign"),
        ]

    def __str__(self) -> str:
        span = f"{self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"
        return f"#{self.pk} {self.person_id} {self.op} {span} ({self.sign:+d})"


class CheckKind(models.TextChoices):
    IN = "in", _("Check-in")
    OUT = "out", _("Check-out")


class CheckSource(models.TextChoices):
    SELF = "self", _("By the volunteer")
    ROLLCALL = "rollcall", _("Roll-call")
    FIX = "fix", _("Fixed by the leader")


class CheckEvent(AppendOnlyModel):
    """A check-in or check-out on an assignment. ``key`` is the client's idempotency key.

    The state of an assignment is its last event: after an "in", only an "out" (or a leader's fixed
    "in") may follow. A check-out closes the cycle and writes a ledger entry (``entry``).
    """

    key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="check_events")
    kind = models.CharField(_("kind"), max_length=4, choices=CheckKind.choices)
    at = models.DateTimeField(_("time"))
    source = models.CharField(_("source"), max_length=10, choices=CheckSource.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    entry = models.ForeignKey(ServiceEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("check-in/out")
        verbose_name_plural = _("check-ins/outs")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M} ({self.assignment_id})"


class MeasureValue(models.Model):
    """A named number on a deployment or on a service entry (its chain), optionally for one day."""

    kind = models.ForeignKey(
        MeasureKind, verbose_name=_("measure"), on_delete=models.PROTECT, related_name="values"
    )
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.CASCADE, related_name="measures"
    )
    entry = models.ForeignKey(
        ServiceEntry,
        verbose_name=_("service entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measures",
        help_text=_("The first row (the record) of the entry's chain."),
    )
    value = models.PositiveBigIntegerField(_("value"))
    on = models.DateField(_("day"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("measure value")
        verbose_name_plural = _("measure values")
        ordering = ["kind__order", "on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deployment__isnull=False, entry__isnull=True)
                | Q(deployment__isnull=True, entry__isnull=False),
                name="measure_on_deployment_or_entry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class CalendarFeed(models.Model):
    """A person's secret iCalendar feed address (calendar apps subscribe without a session).

    Only the SHA-256 digest of the token is stored; the address is shown once when generated. Rotating
    replaces the row, so the old address stops working at once.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="calendar_feed")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.person} ({self.created_at:%Y-%m-%d})"
