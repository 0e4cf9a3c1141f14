"""Seed the measure catalog with the named numbers the seed articles report (editable afterwards)."""

from django.db import migrations

MEASURES = [
    # code, name (Chinese, as the catalog shows it), unit of count, order
    ("households_served", "服务户数", "户", 10),
    ("residents_tested", "协助核酸检测居民数", "人", 20),
    ("calls_answered", "接听来电数", "通", 30),
    ("calls_transferred_remote", "居家坐席转接来电数", "通", 40),
    ("checkpoint_registered", "卡点登记人数", "人", 50),
    ("temperatures_taken", "测温人数", "人", 60),
    ("vehicles_turned_back", "劝返车辆数", "辆", 70),
]


def seed(apps, schema_editor):
    MeasureKind = apps.get_model("mobilize", "MeasureKind")
    for code, name, unit_label, order in MEASURES:
        MeasureKind.objects.get_or_create(
            code=code, defaults={"name": name, "unit_label": unit_label, "order": order}
        )


def unseed(apps, schema_editor):
    MeasureKind = apps.get_model("mobilize", "MeasureKind")
    MeasureKind.objects.filter(code__in=[m[0] for m in MEASURES], values__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("mobilize", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
