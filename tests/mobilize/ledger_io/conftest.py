"""Fixtures for ledger import/export: the core's cast, a partner, and builders for ledger files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.utils import translation
from openpyxl import Workbook

from muster.orgs.access import SYSTEM
from muster.orgs.models import Partner
from muster.orgs.services import partner_create
from tests.mobilize.conftest import Batch, Cast, at, batch, cast, link  # noqa: F401  (fixtures reused)

DEP_HEADERS = ["批次编号", "派出单位编码", "任务", "服务地点", "开始时间", "结束时间"]
SVC_HEADERS = ["工号", "批次编号", "开始时间", "结束时间", "服务类型", "状态"]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def partner(org: Any) -> Partner:
    return partner_create(actor=SYSTEM, code="XH-P1", name="徐家汇街道", kind="subdistrict", unit=org.xuhui)


def xlsx(deployments: Sequence[Sequence[Any]] | None, service: Sequence[Sequence[Any]] | None) -> bytes:
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    if deployments is not None:
        ws = wb.create_sheet("派出批次")
        ws.append(DEP_HEADERS)
        for row in deployments:
            ws.append(list(row))
    if service is not None:
        ws = wb.create_sheet("服务记录")
        ws.append(SVC_HEADERS)
        for row in service:
            ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_file(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("utf-8-sig")


__all__ = ["DEP_HEADERS", "SVC_HEADERS", "Batch", "Cast", "at", "csv_file", "link", "xlsx"]
