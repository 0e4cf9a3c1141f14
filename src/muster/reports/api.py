"""Reports over the API: the rollup (stable contract), the time series, the briefing, snapshots.

Thin: the unit is resolved through ``services.report_unit`` (out of scope or unknown → 404), the figures
come from ``muster.reports.rollup``, snapshots are written by ``services.snapshot_publish``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from muster.api.common import BoundedDate, ErrorOut, actor
from muster.clock import TimeParseError
from muster.exports.models import JobKind, JobStatus, ReportJob
from muster.mobilize.ledger_io import describe_time_error
from muster.reports import briefing as bw
from muster.reports import jobs, services
from muster.reports.forms import SeriesForm, split_cutoff
from muster.reports.rollup import cutoff, dumps, parse_cutoff

router = Router(tags=["reports"])


def _as_of(value: str | None) -> datetime:
    if not value:
        from django.utils import timezone

        return cutoff(timezone.now())
    try:
        return parse_cutoff(value)
    except TimeParseError as exc:
        raise ValidationError({"as_of": describe_time_error(exc)}) from exc


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(data), content_type="application/json", status=status)


class FiguresOut(Schema):
    batches: int
    person_times: int
    persons: int
    hours: float = Field(description="two decimals")
    community_persons: int
    community_hours: float = Field(description="two decimals")


class RollupRowOut(FiguresOut):
    code: str
    name: str


class ReportUnitOut(Schema):
    code: str
    name: str


class RollupOut(Schema):
    as_of: str = Field(description="ISO 8601 with the offset")
    unit: ReportUnitOut
    rows: list[RollupRowOut]
    total: FiguresOut
    basis: str | None = Field(
        None, description='"party_members" for a party organization: the figures of its members'
    )


@router.get("/reports/rollup", response={200: RollupOut, 404: ErrorOut, 422: ErrorOut})
def rollup(request: HttpRequest, as_of: str | None = None, unit: str | None = None) -> Any:
    """A unit's figures as of a cutoff ("2022-03-18 24:00"), one row per child unit and a total."""
    target = services.report_unit(actor(request), unit)
    # a party organization: the figures of its members (``basis: "party_members"``)
    return _json(services.unit_rollup(target, _as_of(as_of), pending=False).contract())


@router.get("/reports/series", response={200: Any, 404: ErrorOut, 422: ErrorOut})
def series(
    request: HttpRequest, start: BoundedDate, as_of: str | None = None, unit: str | None = None
) -> Any:
    """The figures day by day (daily and cumulative) from ``start`` to the cutoff (at most 366 days)."""
    target = services.report_unit(actor(request), unit)
    when = _as_of(as_of)
    if (split_cutoff(when)[0] - start).days >= SeriesForm.MAX_DAYS:
        raise ValidationError(
            {"start": _("A series covers at most %(days)s days.") % {"days": SeriesForm.MAX_DAYS}}
        )
    # a party organization: its members' figures day by day (``basis: "party_members"``)
    points = services.unit_series(target, start=start, as_of=when)
    out: dict[str, Any] = {
        "unit": {"code": target.code, "name": target.name},
        "days": [
            {"day": p.day.isoformat(), "daily": p.daily.contract(), "cumulative": p.cumulative.contract()}
            for p in points
        ],
    }
    if target.is_party:
        out["basis"] = services.BASIS
    return _json(out)


@router.get("/reports/metrics", response={200: Any, 404: ErrorOut, 422: ErrorOut})
def metrics(request: HttpRequest, as_of: str | None = None, unit: str | None = None) -> Any:
    """Every registered metric of a unit's subtree as of a cutoff (the ``muster metrics --json`` contract)."""
    from muster.reports.metrics_contract import metrics_contract

    target = services.report_unit(actor(request), unit)
    return _json(metrics_contract(target, _as_of(as_of)))


class BriefOut(Schema):
    as_of: str
    unit: ReportUnitOut
    text: str


@router.get("/reports/brief", response={200: BriefOut, 404: ErrorOut, 422: ErrorOut})
def brief(request: HttpRequest, as_of: str | None = None, unit: str | None = None, lang: str = "zh") -> Any:
    """The written briefing (Chinese or English) for a unit as of a cutoff."""
    target = services.report_unit(actor(request), unit)
    when = _as_of(as_of)
    b = services.briefing_for(target, when)
    return {
        "as_of": when.isoformat(),
        "unit": {"code": target.code, "name": target.name},
        "text": bw.write(b, lang),
    }


