"""The move of ``Honor``/``HonorApproval`` from party life to honors is state-only (issue 23, item 4):
rows written under the old state survive with their ids, foreign keys and constraints, the content types
(and the permissions on them) follow the models, and the migration state matches the models. Runs on the
engine of the test database (SQLite by default; PostgreSQL with ``DATABASE_URL``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from muster.honors import awards
from muster.honors.models import Honor, HonorApproval, HonorStatus
from muster.points.facts import providers
from muster.points.queries import ledger_balances

BEFORE = [("partylife", "0003_ordering_ties"), ("honors", "0002_seed_tiers")]
TABLES = ("partylife_honor", "partylife_honorapproval")


def _schema() -> dict[str, Any]:
    with connection.cursor() as cursor:
        return {
            table: (
                sorted(c.name for c in connection.introspection.get_table_description(cursor, table)),
                sorted(
                    name
                    for name, c in connection.introspection.get_constraints(cursor, table).items()
                    if c["check"] or c["unique"] or c["foreign_key"]
                ),
            )
            for table in TABLES
        }


def _forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_survive_it(org: Any, make_user: Any) -> None:
    schema_now = _schema()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        with pytest.raises(LookupError):
            old.get_model("honors", "Honor")
        OldHonor = old.get_model("partylife", "Honor")
        OldApproval = old.get_model("partylife", "HonorApproval")
        ct = ContentType.objects.get(app_label="partylife", model="honor")  # renamed back on the way down
        ContentType.objects.clear_cache()
        assert _schema() == schema_now  # the way down touched no table
        honor = OldHonor.objects.create(
            kind="award",
            name="优秀共产党员",
            level="district",
            awarded_on=date(2024, 6, 30),
            person_id=org.alice.pk,
            branch_id=org.xuhui_branch.pk,
            evidence_note="徐税党〔2024〕5号",
            status="approved",
        )
        OldApproval.objects.create(
            honor_id=honor.pk, step=0, unit_id=org.xuhui_committee.pk, approved=True, actor_name="xhdw"
        )
        pending = OldHonor.objects.create(
            kind="commendation",
            name="通报表扬",
            level="unit",
            awarded_on=date(2024, 5, 1),
            unit_id=org.xuhui_office.pk,
            branch_id=org.xuhui_branch.pk,
            evidence_note="文件",
            status="in_approval",
        )
    finally:
        _forward()

    assert _schema() == schema_now  # the way up touched no table either
    ContentType.objects.clear_cache()
    moved = Honor.objects.get(pk=honor.pk)
    assert (moved.name, moved.person_id, moved.branch_id, moved.status) == (
        "优秀共产党员",
        org.alice.pk,
        org.xuhui_branch.pk,
        HonorStatus.APPROVED,
    )
    assert list(moved.approvals.values_list("step", "unit_id", "approved")) == [
        (0, org.xuhui_committee.pk, True)
    ]
    assert HonorApproval.objects.count() == 1 and Honor.objects.count() == 2
    # the content type is the same row under the new label, and its permissions went with it
    assert ContentType.objects.get_for_model(Honor).pk == ct.pk
    assert not ContentType.objects.filter(
        app_label="partylife", model__in=["honor", "honorapproval"]
    ).exists()
    assert Permission.objects.filter(content_type_id=ct.pk, codename="change_honor").exists()
    # the old rows work with the new code: the recomputation finds the approved one's points, and the
    # pending one goes on up its chain
    facts = list(providers()["partylife.honor"](2024))
    assert [(f.person_id, f.kind, f.source_id) for f in facts] == [
        (org.alice.pk, "award.district", str(honor.pk))
    ]
    committee = make_user("xhdw", "secretary", org.xuhui_committee)
    awards.honor_decide(actor=committee, honor=Honor.objects.get(pk=pending.pk), approve=True)
    assert Honor.objects.get(pk=pending.pk).status == HonorStatus.APPROVED
    assert ledger_balances(2024) == {}  # a commendation to a unit earns no one points


@pytest.mark.django_db
def test_the_migration_state_matches_the_models() -> None:
    call_command("makemigrations", "honors", "partylife", "--check", "--dry-run", verbosity=0)
    assert (
        Honor._meta.db_table == "partylife_honor"
        and HonorApproval._meta.db_table == "partylife_honorapproval"
    )
