"""Hour buckets for the top levels, pending rows and row starts/ends in the buckets (exact clipped
hours from the rows of one window). The facts are derived data: they are recomputed from the ledger."""

import django.db.models.deletion
from django.db import migrations, models


def recompute(apps, schema_editor):
    # Derived data only: recomputed with the current rules (the same as `muster report --rebuild`).
    ServiceEntry = apps.get_model("mobilize", "ServiceEntry")
    Deployment = apps.get_model("mobilize", "Deployment")
    if not (ServiceEntry.objects.exists() or Deployment.objects.exists()):
        return
    from muster.reports import facts

    facts.rebuild()


FIELDS = ["p_rows", "p_minutes", "opened", "closed", "c_opened", "c_closed"]
ALL = ["batches", "pairs", "persons", "minutes", "c_persons", "c_minutes", *FIELDS]


class Migration(migrations.Migration):
    dependencies = [
        ("mobilize", "0003_calendarfeed"),
        ("orgs", "0002_alter_rolegrant_role"),
        ("reports", "0002_span_covering_index"),
    ]

    operations = [
        *[
            migrations.AddField(model_name="bucket", name=f, field=models.BigIntegerField(default=0))
            for f in FIELDS
        ],
        migrations.CreateModel(
            name="HourBucket",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                *[(f, models.BigIntegerField(default=0)) for f in ALL],
                ("own", models.BooleanField()),
                ("day", models.IntegerField()),
                ("slot", models.SmallIntegerField()),
                (
                    "node",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="orgs.unit",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("node", "own", "day", "slot"), name="rep_hour_bucket_key")
                ],
            },
        ),
        migrations.RemoveIndex(model_name="spanfact", name="rep_span_end_cover"),
        migrations.AddIndex(
            model_name="spanfact",
            index=models.Index(fields=["start_m", "path", "sign", "community"], name="rep_span_start"),
        ),
        migrations.AddIndex(
            model_name="spanfact",
            index=models.Index(fields=["end_m", "path", "sign", "community"], name="rep_span_end"),
        ),
        migrations.AddIndex(
            model_name="pendingfact",
            index=models.Index(fields=["start_m", "path", "minutes"], name="rep_pending_start"),
        ),
        migrations.RunPython(recompute, migrations.RunPython.noop),
    ]
