# ruff: noqa: E501, S603, S310
"""The production recipe, exercised: gunicorn + ``muster worker`` + PostgreSQL from the documented commands.

    DATABASE_URL=postgresql://muster:muster@127.0.0.1:5432/muster .venv/bin/python deploy/smoke.py

CI runs this after the test suite (``.ci/run``). Against a fresh database beside ``DATABASE_URL``
(``muster_smoke``, created and dropped here) and a fresh ``MUSTER_VAR_DIR``, with a key from
``muster genkey``, it runs the commands of docs/deployment.*.md — ``muster migrate --noinput``,
``muster createadmin``, ``gunicorn -c deploy/gunicorn.conf.py muster.wsgi:application``,
``muster worker`` — and then, over HTTP only:

1. ``/healthz`` answers 200 with the database up and a live worker;
2. a volunteer logs in through the login page (CSRF and session cookie) and checks in on a shift
   through the API with the session;
3. the administrator (an API token) creates a roster plan, which the worker solves; the plan is
   published;
4. a team's group bot (a generic webhook pointed at a local HTTP sink started here) gets a test
   message through the worker, signed.

Exits non-zero with the step that failed. Prints each step and the logs of the servers on failure.
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookiejar
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB = "muster_smoke"
VOLUNTEER_PASSWORD = "smoke-" + secrets.token_urlsafe(12)
ADMIN_PASSWORD = "smoke-" + secrets.token_urlsafe(12)

SEED = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from muster.accounts.services import token_create
from muster.mobilize import services as svc
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person
from muster.orgs.services import person_create, role_grant, team_create, team_member_add, unit_create
import json, os

User = get_user_model()
admin = User.objects.get(username="admin")
root = unit_create(actor=SYSTEM, code="SH", name="上海市税务局", kind="city_bureau", parent=None)
xh = unit_create(actor=SYSTEM, code="XH", name="徐汇区税务局", kind="district_bureau", parent=root)
team = team_create(actor=SYSTEM, code="XH-T1", name="税青逆行者", unit=xh, kind="member")
people = [
    person_create(actor=SYSTEM, code=f"XH{i:04d}", name=n, unit=xh)
    for i, n in enumerate(["张丽", "王强", "李娜", "赵敏"], start=1)
]
for p in people:
    team_member_add(actor=SYSTEM, team=team, person=p)
volunteer = User.objects.create_user(username="zhangli", password=os.environ["SMOKE_VOLUNTEER_PASSWORD"])
Person.objects.filter(pk=people[0].pk).update(user=volunteer)
now = timezone.now()
d = svc.deployment_dispatch(
    actor=SYSTEM, unit=xh, title="核酸检测", start=now - timedelta(hours=2), end=now + timedelta(days=3),
    people=people, leader=people[1], site="宛平社区",
).deployment
shift = svc.shift_create(actor=SYSTEM, deployment=d, start=now - timedelta(hours=1), end=now + timedelta(hours=7), seats=4)
svc.shift_assign(actor=SYSTEM, shift=shift, person=people[0])
for day in (1, 2):
    start = (now + timedelta(days=day)).replace(hour=8, minute=0, second=0, microsecond=0)
    svc.shift_create(actor=SYSTEM, deployment=d, start=start, end=start + timedelta(hours=8), seats=2)
_, token = token_create(actor=admin, user=admin, name="smoke")
print(json.dumps({"token": token, "shift": shift.pk, "batch": d.code, "team": team.code,
                  "start": str((now + timedelta(days=1)).date()), "end": str((now + timedelta(days=2)).date())}))
"""


