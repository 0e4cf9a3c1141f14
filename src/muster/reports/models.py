"""Reports: the rollup's maintained facts and day buckets, and frozen snapshots.

The fast path (see ``muster.reports.rollup``) never scans the ledger. It reads:

- *facts*: one row per thing a figure counts, with its instant as whole minutes since the Unix epoch
  (UTC) and the unit it is attributed to (its materialized ``path``, so a subtree is a prefix):
  ``BatchFact`` (an active batch, at its start), ``PairFact`` (a (person, batch) pair with approved
  service, at the start of its first live interval), ``PersonFact`` (a person's first live dispatch
  service under a unit), ``CommunityFact`` (a person's first live community service), ``SpanFact``
  (an approved ledger row with sign ±1: its interval, split by local day) and ``PendingFact`` (a
  ledger row waiting for a decision);
- *buckets*: per (unit, scope, local day) sums of those facts, for every ancestor of the unit the fact
  is attributed to (scope "tree") and for that unit itself (scope "own");
- *hour buckets*: the same sums per local hour of the day, kept only for the units of the top levels
  (depth ≤ ``settings.MUSTER_ROLLUP_HOUR_DEPTH``, whose subtrees hold most of the ledger), so that a
  cutoff in the middle of a day reads the facts of one hour, not of a whole day.

Besides the figures shown, a bucket holds ``opened``/``closed`` (the signed number of approved rows
starting / ending in it, counted at the minute before; ``c_`` for community service): a cutoff's
clipped hours are then exact from the rows starting or ending between the bucket edge and the cutoff
(see ``muster.reports.rollup``), and ``p_rows``/``p_minutes`` (pending rows, by their start).

Facts and buckets are derived data: ``muster.reports.facts`` keeps them in step with the ledger (a
ledger row is queued in ``FoldQueue`` by the transaction that writes it and folded by ``facts.fold()``,
on the worker and before every report read), and ``facts.rebuild()`` recomputes them from scratch.

``Snapshot`` is a published report: written once, never changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muster.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from muster.mobilize.models import Deployment, ServiceEntry
from muster.orgs.models import Person, Unit


class Fact(models.Model):
    """Derived rows of the rollup (no user-facing meaning of their own)."""

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.model_name} {self.pk}"


class BatchFact(Fact):
    """An active batch, counted from its start."""

    deployment = models.OneToOneField(
        Deployment, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    path = models.CharField(max_length=255)
    start_m = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["start_m", "path"], name="rep_batch_start")]


class SpanFact(Fact):
    """An approved ledger row (sign ±1) of a batch or of community service.

    ``min0`` minutes fall on local day ``day0``, ``min1`` on the next day (an entry is at most 24 hours).
    """

    row = models.OneToOneField(ServiceEntry, primary_key=True, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    path = models.CharField(max_length=255)
    community = models.BooleanField()
    sign = models.SmallIntegerField()
    start_m = models.BigIntegerField()
    end_m = models.BigIntegerField()
    day0 = models.IntegerField()
    min0 = models.IntegerField()
    min1 = models.IntegerField()

    class Meta:
        # Covering: the rollup reads the rows starting (ending) between a bucket edge and the cutoff
        # through these, from the index alone (with the heap, the rows of one hour lie scattered over the
        # table and a 10M-row ledger costs a random read per row).
        indexes = [
            models.Index(fields=["start_m", "path", "sign", "community"], name="rep_span_start"),
            models.Index(fields=["end_m", "path", "sign", "community"], name="rep_span_end"),
        ]


class PairFact(Fact):
    """A (person, batch) pair with live approved service, from the start of its first live interval."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+", db_index=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    path = models.CharField(max_length=255)
    first_m = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "person"], name="rep_pair_uniq")]
        indexes = [models.Index(fields=["first_m", "path"], name="rep_pair_first")]


