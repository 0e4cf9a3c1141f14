"""``muster demo``: the demo organization, loaded idempotently, then served.

The in-process tests share one load (module fixture, rolled back at the end); the console-script tests
run ``.venv/bin/muster`` against their own throw-away SQLite database (a copy of the session's migrated
template).
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import translation

from muster.audit.models import AuditEvent
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.demo import DEFAULT_PASSWORD, build_plan
from muster.orgs.models import Partner, Person, RoleGrant, Team, Unit
from muster.orgs.validators import id_birth_date, id_gender, normalize_id_number, normalize_text
from tests.cli.conftest import MUSTER, ScriptEnv, make_script_env

DISTRICTS = "黄浦 徐汇 长宁 静安 普陀 虹口 杨浦 闵行 宝山 嘉定 浦东新 金山 松江 青浦 奉贤 崇明".split()


@dataclass
class Loaded:
    first: str
    second: str
    events_after_first: int
    events_after_second: int
    totals_after_first: tuple[int, ...]
    totals_after_second: tuple[int, ...]


def _totals() -> tuple[int, ...]:
    return (Unit.objects.count(), Person.objects.count(), Team.objects.count(), Partner.objects.count())


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Loaded]:
    """Load the demo twice through ``call_command``; everything is rolled back after the module."""
    with django_db_blocker.unblock(), translation.override("en"):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            out1, out2 = io.StringIO(), io.StringIO()
            call_command("demo", "--no-serve", "--no-seed", stdout=out1)
            events1, totals1 = AuditEvent.objects.count(), _totals()
            call_command("demo", "--no-serve", "--no-seed", stdout=out2)
            yield Loaded(
                out1.getvalue(), out2.getvalue(), events1, AuditEvent.objects.count(), totals1, _totals()
            )
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


pytestmark = pytest.mark.django_db


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def children(u: Unit, kind: str) -> list[Unit]:
    return list(Unit.objects.filter(path__startswith=u.path, depth=u.depth + 1, kind=kind))


def test_first_run_loads_and_prints_logins(demo: Loaded) -> None:
    assert "Demo data loaded" in demo.first
    assert f"password for all: {DEFAULT_PASSWORD}" in demo.first
    for name in ("admin", "viewer", "xuhui", "xuhui_secretary", "huangpu_leader"):
        assert f"  {name} " in demo.first
    assert demo.totals_after_first[1] >= 2500


def test_second_run_changes_nothing(demo: Loaded) -> None:
    assert "nothing changed" in demo.second
    assert demo.totals_after_second == demo.totals_after_first
    assert demo.events_after_second == demo.events_after_first


def test_the_city_bureau_and_its_units(demo: Loaded) -> None:
    root = unit("SH")
    assert root.name == "国家税务总局上海市税务局" and root.kind == "city_bureau" and root.is_root()
    districts = children(root, "district_bureau")
    assert len(districts) == 16
    for short in DISTRICTS:
        matches = [d for d in districts if d.short_name == f"{short}区税务局"]
        assert len(matches) == 1, short
        assert matches[0].name == f"国家税务总局上海市{short}区税务局"
    inspections = sorted(u.short_name for u in children(root, "inspection_bureau"))
    assert inspections == sorted(f"第{n}稽查局" for n in "一二三四五")
    assert [u.short_name for u in children(root, "sub_bureau")] == ["第三税务分局"]
    assert [u.name for u in children(root, "service_center")] == [
        normalize_text("12366上海（国际）纳税服务中心")
    ]
    organ = unit("SH-JG")
    sections = {u.name for u in children(organ, "section")}
    assert {"办公室", normalize_text("党建处（巡察办）"), "纳税服务处", "征管科技处", "人事处"} <= sections
    xuhui = unit("XH")
    assert children(xuhui, "tax_office") and children(xuhui, "service_hall")


def test_the_party_tree(demo: Loaded) -> None:
    party_root = unit("SH-DW")
    assert party_root.is_root() and party_root.kind == "party_committee"
    committees = children(party_root, "party_committee")
    assert len(committees) >= 16 + 5 + 3  # districts, inspection bureaus, organ, sub-bureau, centre
    assert len(children(unit("XH-DW"), "branch")) == 26
    assert len(children(unit("YP-DW"), "branch")) == 31
    assert Unit.objects.filter(kind="party_group").count() > 10
    # Every Xuhui branch has members, and Xuhui has its "80多位党务工作者".
    for branch in children(unit("XH-DW"), "branch"):
        assert Person.objects.filter(party_unit=branch).exists(), branch.name
    xh_workers = Person.objects.filter(
        unit__path__startswith=unit("XH").path, tags__name="党务工作者"
    ).count()
    assert 80 <= xh_workers < 90


def test_party_members_belong_to_their_own_district(demo: Loaded) -> None:
    members = Person.objects.filter(political_status__in=["member", "probationary"]).select_related(
        "unit", "party_unit"
    )
    assert members.count() > 1000
    committees = {u.code: u for u in Unit.objects.filter(kind="party_committee")}
    for p in members:
        district_code = p.unit.code.split("-")[0]
        if district_code == "SH":  # the organ
            district_code = "SH-JG"
        assert p.party_unit is not None, p.code
        assert p.party_unit.path.startswith(committees[f"{district_code}-DW"].path), (
            p.code,
            p.party_unit.code,
        )
    assert not Person.objects.filter(political_status="non_party", party_unit__isnull=False).exists()


def test_named_volunteer_teams(demo: Loaded) -> None:
    expected = {
        "HP": ["抗疫急先锋", "税青逆行者", "党员集结号", "同心战役军"],
        "SJ": ["1号先锋蓝"],
        "JD": ["嘉家护沪"],
        "CN": ["长税机场防疫志愿队"],
        "PT": ["疫情防控志愿服务队"],
        "FX": ["疫情防控应急预备队", "青年先锋队"],
        "SH-JG": ["疫情防控志愿服务预备队"],
        "JA": ["党团员突击队"],
        "BS": ["青年突击队"],
        "PD": ["青年先锋队"],
    }
    for unit_code, names in expected.items():
        teams = Team.objects.filter(unit__code=unit_code)
        assert set(names) <= {t.name for t in teams}, unit_code
    assert Team.objects.filter(unit__code="MH", kind="youth", name__contains="青年突击队").count() == 3
    sjt = Team.objects.get(name="1号先锋蓝")
    assert sjt.memberships.count() == 48
    assert sjt.memberships.filter(role="leader").count() == 1
    # members come from the team's own bureau
    assert not sjt.members.exclude(unit__path__startswith=sjt.unit.path).exists()


def test_partners(demo: Loaded) -> None:
    def partner(name: str) -> Partner:
        return Partner.objects.select_related("unit").get(name=name)

    assert partner("宛平社区").unit.code == "SH-JG"
    assert partner("新江湾城街道").unit.code == "YP"
    airport = partner("浦东国际机场")
    assert airport.kind == "airport" and airport.unit.code == "CN"
    assert partner("真如体育场").kind == "test_site" and partner("长风公园").unit.code == "PT"
    assert {"南翔镇", "马陆镇", "安亭镇"} <= set(
        Partner.objects.filter(unit__code="JD").values_list("name", flat=True)
    )
    assert Partner.objects.filter(unit__code="HK", kind="subdistrict").count() == 7
    assert Partner.objects.filter(unit__code="MH", name__startswith="莘庄").exists()


def test_people_are_plausible(demo: Loaded) -> None:
    people = list(Person.objects.all())
    assert len(people) >= 2500
    with_id = [p for p in people if p.id_number_enc]
    assert len(with_id) > 0.9 * len(people)
    for p in with_id:
        number = p.id_number
        assert normalize_id_number(number) == number  # raises on a bad check digit or date
        assert id_birth_date(number) == p.birth_date, p.code
        assert id_gender(number) == p.gender, p.code
    assert len({p.id_number for p in with_id}) == len(with_id)
    phones = [p.phone for p in people if p.phone_enc]
    assert len(set(phones)) == len(phones) and all(len(x) == 11 and x[0] == "1" for x in phones)
    assert sum(1 for p in with_id if p.id_number.startswith("310")) > len(with_id) / 2
    statuses = {p.political_status for p in people}
    assert {"member", "probationary", "league", "non_party"} <= statuses
    js_retired = Person.objects.filter(unit__code="JS", employment_status="retired")
    assert js_retired.count() == 243
    assert js_retired.filter(tags__name="老同志").count() == 243
    for tag in ("青年", "退役军人", "志愿者", "党务工作者"):
        assert Person.objects.filter(tags__name=tag).exists(), tag


def test_writes_were_audited_as_the_command_line(demo: Loaded) -> None:
    created = AuditEvent.objects.filter(action="orgs.person.created")
    assert created.count() == Person.objects.count()
    assert set(created.values_list("channel", flat=True)) == {"cli"}
    assert set(created.values_list("actor_name", flat=True)) == {"system"}
    assert AuditEvent.objects.filter(action="orgs.unit.created").count() == Unit.objects.count()


def test_demo_users_log_in_with_their_roles(demo: Loaded) -> None:
    User = get_user_model()
    assert User.objects.get(username="admin").is_superuser
    expected = {
        "viewer": ("viewer", "SH"),
        "xuhui": ("manager", "XH"),
        "xuhui_secretary": ("secretary", "XH-DW"),
        "huangpu_leader": ("leader", "HP"),
    }
    for username, (role, code) in expected.items():
        user = User.objects.get(username=username)
        assert not user.is_superuser
        assert list(RoleGrant.objects.filter(user=user).values_list("role", "unit__code")) == [(role, code)]
        assert Client().login(username=username, password=DEFAULT_PASSWORD), username
    xuhui = User.objects.get(username="xuhui")
    assert access.can(xuhui, Perm.CHANGE, unit("XH-S1"))
    assert not access.can(xuhui, Perm.VIEW, unit("HP"))


def test_the_plan_is_deterministic() -> None:
    a, b = build_plan(), build_plan()
    assert [(p.code, p.name, p.id_number, p.phone, p.party_unit) for p in a.people] == [
        (p.code, p.name, p.id_number, p.phone, p.party_unit) for p in b.people
    ]
    assert [t.members for t in a.teams] == [t.members for t in b.teams]
    assert build_plan(seed=1).people[0].id_number != a.people[0].id_number


# ---------------------------------------------------------------- the real console script


@pytest.fixture(scope="module")
def loaded_script_env(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: Path
) -> tuple[ScriptEnv, subprocess.CompletedProcess[str]]:
    """The demo loaded by the script into a database that an older Muster left (the session's migrated
    template with the newest migration of an app taken back): ``muster demo`` migrates it first."""
    env = make_script_env(tmp_path_factory.mktemp("demo") / "var", database=migrated_template)
    older = env.run("migrate", "partylife", "0002", "-v", "0")
    assert older.returncode == 0, older.stderr
    first = env.run("demo", "--no-serve", "--no-seed")
    assert first.returncode == 0, first.stderr
    return env, first


def _totals_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("In the database:"))


def test_console_script_demo_no_serve_is_idempotent(
    loaded_script_env: tuple[ScriptEnv, subprocess.CompletedProcess[str]],
) -> None:
    assert MUSTER.exists()
    env, first = loaded_script_env
    assert "Creating the database tables" in first.stdout  # the pending migration
    assert "Demo data loaded" in first.stdout
    assert f"password for all: {DEFAULT_PASSWORD}" in first.stdout
    queries: dict[str, tuple[str, dict[str, Any]]] = {
        "events": ("audit.AuditEvent", {}),
        "people": ("orgs.Person", {}),
        # Shanghai's district bureaus (under the city bureau; the outreach demo adds 镇江's as a second root)
        "districts": ("orgs.Unit", {"kind": "district_bureau", "depth": 2}),
        "inspections": ("orgs.Unit", {"kind": "inspection_bureau"}),
        "people_created_by_cli": ("audit.AuditEvent", {"channel": "cli", "action": "orgs.person.created"}),
    }
    before = env.counts(**queries)
    assert before["people"] >= 2500
    assert before["districts"] == 16 and before["inspections"] == 5
    assert before["people_created_by_cli"] == before["people"]
    second = env.run("demo", "--no-serve", "--no-seed")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout and "Creating the database tables" not in second.stdout
    assert _totals_line(second.stdout) == _totals_line(first.stdout)
    assert env.counts(**queries) == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_console_script_demo_serves_the_app_and_its_static_files(
    loaded_script_env: tuple[ScriptEnv, subprocess.CompletedProcess[str]],
) -> None:
    env, _first = loaded_script_env
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {**env.env, "MUSTER_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(MUSTER), "demo", "--no-seed", "--addrport", f"127.0.0.1:{port}"],
        env=server_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, headers = _get(f"{base}/static/vendor/bootstrap/bootstrap.min.css")
                break
            except (ConnectionError, urllib.error.URLError):
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        assert status == 200
        assert b"Bootstrap" in body[:400]
        assert headers.get("Content-Type", "").startswith("text/css")
        status, _body, headers = _get(f"{base}/")
        assert status in (200, 302)
        if status == 302:
            assert "/accounts/login/" in headers["Location"]
        # the background worker runs beside the server: its heartbeat shows on /healthz
        deadline = time.monotonic() + 120
        while True:
            status, body, _headers = _get(f"{base}/healthz")
            assert status == 200
            if json.loads(body)["workers"]["live"] >= 1:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "no worker heartbeat"
            time.sleep(0.3)
    finally:
        proc.terminate()
        try:
            output = proc.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            output = proc.communicate()[0]
    assert "nothing changed" in output
    assert f"127.0.0.1:{port}" in output
    assert "Background worker started" in output
    # the worker was stopped with the server (a clean stop removes its heartbeat)
    assert env.counts(beats=("worker.WorkerHeartbeat", {})) == {"beats": 0}


def test_vendor_assets_were_built() -> None:
    """``make setup`` copies the npm packages into the static tree that whitenoise serves."""
    import muster

    vendor = Path(muster.__file__).parent / "web" / "static" / "vendor"
    assert (vendor / "bootstrap" / "bootstrap.min.css").stat().st_size > 100_000
    assert (vendor / "htmx" / "htmx.min.js").exists()
