"""The staff register page (人员名册, ``/people/import/``): import the register (.xlsx / .csv), export it,
download a template to fill in. A passing dry run keeps the upload (``muster.tabular.uploads``) and offers
"confirm import" of the same file (``/people/import/confirm/``). The old addresses under ``/roster/``
(now rostering's) redirect here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.orgs import people_io
from muster.orgs.access import NotAllowed, Perm, can_anywhere, scoped
from muster.orgs.models import Unit
from muster.tabular import uploads
from muster.tabular.errors import TabularError
from muster.web.forms import ExportForm, ImportForm

IMPORTER_KEY = people_io.IMPORTER.key

RESULT_LABELS = {
    "units_created": gettext_lazy("Units created"),
    "units_updated": gettext_lazy("Units updated"),
    "units_moved": gettext_lazy("Units moved"),
    "units_unchanged": gettext_lazy("Units unchanged"),
    "people_created": gettext_lazy("People created"),
    "people_updated": gettext_lazy("People updated"),
    "people_unchanged": gettext_lazy("People unchanged"),
}


def _result_rows(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The import summary as (label, number) lines, in a fixed order."""
    return [(str(RESULT_LABELS[k]), counts[k]) for k in RESULT_LABELS if k in counts]


def _require_import(user: Any) -> None:
    if not can_anywhere(user, Perm.IMPORT):
        raise NotAllowed(Perm.IMPORT)


def _export_units(user: Any) -> Any:
    return scoped(Unit.objects.all(), user, Perm.IMPORT).order_by("path")


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _page(request: HttpRequest, form: ImportForm, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "form": form,
        "export_form": ExportForm(units=_export_units(request.user)),
        "max_mb": settings.MUSTER_IMPORT_MAX_BYTES / (1024 * 1024),
        "hold_minutes": uploads.hold_minutes(),
        **extra,
    }
    return render(request, "web/people/import.html", context, status=status)


@login_required
def people_import(request: HttpRequest) -> HttpResponse:
    """GET shows the page; POST imports (or only validates) the uploaded file."""
    user = request.user
    _require_import(user)
    if request.method != "POST":
        return _page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    upload = form.cleaned_data["file"]
    limit = settings.MUSTER_IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        form.add_error(
            "file",
            _("The file is %(size).1f MB; the limit is %(limit).1f MB.")
            % {"size": upload.size / 1024 / 1024, "limit": limit / 1024 / 1024},
        )
        return _page(request, form, status=400)
    dry_run = bool(form.cleaned_data.get("dry_run"))
    data = upload.read(limit + 1)
    filename = upload.name or ""
    try:
        result = people_io.people_import(actor=user, filename=filename, data=data, dry_run=dry_run)
    except TabularError as exc:
        return _page(request, form, row_errors=exc.errors, status=400)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _page(request, form, status=400)
    held, status, confirm_error = None, 200, None
    if dry_run:  # the same upload, kept for "confirm import": the file need not be chosen again
        try:
            held = uploads.upload_keep(actor=user, importer=IMPORTER_KEY, filename=filename, data=data)
        except uploads.UploadTooMuch as exc:  # checked, but not kept: the user is told why
            status, confirm_error = 413, str(exc)
    return _page(
        request,
        ImportForm(initial={"dry_run": dry_run}),
        result=_result_rows(result.as_dict()),
        result_counts=result.as_dict(),
        dry_run=dry_run,
        filename=filename,
        held=held,
        confirm_error=confirm_error,
        status=status,
    )


@login_required
@require_POST
def people_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the upload a passing dry run kept (its token in the form): for the uploader only, once,
    within the time it is kept."""
    user = request.user
    _require_import(user)
    try:
        held = uploads.upload_take(actor=user, importer=IMPORTER_KEY, token=request.POST.get("token", ""))
    except uploads.UploadGone as exc:
        return _page(request, ImportForm(), confirm_error=str(exc), status=410)
    except uploads.UploadUnknown as exc:
        return _page(request, ImportForm(), confirm_error=str(exc), status=404)
    try:
        result = people_io.people_import(actor=user, filename=held.filename, data=held.data, dry_run=False)
    except TabularError as exc:  # the data changed since the check: nothing imported, the file kept
        uploads.upload_release(held=held)
        return _page(request, ImportForm(), row_errors=exc.errors, status=400)
    except ValidationError as exc:
        uploads.upload_release(held=held)
        form = ImportForm()
        for message in exc.messages:
            form.add_error(None, message)
        return _page(request, form, status=400)
    return _page(
        request,
        ImportForm(initial={"dry_run": True}),
        result=_result_rows(result.as_dict()),
        result_counts=result.as_dict(),
        dry_run=False,
        filename=held.filename,
    )


@login_required
@require_POST
def people_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_import(user)
    form = ExportForm(request.POST, units=_export_units(user))
    if not form.is_valid():
        return _page(request, ImportForm(), export_errors=form.errors, status=400)
    what = form.cleaned_data["what"]
    fmt, sheet = ("xlsx", "people") if what == "xlsx" else ("csv", what.removeprefix("csv-"))
    data, content_type, filename = people_io.people_export(
        actor=user, fmt=fmt, unit=form.cleaned_data.get("unit"), sheet=sheet
    )
    return _download(data, content_type, filename)


@login_required
def people_template(request: HttpRequest) -> HttpResponse:
    """A register workbook to fill in: headers, drop-down lists (of the user's units too) and one example
    row per sheet, which the import skips."""
    _require_import(request.user)
    data, content_type, filename = people_io.people_template(request.user)
    return _download(data, content_type, filename)


class PermanentRedirectKeepingMethod(HttpResponseRedirect):
    """308: moved for good, and a POST stays a POST (a 301 would turn an old form's POST into a GET)."""

    status_code = 308


def moved_to(name: str) -> Any:
    """A view for an old address: a 308 redirect to the page ``web:<name>``, with the query string."""

    def view(request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        return PermanentRedirectKeepingMethod(reverse(f"web:{name}") + (f"?{query}" if query else ""))

    return view
