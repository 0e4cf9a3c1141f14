"""``insert_many``: rows in bulk with the backend's own adaptation of dates, JSON and addresses."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from muster.audit.models import AuditEvent
from muster.orgs.models import Tag
from muster.tabular.bulk import insert_many

pytestmark = pytest.mark.django_db

FIELDS = ["at", "actor_name", "action", "changes", "ip", "channel", "batch", "unit_path", "target_type",
          "target_id", "target_repr"]  # fmt: skip


def test_rows_come_back_as_the_orm_would_have_written_them():
    now = timezone.now()
    rows = [
        (now, "x", "test.a", {"k": [1, "中文"], "n": None}, "10.0.0.1", "cli", "b1", "0001", "", "", ""),
        (now, "y", "test.b", {}, None, "web", "b1", "", "", "", ""),
    ]
    assert insert_many(AuditEvent, FIELDS, rows, chunk=1) == 2
    a = AuditEvent.objects.get(action="test.a")
    assert (a.at, a.changes, a.ip, a.channel, a.unit_path) == (
        now,
        {"k": [1, "中文"], "n": None},
        "10.0.0.1",
        "cli",
        "0001",
    )
    b = AuditEvent.objects.get(action="test.b")
    assert (b.ip, b.changes, b.actor_id) == (None, {}, None)


def test_a_clash_is_djangos_integrity_error_and_rolls_back():
    insert_many(Tag, ["name"], [("甲",), ("乙",)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(Tag, ["name"], [("丙",), ("甲",)])
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["乙", "甲"]
