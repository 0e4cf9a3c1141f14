"""The care ledger (关爱台帐): subjects, survey rounds and their dated observations, risk tags, contact
plans, help requests, deliveries, condolences and donations.

Observations, contacts, risk-tag events and help-request steps are append-only: a later row supersedes
an earlier one and the history stays. Personal data of outside residents (phone, ID number, address) is
encrypted at rest like the registry's (``muster.orgs.crypto``) and masked when shown.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muster.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from muster.orgs import crypto
from muster.orgs.models import Partner, Person, Unit
from muster.orgs.validators import mask_id_number, mask_phone


class AppendOnly(AppendOnlyModel):
    """Rows are written once; a later row supersedes an earlier one."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True


# ---------------------------------------------------------------- access


class CareDataGrant(models.Model):
    """The "care data" permission on a unit's subtree: see health answers and risk tags, approve
    consolation payments. Granted explicitly; no role implies it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_grants")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("care data grant")
        verbose_name_plural = _("care data grants")
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="uniq_care_grant")]

    # ---------------------------------------------------------------- subjects

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"


class SubjectStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MOVED = "moved", _("Moved away")
    DECEASED = "deceased", _("Deceased")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    NORMAL = "normal", _("Normal")


class CareSubject(models.Model):
    """A person cared for: a person of the registry (a retiree, any staff member) or an outside resident."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    person = models.OneToOneField(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_subject",
    )
    name = models.CharField(_("name"), max_length=60, db_index=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    community = models.CharField(_("community"), max_length=120, blank=True)
    phone_enc = models.CharField(max_length=120, blank=True, editable=False)
    id_number_enc = models.CharField(max_length=120, blank=True, editable=False)
    id_number_digest = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    address_enc = models.CharField(max_length=600, blank=True, editable=False)
    liaison = models.ForeignKey(
        Person,
        verbose_name=_("liaison"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_subjects",
    )
    party_branch = models.ForeignKey(
        Unit,
        verbose_name=_("retired party branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=SubjectStatus.choices, default=SubjectStatus.ACTIVE
    )
    status_on = models.DateField(_("status since"), null=True, blank=True)
    # Kept by the services (never by save()): the risk level from the current tags, the last contact and
    # the day the next contact is due, so a liaison's due list is one indexed query.
    risk_level = models.CharField(max_length=8, choices=RiskLevel.choices, default=RiskLevel.NORMAL)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    next_due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("care subject")
        verbose_name_plural = _("care subjects")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["liaison", "status", "next_due_on"], name="care_due_idx"),
            models.Index(fields=["status", "next_due_on"], name="care_overdue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def phone(self) -> str:
        if self.person_id and not self.phone_enc:
            return self.person.phone  # type: ignore[union-attr]
        return crypto.decrypt(self.phone_enc)

    @phone.setter
    def phone(self, value: str) -> None:
        self.phone_enc = crypto.encrypt(value)

    @property
    def id_number(self) -> str:
        if self.person_id and not self.id_number_enc:
            return self.person.id_number  # type: ignore[union-attr]
        return crypto.decrypt(self.id_number_enc)

    @id_number.setter
    def id_number(self, value: str) -> None:
        self.id_number_enc = crypto.encrypt(value)
        self.id_number_digest = crypto.digest(value) or None

    @property
    def address(self) -> str:
        return crypto.decrypt(self.address_enc)

    @address.setter
    def address(self, value: str) -> None:
        self.address_enc = crypto.encrypt(value)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def address_masked(self) -> str:
        a = self.address
        return a[:6] + "****" if len(a) > 6 else ("****" if a else "")

    def age_on(self, day: date) -> int | None:
        b = self.birth_date
        if b is None:
            return None
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


# ---------------------------------------------------------------- surveys


class DimensionKind(models.TextChoices):
    CHOICE = "choice", _("One of a list")
    DATE = "date", _("Date")
    NUMBER = "number", _("Whole number")
    TEXT = "text", _("Text")


class Dimension(models.Model):
    """One question of a survey round (health, vaccination doses, last test…), defined as data."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=80)
    kind = models.CharField(_("type"), max_length=8, choices=DimensionKind.choices)
    choices = models.JSONField(_("allowed values"), default=list, blank=True)
    sensitive = models.BooleanField(_("health data"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("survey dimension")
        verbose_name_plural = _("survey dimensions")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label


class SurveyRound(models.Model):
    """A survey (排摸) of a unit subtree's active subjects."""

    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    dimensions = models.ManyToManyField(Dimension, verbose_name=_("dimensions"), related_name="+")
    opened_at = models.DateTimeField(_("opened at"))
    opened_by_name = models.CharField(max_length=150, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey round")
        verbose_name_plural = _("survey rounds")
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")


class ContactOutcome(models.TextChoices):
    OK = "ok", _("Reached, all well")
    ANSWERED = "answered", _("Reached, answers recorded")
    HELP = "help", _("Reached, needs help")
    UNREACHED = "unreached", _("Not reached")


class Contact(AppendOnly):
    """A liaison reaching (or trying to reach) a subject."""

    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="contacts")
    round = models.ForeignKey(SurveyRound, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ContactOutcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    by_name = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["subject", "at"], name="care_contact_idx")]

    def __str__(self) -> str:
        return f"{self.subject} · {self.at:%Y-%m-%d %H:%M}"


class Observation(AppendOnly):
    """One dated answer: the latest (by time, then id) of a subject and dimension is the current one."""

    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="observations")
    round = models.ForeignKey(SurveyRound, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    value = models.CharField(_("value"), max_length=500)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    observed_at = models.DateTimeField(_("time"))
    by_name = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        indexes = [
            models.Index(fields=["round", "subject"], name="care_obs_round_idx"),
            models.Index(fields=["subject", "dimension", "observed_at"], name="care_obs_subject_idx"),
        ]

    # ---------------------------------------------------------------- risk tags and contact plan

    def __str__(self) -> str:
        return f"{self.subject} · {self.dimension} = {self.value}"


class RiskTagKind(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=40)
    high_risk = models.BooleanField(_("high risk"), default=True)

    class Meta:
        verbose_name = _("risk tag")
        verbose_name_plural = _("risk tags")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label


class RuleOp(models.TextChoices):
    AGE_AT_LEAST = "age_gte", _("Age at least")
    EQUALS = "eq", _("Answer equals")
    ONE_OF = "in", _("Answer is one of")


class RiskRule(models.Model):
    """A rule as data: ``tag`` applies when the subject's age, or their latest answer to ``dimension``,
    meets ``op``/``value``."""

    tag = models.ForeignKey(RiskTagKind, on_delete=models.CASCADE, related_name="rules")
    op = models.CharField(max_length=8, choices=RuleOp.choices)
    dimension = models.ForeignKey(
        Dimension, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    value = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")

    def __str__(self) -> str:
        return f"{self.tag} · {self.op} {self.value}"

    def age_floor(self) -> int | None:
        """The age an age rule starts at (its first value), or None if the rule holds no whole number — a
        rule edited by hand into nonsense applies to nobody instead of failing every write."""
        if self.op != RuleOp.AGE_AT_LEAST or not isinstance(self.value, list) or not self.value:
            return None
        try:
            return int(self.value[0])
        except (TypeError, ValueError, OverflowError):
            return None


class TagSource(models.TextChoices):
    RULE = "rule", _("Rule")
    MANUAL = "manual", _("Manual")


class RiskTagEvent(AppendOnly):
    """A tag put on (``on``) or taken off a subject; the latest event per (subject, tag) decides."""

    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="tag_events")
    tag = models.ForeignKey(RiskTagKind, on_delete=models.PROTECT, related_name="+")
    on = models.BooleanField()
    source = models.CharField(max_length=8, choices=TagSource.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    at = models.DateTimeField()
    by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("risk tag change")
        verbose_name_plural = _("risk tag changes")
        indexes = [models.Index(fields=["subject", "tag", "at"], name="care_tag_idx")]

    def __str__(self) -> str:
        return f"{self.subject} · {self.tag} {'+' if self.on else '-'}"


class ContactFrequency(models.Model):
    """How often a subject of a risk level is contacted (editable data)."""

    level = models.CharField(max_length=8, choices=RiskLevel.choices, unique=True)
    every_days = models.PositiveSmallIntegerField(_("every (days)"))

    class Meta:
        verbose_name = _("contact frequency")
        verbose_name_plural = _("contact frequencies")

    # ---------------------------------------------------------------- help requests

    def __str__(self) -> str:
        return f"{self.level}: {self.every_days}"


class HelpSource(models.TextChoices):
    CONTACT = "contact", _("Routine contact")
    DUTY_POST = "duty_post", _("Duty post")
    HOTLINE = "hotline", _("Hotline")
    QR_FORM = "qr_form", _("Resident's QR form")
    SELF = "self", _("Subject's own account")


class HelpCategory(models.TextChoices):
    FOOD = "food", _("Food")
    MEDICINE = "medicine", _("Medicine")
    MEDICAL = "medical", _("Medical care")
    TRANSPORT = "transport", _("Transport")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")


class HelpStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled")


class HelpRequest(models.Model):
    """A request for help (求助); its pipeline is the append-only ``HelpStep`` rows (``status`` mirrors
    the last one)."""

    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        CareSubject, null=True, blank=True, on_delete=models.PROTECT, related_name="help_requests"
    )
    requester_name = models.CharField(_("requester"), max_length=60)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=10, choices=HelpSource.choices)
    category = models.CharField(_("category"), max_length=10, choices=HelpCategory.choices)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices)
    description = models.CharField(_("description"), max_length=1000)
    assignee = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("assignee")
    )
    status = models.CharField(_("status"), max_length=12, choices=HelpStatus.choices, default=HelpStatus.NEW)
    raised_at = models.DateTimeField(_("raised at"))
    due_at = models.DateTimeField(_("due at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.requester_name}"


class HelpStep(AppendOnly):
    request = models.ForeignKey(HelpRequest, on_delete=models.PROTECT, related_name="steps")
    status = models.CharField(max_length=12, choices=HelpStatus.choices)
    at = models.DateTimeField()
    by_name = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=500, blank=True)

    # ---------------------------------------------------------------- deliveries

    def __str__(self) -> str:
        return f"#{self.request_id} {self.status}"


class DeliveryKind(models.TextChoices):
    SUPPLIES = "supplies", _("Supply delivery")
    MEDICINE = "medicine", _("Medicine errand")


class DeliveryRun(models.Model):
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=DeliveryKind.choices)
    run_at = models.DateTimeField(_("time"))
    created_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("delivery run")
        verbose_name_plural = _("delivery runs")
        ordering = ["-run_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class LineStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DELIVERED = "delivered", _("Delivered")
    CONFIRMED = "confirmed", _("Confirmed by the recipient")
    FAILED = "failed", _("Failed")


class DeliveryLine(models.Model):
    run = models.ForeignKey(DeliveryRun, on_delete=models.CASCADE, related_name="lines")
    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="delivery_lines")
    item = models.CharField(_("item"), max_length=80)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.PLANNED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    help_request = models.ForeignKey(
        HelpRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="delivery_lines"
    )

    class Meta:
        verbose_name = _("delivery line")
        verbose_name_plural = _("delivery lines")

    # ---------------------------------------------------------------- consolations

    def __str__(self) -> str:
        return f"{self.subject} · {self.item} × {self.quantity}"


class ConsolationKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    PAYMENT = "payment", _("Consolation payment")


class Consolation(models.Model):
    """A consolation call, visit or payment (慰问金) to a subject or their family. A payment counts as
    paid once a second person approved it."""

    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="consolations")
    kind = models.CharField(_("kind"), max_length=8, choices=ConsolationKind.choices)
    at = models.DateTimeField(_("time"))
    to_family = models.BooleanField(_("to the family"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=12, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_name = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consolation")
        verbose_name_plural = _("consolations")
        ordering = ["-at", "-pk"]

    # ---------------------------------------------------------------- donations

    def __str__(self) -> str:
        return f"{self.subject} · {self.get_kind_display()}"


class DonationKind(models.TextChoices):
    MONEY = "money", _("Money")
    GOODS = "goods", _("Goods")


class Donation(models.Model):
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    donor = models.CharField(_("donor"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=DonationKind.choices)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        CareSubject, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    beneficiary = models.CharField(_("beneficiary"), max_length=120, blank=True)
    items = models.CharField(_("items"), max_length=500, blank=True)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    given_at = models.DateTimeField(_("time"))
    receipt = models.FileField(_("receipt"), upload_to="care/receipts/%Y/%m/", blank=True)
    recorded_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-given_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.donor} · {self.value}"


class CharityDrive(models.Model):
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    beneficiary = models.CharField(_("beneficiary"), max_length=200)
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()

    class Meta:
        verbose_name = _("charity drive")
        verbose_name_plural = _("charity drives")

    def __str__(self) -> str:
        return self.name


class DriveContribution(AppendOnly):
    drive = models.ForeignKey(CharityDrive, on_delete=models.PROTECT, related_name="contributions")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=60)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.drive} · {self.name}"


