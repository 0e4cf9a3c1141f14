# ruff: noqa: E501
"""Benchmark: the check-in endpoint under many concurrent volunteers, on gunicorn + PostgreSQL.

    DATABASE_URL=postgresql://muster:muster@127.0.0.1:5432/muster \\
        .venv/bin/python bench/checkin_load.py [--volunteers 256] [--seconds 10] [--levels 1,2,4,...]

In one run, against a fresh bench database (``muster_bench_checkin``, created and dropped here — never
the database of ``DATABASE_URL`` itself):

1. migrates it and seeds a district with ``--volunteers`` people, each with a login, an API token and a
   place on one of the shifts of a batch (through the services, as the app would);
2. starts gunicorn from ``deploy/gunicorn.conf.py`` (the production recipe; ``--web-workers`` processes
   × ``--web-threads`` threads) with settings that add one route, ``POST /bench/insert``: a plain
   Django view inserting a single row (the baseline: the same server, middleware and database, the
   least work a write can do);
3. an asyncio client (one keep-alive connection per virtual volunteer, closed loop) drives, at each
   concurrency level: the baseline, then the check-in endpoint — each volunteer checks in and out in
   turn (``POST /api/v1/mobilize/shifts/{id}/checkin`` and ``/checkout`` with its token, a fresh
   idempotency key and a time that moves forward an hour each time, so every check-out writes a
   service entry to the ledger);
4. prints req/s, p50 and p99 of each, and at the highest level where the baseline's p99 is ≤ 50 ms:
   the check-in's throughput as a share of the baseline's (target ≥ 50 %) and its p99 (target ≤ 100 ms).

Figures depend on the machine; the ratio is what the target is about, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "muster_bench_checkin"


# ----------------------------------------------------------------------------- database and seed


def bench_url(base: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path="/" + BENCH_DB))


def recreate_database(base: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_database(base: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


SEED = textwrap.dedent(
    """
    import json, sys
    from datetime import timedelta
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from muster.accounts.services import token_create
    from muster.mobilize import services as svc
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person
    from muster.orgs.services import person_create_many, role_grant, unit_create

    n = int(sys.argv[1])
    User = get_user_model()
    root = unit_create(actor=SYSTEM, code="SH", name="上海市税务局", kind="city_bureau", parent=None)
    unit = unit_create(actor=SYSTEM, code="XH", name="徐汇区税务局", kind="district_bureau", parent=root)
    leader = User.objects.create_user(username="bench-leader", password="bench-leader-pw")
    role_grant(actor=SYSTEM, user=leader, role="manager", unit=unit)
    people = person_create_many(
        actor=SYSTEM,
        people=[{"code": f"V{i:05d}", "name": f"志愿者{i}", "unit": unit} for i in range(n)],
    )
    now = timezone.now()
    d = svc.deployment_dispatch(
        actor=leader, unit=unit, title="压测批次", start=now - timedelta(days=400), end=now + timedelta(days=1),
        people=people, leader=people[0], site="宛平社区",
    ).deployment
    per_shift = 250
    out = []
    for s in range(0, n, per_shift):
        group = people[s : s + per_shift]
        shift = svc.shift_create(
            actor=leader, deployment=d, start=now - timedelta(hours=1), end=now + timedelta(hours=7), seats=len(group)
        )
        for p in group:
            svc.shift_assign(actor=leader, shift=shift, person=p)
            user = User.objects.create_user(username=p.code.lower(), password=None)
            Person.objects.filter(pk=p.pk).update(user=user)
            _, raw = token_create(actor=user, user=user, name="bench")
            out.append({"token": raw, "shift": shift.pk})
    print(json.dumps(out))
    """
)

BENCH_SETTINGS = textwrap.dedent(
    """
    from muster.settings import *  # noqa: F403

    ROOT_URLCONF = "bench_urls"
    """
)

BENCH_URLS = textwrap.dedent(
    """
    from django.db import connection
    from django.http import JsonResponse
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_POST


    @csrf_exempt
    @require_POST
    def insert(request):
        with connection.cursor() as cur:
            cur.execute("INSERT INTO bench_ping (at, body) VALUES (now(), %s) RETURNING id", [request.body[:200].decode()])
            (row_id,) = cur.fetchone()
        return JsonResponse({"id": row_id}, status=201)


    urlpatterns = [path("bench/insert", insert), path("", include("muster.urls"))]
    """
)


PROFILE = textwrap.dedent(
    """
    import cProfile, io, json, pstats, sys, time
    from collections import defaultdict
    from datetime import datetime, timedelta
    import django
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    slots = json.loads(sys.stdin.read())
    n = int(sys.argv[1])
    base = datetime.fromisoformat(sys.argv[2])
    client = Client(HTTP_HOST="127.0.0.1")
    cycle = [0] * len(slots)

    def one(i):
        k = cycle[i]
        cycle[i] += 1
        kind = "checkout" if k % 2 else "checkin"
        at = base + timedelta(hours=2 * (k // 2)) + (timedelta(hours=1) if k % 2 else timedelta())
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as q:
            r = client.post(
                f"/api/v1/mobilize/shifts/{slots[i]['shift']}/{kind}",
                data=json.dumps({"key": f"p{i}-{k}", "at": at.isoformat()}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {slots[i]['token']}",
            )
        assert r.status_code == 200, r.content
        return kind, time.perf_counter() - t0, q.captured_queries

    for i in range(min(4, len(slots))):  # warm up: imports, caches, connections
        one(i); one(i)
    times, counts, sample = defaultdict(list), {}, {}
    prof = cProfile.Profile()
    for r in range(n):
        i = r % len(slots)
        prof.enable()
        kind, t, queries = one(i)
        prof.disable()
        times[kind].append(t)
        counts[kind] = len(queries)
        sample[kind] = queries
    for kind in ("checkin", "checkout"):
        ts = sorted(times[kind])
        print(f"{kind}: {counts[kind]} queries, p50 {ts[len(ts) // 2] * 1000:.1f} ms, mean {sum(ts) / len(ts) * 1000:.1f} ms")
        for q in sample[kind]:
            print(f"  {float(q['time']) * 1000:6.2f} ms  {q['sql'][:160]}")
    for order, lines in (("cumulative", 40), ("tottime", 25)):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(order).print_stats(lines)
        print(out.getvalue())
    """
)


# ----------------------------------------------------------------------------- client


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    done: int = 0

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
        self.done += 1


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, body: bytes, token: str
) -> tuple[int, bytes]:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        data = b""
        while (size := int((await reader.readline()).strip(), 16)) > 0:
            data += await reader.readexactly(size)
            await reader.readline()
        await reader.readline()
        return status, data
    return status, await reader.readexactly(length)


async def _volunteer(
    i: int, host: str, port: int, mode: str, slot: dict, deadline: float, stats: Stats, cycle: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            if mode == "baseline":
                kind, path, body, token = "insert", "/bench/insert", b'{"v": %d}' % i, ""
            else:
                n = cycle[i]
                cycle[i] += 1
                # In, out, in, out …: an hour of service every two hours, going forward from 400 days ago.
                start = (
                    slot["base"]
                    + timedelta(hours=2 * (n // 2))
                    + (timedelta(hours=1) if n % 2 else timedelta())
                )
                kind = "checkout" if n % 2 else "checkin"
                path = f"/api/v1/mobilize/shifts/{slot['shift']}/{kind}"
                body = json.dumps({"key": f"b{i}-{n}", "at": start.isoformat()}).encode()
                token = slot["token"]
            t0 = time.perf_counter()
            try:
                status, data = await _request(reader, writer, f"{host}:{port}", path, body, token)
            except (IndexError, ConnectionError, asyncio.IncompleteReadError):
                # The server closed the keep-alive connection (a gunicorn worker recycled after
                # max_requests): reconnect and send again; the idempotency key makes that safe.
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                t0 = time.perf_counter()
                status, data = await _request(reader, writer, f"{host}:{port}", path, body, token)
            stats.add(kind, time.perf_counter() - t0, 200 <= status < 300)
            if not 200 <= status < 300 and stats.errors.get(kind, 0) <= 3:
                print(f"  {kind} {status}: {data[:300]!r}", file=sys.stderr)
    finally:
        writer.close()


async def drive(
    host: str, port: int, mode: str, concurrency: int, seconds: float, slots: list[dict], cycle: list[int]
) -> Stats:
    stats = Stats()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(
        *(_volunteer(i, host, port, mode, slots[i], deadline, stats, cycle) for i in range(concurrency))
    )
    return stats


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# ----------------------------------------------------------------------------- main


def wait_http(port: int, timeout: float = 120.0) -> None:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--volunteers", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--levels", default="1,2,4,8,16,32,64,128,256")
    ap.add_argument("--web-workers", type=int, default=4)
    ap.add_argument("--web-threads", type=int, default=4)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--keep", action="store_true", help="keep the bench database")
    ap.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run `muster worker` beside gunicorn (it folds the check-outs into the report rollup)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead of the load: N check-ins/outs in-process (no gunicorn), one at a time, with their "
        "queries and a cProfile of the whole request (middleware included)",
    )
    args = ap.parse_args()
    base = os.environ.get("DATABASE_URL", "postgresql://muster:muster@127.0.0.1:5432/muster")
    if not base.startswith("postgres"):
        raise SystemExit(
            "DATABASE_URL must point at PostgreSQL (the bench creates its own database beside it)"
        )
    levels = [int(x) for x in args.levels.split(",") if int(x) <= args.volunteers]
    py = sys.executable
    recreate_database(base)
    tmp = Path(tempfile.mkdtemp(prefix="muster-bench-"))
    (tmp / "bench_settings.py").write_text(BENCH_SETTINGS)
    (tmp / "bench_urls.py").write_text(BENCH_URLS)
    env = {
        **os.environ,
        "DATABASE_URL": bench_url(base),
        "MUSTER_VAR_DIR": str(tmp / "var"),
        "PYTHONPATH": str(tmp),
        "MUSTER_LOG_LEVEL": "WARNING",
        "MUSTER_ACCESS_LOG": "/dev/null",
    }
    server = None
    worker = None
    try:
        subprocess.run([py, "-m", "muster.cli", "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run(
            [
                py,
                "-c",
                "import psycopg,os; c=psycopg.connect(os.environ['DATABASE_URL'],autocommit=True);"
                "c.execute('CREATE TABLE bench_ping (id bigserial PRIMARY KEY, at timestamptz NOT NULL, body text)')",
            ],
            env=env,
            check=True,
        )
        t0 = time.perf_counter()
        seed = subprocess.run(
            [py, "-c", SEED, str(args.volunteers)],
            env={**env, "DJANGO_SETTINGS_MODULE": "muster.settings"},
            check=True,
            capture_output=True,
            text=True,
        )
        slots = json.loads(seed.stdout.strip().splitlines()[-1])
        print(f"seeded {len(slots)} volunteers in {time.perf_counter() - t0:.1f} s")
        from datetime import datetime

        base_time = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=400)
        for s in slots:
            s["base"] = base_time
        if args.profile:
            subprocess.run(
                [py, "-c", PROFILE, str(args.profile), base_time.isoformat()],
                input=json.dumps([{"shift": s["shift"], "token": s["token"]} for s in slots]),
                env={**env, "DJANGO_SETTINGS_MODULE": "bench_settings"},
                check=True,
                text=True,
            )
            return
        server = subprocess.Popen(
            [
                py, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.web_workers),
                "--threads", str(args.web_threads), "muster.wsgi:application",
            ],
            env={**env, "DJANGO_SETTINGS_MODULE": "bench_settings"},
            start_new_session=True,
        )  # fmt: skip
        wait_http(args.port)
        if not args.no_worker:  # as deployed: the worker folds the queued ledger rows into the rollup
            worker = subprocess.Popen(
                [py, "-m", "muster.cli", "worker", "--interval", "0.5"],
                env={**env, "DJANGO_SETTINGS_MODULE": "muster.settings"},
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        cycle = [0] * len(slots)
        rows = []
        print(
            f"gunicorn: {args.web_workers} workers x {args.web_threads} threads; {args.seconds:.0f} s per run"
        )
        print(
            f"{'conc':>5} | {'insert req/s':>12} {'p50 ms':>7} {'p99 ms':>7} | {'check req/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'in p99':>7} {'out p99':>7} {'errors':>6}"
        )
        for c in levels:
            b = asyncio.run(drive("127.0.0.1", args.port, "baseline", c, args.seconds, slots, cycle))
            k = asyncio.run(drive("127.0.0.1", args.port, "checkin", c, args.seconds, slots, cycle))
            bl = b.latencies.get("insert", [])
            kl = k.latencies.get("checkin", []) + k.latencies.get("checkout", [])
            row = {
                "concurrency": c,
                "baseline_rps": len(bl) / args.seconds,
                "baseline_p50_ms": pct(bl, 50) * 1000,
                "baseline_p99_ms": pct(bl, 99) * 1000,
                "checkin_rps": len(kl) / args.seconds,
                "checkin_p50_ms": pct(kl, 50) * 1000,
                "checkin_p99_ms": pct(kl, 99) * 1000,
                "in_p99_ms": pct(k.latencies.get("checkin", []), 99) * 1000,
                "out_p99_ms": pct(k.latencies.get("checkout", []), 99) * 1000,
                "errors": sum(k.errors.values()) + sum(b.errors.values()),
            }
            rows.append(row)
            print(
                f"{c:>5} | {row['baseline_rps']:>12.0f} {row['baseline_p50_ms']:>7.1f} {row['baseline_p99_ms']:>7.1f} | "
                f"{row['checkin_rps']:>11.0f} {row['checkin_p50_ms']:>7.1f} {row['checkin_p99_ms']:>7.1f} "
                f"{row['in_p99_ms']:>7.1f} {row['out_p99_ms']:>7.1f} {row['errors']:>6}"
            )
        import psycopg

        with psycopg.connect(bench_url(base), autocommit=True) as conn:
            (queued,) = conn.execute("SELECT count(*) FROM reports_foldqueue").fetchone()  # type: ignore[misc]
            (rows_written,) = conn.execute("SELECT count(*) FROM mobilize_serviceentry").fetchone()  # type: ignore[misc]
        print(f"ledger rows written {rows_written}; still queued for the rollup fold at the end: {queued}")
        ok = [r for r in rows if r["baseline_p99_ms"] <= 50]
        if not ok:
            print(
                "the baseline's p99 was above 50 ms at every level (a loaded machine): no level to compare at"
            )
            for r in rows:
                print(
                    f"  at {r['concurrency']} concurrent: check-in {r['checkin_rps'] / r['baseline_rps']:.0%} of the "
                    f"baseline's throughput, p99 {r['checkin_p99_ms']:.1f} ms (baseline p99 {r['baseline_p99_ms']:.1f} ms)"
                )
            print(json.dumps({"levels": rows, "compared_at": None}))
            return
        at = max(ok, key=lambda r: r["concurrency"])
        ratio = at["checkin_rps"] / at["baseline_rps"]
        print(
            f"\nat {at['concurrency']} concurrent (the highest level with the baseline's p99 <= 50 ms): "
            f"check-in {at['checkin_rps']:.0f} req/s = {ratio:.0%} of the baseline's {at['baseline_rps']:.0f} "
            f"(target >= 50 %: {'met' if ratio >= 0.5 else 'missed'}); check-in p99 {at['checkin_p99_ms']:.1f} ms "
            f"(target <= 100 ms: {'met' if at['checkin_p99_ms'] <= 100 else 'missed'})"
        )
        print(json.dumps({"levels": rows, "compared_at": at["concurrency"], "ratio": round(ratio, 3)}))
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        if not args.keep:
            drop_database(base)


if __name__ == "__main__":
    main()
