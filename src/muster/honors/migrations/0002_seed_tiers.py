"""Seed the star tiers with the national default of RULES.md: 1★ 100 h, 2★ 300 h, 3★ 600 h, 4★ 1000 h,
5★ 1500 h (《志愿服务记录与证明出具办法（试行）》 and the national volunteer service system's star rating).
An administrator changes them (some regions differ, e.g. Beijing 100/200/500/800/1000); existing rows are
never overwritten."""

from django.db import migrations

SOURCE = "全国默认标准（按累计志愿服务时长评定星级）"
TIERS = [
    (1, "一星级志愿者", 100),
    (2, "二星级志愿者", 300),
    (3, "三星级志愿者", 600),
    (4, "四星级志愿者", 1000),
    (5, "五星级志愿者", 1500),
]


def seed(apps, schema_editor):
    StarTier = apps.get_model("honors", "StarTier")
    if StarTier.objects.exists():
        return
    for level, name, hours in TIERS:
        StarTier.objects.create(level=level, name=name, min_hours=hours, source=SOURCE)


class Migration(migrations.Migration):
    dependencies = [("honors", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