# ---------------------------------------------------------------- figures' facts (muster.care.facts)


class FactMark(models.Model):
    """One step of a care figure: ``delta`` from the instant ``at`` on, contributed by the record ``key``
    ("s:12" a subject, "h:" a help request, "l:" a delivery line, "c:" a payment, "d:" a donation)."""

    key = models.CharField(max_length=24)
    unit_path = models.CharField(max_length=255)
    figure = models.CharField(max_length=48)
    at = models.DateTimeField()
    delta = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        indexes = [
            models.Index(fields=["key"], name="care_mark_key_idx"),
            models.Index(fields=["figure", "at"], name="care_mark_fig_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.figure} {self.delta:+} @ {self.at:%Y-%m-%d %H:%M}"


class DayFact(models.Model):
    """The sum of the marks of one figure in a unit's subtree on one local day."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    figure = models.CharField(max_length=48)
    day = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "figure", "day"], name="uniq_care_dayfact"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.figure} {self.day}: {self.value}"


# ---------------------------------------------------------------- receipts


class Receipt(models.Model):
    """A receipt file (a photo or a PDF) of a delivery run, a consolation payment or a donation. The file
    lives in private storage (``muster.care.receipts``), never under a public URL; it is served only
    through the scoped, audited receipt view."""

    run = models.ForeignKey(
        DeliveryRun, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    consolation = models.ForeignKey(
        Consolation, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    donation = models.ForeignKey(
        Donation, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    unit_path = models.CharField(max_length=255, editable=False)
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=200, unique=True, editable=False)
    uploaded_at = models.DateTimeField()
    uploaded_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(run__isnull=False, consolation__isnull=True, donation__isnull=True)
                    | models.Q(run__isnull=True, consolation__isnull=False, donation__isnull=True)
                    | models.Q(run__isnull=True, consolation__isnull=True, donation__isnull=False)
                ),
                name="care_receipt_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.name


class HourFact(models.Model):
    """The sum of the marks of one figure in a unit's subtree in one local hour (``hour``: its start), so
    that the cutoff's own day is read as a few hour sums, not as its marks."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    figure = models.CharField(max_length=48)
    hour = models.DateTimeField()
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "figure", "hour"], name="uniq_care_hourfact"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.figure} {self.hour:%Y-%m-%d %H}: {self.value}"