class PersonFact(Fact):
    """A person's first live dispatch service in batches of ``node``'s subtree (or of ``node`` itself)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    own = models.BooleanField()
    first_m = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "node", "own"], name="rep_person_uniq")]
        indexes = [models.Index(fields=["node", "own", "first_m"], name="rep_person_node")]


class CommunityFact(Fact):
    """A person's first live community service, attributed to their home unit."""

    person = models.OneToOneField(Person, primary_key=True, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    path = models.CharField(max_length=255)
    first_m = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["first_m", "path"], name="rep_comm_first")]


class PendingFact(Fact):
    """A ledger row waiting for a decision (a record or a correction request), shown apart."""

    row = models.OneToOneField(ServiceEntry, primary_key=True, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    path = models.CharField(max_length=255, db_index=True)
    community = models.BooleanField()
    start_m = models.BigIntegerField()
    minutes = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["start_m", "path", "minutes"], name="rep_pending_start")]


BUCKET_FIGURES = (
    "batches", "pairs", "persons", "minutes", "c_persons", "c_minutes",
    "p_rows", "p_minutes", "opened", "closed", "c_opened", "c_closed",
)  # fmt: skip


class BucketFigures(Fact):
    """The summed figures of a bucket (see the module docstring)."""

    batches = models.BigIntegerField(default=0)
    pairs = models.BigIntegerField(default=0)
    persons = models.BigIntegerField(default=0)
    minutes = models.BigIntegerField(default=0)
    c_persons = models.BigIntegerField(default=0)
    c_minutes = models.BigIntegerField(default=0)
    p_rows = models.BigIntegerField(default=0)
    p_minutes = models.BigIntegerField(default=0)
    opened = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    c_opened = models.BigIntegerField(default=0)
    c_closed = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class Bucket(BucketFigures):
    """Sums of the facts of one local day for a unit's subtree (``own=False``) or the unit alone."""

    node = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    own = models.BooleanField()
    day = models.IntegerField()  # proleptic Gregorian ordinal of the local date

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "own", "day"], name="rep_bucket_key")]
        # PostgreSQL: the rollup's range over a node's days answered from the index alone (the rows of
        # one node lie one per day all over the table). SQLite has no INCLUDE: the index is not made
        # there, and its unique index serves the range (see SILENCED_SYSTEM_CHECKS).
        indexes = [
            models.Index(fields=["node", "own", "day"], include=BUCKET_FIGURES, name="rep_bucket_cover")
        ]


class HourBucket(BucketFigures):
    """Sums of the facts of one local hour (``slot`` hours after the day's local midnight), for the
    units of the top levels only (depth ≤ ``settings.MUSTER_ROLLUP_HOUR_DEPTH``)."""

    node = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_index=False)
    own = models.BooleanField()
    day = models.IntegerField()
    slot = models.SmallIntegerField()  # 0..23 (24 on the long day of a summer-time change)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "own", "day", "slot"], name="rep_hour_bucket_key")
        ]
        indexes = [
            models.Index(fields=["node", "own", "day", "slot"], include=BUCKET_FIGURES, name="rep_hour_cover")
        ]


class FoldQueue(models.Model):
    """A ledger row written but not yet folded into the facts and buckets (``facts.fold``).

    The check-in/out path only appends here (one small insert, no lock shared with other volunteers);
    ``facts.fold()`` — a ``muster worker`` task, and every report read before it reads — folds the
    queued rows in the order they were written and deletes them in the same transaction.
    """

    row = models.OneToOneField(ServiceEntry, primary_key=True, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"fold {self.pk}"


class RollupState(models.Model):
    """What the maintained facts were built with (``hour_depth``: the units down to that depth have
    hour buckets with their whole history, set by ``facts.rebuild()``)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class Snapshot(AppendOnlyModel):
    """A published report: the figures of a unit as of a cutoff, frozen when published.

    Written once and never changed or deleted; the page compares it with the live figures.
    """

    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    as_of = models.DateTimeField(_("as of"))
    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    figures = models.JSONField(_("figures"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_by_name = models.CharField(_("published by"), max_length=150)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("published report")
        verbose_name_plural = _("published reports")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"<Snapshot {self.pk} {self.unit_id} {self.as_of}>"
