"""Report jobs: publishing a snapshot and writing an Excel 台账 / CSV export, on ``muster worker`` (queue
"reports") for large units, at once for small ones.

Decision: a unit whose subtree has at most ``MUSTER_REPORTS_BACKGROUND_UNITS`` units (default 200) is done
in the request, as before — the user gets the snapshot or the file at once, with nothing to wait for. A
larger subtree goes to the worker: the page polls the job's status and offers the file (or the snapshot)
when it is there. Either way a publish request is a :class:`~muster.exports.models.ReportJob` with a
request key, so a double click or a retried API call publishes once.

Only the requester sees a job and downloads its file (a job of someone else is "not found"); the unit's
permissions are checked when the job is asked for and again when it runs.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from muster.audit.services import log_action
from muster.exports.models import JobKind, JobStatus, ReportJob
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Unit
from muster.reports import excel, services
from muster.reports.forms import split_cutoff
from muster.reports.rollup import cutoff
from muster.worker.recovery import rerun_on_worker_loss

REPORTS_QUEUE = "reports"
JOB_ATTEMPTS = 3
KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def background_units() -> int:
    return int(getattr(settings, "MUSTER_REPORTS_BACKGROUND_UNITS", 200))


def is_large(unit: Unit) -> bool:
    """Whether the report of ``unit`` goes to the worker (its subtree has more units than the limit)."""
    return Unit.objects.filter(path__startswith=unit.path).count() > background_units()


def clean_key(raw: str | None) -> str:
    """The request key a client sent (8-64 of A-Z a-z 0-9 _ . : -), or a new one when it sent none."""
    key = (raw or "").strip()
    if not key:
        return uuid.uuid4().hex
    if not KEY.match(key):
        raise ValidationError(
            {"request_key": _("The request key must be 8 to 64 letters, digits or _ . : - characters.")}
        )
    return key


def _filename(unit: Unit, as_of: datetime, fmt: str) -> str:
    """As the export at once names it: the cutoff as the day it ends (24:00), not the next 00:00."""
    day, time = split_cutoff(as_of)
    return f"{unit.code}-{day.isoformat()}-{time.replace(':', '')}.{fmt}"


def report_job_start(
    *,
    actor: Any,
    kind: str,
    unit: Unit,
    as_of: datetime,
    key: str | None = None,
    params: dict[str, Any] | None = None,
    background: bool | None = None,
) -> tuple[ReportJob, bool]:
    """Ask for a report job; (the job, whether it is new). A key used before by the same user answers with
    that job (the same request again); used for another request it is refused. ``background``: None
    decides by the size of the unit's subtree (:func:`is_large`)."""
    if kind not in JobKind.values:
        raise ValidationError({"kind": _("Unknown report job.")})
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404
    if kind == JobKind.SNAPSHOT:
        access.require(actor, services.PUBLISH_PERM, unit)
    key = clean_key(key)
    as_of = cutoff(as_of)
    params = dict(params or {})
    if kind == JobKind.LEDGER and params.get("format") not in ("xlsx", "csv"):
        params["format"] = "xlsx"
    known = ReportJob.objects.filter(requested_by=actor, key=key).first()
    if known is None:
        try:
            with transaction.atomic():
                job = ReportJob.objects.create(
                    requested_by=actor, unit=unit, kind=kind, key=key, as_of=as_of, params=params
                )
                log_action(
                    actor,
                    action="reports.job.requested",
                    target=job,
                    unit_path=unit.path,
                    changes={"kind": kind, "as_of": as_of.isoformat(), "key": key},
                )
                if background if background is not None else is_large(unit):
                    # queued in this transaction (the database queue): the task exists iff the job does
                    job.task_id = str(report_job_task.enqueue(job.pk).id)
                    job.save(update_fields=["task_id"])
                    return job, True
        except IntegrityError:  # the same key at the same moment (a double click): that request's job
            known = ReportJob.objects.filter(requested_by=actor, key=key).first()
            if known is None:
                raise
        else:
            report_job_run(job_id=job.pk)
            job.refresh_from_db()
            return job, True
    if known.kind != kind or known.unit_id != unit.pk or known.as_of != as_of:
        raise ValidationError({"request_key": _("This request key was already used for another request.")})
    return known, False


def _fail(job: ReportJob, message: str) -> None:
    job.status = JobStatus.FAILED
    job.error = message[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def report_job_run(*, job_id: int) -> None:
    """Do the job (the worker's task, or the request itself for a small unit). Running it again is safe:
    the snapshot and the job's "done" are written in one transaction, and a done job is not done twice."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().select_related("unit", "requested_by").get(pk=job_id)
        if job.finished:
            return
        job.status = JobStatus.RUNNING
        job.save(update_fields=["status"])
    try:
        with transaction.atomic():
            job = ReportJob.objects.select_for_update().select_related("unit", "requested_by").get(pk=job_id)
            if job.finished:
                return
            actor, unit = job.requested_by, job.unit
            if not actor.is_active or not access.can(actor, Perm.VIEW, unit):
                raise PermissionDenied
            if job.kind == JobKind.SNAPSHOT:
                snap = services.snapshot_publish(
                    actor=actor,
                    unit=unit,
                    as_of=job.as_of,
                    title=str(job.params.get("title") or ""),
                    note=str(job.params.get("note") or ""),
                )
                job.snapshot_id = snap.pk
            else:
                fmt = job.params.get("format", "xlsx")
                table = excel.table_of_rollup(services.unit_rollup(unit, job.as_of))
                if fmt == "csv":
                    body, ctype = excel.csv_data(table), CSV_CONTENT_TYPE
                else:
                    body = excel.xlsx_bytes(
                        table,
                        preparer=actor.get_full_name() or actor.get_username(),
                        in_charge=str(job.params.get("in_charge") or ""),
                        today=timezone.localdate(),
                    )
                    ctype = XLSX_CONTENT_TYPE
                job.filename = _filename(unit, job.as_of, fmt)
                job.content_type = ctype
                job.file.save(f"{uuid.uuid4().hex}.{fmt}", ContentFile(body), save=False)
            job.status = JobStatus.DONE
            job.error = ""
            job.finished_at = timezone.now()
            job.save()
    except ValidationError as exc:
        _fail(job, " ".join(exc.messages))
    except (PermissionDenied, Http404):
        _fail(job, _("You may no longer do this for this unit."))
    except Exception:
        _fail(job, _("The job failed; ask for it again, or tell the administrator."))
        raise


@task(queue_name=REPORTS_QUEUE)
def report_job_task(job_id: int) -> int:
    """The background run of a report job (queued by :func:`report_job_start`)."""
    report_job_run(job_id=job_id)
    return job_id


def _job_lost(args: list[Any], kwargs: dict[str, Any], attempts: int) -> None:
    job_id = kwargs.get("job_id", args[0] if args else None)
    if job_id is None:
        return
    job = ReportJob.objects.filter(pk=int(job_id)).first()
    if job is not None and not job.finished:
        _fail(job, _("The worker stopped while doing this job; ask for it again."))


rerun_on_worker_loss(report_job_task, max_attempts=JOB_ATTEMPTS, on_give_up=_job_lost)


def report_job_get_or_404(user: Any, pk: int) -> ReportJob:
    """A job of ``user`` (nobody else's: another user's job is "not found"), still in the user's scope."""
    who: int | None = getattr(user, "pk", None)
    if who is None:
        raise Http404
    job = ReportJob.objects.select_related("unit").filter(pk=pk, requested_by_id=who).first()
    if job is None or not access.can(user, Perm.VIEW, job.unit):
        raise Http404
    return job
