"""Volunteer records, certificates (志愿服务记录证明) and star tiers (星级志愿者); awards and commendations
(表彰: ``Honor`` with its approval chain, moved here from party life).

Approved service hours live in the mobilization ledger; this app only reads them (``muster.honors.queries``).
What it keeps: the star-tier thresholds (data, seeded with the national defaults of RULES.md and editable by
administrators), the tiers a person has reached (so reaching one is announced once), and certificates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from muster.orgs.models import Person, Unit


class StarTier(models.Model):
    """A star tier: reached with ``min_hours`` approved service hours or more (RULES.md)."""

    level = models.PositiveSmallIntegerField(_("stars"), unique=True)
    name = models.CharField(_("name"), max_length=40)
    min_hours = models.PositiveIntegerField(_("hours needed"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("star tier")
        verbose_name_plural = _("star tiers")
        ordering = ["level"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1), name="honors_tier_level_positive"),
            models.CheckConstraint(condition=Q(min_hours__gte=1), name="honors_tier_hours_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class StarReached(models.Model):
    """A person reached a tier (first time): the notice was sent once. The tier *as of a date* is always
    computed from the ledger; this row only remembers the announcement."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="stars_reached")
    level = models.PositiveSmallIntegerField(_("stars"))
    minutes = models.PositiveIntegerField(_("approved minutes"))
    reached_at = models.DateTimeField(_("reached at"))

    class Meta:
        verbose_name = _("star tier reached")
        verbose_name_plural = _("star tiers reached")
        constraints = [models.UniqueConstraint(fields=["person", "level"], name="honors_uniq_person_level")]

    def __str__(self) -> str:
        return f"{self.person_id} ★{self.level}"


class CertificateStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")
    REJECTED = "rejected", _("Request rejected")
    REVOKED = "revoked", _("Revoked")


class Certificate(models.Model):
    """A volunteer service record certificate. Its contents are frozen when it is issued.

    ``serial`` is the human certificate number (证明编号, per issuing unit and year); ``token`` is the random,
    unguessable key of the public verification page (``/verify/<token>/``) and of its QR code.
    """

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="certificates"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CertificateStatus.choices, default=CertificateStatus.REQUESTED
    )
    as_of = models.DateTimeField(_("hours as of"))
    issuing_unit = models.ForeignKey(
        Unit, verbose_name=_("issuing unit"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    seq = models.PositiveIntegerField(_("number in year"), null=True, blank=True)
    serial = models.CharField(_("certificate number"), max_length=60, null=True, blank=True, unique=True)
    token = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # frozen contents (RULES.md: name, ID type and number, volunteer number, hours and content, issuer…)
    name = models.CharField(_("name"), max_length=60, blank=True)
    id_type = models.CharField(_("ID type"), max_length=30, blank=True)
    id_number_enc = models.CharField(max_length=120, blank=True, editable=False)
    volunteer_number = models.CharField(_("volunteer number"), max_length=40, blank=True)
    minutes = models.PositiveIntegerField(_("approved minutes"), default=0)
    period_start = models.DateField(_("service from"), null=True, blank=True)
    period_end = models.DateField(_("service until"), null=True, blank=True)
    content = models.TextField(_("service content"), blank=True)
    person_in_charge = models.CharField(_("person in charge"), max_length=60, blank=True)
    handler = models.CharField(_("handler"), max_length=60, blank=True)
    contact = models.CharField(_("contact"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_by_name = models.CharField(max_length=150, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    decided_reason = models.CharField(_("reason"), max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason for revocation"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer record certificate")
        verbose_name_plural = _("volunteer record certificates")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuing_unit", "year", "seq"], name="honors_uniq_certificate_number"
            ),
        ]

    def __str__(self) -> str:
        return self.serial or f"#{self.pk}"

    @property
    def hours(self) -> float:
        return self.minutes / 60


# ---------------------------------------------------------------- awards and commendations (表彰)
# Moved here from party life (issue 23, item 4) without touching the database: the tables and constraints
# keep their ``partylife_*`` names (``honors/migrations/0003_awards_from_partylife``).


class HonorKind(models.TextChoices):
    COMMENDATION = "commendation", _("Commendation")
    AWARD = "award", _("Award")


class HonorLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCIAL = "provincial", _("Provincial")
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    UNIT = "unit", _("Unit")


class HonorStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_APPROVAL = "in_approval", _("In approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Honor(models.Model):
    """A commendation (通报表扬) or award to a person or a unit, proposed by a party organization and
    approved up the chain of party committees above it (see ``muster.honors.awards.honor_chain``)."""

    kind = models.CharField(_("type"), max_length=12, choices=HonorKind.choices)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=12, choices=HonorLevel.choices)
    awarded_on = models.DateField(_("date"))
    issuer = models.CharField(_("issued by"), max_length=200, blank=True)
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="honors",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="honors"
    )
    branch = models.ForeignKey(
        Unit, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="proposed_honors"
    )
    # the files already stored keep their place; new ones go beside them
    evidence = models.FileField(_("evidence"), upload_to="partylife/honors/%Y/", blank=True)
    evidence_note = models.CharField(_("evidence (description or link)"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=HonorStatus.choices, default=HonorStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "partylife_honor"
        verbose_name = _("honor")
        verbose_name_plural = _("honors")
        ordering = ["-awarded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(unit__isnull=True))
                | (Q(person__isnull=True) & Q(unit__isnull=False)),
                name="partylife_honor_person_xor_unit",
            )
        ]

    def __str__(self) -> str:
        return self.name


class HonorApproval(models.Model):
    """One step of an honor's approval chain (never changed)."""

    honor = models.ForeignKey(Honor, on_delete=models.CASCADE, related_name="approvals")
    step = models.PositiveSmallIntegerField(_("step"))
    unit = models.ForeignKey(
        Unit, verbose_name=_("approving organization"), on_delete=models.PROTECT, related_name="+"
    )
    approved = models.BooleanField(_("approved"))
    opinion = models.CharField(_("opinion"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "partylife_honorapproval"
        verbose_name = _("honor approval")
        verbose_name_plural = _("honor approvals")
        ordering = ["honor", "step"]
        constraints = [models.UniqueConstraint(fields=["honor", "step"], name="partylife_honor_step_once")]

    def __str__(self) -> str:
        return f"{self.honor_id} step {self.step}"
