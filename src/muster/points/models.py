"""Party-building points (党建积分): rule versions, facts and the append-only point ledger.

- ``PointRule``: one *version* of the rule for a fact kind, valid on [valid_from, valid_to). A change is
  a new version; the old one is closed, never edited otherwise. Rules are data with defaults seeded
  from RULES.md (migration 0002).
- ``PointFact``: the current state of one fact emitted by another app (see ``muster.points.facts``),
  with the rule version pinned when it was first credited (old facts keep old points when a rule
  changes, until an administrator recomputes with a reason).
- ``PointEntry``: the ledger. Rows are never updated or deleted; a retracted or re-valued fact gets a
  reversing row and (if it still counts) a new credit of the next *generation*. ``(fact, generation,
  op)`` is unique, so a fact can never be credited twice in the same generation, even by two
  concurrent requests. A balance is a sum.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from muster.appendonly import AppendOnlyQuerySet
from muster.orgs.models import Person, Unit
from muster.points import engine, kinds


class CapPeriod(models.TextChoices):
    YEAR = engine.YEAR, _("Year")
    QUARTER = engine.QUARTER, _("Quarter")
    MONTH = engine.MONTH, _("Month")


class PointRule(models.Model):
    kind = models.CharField(_("fact kind"), max_length=60, db_index=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="point_rules",
        help_text=_("Empty: everywhere. Otherwise the rule applies to this organization's subtree."),
    )
    points = models.DecimalField(_("points per unit"), max_digits=8, decimal_places=2)
    cap = models.DecimalField(_("cap"), max_digits=8, decimal_places=2, null=True, blank=True)
    cap_period = models.CharField(
        _("cap period"), max_length=8, choices=CapPeriod.choices, default=CapPeriod.YEAR
    )
    cap_group = models.CharField(
        _("cap group"),
        max_length=60,
        blank=True,
        help_text=_("Kinds with the same cap group share one cap (e.g. the three meetings and one lesson)."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until (exclusive)"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    note = models.CharField(_("note or source"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")
        ordering = ["kind", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="points_rule_validity",
            ),
            models.CheckConstraint(condition=Q(cap__isnull=True) | Q(cap__gte=0), name="points_rule_cap"),
        ]

    def __str__(self) -> str:
        return f"{kinds.label(self.kind)} v{self.version} ({self.points})"

    def as_engine(self) -> engine.RuleVersion:
        return engine.RuleVersion(
            id=self.pk,
            kind=self.kind,
            points=self.points,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            cap=self.cap,
            cap_period=self.cap_period,
            cap_group=self.cap_group,
            unit_path=self.unit.path if self.unit_id and self.unit else "",
        )


class PointFact(models.Model):
    """The current state of one fact. Changed by ``muster.points.services`` only; the ledger keeps history."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("fact kind"), max_length=60)
    source_kind = models.CharField(_("source"), max_length=60)
    source_id = models.CharField(_("source id"), max_length=64)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    occurred_on = models.DateField(_("date"))
    branch = models.ForeignKey(
        Unit,
        verbose_name=_("party organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rule = models.ForeignKey(
        PointRule,
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="facts",
    )
    active = models.BooleanField(_("counts"), default=True)
    generation = models.PositiveIntegerField(default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("point fact")
        verbose_name_plural = _("point facts")
        constraints = [
            models.UniqueConstraint(
                fields=["source_kind", "source_id", "person", "kind"], name="points_fact_unique_source"
            )
        ]
        indexes = [models.Index(fields=["person", "occurred_on"])]

    def __str__(self) -> str:
        return f"{kinds.label(self.kind)} · {self.source_kind}#{self.source_id}"


class EntryOp(models.TextChoices):
    CREDIT = "credit", _("Credit")
    REVERSE = "reverse", _("Reversal")


class PointEntry(models.Model):
    """One ledger row. Never updated or deleted."""

    fact = models.ForeignKey(PointFact, on_delete=models.PROTECT, related_name="entries")
    generation = models.PositiveIntegerField()
    op = models.CharField(_("operation"), max_length=8, choices=EntryOp.choices)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="point_entries"
    )
    kind = models.CharField(_("fact kind"), max_length=60)
    occurred_on = models.DateField(_("date"), db_index=True)
    branch = models.ForeignKey(
        Unit,
        verbose_name=_("party organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rule = models.ForeignKey(
        PointRule,
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    raw_points = models.DecimalField(_("points before cap"), max_digits=10, decimal_places=2)
    points = models.DecimalField(_("points"), max_digits=10, decimal_places=2)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    batch = models.CharField(_("recompute batch"), max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fact", "generation", "op"], name="points_entry_once_per_generation"
            )
        ]
        indexes = [
            models.Index(fields=["person", "occurred_on"]),
            models.Index(fields=["branch", "occurred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.points:+} {kinds.label(self.kind)}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("PointEntry is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("PointEntry is append-only")

    @property
    def capped(self) -> bool:
        return self.op == EntryOp.CREDIT and self.points != self.raw_points
