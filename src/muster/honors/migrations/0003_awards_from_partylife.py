"""Awards and commendations (``Honor``, ``HonorApproval``) come to honors from party life (issue 23, item 4).

State only: ``partylife.0004_awards_to_honors`` takes the models out of party life's state; this migration
puts them into the honors app's state on the same tables (``db_table`` ``partylife_honor`` and
``partylife_honorapproval``, the same constraint names), so no row, constraint or index is touched on any
engine (``database_operations=[]``).

The content types of the two models are renamed from ``partylife`` to ``honors`` (as Django does when a
model is renamed), so the permissions attached to them follow the models. Audit events keep the
``target_type`` they were written with (the audit log is append-only): events written before this migration
say ``partylife.honor``, later ones ``honors.honor``.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("honor", "honorapproval")


def _rename_content_types(apps: Any, schema_editor: Any, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            continue  # already there (a stale row of the old label is left to remove_stale_contenttypes)
        ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)
    ContentType.objects.clear_cache()


def forwards(apps: Any, schema_editor: Any) -> None:
    _rename_content_types(apps, schema_editor, "partylife", "honors")


def backwards(apps: Any, schema_editor: Any) -> None:
    _rename_content_types(apps, schema_editor, "honors", "partylife")


class Migration(migrations.Migration):
    dependencies = [
        ("honors", "0002_seed_tiers"),
        ("partylife", "0004_awards_to_honors"),
        ("orgs", "0002_alter_rolegrant_role"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Honor",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[("commendation", "Commendation"), ("award", "Award")],
                                max_length=12,
                                verbose_name="type",
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        (
                            "level",
                            models.CharField(
                                choices=[
                                    ("national", "National"),
                                    ("provincial", "Provincial"),
                                    ("city", "City"),
                                    ("district", "District"),
                                    ("unit", "Unit"),
                                ],
                                max_length=12,
                                verbose_name="level",
                            ),
                        ),
                        ("awarded_on", models.DateField(verbose_name="date")),
                        ("issuer", models.CharField(blank=True, max_length=200, verbose_name="issued by")),
                        (
                            "evidence",
                            models.FileField(
                                blank=True, upload_to="partylife/honors/%Y/", verbose_name="evidence"
                            ),
                        ),
                        (
                            "evidence_note",
                            models.CharField(
                                blank=True, max_length=300, verbose_name="evidence (description or link)"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft"),
                                    ("in_approval", "In approval"),
                                    ("approved", "Approved"),
                                    ("rejected", "Rejected"),
                                ],
                                default="draft",
                                max_length=12,
                                verbose_name="status",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "branch",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="proposed_honors",
                                to="orgs.unit",
                                verbose_name="proposed by",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="honors",
                                to="orgs.person",
                                verbose_name="person",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="honors",
                                to="orgs.unit",
                                verbose_name="unit",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "honor",
                        "verbose_name_plural": "honors",
                        "db_table": "partylife_honor",
                        "ordering": ["-awarded_on", "-id"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("person__isnull", False), ("unit__isnull", True)),
                                    models.Q(("person__isnull", True), ("unit__isnull", False)),
                                    _connector="OR",
                                ),
                                name="partylife_honor_person_xor_unit",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="HonorApproval",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("step", models.PositiveSmallIntegerField(verbose_name="step")),
                        ("approved", models.BooleanField(verbose_name="approved")),
                        ("opinion", models.CharField(blank=True, max_length=300, verbose_name="opinion")),
                        ("actor_name", models.CharField(blank=True, max_length=150, verbose_name="by")),
                        ("at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "honor",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="approvals",
                                to="honors.honor",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="orgs.unit",
                                verbose_name="approving organization",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "honor approval",
                        "verbose_name_plural": "honor approvals",
                        "db_table": "partylife_honorapproval",
                        "ordering": ["honor", "step"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("honor", "step"), name="partylife_honor_step_once"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
