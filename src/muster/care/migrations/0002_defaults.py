"""Default survey dimensions, risk tags and rules, and contact frequencies (data, editable later).

``seed`` also runs after every migrate/flush (``muster.seeding.keep_defaults``); rows present are kept.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

DIMENSIONS = [
    # code, label, kind, choices, sensitive, order
    ("health", "身体状况", "choice", ["良好", "一般", "较差", "住院"], True, 10),
    ("serious_illness", "重大疾病", "choice", ["无", "有"], True, 20),
    ("vaccine_doses", "疫苗接种剂次", "number", [], True, 30),
    ("vaccine_date", "最近接种日期", "date", [], True, 40),
    ("test_date", "最近核酸检测日期", "date", [], True, 50),
    ("test_result", "最近核酸结果", "choice", ["阴性", "阳性", "未检测"], True, 60),
    ("living", "居住情况", "choice", ["与家人同住", "独居", "养老机构", "其他"], True, 70),
    ("needs", "需求", "text", [], False, 80),
]
TAGS = [("advanced_age", "高龄", True), ("living_alone", "独居", True), ("serious_illness", "重病", True)]
RULES = [
    ("advanced_age", "age_gte", None, [80]),
    ("living_alone", "eq", "living", ["独居"]),
    ("serious_illness", "eq", "serious_illness", ["有"]),
]
FREQUENCIES = [("high", 2), ("normal", 7)]


def seed(apps: Any, schema_editor: Any) -> None:
    Dimension = apps.get_model("care", "Dimension")
    RiskTagKind = apps.get_model("care", "RiskTagKind")
    RiskRule = apps.get_model("care", "RiskRule")
    ContactFrequency = apps.get_model("care", "ContactFrequency")
    for code, label, kind, choices, sensitive, order in DIMENSIONS:
        Dimension.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "kind": kind,
                "choices": choices,
                "sensitive": sensitive,
                "order": order,
            },
        )
    for code, label, high in TAGS:
        RiskTagKind.objects.get_or_create(code=code, defaults={"label": label, "high_risk": high})
    if not RiskRule.objects.exists():
        for tag, op, dim, value in RULES:
            RiskRule.objects.create(
                tag=RiskTagKind.objects.get(code=tag),
                op=op,
                dimension=Dimension.objects.get(code=dim) if dim else None,
                value=value,
            )
    for level, days in FREQUENCIES:
        ContactFrequency.objects.get_or_create(level=level, defaults={"every_days": days})


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
