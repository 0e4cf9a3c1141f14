"""Report pages: the rollup as of a cutoff (drill-down), the time series with charts, published
snapshots, the Excel 台账 / CSV exports and the briefing.

Thin: the unit is resolved through ``services.report_unit`` (out of scope or unknown → 404), the figures
come from ``muster.reports.rollup`` / ``services``, snapshots are written by
``services.snapshot_publish`` (permission-checked and audited there). Charts are drawn by
``static/reports/js/charts.js`` from JSON embedded with ``json_script`` (the CSP forbids inline scripts).

``home_report(user)`` gives the compact card of the home page (see its docstring for which cutoff).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Min, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.exports.models import JobKind, JobStatus, ReportJob
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Unit
from muster.reports import briefing as bw
from muster.reports import excel, jobs, services
from muster.reports import party as party_figures
from muster.reports import sections as group_sections
from muster.reports.facts import STEP, fold_pending
from muster.reports.forms import (
    RANK_CHOICES,
    CutoffForm,
    ExportForm,
    PublishForm,
    SeriesForm,
    cutoff_label,
    local_today,
    split_cutoff,
)
from muster.reports.models import Bucket
from muster.reports.rollup import DEFINITIONS, FIGURE_LABELS, Figures, Rollup, cutoff
from muster.tabular.writer import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from muster.web.views.common import BadQuery, form_status, paginate

FIGURES = ("batches", "person_times", "persons", "hours", "community_persons", "community_hours")


# ------------------------------------------------------------------ shared


@dataclass
class Context:
    form: CutoffForm
    unit: Unit | None = None
    as_of: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.unit is not None and self.as_of is not None

    def query(self, **override: str) -> str:
        assert self.unit is not None
        return self.form.query(**{"unit": self.unit.code, **override})


def _resolve(request: HttpRequest) -> Context:
    """The unit (404 when out of scope) and the cutoff of the query string."""
    form = CutoffForm.for_request(request.GET)
    if not form.is_valid():
        # an invalid cutoff still shows the page (with the errors); an unknown unit is still 404
        code = str(request.GET.get("unit") or "").strip()
        services.report_unit(request.user, code or None)
        return Context(form)
    unit = services.report_unit(request.user, form.cleaned_data["unit"] or None)
    return Context(form, unit, form.as_of)


def _breadcrumb(user: Any, unit: Unit) -> list[Unit]:
    paths = [unit.path[:i] for i in range(STEP, len(unit.path), STEP)]
    return [
        a for a in Unit.objects.filter(path__in=paths).order_by("depth") if access.can(user, Perm.VIEW, a)
    ]


def _unit_choices(user: Any) -> list[tuple[str, str]]:
    """Codes for the unit field's suggestions: the user's visible admin units near the top."""
    roots = [u for u in access.visible_roots(user) if u.kind not in PARTY_KINDS]
    if not roots:
        return []
    depth = min(u.depth for u in roots) + 2
    qs = access.scoped(Unit.objects.exclude(kind__in=PARTY_KINDS), user, Perm.VIEW).filter(depth__lte=depth)
    return list(qs.order_by("path").values_list("code", "name")[:300])


def _base(request: HttpRequest, ctx: Context, page: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "form": ctx.form,
        "unit": ctx.unit,
        "as_of": ctx.as_of,
        "page": page,
        "unit_choices": _unit_choices(request.user),
    }
    if ctx.ok:
        assert ctx.unit is not None and ctx.as_of is not None
        data.update(
            cutoff_text=cutoff_label(ctx.as_of),
            query=ctx.query(),
            breadcrumb=_breadcrumb(request.user, ctx.unit),
        )
    return data


def _row_name(name: str, own: bool) -> str:
    return excel.own_label(name) if own else name


# ------------------------------------------------------------------ 1. the rollup


@login_required
def rollup_view(request: HttpRequest) -> HttpResponse:
    """One row per child unit (and the unit itself), a total; pending entries apart; drill down."""
    ctx = _resolve(request)
    data = _base(request, ctx, "rollup")
    if ctx.ok:
        assert ctx.unit is not None and ctx.as_of is not None
        report = services.unit_rollup(ctx.unit, ctx.as_of)  # a party organization: its members' figures
        rows = [
            {
                "row": r,
                "name": _row_name(r.name, r.own),
                "link": None if r.own else "?" + ctx.query(unit=r.code),
            }
            for r in report.rows
        ]
        data.update(
            report=report,
            members=services.is_members_report(report),
            rows=rows,
            definitions=[
                DEFINITIONS[k]
                for k in ("batches", "person_times", "persons", "hours", "community", "pending", "late")
            ],
            can_publish=access.can(request.user, services.PUBLISH_PERM, ctx.unit),
            publish_form=PublishForm(),
            publish_key=uuid.uuid4().hex,  # one publish request per page shown: a double click publishes once
            export_form=ExportForm(),
            party=_party_section(request, ctx),
            sections=_group_sections(request, ctx),
        )
    return render(request, "reports/rollup.html", data, status=form_status(ctx.form))


def _group_sections(request: HttpRequest, ctx: Context) -> list[dict[str, Any]]:
    """One section per registered metric group beyond the main table and party life (care,
    outreach, …): the unit's child units × the group's figures (see ``muster.reports.sections``)."""
    assert ctx.unit is not None and ctx.as_of is not None
    out = []
    for table in group_sections.visible_sections(request.user, ctx.unit, ctx.as_of):
        out.append(
            {
                "group": table.group,
                "title": table.title,
                "columns": [
                    {"id": m.id, "label": m.label, "unit_label": m.unit_label, "definition": m.definition}
                    for m in table.columns
                ],
                "rows": [
                    {
                        "row": r,
                        "name": _row_name(r.name, r.own),
                        "link": None if r.own else "?" + ctx.query(unit=r.code),
                        "cells": [
                            {"id": m.id, "value": v} for m, v in zip(table.columns, r.values, strict=True)
                        ],
                    }
                    for r in table.rows
                ],
                "total": [{"id": m.id, "value": v} for m, v in zip(table.columns, table.total, strict=True)],
            }
        )
    return out


def _party_section(request: HttpRequest, ctx: Context) -> dict[str, Any]:
    """The section "党建与组织生活": the registry's party figures of the party organization that stands
    for the unit (see ``muster.reports.party`` for which one, and why)."""
    assert ctx.unit is not None and ctx.as_of is not None
    section = party_figures.party_section(request.user, ctx.unit, ctx.as_of)
    out: dict[str, Any] = {"section": section, "unit": section.unit}
    if section.unit is not None and section.visible:
        out["switch"] = "?" + ctx.query(unit=section.unit.code)
    table = section.table
    if table is not None:
        out["columns"] = [
            {"id": m.id, "label": m.label, "unit_label": m.unit_label, "definition": m.definition}
            for m in table.columns
        ]
        out["rows"] = [
            {
                "row": r,
                "name": _row_name(r.name, r.own),
                "link": None if r.own else "?" + ctx.query(unit=r.code),
                "cells": [{"id": m.id, "value": v} for m, v in zip(table.columns, r.values, strict=True)],
            }
            for r in table.rows
        ]
        out["total"] = [{"id": m.id, "value": v} for m, v in zip(table.columns, table.total, strict=True)]
    return out


# ------------------------------------------------------------------ 2. time series


def _default_start(unit: Unit, as_of: datetime) -> date:
    last = split_cutoff(as_of)[0]
    shown = Q(batches__gt=0) | Q(pairs__gt=0) | ~Q(minutes=0) | Q(c_persons__gt=0) | ~Q(c_minutes=0)
    # (a bucket may hold only pending rows or a row's opening at the minute before it starts)
    fold_pending()
    first = Bucket.objects.filter(shown, node_id=unit.pk, own=False).aggregate(d=Min("day"))["d"]
    start = date.fromordinal(first) if first else last - timedelta(days=13)
    return min(max(start, last - timedelta(days=SeriesForm.MAX_DAYS - 1)), last)


def _number(value: Any) -> int | float:
    return value if isinstance(value, int) else float(value)


def _figs(f: Figures) -> dict[str, int | float]:
    return {k: _number(getattr(f, k)) for k in FIGURES}


def series_payload(unit: Unit, as_of: datetime, start: date, report: Rollup | None = None) -> dict[str, Any]:
    """The chart data: figures day by day (daily and cumulative) and per row of the rollup."""
    # a party organization: its members' figures (``basis: "party_members"``), day by day and by row
    points = services.unit_series(unit, start=start, as_of=as_of)
    report = report or services.unit_rollup(unit, as_of, pending=False)
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "basis": services.BASIS if services.is_members_report(report) else None,
        "as_of": as_of.isoformat(),
        "start": start.isoformat(),
        "labels": {k: str(FIGURE_LABELS[k]) for k in FIGURES},
        "titles": {
            "cumulative": _("Cumulative"),
            "daily": _("Daily"),
            "units": _("By unit"),
            "hours_axis": _("Hours"),
            "count_axis": _("Count"),
        },
        "days": [
            {"day": p.day.isoformat(), "daily": _figs(p.daily), "cumulative": _figs(p.cumulative)}
            for p in points
        ],
        "units": [
            {"code": r.code, "name": _row_name(r.name, r.own), **_figs(r.figures)}
            for r in report.rows
            if not r.figures.is_empty
        ],
        "total": _figs(report.total),
    }


def _series_options(request: HttpRequest, ctx: Context) -> tuple[SeriesForm, date, str]:
    assert ctx.unit is not None and ctx.as_of is not None
    form = SeriesForm(request.GET)
    start, rank = None, "person_times"
    if form.is_valid():
        start, rank = form.cleaned_data["start"], form.cleaned_data["rank"]
    last = split_cutoff(ctx.as_of)[0]
    if start is None or start > last or (last - start).days >= SeriesForm.MAX_DAYS:
        start = _default_start(ctx.unit, ctx.as_of)
    return form, start, rank


@login_required
def series_view(request: HttpRequest) -> HttpResponse:
    ctx = _resolve(request)
    data = _base(request, ctx, "series")
    if ctx.ok:
        assert ctx.unit is not None and ctx.as_of is not None
        form, start, rank = _series_options(request, ctx)
        report = services.unit_rollup(ctx.unit, ctx.as_of, pending=False)  # a party organization: members'
        ranked = sorted(
            (r for r in report.rows if getattr(r.figures, rank)),
            key=lambda r: (-getattr(r.figures, rank), r.path),
        )
        ranking, prev, place = [], None, 0
        for i, r in enumerate(ranked, start=1):
            value = getattr(r.figures, rank)
            if value != prev:
                place, prev = i, value
            ranking.append(
                {
                    "place": place,
                    "row": r,
                    "name": _row_name(r.name, r.own),
                    "value": value,
                    "link": None
                    if r.own
                    else "?" + ctx.query(unit=r.code, start=start.isoformat(), rank=rank),
                }
            )
        data.update(
            series_form=form,
            start=start,
            rank=rank,
            rank_label=dict(RANK_CHOICES)[rank],
            ranking=ranking,
            payload=series_payload(ctx.unit, ctx.as_of, start, report),
            json_url=reverse("reports:series_json") + "?" + ctx.query(start=start.isoformat()),
        )
    return render(request, "reports/series.html", data, status=form_status(ctx.form))


@login_required
def series_json(request: HttpRequest) -> JsonResponse:
    ctx = _resolve(request)
    if not ctx.ok:
        return JsonResponse({"errors": ctx.form.errors.get_json_data()}, status=422)
    assert ctx.unit is not None and ctx.as_of is not None
    _form, start, _rank = _series_options(request, ctx)
    return JsonResponse(series_payload(ctx.unit, ctx.as_of, start))


# ------------------------------------------------------------------ 3. snapshots


@login_required
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    """Publish (freeze) the report of the unit as of the cutoff of the form."""
    form = CutoffForm(request.POST)
    code = str(request.POST.get("unit") or "").strip()
    unit = services.report_unit(request.user, code or None)
    if not form.is_valid() or form.as_of is None:
        messages.error(request, _("The report could not be published: the cutoff is not valid."))
        return redirect(reverse("reports:rollup") + f"?unit={unit.code}")
    extra = PublishForm(request.POST)
    extra.is_valid()
    back = reverse("reports:rollup") + "?" + form.query(unit=unit.code)
    try:
        job, new = jobs.report_job_start(
            actor=request.user,
            kind=JobKind.SNAPSHOT,
            unit=unit,
            as_of=form.as_of,
            key=str(request.POST.get("request_key") or ""),
            params={"title": extra.cleaned_data.get("title", ""), "note": extra.cleaned_data.get("note", "")},
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(back)
    if job.status == JobStatus.FAILED:
        messages.error(request, job.error)
        return redirect(back)
    if job.status != JobStatus.DONE:
        if new:
            messages.info(
                request, _("The report is being published in the background; this page shows when.")
            )
        return redirect("reports:job", pk=job.pk)
    if new:
        messages.success(request, _("The report was published; its figures will not change."))
    else:
        messages.info(
            request, _("This report was already published by this request; nothing was published twice.")
        )
    return redirect("reports:snapshot", pk=job.snapshot_id)


@login_required
def snapshot_list(request: HttpRequest) -> HttpResponse:
    unit = None
    code = str(request.GET.get("unit") or "").strip()
    if code:
        unit = services.report_unit(request.user, code)
    page = paginate(request, services.snapshot_list(request.user, unit=unit))
    items = [{"snapshot": s, "cutoff_text": cutoff_label(s.as_of)} for s in page.object_list]
    return render(
        request,
        "reports/snapshots.html",
        {"page_obj": page, "items": items, "unit": unit, "query": f"unit={unit.code}" if unit else ""},
    )


@login_required
def snapshot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The published figures (never changed) beside the live ones, with the differences."""
    snap = services.snapshot_get_or_404(request.user, pk)
    diff = services.snapshot_diff(snap)

    def cells(row: services.DiffRow) -> list[dict[str, Any]]:
        out = []
        for k in FIGURES:
            frozen, live = getattr(row.frozen, k), getattr(row.live, k)
            out.append(
                {"key": k, "frozen": frozen, "live": live, "delta": live - frozen, "changed": frozen != live}
            )
        return out

    rows = [
        {"name": _row_name(r.name, r.own), "code": r.code, "cells": cells(r), "changed": r.changed}
        for r in diff.rows
    ]
    day, time = split_cutoff(snap.as_of)
    return render(
        request,
        "reports/snapshot.html",
        {
            "snapshot": snap,
            "diff": diff,
            "rows": rows,
            "total_cells": cells(diff.total),
            "labels": [FIGURE_LABELS[k] for k in FIGURES],
            "cutoff_text": cutoff_label(snap.as_of),
            # a party organization's snapshot: its members' figures (who counted is frozen too)
            "members": snap.figures.get("basis") == services.BASIS,
            "members_count": snap.figures.get("members", 0),
            "members_day": snap.figures.get("day", ""),
            "live_query": f"unit={snap.unit.code}&date={day.isoformat()}&time={time}",
            "export_form": ExportForm(),
        },
    )


