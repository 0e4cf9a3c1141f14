"""Outreach: enterprises (taxpayers), their liaisons, visits and surveys, the problem list.

Every row reaches a unit of the tree, which scopes who sees it (``muster.orgs.access``; the fields are in
``SCOPE_FIELDS``, added by ``OutreachConfig.ready``). A problem's history (``ProblemEvent``) is append-only:
a status is changed by a new event, and the resolution rate as of a cutoff is read from the events.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.orgs.models import Partner, Person, Unit


class EnterpriseSize(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class Enterprise(models.Model):
    """A taxpayer: an enterprise or another body with a unified social credit code."""

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=120, db_index=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    park = models.CharField(_("park"), max_length=120, blank=True)
    building = models.CharField(_("building"), max_length=120, blank=True)
    size = models.CharField(_("size"), max_length=8, choices=EnterpriseSize.choices, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("responsible tax office"),
        on_delete=models.PROTECT,
        related_name="enterprises",
        help_text=_("The unit responsible for this taxpayer; it scopes who sees it."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["credit_code"]

    def __str__(self) -> str:
        return self.name


class LiaisonRole(models.TextChoices):
    LIAISON = "liaison", _("Liaison")
    PARTY_GUIDE = "party_guide", _("Party-building guide and liaison")


class Liaison(models.Model):
    """A person assigned to an enterprise (联络人 / 党建指导人) for a period (``end`` empty: open)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="liaisons")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="liaisons")
    role = models.CharField(
        _("role"), max_length=12, choices=LiaisonRole.choices, default=LiaisonRole.LIAISON
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("liaison")
        verbose_name_plural = _("liaisons")
        ordering = ["enterprise_id", "start", "id"]
        indexes = [models.Index(fields=["person", "start"])]

    def __str__(self) -> str:
        return f"{self.person} · {self.enterprise}"


class VisitForm(models.TextChoices):
    ON_SITE = "on_site", _("On site")
    MEETING = "meeting", pgettext_lazy("visit form", "Meeting")
    ONLINE = "online", _("Online")


class Visit(models.Model):
    """A visit or survey (调研 / 走访) of enterprises or partners, run by a unit and, often, a branch."""

    held_on = models.DateField(_("date"), db_index=True)
    form = models.CharField(_("form"), max_length=8, choices=VisitForm.choices, default=VisitForm.ON_SITE)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="visits")
    branch = models.ForeignKey(
        Unit,
        verbose_name=_("party branch"),
        on_delete=models.PROTECT,
        related_name="branch_visits",
        null=True,
        blank=True,
    )
    # Read-only link to a meeting of party life (the visit may count as the branch's 主题党日): by id, so
    # outreach never writes into party life.
    meeting_id = models.PositiveBigIntegerField(_("meeting"), null=True, blank=True)
    agreement = models.ForeignKey(
        "Agreement",
        verbose_name=_("co-building agreement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    topics = models.CharField(_("topics"), max_length=300, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    visitors = models.ManyToManyField(Person, verbose_name=_("visitors"), related_name="outreach_visits")
    enterprises = models.ManyToManyField(
        Enterprise, verbose_name=_("enterprises"), related_name="visits", blank=True
    )
    partners = models.ManyToManyField(
        Partner, verbose_name=_("partners"), related_name="outreach_visits", blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on} · {self.topics or self.get_form_display()}"


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    UNSOLVABLE = "unsolvable", _("Not solvable")


CLOSED = frozenset({ProblemStatus.RESOLVED, ProblemStatus.UNSOLVABLE})


class Problem(models.Model):
    """A problem of the problem list (问题清单), raised in a visit or elsewhere.

    ``status`` and ``resolved_on`` are the current state, kept equal to the last event of its history.
    """

    title = models.CharField(_("problem"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=60, blank=True)
    raised_on = models.DateField(_("raised on"), db_index=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="outreach_problems"
    )
    branch = models.ForeignKey(
        Unit,
        verbose_name=_("party branch"),
        on_delete=models.PROTECT,
        related_name="branch_problems",
        null=True,
        blank=True,
    )
    owner = models.ForeignKey(
        Person, verbose_name=_("owner"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolution = models.TextField(_("how it was resolved"), blank=True)
    evidence = models.CharField(_("evidence"), max_length=300, blank=True)
    reason = models.TextField(_("why it cannot be solved"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-raised_on", "-id"]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.title


class ProblemAction(models.TextChoices):
    RAISED = "raised", _("Raised")
    EDITED = "edited", _("Edited")
    STARTED = "started", _("Work started")
    RESOLVED = "resolved", pgettext_lazy("problem action", "Resolved")
    UNSOLVABLE = "unsolvable", _("Declared not solvable")
    REOPENED = "reopened", _("Reopened")


class ProblemEvent(models.Model):
    """One step of a problem's history; never updated or deleted. ``on`` is the day it took effect (a
    resolution's date), ``status`` the problem's status after it."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=12, choices=ProblemAction.choices)
    status = models.CharField(_("status"), max_length=12, choices=ProblemStatus.choices)
    on = models.DateField(_("date"))
    text = models.TextField(_("text"), blank=True)
    evidence = models.CharField(_("evidence"), max_length=300, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        ordering = ["on", "id"]
        indexes = [models.Index(fields=["problem", "on"])]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.action} {self.on}"


# ------------------------------------------------ homes, classes, measures, service log, co-building


class TaxpayerHome(models.Model):
    """A taxpayer home (纳税人之家): a site run with a partner (a park, a building, a community)."""

    name = models.CharField(_("name"), max_length=120)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="taxpayer_homes"
    )
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("taxpayer home")
        verbose_name_plural = _("taxpayer homes")
        ordering = ["unit_id", "name"]

    def __str__(self) -> str:
        return self.name


class TaxClass(models.Model):
    """A taxpayer class (纳税人学堂 / 小讲堂): topic, speaker, partner, attendees, satisfaction."""

    held_on = models.DateField(_("date"), db_index=True)
    topic = models.CharField(_("topic"), max_length=200)
    speaker = models.CharField(_("speaker"), max_length=60, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="tax_classes"
    )
    branch = models.ForeignKey(
        Unit,
        verbose_name=_("party branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    home = models.ForeignKey(
        TaxpayerHome, verbose_name=_("taxpayer home"), on_delete=models.PROTECT, null=True, blank=True
    )
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attendees = models.PositiveIntegerField(_("attendees"), default=0)
    satisfaction = models.DecimalField(
        _("satisfaction"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    enterprises = models.ManyToManyField(
        Enterprise, verbose_name=_("enterprises"), blank=True, related_name="+"
    )
    agreement = models.ForeignKey(
        "Agreement",
        verbose_name=_("co-building agreement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="classes",
    )

    class Meta:
        verbose_name = _("taxpayer class")
        verbose_name_plural = _("taxpayer classes")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.topic


class MeasureCategory(models.Model):
    """A category of a unit's catalog of service measures (便民办税举措, "27类")."""

    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("measure category")
        verbose_name_plural = _("measure categories")
        ordering = ["unit_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="uniq_outreach_category")]

    def __str__(self) -> str:
        return self.name


class MeasureState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_FORCE = "in_force", _("In force")
    RETIRED = "retired", _("Retired")


class ServiceMeasure(models.Model):
    """A service measure ("69条") of a category, owned by a unit of the catalog's subtree."""

    category = models.ForeignKey(MeasureCategory, on_delete=models.PROTECT, related_name="measures")
    title = models.CharField(_("measure"), max_length=200)
    unit = models.ForeignKey(Unit, verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField(_("start date"))
    state = models.CharField(
        _("state"), max_length=10, choices=MeasureState.choices, default=MeasureState.IN_FORCE
    )

    class Meta:
        verbose_name = _("service measure")
        verbose_name_plural = _("service measures")
        ordering = ["category_id", "id"]

    def __str__(self) -> str:
        return self.title


class IndicatorUnit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class Indicator(models.Model):
    """A service indicator (平均办税申报时长, 退税时长…) with its baseline."""

    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    measure_unit = models.CharField(_("unit of measure"), max_length=8, choices=IndicatorUnit.choices)
    baseline = models.DecimalField(_("baseline"), max_digits=12, decimal_places=2)
    baseline_on = models.DateField(_("baseline date"))

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["unit_id", "name"]

    def __str__(self) -> str:
        return self.name


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    measured_on = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator_id", "measured_on", "id"]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.measured_on} {self.value}"


class ServiceKind(models.TextChoices):
    AFTER_HOURS = "after_hours", _("After-hours service")
    APPOINTMENT = "appointment", _("Appointment service")
    GREEN_CHANNEL = "green_channel", _("Green channel")


class ServiceLogEntry(models.Model):
    """One after-hours, appointment or green-channel service (service log)."""

    at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("type"), max_length=14, choices=ServiceKind.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("taxpayer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    taxpayer = models.CharField(_("taxpayer"), max_length=120, blank=True)
    matter = models.CharField(_("matter"), max_length=300)
    staff = models.ForeignKey(Person, verbose_name=_("staff"), on_delete=models.PROTECT, related_name="+")
    outside_hours = models.BooleanField(_("outside office hours"), default=False)

    class Meta:
        verbose_name = _("service log entry")
        verbose_name_plural = _("service log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.matter}"


class Agreement(models.Model):
    """A co-building agreement (支部共建) of a party branch with a community, village, school or company."""

    branch = models.ForeignKey(
        Unit, verbose_name=_("party branch"), on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("co-building agreement")
        verbose_name_plural = _("co-building agreements")
        ordering = ["branch_id", "start"]

    def __str__(self) -> str:
        # not the partner: this text reaches the audit log and pages of people who may not see it
        # (``queries.agreement_label`` names the partner to those who may)
        return self.title or f"{self.branch} · {self.start:%Y-%m-%d}"


class DayFact(models.Model):
    """Derived, for the figures as of any cutoff without a scan (``muster.outreach.facts``): per unit and
    local day, the visits, problems raised and the net change of resolved problems (+1 resolved, −1
    reopened) of the records whose unit or party branch is in the unit's subtree (each record once per
    bucket unit). A subtree's figure as of a cutoff is the sum of its own unit's rows up to the day."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    visits = models.IntegerField(default=0)
    raised = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="uniq_outreach_dayfact")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


class Attachment(models.Model):
    """A file of a visit (a photo of the meeting, a scanned survey form), of a problem's resolution (the
    evidence) or of a taxpayer class: a JPEG, PNG or WebP photo or a PDF, told by its content, kept in
    private storage (``muster.outreach.attachments``) and read back only through the scoped, audited download
    view. It belongs to exactly one of them, and it is seen by whoever sees that record."""

    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    problem = models.ForeignKey(
        Problem, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    tax_class = models.ForeignKey(
        TaxClass, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=200, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(visit__isnull=False, problem__isnull=True, tax_class__isnull=True)
                    | models.Q(visit__isnull=True, problem__isnull=False, tax_class__isnull=True)
                    | models.Q(visit__isnull=True, problem__isnull=True, tax_class__isnull=False)
                ),
                name="outreach_attachment_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name
