"""``muster import FILE`` and ``muster export FILE``: summaries, every error on stderr, exit status, scope."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from muster.audit.models import AuditEvent
from muster.orgs.models import Person, Unit
from tests.cli.conftest import copy_database
from tests.conftest import make_id_number
from tests.tabular.helpers import PEOPLE_HEADERS, UNIT_HEADERS, csv_data, person_row, read_back, xlsx

pytestmark = pytest.mark.django_db

# A unit code that does not exist and one outside the caller's scope: the same words (issue 27, item 12).
NOT_IN_SCOPE = "there is no unit with this code in your scope (it does not exist, or you do not manage it)"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=out, stderr=err)
    assert exc.value.returncode != 0
    return str(exc.value), err.getvalue()


@pytest.fixture
def register_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(
        xlsx(
            {
                "单位": [UNIT_HEADERS, ["XH-S2", "徐汇区税务局第二税务所", "XH", "税务所"]],
                "人员": [
                    PEOPLE_HEADERS,
                    person_row("XH0101", "陈明", "XH-S2", phone="13811112222", id=make_id_number(seq="131")),
                ],
            }
        )
    )
    return path


def test_import_prints_a_summary_and_acts_as_the_system_on_the_cli(org, register_file):
    out, err = run("import", str(register_file))
    assert "Units: 1 created, 0 updated, 0 moved, 0 unchanged." in out
    assert "People: 1 created, 0 updated, 0 unchanged." in out
    assert err == ""
    chen = Person.objects.get(code="XH0101")
    assert chen.unit.code == "XH-S2" and chen.phone == "13811112222"
    summary = AuditEvent.objects.get(action="orgs.roster.imported")
    assert (summary.actor_name, summary.channel) == ("system", "cli")
    assert AuditEvent.objects.filter(batch=summary.batch, channel="cli").count() == 3
    out, _ = run("import", str(register_file))
    assert "People: 0 created, 0 updated, 1 unchanged." in out


def test_dry_run_writes_nothing(org, register_file):
    out, _ = run("import", str(register_file), "--dry-run")
    assert "People: 1 created" in out and "Dry run: nothing was written." in out
    assert not Person.objects.filter(code="XH0101").exists()
    assert not Unit.objects.filter(code="XH-S2").exists()


def test_every_error_on_stderr_one_per_line_and_a_failing_exit(org, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_data(
            [
                PEOPLE_HEADERS,
                person_row("P1", "甲", "NOPE"),
                person_row("P2", "乙", "XH", birth="2022-02-30"),
                person_row("P3", "丙", "XH", id="310104199003071230"),
            ]
        )
    )
    message, err = fails("import", str(path))
    assert "3 problems found; nothing was imported." in message
    assert err.splitlines() == [
        "bad.csv · People · row 2 · 单位编码 = 'NOPE' : " + NOT_IN_SCOPE,
        "bad.csv · People · row 3 · 出生日期 = '2022-02-30' : there is no day 30 in 2022-02",
        "bad.csv · People · row 4 · 身份证号 = '310104199003071230' : the check digit should be X, not 0",
    ]
    assert not Person.objects.filter(code__in=["P1", "P2", "P3"]).exists()


def test_file_problems(org, tmp_path):
    missing = tmp_path / "nope.xlsx"
    assert "No such file" in fails("import", str(missing))[0]
    fake = tmp_path / "photo.xlsx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    _message, err = fails("import", str(fake))
    assert (
        "photo.xlsx : This is not an Excel workbook (.xlsx) or a CSV file; it looks like a PNG file." in err
    )
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty.csv : The file is empty." in fails("import", str(empty))[1]
    with override_settings(MUSTER_IMPORT_MAX_BYTES=100):
        big = tmp_path / "big.csv"
        big.write_bytes(b"x" * 101)
        assert "the limit is 100 B" in fails("import", str(big))[1]


def test_import_as_a_user_has_their_scope(org, make_user, tmp_path):
    make_user("xh-manager", "manager", org.xuhui)
    path = tmp_path / "hp.csv"
    path.write_bytes(csv_data([PEOPLE_HEADERS, person_row("HP0101", "黄浦新人", "HP")]))
    _message, err = fails("import", str(path), "--as", "xh-manager")
    assert err.strip() == "hp.csv · People · row 2 · 单位编码 = 'HP' : " + NOT_IN_SCOPE
    make_user("xh-viewer", "viewer", org.xuhui)
    assert "may not import" in fails("import", str(path), "--as", "xh-viewer")[0]
    assert "no active user named ghost" in fails("import", str(path), "--as", "ghost")[0]
    ok = tmp_path / "xh.csv"
    ok.write_bytes(csv_data([PEOPLE_HEADERS, person_row("XH0101", "徐汇新人", "XH-S1")]))
    run("import", str(ok), "--as", "xh-manager")
    assert AuditEvent.objects.get(action="orgs.roster.imported").actor.username == "xh-manager"


def test_export_by_extension_unit_sheet_and_user(org, make_user, tmp_path):
    out, _ = run("export", str(tmp_path / "all.xlsx"))
    assert "all.xlsx" in out
    sheets = read_back((tmp_path / "all.xlsx").read_bytes())
    assert len(sheets) == 2 and len(list(sheets.values())[1]) == 5  # header + 4 people

    run("export", str(tmp_path / "units.csv"), "--sheet", "units", "--unit", "XH")
    lines = (tmp_path / "units.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["XH", "XH-S1"]

    make_user("hp-manager", "manager", org.huangpu)
    run("export", str(tmp_path / "hp.csv"), "--as", "hp-manager")
    text = (tmp_path / "hp.csv").read_bytes().decode("utf-8-sig")
    assert "HP0001" in text and "XH0001" not in text
    assert (
        "Unknown unit code XH."
        in fails("export", str(tmp_path / "x.csv"), "--unit", "XH", "--as", "hp-manager")[0]
    )
    assert "Name the file .xlsx or .csv" in fails("export", str(tmp_path / "x.pdf"))[0]

    # What was exported imports back with no changes.
    out, _ = run("import", str(tmp_path / "all.xlsx"))
    assert "Units: 0 created, 0 updated, 0 moved, 9 unchanged." in out
    assert "People: 0 created, 0 updated, 4 unchanged." in out


def test_the_muster_console_script_end_to_end(tmp_path, migrated_template):
    """The installed ``muster`` script against its own SQLite file (a copy of the migrated template):
    exit status 0, then 1 on a bad file."""
    muster = Path(sys.executable).parent / "muster"
    copy_database(migrated_template, tmp_path / "cli.sqlite3")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        MUSTER_VAR_DIR=str(tmp_path),
        MUSTER_LANGUAGE="en",
        MUSTER_SECRET_KEY="cli-test-secret-key-0123456789-0123456789",
        MUSTER_FIELD_KEY="cli-test-field-key-0123456789-0123456789-0123",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def muster_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(muster), *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    units = tmp_path / "units.csv"
    units.write_bytes(
        csv_data([UNIT_HEADERS, ["SH", "上海市税务局", "", "市局"], ["XH", "徐汇区税务局", "SH", "区局"]])
    )
    good = muster_run("import", str(units))
    assert good.returncode == 0, good.stderr
    assert "Units: 2 created" in good.stdout
    bad = tmp_path / "people.csv"
    bad.write_bytes(csv_data([PEOPLE_HEADERS, person_row("P1", "甲", "XH"), person_row("P2", "乙", "ZZ")]))
    refused = muster_run("import", str(bad))
    assert refused.returncode == 1
    assert "people.csv · People · row 3 · 单位编码 = 'ZZ' : " + NOT_IN_SCOPE in refused.stderr.splitlines()
    assert "1 problem found; nothing was imported." in refused.stderr
    exported = muster_run("export", str(tmp_path / "out.xlsx"))
    assert exported.returncode == 0, exported.stderr
    assert list(read_back((tmp_path / "out.xlsx").read_bytes())) == ["Units", "People"]