class SnapshotIn(Schema):
    as_of: str
    unit: str | None = None
    title: str = ""
    note: str = ""
    # Idempotency: the same key (or Idempotency-Key header) again answers with the same publication.
    request_key: str = Field("", max_length=64)


class JobOut(Schema):
    id: int
    kind: str
    status: str
    unit: ReportUnitOut
    as_of: str
    requested_at: str
    finished_at: str | None
    error: str
    snapshot: int | None
    download: str | None


class SnapshotOut(Schema):
    id: int
    title: str
    as_of: str
    unit: ReportUnitOut
    published_at: str
    published_by: str
    figures: dict[str, Any]


def _snapshot(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "title": s.title,
        "as_of": cutoff(s.as_of).isoformat(),
        "unit": {"code": s.unit.code, "name": s.unit.name},
        "published_at": s.published_at.isoformat(),
        "published_by": s.published_by_name,
        "figures": s.figures["contract"],
    }


@router.get("/reports/snapshots", response={200: list[SnapshotOut]})
def snapshot_list(request: HttpRequest, unit: str | None = None) -> Any:
    """Published reports the caller may see."""
    who = actor(request)
    target = services.report_unit(who, unit) if unit else None
    return [_snapshot(s) for s in services.snapshot_list(who, unit=target)[:200]]


def _job(job: ReportJob) -> dict[str, Any]:
    done_file = job.kind == JobKind.LEDGER and job.status == JobStatus.DONE
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "unit": {"code": job.unit.code, "name": job.unit.name},
        "as_of": cutoff(job.as_of).isoformat(),
        "requested_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error,
        "snapshot": job.snapshot_id,
        "download": f"/api/v1/reports/jobs/{job.pk}/download" if done_file else None,
    }


@router.post(
    "/reports/snapshots",
    response={201: SnapshotOut, 202: JobOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def snapshot_publish(request: HttpRequest, payload: SnapshotIn) -> Any:
    """Publish (freeze) the report of a unit as of a cutoff. A small unit is published at once (201); a
    large one on the worker (202 with the job: poll ``GET /reports/jobs/{id}``). Send a ``request_key``
    (or an ``Idempotency-Key`` header) to make a retry answer with the same publication, never a second."""
    who = actor(request)
    target = services.report_unit(who, payload.unit)
    job, _new = jobs.report_job_start(
        actor=who,
        kind=JobKind.SNAPSHOT,
        unit=target,
        as_of=_as_of(payload.as_of),
        key=payload.request_key or request.headers.get("Idempotency-Key") or "",
        params={"title": payload.title, "note": payload.note},
    )
    if job.status == JobStatus.FAILED:
        raise ValidationError(job.error)
    if job.status != JobStatus.DONE or job.snapshot_id is None:
        return Status(202, _job(job))
    return Status(201, _snapshot(services.snapshot_get_or_404(who, job.snapshot_id)))


@router.get("/reports/jobs/{pk}", response={200: JobOut, 404: ErrorOut})
def job_detail(request: HttpRequest, pk: int) -> Any:
    """A report job of the caller (publishing, a large export): its status; the caller's own only."""
    return _job(jobs.report_job_get_or_404(actor(request), pk))


@router.get("/reports/jobs/{pk}/download", response={200: Any, 404: ErrorOut})
def job_download(request: HttpRequest, pk: int) -> Any:
    """The file of a finished export job, for the caller who asked for it only."""
    job = jobs.report_job_get_or_404(actor(request), pk)
    if job.kind != JobKind.LEDGER or job.status != JobStatus.DONE or not job.file:
        raise Http404
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=job.content_type
    )


@router.get("/reports/snapshots/{pk}", response={200: Any, 404: ErrorOut})
def snapshot_detail(request: HttpRequest, pk: int) -> Any:
    """A published report with the live figures for the same cutoff and what changed since."""
    s = services.snapshot_get_or_404(actor(request), pk)
    diff = services.snapshot_diff(s)
    return _json(
        {
            **_snapshot(s),
            "changed": diff.changed,
            "live": diff.live.contract(),
            "changes": [
                {"code": r.code, "name": r.name, "frozen": r.frozen.contract(), "live": r.live.contract()}
                for r in diff.rows
                if r.changed
            ],
            "detail": _("Figures differ from the published ones where late corrections arrived."),
        }
    )
