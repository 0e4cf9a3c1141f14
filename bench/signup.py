# ruff: noqa: E501
"""Benchmark: call-ups and sign-up on PostgreSQL (issue 26).

    DATABASE_URL=postgresql://muster:muster@127.0.0.1:5432/muster \\
        .venv/bin/python bench/signup.py [--people 10000] [--signers 2000] [--seats 500] [--procs 2]
        [--threads 16]

In one run, against a fresh bench database (``muster_bench_signup``, created and dropped here — never the
database of ``DATABASE_URL`` itself), through Django's full request stack in this process (WSGI handler,
middleware, token authentication; ``--procs`` client processes of ``--threads`` clients each, at once,
each client its own database connection):

1. **call-up**: a call-up to ``--people`` people (one unit), then every one of them answers through the
   answer link of their message (``POST /volunteers/answer/<token>/``, 报名 or 不能参加 with a reason):
   time for all answers (target: within a minute), answers/s, and every answer stored exactly once;
2. **sign-up race**: ``--signers`` people sign up at once (``POST /api/v1/volunteers/openings/{id}/signup``)
   for ``--seats`` seats (shifts of 5 seats, 4 people per seat): no shift over-filled, every request answered
   (seated or "full", no 5xx), the seats all taken; throughput in answers/s beside a plain single-row insert
   endpoint (``POST /bench/insert``) driven the same way in the same run (target ≥ 50 % of it);
3. **open shifts that fit**: ``queries.open_shifts`` for one person with 5,000 open shifts (median of 7
   warm runs; target ≤ 100 ms): the whole list, and one page of it as the volunteer's home shows it
   (``limit``: read in chunks until the page is full); beside them, reading the 5,000 rows alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import types
import urllib.parse
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "muster_bench_signup"
PAGE = 50  # open shifts on one page of the volunteer's home (``volunteers.views.OPEN_PAGE``)
sys.path.insert(0, str(ROOT / "src"))


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


_PROCS = 1  # client processes (``--procs``), each with its threads and their own database connections


def drive(
    jobs: list[Callable[[Any], int]], threads: int, make_client: Callable[[], Any]
) -> tuple[float, Counter[int]]:
    """Run every job (a function of a client returning an HTTP status) on ``threads`` workers in each of
    ``--procs`` client processes (forked from this one, so that Python's lock on one process does not
    make the clients take turns); returns the wall time from the common start to the last answer."""
    if _PROCS <= 1:
        return _drive_threads(jobs, threads, make_client, None)
    import multiprocessing as mp

    from django.db import connections

    connections.close_all()  # each process opens its own
    ctx = mp.get_context("fork")
    go, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()

    def child(part: list[Callable[[Any], int]]) -> None:
        _elapsed, statuses = _drive_threads(part, threads, make_client, (ready, go))
        results.put(dict(statuses))

    procs = [ctx.Process(target=child, args=(jobs[i::_PROCS],)) for i in range(_PROCS)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    t0 = time.perf_counter()
    go.set()
    statuses: Counter[int] = Counter()
    for _ in procs:
        statuses.update(results.get())
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    return elapsed, statuses


def _drive_threads(
    jobs: list[Callable[[Any], int]], threads: int, make_client: Callable[[], Any], start: Any
) -> tuple[float, Counter[int]]:
    from django.db import connections

    lock = threading.Lock()
    it = iter(jobs)
    statuses: Counter[int] = Counter()
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        client = make_client()
        barrier.wait()
        local: Counter[int] = Counter()
        while True:
            with lock:
                job = next(it, None)
            if job is None:
                break
            local[job(client)] += 1
        with lock:
            statuses.update(local)
        connections.close_all()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    if start is not None:  # in a client process: say ready, then wait for the common start
        ready, go = start
        ready.put(1)
        go.wait()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, statuses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--signers", type=int, default=2_000)
    ap.add_argument("--seats", type=int, default=500)
    ap.add_argument("--threads", type=int, default=16, help="client threads in each client process")
    ap.add_argument("--procs", type=int, default=2, help="client processes (each its own connections)")
    ap.add_argument("--open-shifts", type=int, default=5_000)
    ap.add_argument("--keep", action="store_true", help="keep the bench database")
    ap.add_argument(
        "--parts", default="1,2,3", help="which parts to run (1 call-up, 2 sign-up race, 3 open shifts)"
    )
    args = ap.parse_args()
    global _PROCS
    _PROCS = max(1, args.procs)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the bench database is created beside it).")
    recreate_database(base)
    os.environ["DATABASE_URL"] = bench_url(base)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muster.settings")
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(base)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 422s of the race are expected
    settings.DEBUG = False
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpRequest, JsonResponse
    from django.urls import include, path
    from django.utils import timezone
    from django.views.decorators.csrf import csrf_exempt

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE bench_ping (id bigserial primary key, at timestamptz, body text)")

    @csrf_exempt
    def insert(request: HttpRequest) -> JsonResponse:
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO bench_ping (at, body) VALUES (now(), %s) RETURNING id",
                [request.body[:200].decode()],
            )
            (row_id,) = cur.fetchone()
        return JsonResponse({"id": row_id})

    # The baseline: one row inserted through the API's own stack (token authentication, the request
    # checks, a JSON body read into a schema, a JSON answer), so that the ratio measures the sign-up's own
    # work. The plain Django view above (no authentication) is measured beside it, for reference.
    from ninja import Schema

    from muster.api.auth import token_auth
    from muster.api.checks import MusterAPI

    bench_api = MusterAPI(urls_namespace="bench_api", auth=[token_auth], docs_url=None, openapi_url=None)

    class PingIn(Schema):
        body: str

    globals()["PingIn"] = PingIn  # (annotations are strings here: ninja resolves them in the module)

    @bench_api.post("/insert")
    def api_insert(request: HttpRequest, payload: PingIn) -> dict[str, int]:
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO bench_ping (at, body) VALUES (now(), %s) RETURNING id", [payload.body[:200]]
            )
            (row_id,) = cur.fetchone()
        return {"id": row_id}

    urls = types.ModuleType("bench_signup_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/insert", insert),
        path("bench/api/", bench_api.urls),
        path("", include("muster.urls")),
    ]
    sys.modules["bench_signup_urls"] = urls
    settings.ROOT_URLCONF = "bench_signup_urls"

    from muster.accounts.services import token_create
    from muster.orgs.access import SYSTEM
    from muster.orgs.models import Person
    from muster.orgs.services import person_create_many, role_grant, unit_create

    User = get_user_model()
    root = unit_create(actor=SYSTEM, code="SH", name="上海市税务局", kind="city_bureau", parent=None)
    unit = unit_create(actor=SYSTEM, code="XH", name="徐汇区税务局", kind="district_bureau", parent=root)
    leader = User.objects.create_user(username="bench-leader", password=None)
    role_grant(actor=SYSTEM, user=leader, role="manager", unit=unit)
    people = person_create_many(
        actor=SYSTEM,
        people=[{"code": f"V{i:05d}", "name": f"志愿者{i}", "unit": unit} for i in range(args.people)],
    )
    signers = people[: args.signers]
    tokens: list[str] = []
    for p in signers:
        user = User.objects.create_user(username=p.code.lower(), password=None)
        Person.objects.filter(pk=p.pk).update(user=user)
        _, raw = token_create(actor=user, user=user, name="bench")
        tokens.append(raw)
    print(f"seeded {args.people} people ({args.signers} with a login) in {time.perf_counter() - t0:.1f} s")

    parts = {int(x) for x in args.parts.split(",") if x.strip()}
    now = timezone.now()
    if 1 in parts:
        part_callup(args, leader, unit, now)
    if 2 in parts:
        part_race(args, leader, unit, people, tokens, now)
    if 3 in parts:
        part_open_shifts(args, leader, unit, signers[-1], now)


def part_callup(args: argparse.Namespace, leader: Any, unit: Any, now: Any) -> None:
    from django.test import Client

    from muster.volunteers import queries
    from muster.volunteers import services as vsvc
    from muster.volunteers.models import CallUpInvite

    # ------------------------------------------------------------------ 1. the call-up
    t1 = time.perf_counter()
    c = vsvc.callup_create(
        actor=leader,
        unit=unit,
        title="党员集结号",
        start=now + timedelta(days=2),
        end=now + timedelta(days=2, hours=8),
        people_needed=args.seats,
        deadline=now + timedelta(days=1),
        audience_unit=unit,
        place="宛平社区",
    )
    created = time.perf_counter() - t1
    invites = list(CallUpInvite.objects.filter(callup=c).values_list("token", flat=True))

    def answer_job(token: str, i: int) -> Callable[[Any], int]:
        data = {"answer": "yes"} if i % 3 else {"answer": "no", "reason": "子女尚在襁褓"}

        def job(client: Any) -> int:
            # each answer from another person's phone: no cookies of the answers before (the client
            # thread's cookie jar would otherwise carry every earlier "thank you" message along, and
            # the message cookie would grow with each answer the thread sends)
            client.cookies.clear()
            return int(client.post(f"/volunteers/answer/{token}/", data).status_code)

        return job

    elapsed, statuses = drive([answer_job(t, i) for i, t in enumerate(invites)], args.threads, Client)
    stored = CallUpInvite.objects.filter(callup=c).exclude(answer="").count()
    f = queries.callup_figures(c)
    print(
        f"call-up: sent to {c.invited} people in {created:.1f} s; {len(invites)} answers through the link in "
        f"{elapsed:.1f} s ({len(invites) / elapsed:.0f} answers/s; target: all within 60 s); statuses {dict(statuses)}; "
        f"stored {stored} (lost {len(invites) - stored}); response rate {f.response_rate:.0%}"
    )


def part_race(
    args: argparse.Namespace, leader: Any, unit: Any, people: list[Any], tokens: list[str], now: Any
) -> None:
    from django.test import Client
    from django.utils import timezone

    from muster.mobilize import services as msvc
    from muster.mobilize.models import Assignment
    from muster.volunteers import services as vsvc
    from muster.volunteers.models import SignUp

    # ------------------------------------------------------------------ 2. the sign-up race
    per_shift = 5
    n_shifts = args.seats // per_shift
    d = msvc.deployment_dispatch(
        actor=leader,
        unit=unit,
        title="核酸检测",
        start=now + timedelta(days=3),
        end=now + timedelta(days=4),
        people=[people[-1]],
    ).deployment
    shifts = [
        msvc.shift_create(
            actor=leader,
            deployment=d,
            start=now + timedelta(days=3, hours=1),
            end=now + timedelta(days=3, hours=5),
            seats=per_shift,
        )
        for _ in range(n_shifts)
    ]
    openings = vsvc.shifts_open(
        actor=leader,
        shifts=shifts,
        unit=unit,
        deadline=now + timedelta(days=2),
        cancel_cutoff=now + timedelta(days=2),
    )

    # One client per client thread, the person's token sent with each request: like a WSGI server, whose
    # process builds its middleware chain once (a new test client per request would build it each time,
    # WhiteNoise's scan of the static files included — about 45 ms, more than either endpoint's work).
    def signup_job(i: int) -> Callable[[Any], int]:
        o = openings[i % n_shifts]
        auth = f"Bearer {tokens[i]}"
        return lambda client: (
            client.post(
                f"/api/v1/volunteers/openings/{o.pk}/signup",
                "{}",
                content_type="application/json",
                HTTP_AUTHORIZATION=auth,
            ).status_code
        )

    def insert_job(i: int, url: str) -> Callable[[Any], int]:
        auth = f"Bearer {tokens[i]}"
        return lambda client: (
            client.post(
                url, f'{{"body": "row {i}"}}', content_type="application/json", HTTP_AUTHORIZATION=auth
            ).status_code
        )

    # the baseline before and after the race (the machine's load moves; the mean of both is the baseline)
    # Each person logged in a moment ago: no measured request writes its token's "last used" time (which
    # the first use in five minutes does), so that no run pays for it and another not.
    from muster.accounts.models import ApiToken

    ApiToken.objects.update(last_used_at=timezone.now())
    n = len(tokens)
    plain_s, plain_st = drive([insert_job(i, "/bench/insert") for i in range(n)], args.threads, Client)
    before_s, base_st = drive([insert_job(i, "/bench/api/insert") for i in range(n)], args.threads, Client)
    race_s, race_st = drive([signup_job(i) for i in range(n)], args.threads, Client)
    after_s, after_st = drive([insert_job(i, "/bench/api/insert") for i in range(n)], args.threads, Client)
    base_st.update(after_st)
    base_s = (before_s + after_s) / 2
    counts = Counter(Assignment.objects.filter(shift__in=shifts).values_list("shift_id", flat=True))
    over = sum(1 for s in shifts if counts[s.pk] > per_shift)
    seated = SignUp.objects.filter(opening__in=openings, status="seated").count()
    answered = sum(race_st.values())
    base_rate, race_rate = len(tokens) / base_s, len(tokens) / race_s
    print(
        f"sign-up race: {len(tokens)} sign-ups for {args.seats} seats ({n_shifts} shifts × {per_shift}) by {_PROCS} × {args.threads} clients: "
        f"statuses {dict(race_st)}; seats taken {sum(counts.values())}/{args.seats}; shifts over-filled {over}; "
        f"sign-ups seated {seated}; answered {answered}/{len(tokens)} (lost {len(tokens) - answered})"
    )
    print(
        f"throughput: sign-up {race_rate:.0f} answers/s, baseline single-row insert {base_rate:.0f} req/s "
        f"(before {len(tokens) / before_s:.0f}, after {len(tokens) / after_s:.0f}) "
        f"(statuses {dict(base_st)}) → {race_rate / base_rate:.0%} of the baseline (target ≥ 50 %); "
        f"beside the plain Django view without authentication ({n / plain_s:.0f} req/s, statuses "
        f"{dict(plain_st)}): {race_rate / (n / plain_s):.0%}"
    )


def part_open_shifts(args: argparse.Namespace, leader: Any, unit: Any, me: Any, now: Any) -> None:
    from muster.mobilize import services as msvc
    from muster.mobilize.models import Shift
    from muster.volunteers import queries
    from muster.volunteers.models import Opening

    # ------------------------------------------------------------------ 3. open shifts that fit
    post = msvc.post_create(actor=leader, unit=unit, code="P12366", name="12366 热线", kind="hotline")
    start = now + timedelta(days=5)
    rows = [
        Shift(
            post=post,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i + 4),
            seats=3,
            mode="remote" if i % 2 else "onsite",
        )
        for i in range(args.open_shifts)
    ]
    made = Shift.objects.bulk_create(rows, batch_size=1000)
    Opening.objects.bulk_create(
        [Opening(shift=s, unit=unit, deadline=start, cancel_cutoff=start) for s in made], batch_size=1000
    )
    msvc.shift_assign(actor=leader, shift=made[10], person=me)
    times = []
    n = 0
    for _ in range(8):
        t = time.perf_counter()
        n = len(queries.open_shifts(me))
        times.append((time.perf_counter() - t) * 1000)
    med = statistics.median(times[1:])
    # the page the volunteer's home shows: the first PAGE open shifts (fitting or not), read a chunk at a time
    paged = []
    for _ in range(8):
        t = time.perf_counter()
        first_page = queries.open_shifts(me, only_fitting=False, limit=PAGE + 1)
        paged.append((time.perf_counter() - t) * 1000)
    pmed = statistics.median(paged[1:])
    # the least such a list can cost on this machine now: reading the 5,000 open shifts' rows alone
    base = []
    for _ in range(8):
        t = time.perf_counter()
        list(
            Opening.objects.filter(is_open=True).values_list(
                "pk", "shift__start", "shift__end", "deadline", "cancel_cutoff"
            )
        )
        base.append((time.perf_counter() - t) * 1000)
    bmed = statistics.median(base[1:])
    print(
        f"open shifts that fit: {args.open_shifts} open shifts, {n} fit one person: median {med:.0f} ms "
        f"(min {min(times[1:]):.0f}, max {max(times[1:]):.0f}; target ≤ 100 ms); reading the rows alone: "
        f"median {bmed:.0f} ms (the list costs {med / bmed:.1f}× that)"
    )
    print(
        f"open shifts, one page ({PAGE} shown, {len(first_page)} read): median {pmed:.0f} ms "
        f"(min {min(paged[1:]):.0f}, max {max(paged[1:]):.0f}; target ≤ 100 ms)"
    )


if __name__ == "__main__":
    main()