# ------------------------------------------------------------------ 4. exports


def _export(request: HttpRequest, table: excel.LedgerTable, unit: Unit) -> HttpResponse:
    form = ExportForm(request.GET)
    form.is_valid()
    fmt = form.cleaned_data.get("format") or "xlsx"
    day, time = split_cutoff(table.as_of)
    name = f"{unit.code}-{day.isoformat()}-{time.replace(':', '')}"
    if fmt == "csv":
        body, ctype = excel.csv_data(table), CSV_CONTENT_TYPE
    else:
        fmt = "xlsx"
        user: Any = request.user
        body = excel.xlsx_bytes(
            table,
            preparer=user.get_full_name() or user.get_username(),
            in_charge=form.cleaned_data.get("in_charge") or "",
            today=local_today(),
        )
        ctype = XLSX_CONTENT_TYPE
    resp = HttpResponse(body, content_type=ctype)
    resp["Content-Disposition"] = content_disposition_header(True, f"{name}.{fmt}") or ""
    return resp


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The Excel 台账 (or CSV) of the live report as of the cutoff."""
    ctx = _resolve(request)
    if not ctx.ok:
        raise BadQuery(" ".join(str(m) for ms in ctx.form.errors.values() for m in ms))
    assert ctx.unit is not None and ctx.as_of is not None
    if jobs.is_large(ctx.unit):  # a large subtree: written by the worker, the page polls (see reports.jobs)
        form = ExportForm(request.GET)
        form.is_valid()
        try:
            job, _new = jobs.report_job_start(
                actor=request.user,
                kind=JobKind.LEDGER,
                unit=ctx.unit,
                as_of=ctx.as_of,
                params={
                    "format": form.cleaned_data.get("format") or "xlsx",
                    "in_charge": form.cleaned_data.get("in_charge") or "",
                },
                background=True,
            )
        except ValidationError as exc:
            raise BadQuery(" ".join(exc.messages)) from None
        return redirect("reports:job", pk=job.pk)
    table = excel.table_of_rollup(
        services.unit_rollup(ctx.unit, ctx.as_of),  # a party organization: its members' figures
        sections=group_sections.visible_sections(request.user, ctx.unit, ctx.as_of),
    )
    return _export(request, table, ctx.unit)


# ------------------------------------------------------------------ 5. report jobs (publish, large exports)


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A report job of the user: its status, polled by the page while it runs; then the file or the
    snapshot. Another user's job is "not found"."""
    job = jobs.report_job_get_or_404(request.user, pk)
    context = {"job": job, "polling": not job.finished, "cutoff_text": cutoff_label(job.as_of)}
    if request.GET.get("poll") and request.headers.get("HX-Request"):
        return render(request, "reports/_job_status.html", context)
    return render(request, "reports/job.html", context)


