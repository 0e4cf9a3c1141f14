"""The rostering page of the everyday-use issue (27, items 8 and 9) over HTTP: live progress with the best
roster so far while the queued solve runs, publishing after a summary (and refusing a stale confirm),
seed and time limit under "advanced", shift names from the 三班倒 template, the published 排班表 as
Excel and as a print layout, and the plans index.

The queued solve is run in-process from the database queue (``DBTaskResult.objects.ready()``) with its
time limit counted as deterministic work (the conftest's fixture), never the wall clock."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django_tasks import TaskContext
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from muster.clock import local_tz
from muster.mobilize import services as svc
from muster.mobilize.models import Assignment, Shift
from muster.mobilize.shift_templates import three_rotations
from muster.orgs.models import Person
from muster.roster import engine as eng
from muster.roster import services
from muster.roster.models import PlanStatus, ProposalSource, ProposedAssignment, RosterPlan, SolveRun

from .conftest import Batch, Cast, at

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
FORM = {
    "start_date": "2030-03-04",
    "end_date": "2030-03-05",
    "min_rest_minutes": "480",
    "max_hours_day": "12",
    "max_hours_week": "48",
    "max_consecutive_days": "6",
    "max_shifts_per_day": "1",
    "no_night_then_morning": "on",
    "fairness": "1",
}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _en(c: Client) -> Client:
    c.cookies["django_language"] = "en"
    return c


def _plan_page(c: Client, plan: RosterPlan) -> str:
    return c.get(f"/roster/plans/{plan.pk}/", **EN).content.decode()


def _solved(cast: Cast, batch: Batch, **kw: Any) -> RosterPlan:
    plan = services.plan_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=date(2030, 3, 4),
        end=date(2030, 3, 5),
        seconds=1,
        **kw,
    )
    services.solve_start(actor=cast.leader, plan=plan)  # (immediate backend: solved here)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    return plan


def _token(html: str) -> str:
    m = re.search(r'name="token" value="([0-9a-f]+)"', html)
    assert m is not None, html
    return m.group(1)


# ---------------------------------------------------------------- progress


def test_progress_bar_and_best_roster_so_far_while_the_queued_solve_runs(
    settings: Any, monkeypatch: pytest.MonkeyPatch, cast: Cast, batch: Batch
) -> None:
    settings.TASKS = DB_TASKS
    c = _en(cast.client(cast.leader))
    r = c.post(f"/roster/new/?deployment={batch.deployment.pk}", {**FORM, "seconds": "1"})
    assert r.status_code == 302
    plan = RosterPlan.objects.get()
    run = plan.runs.get()
    assert run.status == "queued"
    # waiting for a worker: a progress bar at 0, the shifts listed without counts (never "0 / 2")
    page = _plan_page(c, plan)
    assert 'id="run-progress"' in page and 'aria-valuenow="0"' in page
    assert 'id="run-waiting"' in page and 'id="waiting-shifts"' in page
    assert "0 / 2" not in page and 'id="per-shift"' not in page

    captured: dict[str, Any] = {}
    solve = eng.solve  # (the conftest's: deterministic work)

    def watching(problem: eng.Problem, options: eng.Options | None = None) -> eng.Result:
        opts = options or eng.Options()
        inner = opts.progress

        def progress(ev: eng.Progress) -> None:
            assert inner is not None
            inner(ev)  # the app's progress writer: it stores the first roster at once
            if ev.roster is not None and "page" not in captured:
                captured["run"] = SolveRun.objects.get(pk=run.pk)
                captured["page"] = _plan_page(c, plan)
                frag = c.get(f"/roster/plans/{plan.pk}/progress/?poll=1", **EN)
                captured["frag"] = frag.content.decode()
                captured["refresh"] = frag.headers.get("HX-Refresh")

        return solve(problem, dataclasses.replace(opts, progress=progress))

    monkeypatch.setattr(eng, "solve", watching)
    queued = [t for t in DBTaskResult.objects.ready() if t.task_path.endswith(".solve_task")]
    assert len(queued) == 1
    t = queued[0]
    t.task.call(TaskContext(task_result=t.task_result), *t.args_kwargs["args"], **t.args_kwargs["kwargs"])

    mid = captured["run"]
    assert mid.status == "running" and mid.incumbent["pairs"]
    counts: dict[int, int] = {}
    for _code, sid in mid.incumbent["pairs"]:
        counts[int(sid)] = counts.get(int(sid), 0) + 1
    html = captured["page"]
    # the progress: phase name and elapsed / limit, a bar; the best roster so far, per shift
    assert 'id="run-phase">first roster<' in html
    assert 'id="run-limit">1<' in html and 'id="run-progress"' in html
    assert 'id="incumbent-shifts"' in html and 'id="per-shift"' not in html
    for s in batch.shifts:
        row = re.search(rf'<tr data-shift="{s.pk}">.*?data-count="(\d+)"', html, re.S)
        assert row is not None
        assert int(row.group(1)) == counts.get(s.pk, 0)
    covered = [s for s in batch.shifts if counts.get(s.pk, 0) >= s.seats]
    assert covered  # the first roster covers shifts: none of them reads "0 / n"
    for s in covered:
        assert f'data-count="0">0 / {s.seats}' not in html.split(f'data-shift="{s.pk}"')[1].split("</tr>")[0]
    # the polled fragment carries the same board and keeps polling
    assert 'id="incumbent-shifts"' in captured["frag"] and 'hx-trigger="every 1s"' in captured["frag"]
    assert captured["refresh"] is None
    # after the run: the proposal, the bar full
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    done = _plan_page(c, plan)
    assert 'aria-valuenow="100"' in done and 'id="per-shift"' in done and 'id="incumbent"' not in done
    assert c.get(f"/roster/plans/{plan.pk}/progress/?poll=1", **EN).headers.get("HX-Refresh") == "true"


def test_progress_fragment_is_scoped(cast: Cast, batch: Batch) -> None:
    plan = services.plan_create(
        actor=cast.leader, deployment=batch.deployment, start=date(2030, 3, 4), end=date(2030, 3, 5)
    )
    SolveRun.objects.create(
        plan=plan, status="running", phase="cpsat", elapsed=2, seconds=10, incumbent={"pairs": []}
    )
    assert cast.client(cast.manager_hp).get(f"/roster/plans/{plan.pk}/progress/").status_code == 404
    frag = _en(cast.client(cast.leader)).get(f"/roster/plans/{plan.pk}/progress/", **EN).content.decode()
    assert 'aria-valuenow="20"' in frag and "optimizing" in frag
    assert "4 shifts not yet fully covered" in frag


# ---------------------------------------------------------------- advanced options


def test_seed_and_time_limit_are_under_advanced_with_defaults(cast: Cast, batch: Batch) -> None:
    c = _en(cast.client(cast.leader))
    form = c.get(f"/roster/new/?deployment={batch.deployment.pk}", **EN).content.decode()
    advanced = form.split('id="solve-advanced"')[1].split("</details>")[0]
    assert 'name="seconds"' in advanced and 'name="seed"' in advanced
    assert 'name="seconds"' not in form.split('id="solve-advanced"')[0]
    assert 'id="solve-advanced">' in form  # closed by default
    # left empty: the defaults (10 s, seed 0)
    r = c.post(f"/roster/new/?deployment={batch.deployment.pk}", {**FORM, "seconds": "", "seed": ""})
    assert r.status_code == 302
    plan = RosterPlan.objects.get()
    assert plan.options["seconds"] == 10 and plan.options["seed"] == 0
    # a bad value opens the disclosure and says why
    bad = c.post(f"/roster/new/?deployment={batch.deployment.pk}", {**FORM, "seconds": "99999"}, **EN)
    assert bad.status_code == 200
    body = bad.content.decode()
    assert 'id="solve-advanced" open' in body and "less than or equal to" in body
    # the plan page's re-solve keeps them under "advanced" too
    page = _plan_page(c, plan)
    assert 'id="resolve-advanced"' in page
    assert 'name="seed"' in page.split('id="resolve-advanced"')[1].split("</details>")[0]


# ---------------------------------------------------------------- publishing


def test_publish_shows_a_summary_then_publishes_on_confirm(cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = _en(cast.client(cast.leader))
    n = plan.proposals.count()
    page = _plan_page(c, plan)
    assert f'href="/roster/plans/{plan.pk}/publish/"' in page and 'id="publish-button"' in page
    summary = c.get(f"/roster/plans/{plan.pk}/publish/", **EN)
    assert summary.status_code == 200
    html = summary.content.decode()
    assert re.search(rf'id="sum-assignments">{n}<', html)
    assert re.search(rf'id="sum-added">{n}<', html)
    assert 'id="sum-removed">0<' in html and 'id="sum-moved">0<' in html
    changed = plan.proposals.values("person").distinct().count()
    assert re.search(rf'id="sum-people">{changed}<', html)
    bob_on = plan.proposals.filter(person__user=cast.bob_user).exists()
    assert re.search(rf'id="sum-notified">{1 if bob_on else 0}<', html)  # only bob has a login
    assert Assignment.objects.filter(shift__deployment=batch.deployment).count() == 0  # nothing yet
    r = c.post(f"/roster/plans/{plan.pk}/publish/", {"token": _token(html)})
    assert r.status_code == 302 and r["Location"] == f"/roster/plans/{plan.pk}/"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    assert Assignment.objects.filter(shift__deployment=batch.deployment).count() == n


def test_a_stale_confirm_is_refused(cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    c = _en(cast.client(cast.leader))
    token = _token(c.get(f"/roster/plans/{plan.pk}/publish/", **EN).content.decode())
    row = plan.proposals.order_by("shift__start", "person__code").first()
    assert row is not None
    c.post(
        f"/roster/plans/{plan.pk}/edit/", {"action": "remove", "shift": row.shift_id, "person": row.person_id}
    )
    r = c.post(f"/roster/plans/{plan.pk}/publish/", {"token": token}, follow=True, **EN)
    assert r.redirect_chain[-1][0] == f"/roster/plans/{plan.pk}/publish/"
    body = r.content.decode()
    assert "the roster changed after you opened the summary" in body
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert not Assignment.objects.filter(shift__deployment=batch.deployment).exists()
    # the new summary's token publishes
    r = c.post(f"/roster/plans/{plan.pk}/publish/", {"token": _token(body)})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED


def test_summary_counts_changes_against_what_is_published(org: Any, cast: Cast, batch: Batch) -> None:
    first = _solved(cast, batch)
    services.plan_publish(actor=cast.leader, plan=first)
    published = set(Assignment.objects.values_list("person_id", "shift_id"))
    # a second plan of the period starts from the published roster; one person moves to a new shift
    extra = svc.shift_create(
        actor=cast.leader,
        deployment=batch.deployment,
        start=at("2030-03-05 00:00"),
        end=at("2030-03-05 04:00"),
        seats=1,
        label="加",
    )
    second = services.plan_create(
        actor=cast.leader, deployment=batch.deployment, start=date(2030, 3, 4), end=date(2030, 3, 5)
    )
    moved = second.proposals.order_by("shift__start", "person__code").first()
    assert moved is not None
    person, before = moved.person, moved.shift
    moved.delete()
    ProposedAssignment.objects.create(plan=second, shift=extra, person=person, source=ProposalSource.MANUAL)
    gone = second.proposals.exclude(person=person).order_by("-shift__start", "person__code").first()
    assert gone is not None
    gone_person = gone.person
    gone.delete()
    RosterPlan.objects.filter(pk=second.pk).update(status=PlanStatus.PROPOSED)
    c = _en(cast.client(cast.leader))
    html = c.get(f"/roster/plans/{second.pk}/publish/", **EN).content.decode()
    assert f'id="sum-assignments">{len(published) - 1}<' in html
    assert 'id="sum-added">1<' in html and 'id="sum-removed">2<' in html and 'id="sum-moved">1<' in html
    assert f'id="sum-unchanged">{len(published) - 2}<' in html
    assert 'id="sum-people">2<' in html
    moved_list = html.split('id="list-moved"')[1].split("</ul>")[0]
    assert (
        person.name in moved_list
        and before.start.astimezone(local_tz()).strftime("%m-%d %H:%M") in moved_list
    )
    assert gone_person.name in html.split('id="list-removed"')[1].split("</ul>")[0]
    assert "already published" in html


def test_publish_pages_are_scoped(cast: Cast, batch: Batch) -> None:
    plan = _solved(cast, batch)
    assert cast.client(cast.manager_hp).get(f"/roster/plans/{plan.pk}/publish/").status_code == 404
    assert cast.client(cast.viewer).get(f"/roster/plans/{plan.pk}/publish/").status_code == 403
    assert (
        cast.client(cast.viewer).post(f"/roster/plans/{plan.pk}/publish/", {"token": "x"}).status_code == 403
    )
    # a made-up token publishes nothing
    c = _en(cast.client(cast.leader))
    c.post(f"/roster/plans/{plan.pk}/publish/", {"token": "0" * 32})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED


# ---------------------------------------------------------------- shift names


@pytest.fixture
def rotations(cast: Cast, batch: Batch) -> list[Shift]:
    """三班倒 on the batch's first day, the template's default start (08:00)."""
    Shift.objects.filter(deployment=batch.deployment).delete()
    specs = three_rotations(date(2030, 3, 4), 1, local_tz(), start_hour=8, seats=1)
    specs = [s for s in specs if s.end <= at("2030-03-06 00:00")]
    return svc.shifts_create(actor=cast.leader, deployment=batch.deployment, specs=specs)


def test_shifts_carry_the_names_of_their_template(cast: Cast, batch: Batch, rotations: list[Shift]) -> None:
    assert [s.label for s in rotations] == ["1", "2", "3"]
    plan = _solved(cast, batch)
    page = cast.client(cast.leader).get(f"/roster/plans/{plan.pk}/").content.decode()  # Chinese default
    names = re.findall(r'<span class="shift-name">([^<]*)</span>', page)
    with translation.override("zh-hans"):  # 早班 / 中班 / 夜班 once the catalog has them
        assert names == [translation.gettext(n) for n in ("Morning shift", "Middle shift", "Night shift")]
    en = _plan_page(_en(cast.client(cast.leader)), plan)
    assert re.findall(r'<span class="shift-name">([^<]*)</span>', en) == [
        "Morning shift",
        "Middle shift",
        "Night shift",
    ]


def test_names_follow_the_start_time_and_labels_typed_by_hand_stay() -> None:
    from muster.roster.naming import shift_name

    night_first = three_rotations(date(2030, 3, 4), 1, local_tz(), start_hour=0)
    with translation.override("en"):
        assert [shift_name(s) for s in night_first] == ["Night shift", "Morning shift", "Middle shift"]
        assert shift_name(Shift(start=at("2030-03-04 08:00"), end=at("2030-03-05 08:00"), label="24h")) == (
            "24-hour duty"
        )
        assert shift_name(Shift(start=at("2030-03-04 08:00"), end=at("2030-03-04 12:00"), label="08-12")) == (
            "Seats 08-12"
        )
        assert shift_name(Shift(start=at("2030-03-04 08:00"), end=at("2030-03-04 12:00"), label="白")) == "白"
        # "1" on a shift that is not 8 hours long is someone's own label
        assert shift_name(Shift(start=at("2030-03-04 08:00"), end=at("2030-03-04 12:00"), label="1")) == "1"


# ---------------------------------------------------------------- exports


def test_excel_and_print_of_a_published_roster(
    org: Any, cast: Cast, batch: Batch, rotations: list[Shift]
) -> None:
    bob = Person.objects.get(pk=org.bob.pk)
    bob.phone = "13812345678"
    bob.save()
    plan = _solved(cast, batch)
    c = _en(cast.client(cast.leader))
    # not published yet: no export, a clear message
    r = c.get(f"/roster/plans/{plan.pk}/export.xlsx", follow=True, **EN)
    assert "Only a published roster can be exported or printed." in r.content.decode()
    services.plan_publish(actor=cast.leader, plan=plan)
    page = _plan_page(c, plan)
    assert f'href="/roster/plans/{plan.pk}/export.xlsx"' in page
    assert f'href="/roster/plans/{plan.pk}/print/"' in page
    r = c.get(f"/roster/plans/{plan.pk}/export.xlsx", **EN)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert wb.sheetnames == ["Roster grid", "Assignments"]
    grid = [list(row) for row in wb["Roster grid"].iter_rows(values_only=True)]
    assert grid[0][:3] == ["Staff number", "Name", "Phone"]
    assert grid[0][3:5] == ["03-04 Mon", "03-05 Tue"] and grid[0][-1] == "Hours"
    rows = list(plan.proposals.select_related("person", "shift"))
    by_code = {g[0]: g for g in grid[1:]}
    assert set(by_code) == {r.person.code for r in rows}
    for r_ in rows:
        assert "Morning shift" in (by_code[r_.person.code][3] or "") or r_.shift.label != "1"
    flat = [list(row) for row in wb["Assignments"].iter_rows(values_only=True)]
    assert flat[0] == ["Date", "Start", "End", "Shift", "Place", "Staff number", "Name", "Phone"]
    assert len(flat) - 1 == len(rows) == 3
    assert [row[3] for row in flat[1:]] == ["Morning shift", "Middle shift", "Night shift"]
    assert {row[4] for row in flat[1:]} == {"宛平社区"}
    text = repr(grid) + repr(flat)
    assert "13812345678" not in text  # PII masked
    if any(r_.person_id == bob.pk for r_ in rows):
        assert "138****5678" in text
    # the print layout: A4 landscape, the same grid
    pr = c.get(f"/roster/plans/{plan.pk}/print/", **EN)
    html = pr.content.decode()
    assert pr.status_code == 200 and "size: A4 landscape" in html
    assert html.count("<tr data-person=") == len({r_.person_id for r_ in rows})
    assert "Morning shift 08:00–16:00" in html  # the legend
    assert "13812345678" not in html
    # out of scope: not found
    assert cast.client(cast.manager_hp).get(f"/roster/plans/{plan.pk}/export.xlsx").status_code == 404
    assert cast.client(cast.manager_hp).get(f"/roster/plans/{plan.pk}/print/").status_code == 404


# ---------------------------------------------------------------- plans index


def test_plans_index_filters_and_pages(org: Any, cast: Cast, batch: Batch) -> None:
    plans = [
        services.plan_create(
            actor=cast.leader, deployment=batch.deployment, start=date(2030, 3, 4), end=date(2030, 3, 5)
        )
        for _ in range(27)
    ]
    RosterPlan.objects.filter(pk=plans[0].pk).update(status=PlanStatus.PUBLISHED)
    c = _en(cast.client(cast.leader))
    first = c.get("/roster/", **EN).content.decode()
    assert first.count("<tr data-plan=") == 25 and 'id="next-page"' in first
    second = c.get("/roster/?page=2", **EN).content.decode()
    assert second.count("<tr data-plan=") == 2
    published = c.get("/roster/?state=published", **EN).content.decode()
    assert published.count("<tr data-plan=") == 1 and f'data-plan="{plans[0].pk}"' in published
    by_unit = c.get(f"/roster/?unit={org.xuhui.pk}", **EN).content.decode()
    assert by_unit.count("<tr data-plan=") == 25
    assert (
        c.get(f"/roster/?deployment={batch.deployment.pk}", **EN).content.decode().count("<tr data-plan=")
        == 25
    )
    # hostile or unknown filters: an empty list or the unfiltered one, never an error
    for q in ("unit=99999999999999999999999", "state=<x>", "page=abc", "unit=-1", "deployment=%00"):
        assert c.get(f"/roster/?{q}").status_code == 200
    assert "no-plans" in c.get(f"/roster/?unit={org.huangpu.pk}").content.decode()
    # someone out of scope sees none of them
    other = cast.client(cast.manager_hp).get("/roster/").content.decode()
    assert "<tr data-plan=" not in other
