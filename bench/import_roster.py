"""Benchmark: import a 100,000-person staff roster (人员名册) on SQLite and on PostgreSQL.

    .venv/bin/python bench/import_roster.py [--people 100000] [--sample 2000] [--pg-url URL] [--no-pg]

Generates a roster workbook (about 1,000 units in both trees, N people with valid ID numbers and
phones), then, for each database, in a fresh process against a fresh database (a temporary SQLite file;
on PostgreSQL the database ``muster_bench``, created and dropped here — never the dev database):

1. migrates, then times ``people_import`` (read + validate + write, one transaction) as ``dry_run``
   (read + validate only) and for real, and once more (the same file again: nothing changes);
2. times the baseline: a plain ORM ``save()`` loop (``Person(...)``, the same encryption through the
   ``phone``/``id_number`` setters, ``save()`` per row) on a sample, and extrapolates it to N rows;
3. prints the figures, the speed-up over the baseline and the peak RSS.

Target: the import of 100,000 people in at most 30 s on each database on a 2-core machine.
PostgreSQL: ``DATABASE_URL_PG`` or ``--pg-url`` (default postgresql://muster:muster@127.0.0.1:5432/
muster_bench); if the server cannot be reached the script says so and goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_PG = "postgresql://muster:muster@127.0.0.1:5432/muster_bench"
TARGET_SECONDS = 30.0

DISTRICTS = [
    ("HP", "黄浦"),
    ("XH", "徐汇"),
    ("CN", "长宁"),
    ("JA", "静安"),
    ("PT", "普陀"),
    ("HK", "虹口"),
    ("YP", "杨浦"),
    ("MH", "闵行"),
    ("BS", "宝山"),
    ("JD", "嘉定"),
    ("PD", "浦东"),
    ("JS", "金山"),
    ("SJ", "松江"),
    ("QP", "青浦"),
    ("FX", "奉贤"),
    ("CM", "崇明"),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯俊峰晨雪琳颖婷慧佳怡"
TAGS = ["青年", "骨干", "志愿者", "心理咨询", "驾驶员", "医护背景", "外语", "摄影", "退役军人", "网格员"]
POLITICAL = ["中共党员"] * 4 + ["预备党员", "共青团员"] + ["群众"] * 3 + ["民主党派"]
EMPLOYMENT = ["在职"] * 16 + ["借调", "退休", "退休", "离职"]


def id_number(area: str, birth: date, seq: int) -> str:
    from muster.orgs.validators import id_check_digit

    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def make_units() -> list[list[str]]:
    """[code, name, parent code, type] for about 1,000 units of both trees."""
    rows = [["SH", "国家税务总局上海市税务局", "", "市局"], ["SH-JG", "市局机关", "SH", "市局机关"]]
    rows += [[f"SH-JG-K{i:02d}", f"市局机关第{i}处", "SH-JG", "科室"] for i in range(1, 31)]
    rows.append(["SH-DW", "国家税务总局上海市税务局党委", "", "党委"])
    for code, name in DISTRICTS:
        rows.append([code, f"国家税务总局上海市{name}区税务局", "SH", "区局"])
        rows += [[f"{code}-S{i:02d}", f"{name}区税务局第{i}税务所", code, "税务所"] for i in range(1, 11)]
        rows += [[f"{code}-K{i:02d}", f"{name}区税务局第{i}科", code, "科室"] for i in range(1, 13)]
        rows.append([f"{code}-T1", f"{name}区税务局办税服务厅", code, "办税服务厅"])
        rows.append([f"{code}-DW", f"{name}区税务局党委", "SH-DW", "党委"])
        rows += [
            [f"{code}-B{i:02d}", f"{name}区税务局第{i}党支部", f"{code}-DW", "党支部"] for i in range(1, 31)
        ]
    for i, num in enumerate("一二三四五", start=1):
        rows.append([f"JC{i}", f"国家税务总局上海市税务局第{num}稽查局", "SH", "稽查局"])
        rows += [[f"JC{i}-K{j}", f"第{num}稽查局第{j}检查科", f"JC{i}", "科室"] for j in range(1, 7)]
    rows.append(["SH-FJ3", "国家税务总局上海市税务局第三税务分局", "SH", "税务分局"])
    rows.append(["SH-12366", "12366纳税服务中心", "SH", "纳税服务中心"])
    return rows


def make_people(n: int, units: list[list[str]], *, prefix: str, seed: int) -> list[list[Any]]:
    rng = random.Random(seed)
    admin = [u[0] for u in units if u[3] in ("税务所", "科室", "办税服务厅")]
    branches: dict[str, list[str]] = {}
    for u in units:
        if u[3] == "党支部":
            branches.setdefault(u[0].split("-")[0], []).append(u[0])
    used_ids: set[str] = set()
    out = []
    start = date(1962, 1, 1)
    for i in range(1, n + 1):
        unit = rng.choice(admin)
        district = unit.split("-")[0]
        birth = start + timedelta(days=rng.randrange(0, 38 * 365))
        while True:
            ident = id_number(f"3101{rng.randrange(1, 30):02d}", birth, rng.randrange(0, 1000))
            if ident not in used_ids:
                used_ids.add(ident)
                break
        male = int(ident[16]) % 2 == 1
        political = rng.choice(POLITICAL)
        party = (
            rng.choice(branches[district])
            if political in ("中共党员", "预备党员") and district in branches
            else ""
        )
        tags = "、".join(rng.sample(TAGS, rng.choice((0, 0, 0, 1, 2))))
        out.append(
            [
                f"{prefix}{i:06d}",
                rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                "男" if male else "女",
                birth,
                unit,
                party,
                political,
                rng.choice(EMPLOYMENT),
                f"1{3 + i % 7}{i:09d}",
                ident,
                tags,
            ]
        )
    return out


PEOPLE_HEADERS = "工号 姓名 性别 出生日期 单位编码 党组织编码 政治面貌 人员状态 手机 身份证号 标签".split()
UNIT_HEADERS = ["编码", "名称", "上级编码", "类型"]


def build_workbook(path: Path, n: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    units = make_units()
    people = make_people(n, units, prefix="P", seed=2022)
    rng = random.Random(7)
    shuffled = units[:]
    rng.shuffle(shuffled)  # the importer orders units itself (a parent before its children)
    data = excel_like_xlsx([("人员", [PEOPLE_HEADERS, *people]), ("单位", [UNIT_HEADERS, *shuffled])])
    path.write_bytes(data)
    return {"units": len(units), "people": n, "bytes": len(data), "seconds": time.perf_counter() - t0}


def excel_like_xlsx(sheets: list[tuple[str, list[list[Any]]]]) -> bytes:
    """A workbook as Excel writes one (shared strings, dates as serial numbers with a date format).

    Written by hand because openpyxl without lxml needs minutes for a million cells; only the
    benchmark's input is made this way — the product's export uses openpyxl.
    """
    import io
    import zipfile
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}
    epoch = date(1899, 12, 30)

    def ref(col: int, row: int) -> str:
        letters = ""
        col += 1
        while col:
            col, r = divmod(col - 1, 26)
            letters = chr(65 + r) + letters
        return f"{letters}{row}"

    def sheet_xml(rows: list[list[Any]]) -> str:
        out = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        ]
        for i, row in enumerate(rows, start=1):
            cells = []
            for j, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, date):
                    cells.append(f'<c r="{ref(j, i)}" s="1"><v>{(v - epoch).days}</v></c>')
                elif isinstance(v, int | float):
                    cells.append(f'<c r="{ref(j, i)}"><v>{v}</v></c>')
                else:
                    k = strings.setdefault(str(v), len(strings))
                    cells.append(f'<c r="{ref(j, i)}" t="s"><v>{k}</v></c>')
            out.append(f'<row r="{i}">{"".join(cells)}</row>')
        out.append("</sheetData></worksheet>")
        return "".join(out)

    bodies = [sheet_xml(rows) for _name, rows in sheets]
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ct}.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            f"{overrides}</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        sheet_tags = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, _rows) in enumerate(sheets, start=1)
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            f"<sheets>{sheet_tags}</sheets></workbook>",
        )
        links = "".join(
            f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        n = len(sheets)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}">{links}'
            f'<Relationship Id="rId{n + 1}" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            "</styleSheet>",
        )
        for i, body in enumerate(bodies, start=1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", body)
        items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        z.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{items}</sst>',
        )
    return buf.getvalue()


# ---------------------------------------------------------------- one database, in its own process


def worker(db_url: str, workbook: Path, n: int, sample: int) -> dict[str, Any]:
    import django

    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "muster.settings"
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person, Unit
    from muster.orgs.people_io import people_import

    call_command("migrate", verbosity=0)
    data = workbook.read_bytes()
    out: dict[str, Any] = {"vendor": connection.vendor}

    def timed(key: str, fn: Any) -> Any:
        """Run fn, keeping its wall-clock and CPU seconds and the load average around it."""
        load0, c0, t0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
        value = fn()
        out[f"{key}_seconds"] = time.perf_counter() - t0
        out[f"{key}_cpu_seconds"] = time.process_time() - c0
        out[f"{key}_load"] = max(load0, os.getloadavg()[0])
        return value

    dry = timed(
        "validate", lambda: people_import(actor=SYSTEM, filename=workbook.name, data=data, dry_run=True)
    )
    result = timed("import", lambda: people_import(actor=SYSTEM, filename=workbook.name, data=data))
    out["import"] = result.as_dict()
    out["people_in_db"] = Person.objects.count()
    assert dry.people_created == result.people_created == n, (dry, result)
    assert out["people_in_db"] == n

    again = timed("reimport", lambda: people_import(actor=SYSTEM, filename=workbook.name, data=data))
    out["reimport"] = again.as_dict()
    assert again.people_unchanged == n and not again.changed, again

    # Baseline: a plain ORM save() loop with the same encryption, on a sample of new people.
    units = {u.code: u for u in Unit.objects.all()}
    rows = make_people(sample, make_units(), prefix="B", seed=99)
    taken = set(Person.objects.values_list("id_number_digest", flat=True))
    from muster.orgs import crypto

    rows = [r for r in rows if crypto.digest(r[9]) not in taken]
    codes = {"男": "M", "女": "F"}
    pol = {
        "中共党员": "member",
        "预备党员": "probationary",
        "共青团员": "league",
        "群众": "non_party",
        "民主党派": "other_party",
    }
    emp = {"在职": "active", "借调": "seconded", "退休": "retired", "离职": "left"}

    def save_loop() -> None:
        for r in rows:
            save_one(r)

    def save_one(r: list[Any]) -> None:
        p = Person(
            code=r[0],
            name=r[1],
            gender=codes[r[2]],
            birth_date=r[3],
            unit=units[r[4]],
            party_unit=units[r[5]] if r[5] else None,
            political_status=pol[r[6]],
            employment_status=emp[r[7]],
        )
        p.phone = r[8]
        p.id_number = r[9]
        p.save()

    timed("baseline", save_loop)
    out["baseline_rows"] = len(rows)
    out["baseline_per_row_ms"] = out["baseline_seconds"] / len(rows) * 1000
    out["baseline_extrapolated_seconds"] = out["baseline_seconds"] / len(rows) * n
    out["baseline_extrapolated_cpu_seconds"] = out["baseline_cpu_seconds"] / len(rows) * n
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_worker(db_url: str, workbook: Path, n: int, sample: int, var_dir: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        {
            "MUSTER_VAR_DIR": str(var_dir),  # keys and files of the benchmark, not the dev ones
            "MUSTER_SECRET_KEY": "bench-secret-key-not-for-production-use-0123456789",
            "MUSTER_FIELD_KEY": "bench-field-key-not-for-production-use-0123456789",
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        db_url,
        "--workbook",
        str(workbook),
        "--people",
        str(n),
        "--sample",
        str(sample),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed ({db_url}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- PostgreSQL database lifecycle


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/") or "muster_bench"
    return urlunsplit(parts._replace(path="/postgres")), dbname


def pg_prepare(url: str) -> str | None:
    """(Re)create the benchmark database; the reason it cannot be done, or ``None``."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    admin, dbname = _admin_url(url)
    if not dbname.replace("_", "").isalnum():
        return f"refusing the database name {dbname!r}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(f'CREATE DATABASE "{dbname}"')
    except Exception as exc:
        return str(exc).strip().splitlines()[0]
    return None