@login_required
def job_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file of a finished export job, for the user who asked for it only."""
    job: ReportJob = jobs.report_job_get_or_404(request.user, pk)
    if job.kind != JobKind.LEDGER or job.status != JobStatus.DONE or not job.file:
        raise Http404
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=job.content_type
    )


@login_required
def snapshot_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The Excel 台账 (or CSV) of a published report: its frozen figures."""
    snap = services.snapshot_get_or_404(request.user, pk)
    return _export(request, excel.table_of_snapshot(snap), snap.unit)


# ------------------------------------------------------------------ 5. briefing


@login_required
def briefing(request: HttpRequest) -> HttpResponse:
    ctx = _resolve(request)
    data = _base(request, ctx, "briefing")
    if ctx.ok:
        assert ctx.unit is not None and ctx.as_of is not None
        b = services.briefing_for(ctx.unit, ctx.as_of, user=request.user)
        data.update(text_zh=bw.write(b, "zh"), text_en=bw.write(b, "en"), has_party=b.party is not None)
    return render(request, "reports/briefing.html", data, status=form_status(ctx.form))


# ------------------------------------------------------------------ the home page card


def _headline(
    unit: Unit, as_of: datetime, total: Figures, rows: list[tuple[int, bool, int]], *, members: bool = False
) -> str:
    """The briefing's headline sentence (who dispatched: the organ, district bureaus, others).

    The same rule as ``services.briefing_for`` without its per-unit notes (one query, not one per row).
    """
    active = [(pk, own) for pk, own, batches in rows if batches]
    kinds = dict(Unit.objects.filter(pk__in=[pk for pk, _own in active]).values_list("pk", "kind"))
    organ_rows = [pk for pk, own in active if own or kinds.get(pk) == "bureau_organ"]
    districts = sum(1 for pk, own in active if not own and kinds.get(pk) == "district_bureau")
    organ, others = bool(organ_rows), len(active) - districts - len(organ_rows)
    if unit.depth > 1 or not (organ or districts) or members:
        organ, districts, others = False, 0, 0
    head = bw.Headline(
        unit_zh=unit.short_name or unit.name,
        unit_en=unit.name,
        as_of=as_of,
        batches=total.batches,
        person_times=total.person_times,
        hours=total.hours,
        community_persons=total.community_persons,
        community_hours=total.community_hours,
        organ=organ,
        districts=districts,
        others=others,
        members=members,  # a party organization: what its members did (``muster.reports.members``)
        persons=total.persons,
    )
    return bw.headline_zh(head) if (get_language() or "zh").startswith("zh") else bw.headline_en(head)


