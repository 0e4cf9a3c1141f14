"""Importing historical ledgers (派出批次 / 服务记录): good files, every bad input, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from muster.audit.models import AuditEvent
from muster.mobilize import queries
from muster.mobilize.ledger_io import ledger_import
from muster.mobilize.models import Deployment, DeploymentMember, EntrySource, ServiceEntry
from muster.orgs.models import Partner, Person
from muster.tabular.errors import TabularError

from .conftest import DEP_HEADERS, SVC_HEADERS, at, csv_file, xlsx

pytestmark = pytest.mark.django_db

DEPLOYMENTS = [
    ["XH-2022-01", "XH", "协助核酸检测", "宛平社区", "2022-03-18 06:00", "2022-03-19 06:00"],
    ["XH-2022-02", "XH", "卡口值守", "XH-P1", "2022/3/20 8:00", "2022年3月21日 8时"],
]
SERVICE = [
    ["XH0001", "XH-2022-01", "2022-03-18 08:00", "2022-03-18 24:00", "派出", ""],
    ["XH0002", "XH-2022-01", datetime(2022, 3, 18, 8, 0), datetime(2022, 3, 18, 16, 0), "dispatch", "已审核"],
    ["XH0002", "XH-2022-02", "2022年3月20日 8时", "2022年3月20日20时30分", "派出", "待审核"],
    ["XH0001", "", 44652.375, 44652.5, "居家社区服务", ""],  # 2022-04-01 09:00–12:00 (Excel serials)
]


def post_file(client: Client, name: str, data: bytes, **params: Any) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(
        f"/api/v1/mobilize/import{'?' + query if query else ''}", {"file": SimpleUploadedFile(name, data)}
    )


def test_good_file_through_the_api_then_reimport_changes_nothing(
    org: Any, cast: Any, partner: Any, login: Callable[[Any], Client]
) -> None:
    client = login(cast.leader)
    data = xlsx(DEPLOYMENTS, SERVICE)
    r = post_file(client, "台账.xlsx", data)
    assert r.status_code == 200, r.json()
    assert r.json() == {
        "deployments_created": 2,
        "deployments_updated": 0,
        "deployments_unchanged": 0,
        "partners_created": 1,
        "members_added": 3,
        "entries_created": 4,
        "entries_unchanged": 0,
        "dry_run": False,
    }
    d1 = Deployment.objects.get(code="XH-2022-01")
    d2 = Deployment.objects.get(code="XH-2022-02")
    assert (d1.seq, d2.seq) == (1, 2) and d1.unit == org.xuhui
    assert d1.partner is not None and d1.partner.name == "宛平社区" and d1.partner.kind == "other"
    assert d1.partner.unit == org.xuhui and d1.site == "宛平社区"
    assert d2.partner == partner and d2.end == at("2022-03-21 08:00")
    assert set(d1.members.values_list("code", flat=True)) == {"XH0001", "XH0002"}
    alice = ServiceEntry.objects.filter(person=org.alice).order_by("start")
    assert [(e.start, e.end, e.minutes, e.sign, e.source) for e in alice] == [
        (at("2022-03-18 08:00"), at("2022-03-19 00:00"), 960, 1, EntrySource.IMPORT),
        (at("2022-04-01 09:00"), at("2022-04-01 12:00"), 180, 1, EntrySource.IMPORT),
    ]
    assert alice[1].kind == "community" and alice[1].deployment is None
    bob_pending = queries.person_pending(org.bob).get()
    assert bob_pending.minutes == 750 and bob_pending.deployment == d2
    assert queries.balance(org.alice) == 1140 and queries.balance(org.bob) == 480
    events = AuditEvent.objects.filter(channel="api")
    assert events.filter(action="mobilize.entry.recorded").count() == 4
    assert events.filter(action="mobilize.deployment.dispatched").count() == 2
    assert events.filter(action="orgs.partner.created").count() == 1
    summary = events.get(action="mobilize.ledger.imported")
    assert summary.changes["entries_created"] == 4 and summary.unit_path == org.xuhui.path

    counts = (Deployment.objects.count(), ServiceEntry.objects.count(), Partner.objects.count())
    events_before = AuditEvent.objects.exclude(action="mobilize.ledger.imported").count()
    again = post_file(client, "台账.xlsx", data)
    assert again.status_code == 200
    assert again.json() == {
        "deployments_created": 0,
        "deployments_updated": 0,
        "deployments_unchanged": 2,
        "partners_created": 0,
        "members_added": 0,
        "entries_created": 0,
        "entries_unchanged": 4,
        "dry_run": False,
    }
    assert (Deployment.objects.count(), ServiceEntry.objects.count(), Partner.objects.count()) == counts
    assert AuditEvent.objects.exclude(action="mobilize.ledger.imported").count() == events_before


def test_dry_run_writes_nothing(org: Any, cast: Any, partner: Any) -> None:
    result = ledger_import(
        actor=cast.leader, filename="l.xlsx", data=xlsx(DEPLOYMENTS, SERVICE), dry_run=True
    )
    assert result.entries_created == 4 and result.dry_run
    assert Deployment.objects.count() == 0 and ServiceEntry.objects.count() == 0


def errors_of(actor: Any, data: bytes, name: str = "l.xlsx") -> list[Any]:
    with pytest.raises(TabularError) as exc:
        ledger_import(actor=actor, filename=name, data=data)
    return exc.value.errors


def test_service_row_of_a_failing_batch_row_refuses_the_whole_import(
    org: Any, cast: Any, partner: Any
) -> None:
    deployments = [
        DEPLOYMENTS[0],
        ["XH-2022-02", "NOPE", "卡口值守", "XH-P1", "2022-03-20 08:00", "2022-03-21 08:00"],
    ]
    errors = errors_of(cast.leader, xlsx(deployments, SERVICE))
    where = {(e.sheet, e.row, e.column) for e in errors}
    assert ("派出批次", 3, "派出单位编码") in where
    svc = next(e for e in errors if e.sheet == "服务记录")
    assert (svc.row, svc.column, svc.value) == (4, "批次编号", "XH-2022-02")
    assert "row 3" in svc.reason
    assert Deployment.objects.count() == 0 and ServiceEntry.objects.count() == 0
    assert Partner.objects.count() == 1 and DeploymentMember.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (["XH9999", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", ""], "工号", "XH9999"),
        (["HP0001", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", ""], "工号", "HP0001"),
        (["XH0001", "XH-404", "2022-04-01 09:00", "2022-04-01 10:00", "派出", ""], "批次编号", "XH-404"),
        (
            ["XH0001", "", "2022-04-01 10:00", "2022-04-01 09:00", "居家社区服务", ""],
            "结束时间",
            "after the start",
        ),
        (["XH0001", "", "2022-04-01 09:00", "2022-04-02 10:00", "居家社区服务", ""], "结束时间", "24 hours"),
        (
            ["XH0001", "", "2022-04-01 9点半", "2022-04-01 10:00", "居家社区服务", ""],
            "开始时间",
            "not a date",
        ),
        (
            ["XH0001", "", "2022-02-30 09:00", "2022-04-01 10:00", "居家社区服务", ""],
            "开始时间",
            "not a real",
        ),
        (["XH0001", "", "2099-04-01 09:00", "2099-04-01 10:00", "居家社区服务", ""], "结束时间", "future"),
        (["XH0001", "", "2022-04-01 09:00", "2022-04-01 10:00", "打麻将", ""], "服务类型", "unknown value"),
        (["XH0001", "", "2022-04-01 09:00", "2022-04-01 10:00", "派出", ""], "批次编号", "names its batch"),
        (
            ["XH0001", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", "差不多"],
            "状态",
            "unknown value",
        ),
        (["", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", ""], "工号", "required"),
        (["XH0001", "", "", "2022-04-01 10:00", "居家社区服务", ""], "开始时间", "required"),
    ],
)
def test_each_bad_service_row(org: Any, cast: Any, row: list[Any], column: str, fragment: str) -> None:
    errors = errors_of(cast.leader, xlsx(None, [row]))
    assert [(e.sheet, e.row, e.column) for e in errors] == [("服务记录", 2, column)]
    assert fragment in errors[0].reason or fragment in errors[0].value
    assert ServiceEntry.objects.count() == 0


def test_community_service_with_a_batch_is_refused(org: Any, cast: Any, batch: Any) -> None:
    row = ["XH0001", "XH-001", "2022-03-12 08:00", "2022-03-12 10:00", "居家社区服务", ""]
    errors = errors_of(cast.leader, xlsx(None, [row]))
    assert [(e.row, e.column) for e in errors] == [(2, "服务类型")]


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        (["", "XH", "t", "", "2022-03-18 06:00", "2022-03-18 08:00"], "required"),
        (["B1", "HP", "t", "", "2022-03-18 06:00", "2022-03-18 08:00"], "no unit"),  # out of scope
        (["B1", "XH", "", "", "2022-03-18 06:00", "2022-03-18 08:00"], "task"),
        (["B1", "XH", "t", "", "2022-03-18 09:00", "2022-03-18 08:00"], "after the start"),
        (["B1", "XH", "t", "", "2022-03-18 25:00", "2022-03-18 08:00"], "not a real"),
        (["XH-001", "XH-S1", "t", "", "2022-03-18 06:00", "2022-03-18 08:00"], "cannot change"),
    ],
)
def test_each_bad_batch_row(org: Any, cast: Any, batch: Any, row: list[Any], fragment: str) -> None:
    errors = errors_of(cast.leader, xlsx([row], None))
    assert len(errors) == 1 and errors[0].sheet == "派出批次" and errors[0].row == 2
    assert fragment in errors[0].reason
    assert Deployment.objects.count() == 1


def test_duplicate_batch_and_overlaps_in_the_file_and_with_the_database(
    org: Any, cast: Any, batch: Any
) -> None:
    deployments = [
        ["B1", "XH", "t", "", "2022-03-18 06:00", "2022-03-18 20:00"],
        ["B1", "XH", "t", "", "2022-03-19 06:00", "2022-03-19 20:00"],
        ["B2", "XH", "t", "", "2022-03-18 12:00", "2022-03-18 22:00"],
    ]
    service = [
        ["XH0002", "B1", "2022-03-18 08:00", "2022-03-18 12:00", "派出", ""],
        ["XH0002", "B1", "2022-03-18 11:00", "2022-03-18 13:00", "派出", ""],  # overlaps row 2
        ["XH0001", "B1", "2022-03-18 08:00", "2022-03-18 09:00", "派出", ""],
        ["XH0001", "B2", "2022-03-18 13:00", "2022-03-18 14:00", "派出", ""],  # B1 and B2 overlap for alice
    ]
    errors = errors_of(cast.leader, xlsx(deployments, service))
    got = {(e.sheet, e.row, e.column) for e in errors}
    assert ("派出批次", 3, "批次编号") in got  # the second B1
    assert ("服务记录", 3, "开始时间") in got  # overlapping entries of bob
    assert ("服务记录", 5, "批次编号") in got  # alice in two overlapping batches
    assert len(errors) == 3


def test_overlap_with_an_entry_already_recorded(org: Any, cast: Any, batch: Any) -> None:
    from muster.mobilize import services

    services.entry_record(
        actor=cast.leader,
        person=org.bob,
        kind="dispatch",
        deployment=batch.deployment,
        start=at("2022-03-12 08:00"),
        end=at("2022-03-12 16:00"),
    )
    row = ["XH0002", "XH-001", "2022-03-12 15:00", "2022-03-12 17:00", "派出", ""]
    errors = errors_of(cast.leader, xlsx(None, [row]))
    assert [(e.row, e.column) for e in errors] == [(2, "开始时间")]
    assert "XH-001" in errors[0].reason
    # the very same entry again is not an overlap: it is recognized and left alone
    same = ["XH0002", "XH-001", "2022-03-12 08:00", "2022-03-12 16:00", "派出", ""]
    result = ledger_import(actor=cast.leader, filename="l.xlsx", data=xlsx(None, [same]))
    assert (result.entries_created, result.entries_unchanged) == (0, 1)


def test_rights(org: Any, cast: Any, batch: Any) -> None:
    with pytest.raises(PermissionDenied):  # a viewer may neither dispatch nor approve
        ledger_import(actor=cast.viewer, filename="l.xlsx", data=xlsx(DEPLOYMENTS[:1], None))
    # the branch secretary approves alice's community service but does not dispatch batches
    errors = errors_of(cast.secretary, xlsx(DEPLOYMENTS[:1], None))
    assert [(e.row, e.column) for e in errors] == [(2, "派出单位编码")]
    ok = ["XH0001", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", ""]
    assert ledger_import(actor=cast.secretary, filename="l.xlsx", data=xlsx(None, [ok])).entries_created == 1
    # nobody approves their own service: alice (a leader of nothing) may only file it pending
    Person.objects.filter(pk=org.bob.pk).update(user=cast.leader)
    own = ["XH0002", "", "2022-04-01 09:00", "2022-04-01 10:00", "居家社区服务", "已审核"]
    errors = errors_of(cast.leader, xlsx(None, [own]))
    assert [(e.row, e.column) for e in errors] == [(2, "状态")]
    own[5] = "待审核"
    assert ledger_import(actor=cast.leader, filename="l.xlsx", data=xlsx(None, [own])).entries_created == 1
    assert queries.balance(org.bob) == 0


def test_missing_column_and_wrong_file(org: Any, cast: Any) -> None:
    data = csv_file(["工号", "批次编号", "开始时间"], [["XH0001", "", "2022-04-01 09:00"]])
    errors = errors_of(cast.leader, data, "service.csv")
    assert any(e.column == "End" or e.column == "结束时间" for e in errors)
    errors = errors_of(cast.leader, b"%PDF-1.4 not a ledger", "l.xlsx")
    assert errors[0].row is None


def test_time_formats_in_a_csv(org: Any, cast: Any, batch: Any) -> None:
    rows = [
        ["XH0001", "", "2022-03-18 20:00", "2022-03-18 24:00", "居家社区服务", ""],
        ["XH0001", "", "2022/3/19 8:00", "2022/3/19 9:30", "community", ""],
        ["XH0001", "", "2022年3月20日 8时", "2022年3月20日 10时15分", "社区服务", ""],
        ["XH0001", "", "2022.3.21 08:00", "2022-03-21T10:00:00+08:00", "居家社区服务", ""],
        ["XH0001", "", "44652.375", "44652.5", "居家社区服务", "pending"],
        ["XH0001", "", "２０２２－０３－２２　０８：００", "2022-03-22 08:59:59", "居家社区服务", ""],
    ]
    result = ledger_import(actor=cast.leader, filename="service.csv", data=csv_file(SVC_HEADERS, rows))
    assert result.entries_created == 6
    got = [(e.start, e.end) for e in ServiceEntry.objects.filter(person=org.alice).order_by("start")]
    assert got == [
        (at("2022-03-18 20:00"), at("2022-03-19 00:00")),
        (at("2022-03-19 08:00"), at("2022-03-19 09:30")),
        (at("2022-03-20 08:00"), at("2022-03-20 10:15")),
        (at("2022-03-21 08:00"), at("2022-03-21 10:00")),
        (at("2022-03-22 08:00"), at("2022-03-22 08:59")),  # truncated to the minute
        (at("2022-04-01 09:00"), at("2022-04-01 12:00")),
    ]


def test_batches_csv_and_a_changed_batch(org: Any, cast: Any, partner: Any) -> None:
    data = csv_file(DEP_HEADERS, [DEPLOYMENTS[1]])
    assert ledger_import(actor=cast.leader, filename="b.csv", data=data).deployments_created == 1
    changed = csv_file(DEP_HEADERS, [[*DEPLOYMENTS[1][:2], "卡口值守(夜)", *DEPLOYMENTS[1][3:]]])
    result = ledger_import(actor=cast.leader, filename="b.csv", data=changed)
    assert (result.deployments_updated, result.deployments_created) == (1, 0)
    assert Deployment.objects.get(code="XH-2022-02").title == "卡口值守(夜)"
    assert AuditEvent.objects.filter(action="mobilize.deployment.updated").count() == 1


def test_big_ledger_uses_bulk_writes(org: Any, cast: Any, django_assert_max_num_queries: Any) -> None:
    people = [Person(code=f"XH9{i:03d}", name=f"志愿者{i}", unit=org.xuhui) for i in range(150)]
    Person.objects.bulk_create(people)
    deployments = [
        [f"B{d:02d}", "XH", f"第{d}批", "宛平社区", f"2022-03-{d:02d} 06:00", f"2022-03-{d:02d} 22:00"]
        for d in range(1, 21)
    ]
    service = [
        [p.code, f"B{d:02d}", f"2022-03-{d:02d} 08:00", f"2022-03-{d:02d} 16:00", "派出", ""]
        for d in range(1, 21)
        for p in people
    ]
    data = xlsx(deployments, service)
    with django_assert_max_num_queries(120):
        result = ledger_import(actor=cast.leader, filename="big.xlsx", data=data)
    assert result.entries_created == 3000 and result.members_added == 3000
    assert ServiceEntry.objects.count() == 3000
    assert AuditEvent.objects.filter(action="mobilize.entry.recorded").count() == 3000
    assert queries.balance(Person.objects.get(code="XH9007")) == 20 * 480