class Sink(http.server.BaseHTTPRequestHandler):
    """A local HTTP endpoint standing in for a group bot: keeps what it receives."""

    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Sink.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "code": 0, "StatusCode": 0}')

    def log_message(self, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def step(text: str) -> None:
    print(f"== {text}", flush=True)


class Http:
    """A tiny client with a cookie jar (the session) and JSON helpers."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method: str, path: str, data: Any = None, headers: dict[str, str] | None = None,
             form: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        body = None
        hdrs = {"Host": "localhost", **(headers or {})}
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            hdrs["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=hdrs)
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")


def wait_for(what: str, check: Any, timeout: float = 300.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "postgresql://muster:muster@127.0.0.1:5432/muster")
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    parts = urllib.parse.urlsplit(base_url)
    var = Path(tempfile.mkdtemp(prefix="muster-smoke-"))
    port, sink_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": urllib.parse.urlunsplit(parts._replace(path="/" + DB)),
        "MUSTER_VAR_DIR": str(var),
        "MUSTER_SECRET_KEY": secrets.token_urlsafe(48),
        "MUSTER_ALLOWED_HOSTS": "localhost",
        "MUSTER_BIND": f"127.0.0.1:{port}",
        "MUSTER_WEB_WORKERS": "2",
        "MUSTER_ACCESS_LOG": str(var / "access.log"),
        "MUSTER_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SMOKE_VOLUNTEER_PASSWORD": VOLUNTEER_PASSWORD,
        # Bots on a private address are refused unless allowed (the sink is on loopback).
        "MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS": "1",
    }
    muster = str(BIN / "muster")
    servers: list[subprocess.Popen[bytes]] = []
    logs = {name: open(var / f"{name}.log", "wb") for name in ("web", "worker")}
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", sink_port), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        step("muster genkey / migrate / createadmin")
        env["MUSTER_FIELD_KEY"] = subprocess.run(
            [muster, "genkey"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        subprocess.run([muster, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run([muster, "createadmin", "--username", "admin"], env=env, check=True)
        seeded = subprocess.run(
            [muster, "shell", "-c", SEED], env=env, check=True, capture_output=True, text=True
        )
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])

        step("gunicorn -c deploy/gunicorn.conf.py muster.wsgi:application; muster worker")
        servers.append(
            subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "muster.wsgi:application"],
                env=env, stdout=logs["web"], stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
        servers.append(
            subprocess.Popen(
                [muster, "worker"],
                env=env,
                stdout=logs["worker"],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        web = Http(f"http://127.0.0.1:{port}")

        step("/healthz: database up, a live worker")

        def healthy() -> Any:
            try:
                status, body = web.call("GET", "/healthz")
            except OSError:
                return None
            data = json.loads(body) if status == 200 else {}
            ok = data.get("database") == "ok" and (data.get("workers") or {}).get("live", 0) > 0
            return data if ok else None

        print("   ", json.dumps(wait_for("/healthz with a live worker", healthy, 180)))

        step("a volunteer logs in on the login page and checks in through the API")
        status, _page = web.call("GET", "/accounts/login/")
        assert status == 200, status
        status, _ = web.call(
            "POST",
            "/accounts/login/",
            form={
                "csrfmiddlewaretoken": web.cookie("csrftoken"),
                "username": "zhangli",
                "password": VOLUNTEER_PASSWORD,
            },
            headers={"Referer": f"http://localhost:{port}/accounts/login/"},
        )
        assert web.cookie("sessionid"), f"login failed ({status})"
        status, body = web.call(
            "POST",
            f"/api/v1/mobilize/shifts/{seed['shift']}/checkin",
            {"key": "smoke-1"},
            headers={"X-CSRFToken": web.cookie("csrftoken")},
        )
        assert status == 200, (status, body[:500])
        print("   ", body[:200].decode())

        step("a roster plan solved by the worker, then published")
        admin = Http(f"http://127.0.0.1:{port}")
        auth = {"Authorization": f"Bearer {seed['token']}"}
        status, body = admin.call(
            "POST",
            "/api/v1/roster/plans",
            {"deployment": seed["batch"], "start": seed["start"], "end": seed["end"], "seconds": 3},
            headers=auth,
        )
        assert status == 201, (status, body[:500])
        plan = json.loads(body)["id"]

        def solved() -> Any:
            _status, body = admin.call("GET", f"/api/v1/roster/plans/{plan}/progress", headers=auth)
            data = json.loads(body)
            assert data.get("status") not in ("failed", "cancelled"), data
            return data if data.get("status") == "done" else None

        print("   ", json.dumps(wait_for("the solve", solved, 300))[:300])
        status, body = admin.call("POST", f"/api/v1/roster/plans/{plan}/publish", headers=auth)
        assert status == 200, (status, body[:500])
        print("   ", body[:300].decode())

        step("a team's group bot (a signed webhook into a local sink) gets a test message via the worker")
        secret = secrets.token_urlsafe(24)
        status, body = admin.call(
            "POST",
            f"/api/v1/notify/teams/{seed['team']}/bots",
            {
                "kind": "webhook",
                "name": "smoke",
                "url": f"http://127.0.0.1:{sink_port}/hook",
                "secret": secret,
            },
            headers=auth,
        )
        assert status == 201, (status, body[:500])
        bot = json.loads(body)["id"]
        status, body = admin.call("POST", f"/api/v1/notify/bots/{bot}/test", headers=auth)
        assert status in (200, 201, 202), (status, body[:500])
        path, headers, payload = wait_for("the sink to receive the message", lambda: Sink.received[:1], 180)[
            0
        ]
        print("    sink got", path, payload[:200])
        signature = next((v for k, v in headers.items() if k.lower() == "x-muster-signature"), "")
        expected = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, expected), (signature, expected)
        print("    signature checks out:", signature[:20] + "…")
        step("all steps passed")
        return 0
    except (AssertionError, SystemExit, subprocess.CalledProcessError) as exc:
        print(f"FAILED: {exc!r}", file=sys.stderr)
        for name, fh in logs.items():
            fh.flush()
            print(f"---- {name} log (tail)", file=sys.stderr)
            print((var / f"{name}.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        return 1
    finally:
        for proc in servers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        sink.shutdown()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