def pg_drop(url: str) -> None:
    import psycopg

    admin, dbname = _admin_url(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')


# ---------------------------------------------------------------- report


def report(name: str, r: dict[str, Any], n: int) -> None:
    imp, imp_cpu = r["import_seconds"], r["import_cpu_seconds"]
    base, base_cpu = r["baseline_extrapolated_seconds"], r["baseline_extrapolated_cpu_seconds"]
    verdict = "OK" if imp <= TARGET_SECONDS else "OVER TARGET"
    cpus = os.cpu_count() or 1

    def line(label: str, key: str, extra: str = "") -> None:
        busy = "  (machine busy)" if r[f"{key}_load"] > cpus else ""
        print(
            f"  {label:<27}: {r[f'{key}_seconds']:7.1f} s wall, {r[f'{key}_cpu_seconds']:6.1f} s CPU, "
            f"load {r[f'{key}_load']:.1f}{extra}{busy}"
        )

    print(f"\n== {name} ==")
    line("validate only (dry run)", "validate")
    line(
        "import (validate + write)", "import", f"  → {n:,} people, target ≤ {TARGET_SECONDS:.0f} s: {verdict}"
    )
    line("re-import (nothing changes)", "reimport")
    per_row_cpu = r["baseline_cpu_seconds"] / r["baseline_rows"] * 1000
    print(
        f"  {'baseline: save() per row':<27}: {r['baseline_per_row_ms']:.2f} ms/row wall "
        f"({per_row_cpu:.2f} ms CPU) on {r['baseline_rows']:,} rows "
        f"→ {base:,.0f} s wall, {base_cpu:,.0f} s CPU for {n:,} (extrapolated)"
    )
    print(f"  {'speed-up over the baseline':<27}: {base / imp:.1f}× wall, {base_cpu / imp_cpu:.1f}× CPU")
    print(f"  {'peak RSS (worker)':<27}: {r['peak_rss_mb']:.0f} MB")
    if r["vendor"] == "postgresql":
        print("  (CPU is the Python process only; the PostgreSQL server's work is in the wall time)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=2_000, help="rows for the save() baseline")
    ap.add_argument("--pg-url", default=os.environ.get("DATABASE_URL_PG", DEFAULT_PG))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--workbook", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.workbook), args.people, args.sample), default=str))
        return 0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    with tempfile.TemporaryDirectory(prefix="muster-bench-") as tmp:
        tmpdir = Path(tmp)
        os.environ["MUSTER_VAR_DIR"] = str(tmpdir)  # for django settings used by the generator's imports
        os.environ.setdefault("MUSTER_SECRET_KEY", "bench-secret-key-not-for-production-use-0123456789")
        os.environ.setdefault("MUSTER_FIELD_KEY", "bench-field-key-not-for-production-use-0123456789")
        import django

        django.setup()
        workbook = tmpdir / "roster-bench.xlsx"
        gen = build_workbook(workbook, args.people)
        print(
            f"roster workbook: {gen['units']:,} units, {gen['people']:,} people, "
            f"{gen['bytes'] / 1024 / 1024:.1f} MB, generated in {gen['seconds']:.1f} s"
        )
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average {load}; python {sys.version.split()[0]}")
        print("(wall-clock seconds grow with other work on the machine; CPU seconds hardly do)")
        results: dict[str, dict[str, Any]] = {}
        if not args.no_sqlite:
            db = tmpdir / "bench.sqlite3"
            results["SQLite"] = run_worker(f"sqlite:///{db}", workbook, args.people, args.sample, tmpdir)
            report("SQLite (temporary file)", results["SQLite"], args.people)
        if not args.no_pg:
            problem = pg_prepare(args.pg_url)
            if problem:
                print(f"\n== PostgreSQL == not measured: cannot reach {args.pg_url} ({problem})")
            else:
                try:
                    results["PostgreSQL"] = run_worker(
                        args.pg_url, workbook, args.people, args.sample, tmpdir
                    )
                    report(
                        f"PostgreSQL ({urlsplit(args.pg_url).path.lstrip('/')})",
                        results["PostgreSQL"],
                        args.people,
                    )
                finally:
                    pg_drop(args.pg_url)
        print(
            "\npeak RSS (generator process): "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        over = [k for k, r in results.items() if r["import_seconds"] > TARGET_SECONDS]
        return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