def home_report(user: Any) -> dict[str, Any] | None:
    """The compact report card of the home page, for the user's top admin unit (None: no unit).

    Which figures: the latest report published for that unit (its frozen figures, linked to its page);
    else, when the seed scenario is loaded (the demo), the live figures as of 2022-03-18 24:00 — the
    article's own report; else the live figures as of now.
    """
    from muster.reports import seed

    try:
        unit = services.report_unit(user)
    except Http404:
        return None
    snap = services.snapshot_list(user, unit=unit).first()
    if snap is not None:
        as_of = cutoff(snap.as_of)
        total = Figures.from_dict(snap.figures["total"])
        rows = [
            (r["unit_id"], bool(r["own"]), int(r["figures"].get("batches", 0))) for r in snap.figures["rows"]
        ]
    else:
        as_of = seed.CUTOFF if seed.is_loaded() else cutoff(timezone.now())
        report = services.unit_rollup(unit, as_of, pending=False)  # a party organization: its members'
        total = report.total
        rows = [(r.unit_id, r.own, r.figures.batches) for r in report.rows]
    day, time = split_cutoff(as_of)
    members = snap.figures.get("basis") == services.BASIS if snap is not None else unit.is_party
    query = f"unit={unit.code}&date={day.isoformat()}&time={time}"
    return {
        "unit": unit,
        "total": total,
        "cutoff_text": cutoff_label(as_of),
        "snapshot": snap,
        "url": reverse("reports:snapshot", args=[snap.pk])
        if snap
        else reverse("reports:rollup") + "?" + query,
        "query": query,
        "headline": _headline(unit, as_of, total, rows, members=members),
        "members": members,
    }


def home_party(user: Any) -> dict[str, Any] | None:
    """The party-life card of the home page, as of now (None: the user sees no party organization)."""
    try:
        admin_unit: Unit | None = services.report_unit(user)
    except Http404:
        admin_unit = None
    unit = party_figures.home_party_unit(user, admin_unit)
    if unit is None:
        return None
    now = timezone.now()
    dash = party_figures.party_dashboard(user, unit, now)
    day, time = split_cutoff(cutoff(now))
    return {
        "dash": dash,
        "cutoff_text": cutoff_label(cutoff(now)),
        "quarter": f"{dash.quarter_start.year}Q{(dash.quarter_start.month - 1) // 3 + 1}",
        "compliance_url": reverse("partylife:compliance")
        + "?"
        + urlencode(
            {
                "scope": unit.pk,
                "period": "quarter",
                "year": dash.quarter_start.year,
                "number": (dash.quarter_start.month - 1) // 3 + 1,
            }
        ),
        "report_url": reverse("reports:rollup")
        + "?"
        + urlencode({"unit": unit.code, "date": day.isoformat(), "time": time}),
        "leaderboard_url": reverse("points:leaderboard") + "?" + urlencode({"unit": unit.code}),
    }
