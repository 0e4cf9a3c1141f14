"""Care's import and export over the API: the pipeline's endpoints on /api/v1/care/ (dry run → confirm
token → import; export in the import's layout, scoped). An export imports back: unchanged, nothing is
written; an empty ledger is refused with the pipeline's one "no data rows" message, as any empty file."""

from __future__ import annotations

import io as stdio
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from muster import clock
from muster.care import services as care
from muster.care.models import CareSubject, Contact, Observation
from muster.orgs.access import SYSTEM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]


def dry_run(c: Any, data: bytes) -> Any:
    return c.post("/api/v1/care/import?dry_run=true", {"file": SimpleUploadedFile("care.xlsx", data)})


def counts() -> tuple[int, int, int]:
    return CareSubject.objects.count(), Observation.objects.count(), Contact.objects.count()


@pytest.fixture
def ledger(org: Any) -> dict[str, Any]:
    """徐汇's care ledger: an outside resident and a registry person, two rounds (one closed) with answers
    and a later answer superseding an earlier one, a subject who died after answering; 黄浦 has one too."""
    old = care.subject_create(
        actor=SYSTEM,
        unit=org.xuhui,
        code="C0001",
        name="陈秀英",
        birth_date=date(1941, 5, 2),
        phone="13611112222",
        address="徐汇区漕溪北路100弄5号301室",
        community="漕河泾街道",
        liaison=org.bob,
    )
    young = care.subject_create(actor=SYSTEM, unit=org.xuhui, code="C0002", person=org.alice, liaison=org.bob)
    gone = care.subject_create(actor=SYSTEM, unit=org.xuhui, code="C0003", name="李桂芳")
    care.subject_create(actor=SYSTEM, unit=org.huangpu, code="C0009", name="周建国")
    now = clock.now() - timedelta(days=1)  # the day before: every time below is in the past
    first = care.round_open(actor=SYSTEM, unit=org.xuhui, name="第一轮")
    at = now.replace(hour=9, minute=5, second=31, microsecond=250)  # seconds are kept by the export
    care.survey_answer_record(
        actor=SYSTEM, subject=old, round=first, channel="phone", at=at, answers={"health": "一般"}
    )
    care.survey_answer_record(
        actor=SYSTEM, subject=gone, round=first, channel="visit", at=at, answers={"health": "住院"}
    )
    care.round_close(actor=SYSTEM, round=first)
    second = care.round_open(actor=SYSTEM, unit=org.xuhui, name="第二轮")
    care.survey_answer_record(
        actor=SYSTEM,
        subject=old,
        round=second,
        channel="wechat",
        at=now.replace(hour=10, minute=0, second=0, microsecond=0),
        answers={"health": "良好", "living": "独居"},
    )
    care.survey_answer_record(
        actor=SYSTEM,
        subject=old,
        round=second,
        channel="phone",
        at=now.replace(hour=11, minute=30, second=0, microsecond=0),
        answers={"health": "一般"},
    )
    care.survey_answer_record(
        actor=SYSTEM, subject=young, round=second, channel="sms", answers={"living": "与家人同住"}
    )
    care.subject_status_set(actor=SYSTEM, subject=gone, status="deceased", on=clock.today())
    return {"second": second, "old": old, "young": young}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_empty_ledger_exports_and_is_refused_only_as_an_empty_file(
    org: Any, make_user: Any, login: Any, language: str
) -> None:
    nurse = make_user("xh_nurse", "manager", org.xuhui)
    care.care_grant(actor=SYSTEM, user=nurse, unit=org.xuhui)  # every sheet, the answers' too
    c = login(nurse)
    r = c.get(f"/api/v1/care/export?unit={org.xuhui.code}", HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    dry = dry_run(c, r.content)
    assert dry.status_code == 422, dry.content
    body = dry.json()
    # one problem: the file holds no rows (as any empty file of the pipeline), never a missing column
    assert len(body["errors"]) == 1, body
    assert "no data rows" in str(body["errors"][0]) or "没有数据行" in str(body["errors"][0])
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_full_ledger_exports_and_imports_back_unchanged(
    org: Any, make_user: Any, login: Any, ledger: dict[str, Any], language: str
) -> None:
    nurse = make_user("xh_nurse", "manager", org.xuhui)
    care.care_grant(actor=SYSTEM, user=nurse, unit=org.xuhui)
    c = login(nurse)
    r = c.get(f"/api/v1/care/export?unit={org.xuhui.code}", HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 200, r.content
    wb = load_workbook(stdio.BytesIO(r.content))
    answers = wb.worksheets[2]
    assert answers.max_row - 1 == Observation.objects.filter(subject__unit=org.xuhui).count() == 6
    assert any(str(v).endswith(":31") for row in answers.iter_rows(values_only=True) for v in row)
    before = counts()
    dry = dry_run(c, r.content)
    assert dry.status_code == 200, dry.content
    got = dry.json()
    assert got["care_subjects_created"] == got["care_answers_recorded"] == 0, got
    assert (got["care_subjects_unchanged"], got["care_answers_unchanged"]) == (3, 6), got
    done = c.post(
        "/api/v1/care/import/confirm", {"token": got["confirm_token"]}, content_type="application/json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["care_subjects_created"] == 0
    assert done.json()["care_answers_recorded"] == 0
    assert counts() == before  # nothing doubled, no contact made up


def test_an_export_with_a_new_answer_added_imports_just_that(
    org: Any, make_user: Any, login: Any, ledger: dict[str, Any]
) -> None:
    nurse = make_user("xh_nurse", "manager", org.xuhui)
    care.care_grant(actor=SYSTEM, user=nurse, unit=org.xuhui)
    c = login(nurse)
    wb = load_workbook(stdio.BytesIO(c.get(f"/api/v1/care/export?unit={org.xuhui.code}").content))
    wb.worksheets[2].append([ledger["second"].pk, "C0002", "电话", "2026-03-01 08:00", "health", "良好"])
    wb.worksheets[1].append(["C0100", "XH", None, "孙桂兰"])
    out = stdio.BytesIO()
    wb.save(out)
    before = counts()
    dry = dry_run(c, out.getvalue())
    assert dry.status_code == 200, dry.content
    done = c.post(
        "/api/v1/care/import/confirm", {"token": dry.json()["confirm_token"]}, content_type="application/json"
    )
    assert done.status_code == 200, done.content
    assert (done.json()["care_subjects_created"], done.json()["care_answers_recorded"]) == (
        1,
        1,
    )
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    again = c.post(
        "/api/v1/care/import/confirm", {"token": dry.json()["confirm_token"]}, content_type="application/json"
    )
    assert again.status_code == 410


def test_a_changed_row_of_an_existing_subject_is_refused_not_skipped(
    org: Any, make_user: Any, login: Any, ledger: dict[str, Any]
) -> None:
    nurse = make_user("xh_nurse", "manager", org.xuhui)
    care.care_grant(actor=SYSTEM, user=nurse, unit=org.xuhui)
    c = login(nurse)
    wb = load_workbook(stdio.BytesIO(c.get(f"/api/v1/care/export?unit={org.xuhui.code}").content))
    ws = wb.worksheets[1]
    ws["D2"] = "陈秀"  # C0001's name
    answers = wb.worksheets[2]
    answers.cell(row=2, column=6, value="良好")  # the closed first round's answer, changed
    out = stdio.BytesIO()
    wb.save(out)
    dry = dry_run(c, out.getvalue())
    assert dry.status_code == 422, dry.content
    said = str(dry.json()["errors"])
    assert "C0001" in said or "陈秀" in said
    assert "closed" in said or "已结束" in said or "关闭" in said


def test_without_the_care_data_permission_the_export_still_imports_back(
    org: Any, as_role: Any, ledger: dict[str, Any]
) -> None:
    c = as_role("manager", org.xuhui)
    r = c.get(f"/api/v1/care/export?unit={org.xuhui.code}")
    assert r.status_code == 200
    names = load_workbook(stdio.BytesIO(r.content)).sheetnames
    assert len(names) == 4  # no answers sheet: the health details are not in it
    before = counts()
    dry = dry_run(c, r.content)
    assert dry.status_code == 200, dry.content
    assert (dry.json()["care_subjects_created"], dry.json()["care_subjects_unchanged"]) == (0, 3)
    assert counts() == before
    # the right phone, typed in full by someone who sees it masked, is refused like a wrong one: the import
    # never confirms a guess
    said = []
    for phone in ("13611112222", "13900009999"):
        wb = load_workbook(stdio.BytesIO(r.content))
        wb.worksheets[1]["F2"] = phone  # C0001's 联系电话
        out = stdio.BytesIO()
        wb.save(out)
        refused = dry_run(c, out.getvalue())
        assert refused.status_code == 422, refused.content
        said.append([(e["column"], e["reason"]) for e in refused.json()["errors"]])
    assert said[0] == said[1] and len(said[0]) == 1


def test_the_care_export_refuses_an_out_of_scope_unit_like_an_unknown_one(org: Any, as_role: Any) -> None:
    c = as_role("manager", org.xuhui)
    other = c.get(f"/api/v1/care/export?unit={org.huangpu.code}")
    unknown = c.get("/api/v1/care/export?unit=NOPE")
    assert other.status_code == unknown.status_code == 422
    said = other.json()["detail"].replace(org.huangpu.code, "X")
    assert said == unknown.json()["detail"].replace("NOPE", "X")


def test_a_confirm_with_someone_elses_or_a_made_up_token_is_404(org: Any, as_role: Any) -> None:
    c = as_role("manager", org.xuhui)
    r = c.post("/api/v1/care/import/confirm", {"token": "x" * 40}, content_type="application/json")
    assert r.status_code == 404
