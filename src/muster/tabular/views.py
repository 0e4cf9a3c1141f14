"""One import page for every importer of the pipeline (``/import/<key>/``): upload a file (or check it
only), see every problem or the counts, confirm a checked file without choosing it again, download a
template to fill in. The staff register keeps its own page (``/people/import/``, with its export); its
key leads there."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.tabular import uploads
from muster.tabular.errors import TabularError
from muster.tabular.pipeline import Importer, importer

OWN_PAGES = {"roster": "web:people_import"}  # importers with a page of their own


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv", "class": "form-control"}),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Validate only (write nothing)"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Choose an .xlsx workbook or a .csv file."))
        return upload


def _importer(user: Any, key: str) -> Importer:
    imp = importer(key)
    if imp is None:
        raise Http404
    imp.require(user)  # 403 when not allowed
    return imp


def _title(imp: Importer) -> str:
    return " / ".join(spec.title() for spec in imp.specs)


def _page(
    request: HttpRequest, imp: Importer, form: UploadForm, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "imp": imp,
        "title": _title(imp),
        "form": form,
        "max_mb": settings.MUSTER_IMPORT_MAX_BYTES / (1024 * 1024),
        "hold_minutes": uploads.hold_minutes(),
        **extra,
    }
    return render(request, "tabular/import.html", context, status=status)


def _done(
    request: HttpRequest, imp: Importer, result: Any, filename: str, status: int = 200, **extra: Any
) -> HttpResponse:
    return _page(
        request,
        imp,
        UploadForm(initial={"dry_run": True}),
        status=status,
        summary=imp.summary(result).splitlines(),
        dry_run=result.dry_run,
        filename=filename,
        **extra,
    )


@login_required
def import_page(request: HttpRequest, key: str) -> HttpResponse:
    """GET shows the page; POST imports (or only checks) the uploaded file."""
    if key in OWN_PAGES:
        return redirect(OWN_PAGES[key])
    user = request.user
    imp = _importer(user, key)
    if request.method != "POST":
        return _page(request, imp, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, imp, form, status=400)
    upload = form.cleaned_data["file"]
    limit = settings.MUSTER_IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        form.add_error(
            "file",
            _("The file is %(size).1f MB; the limit is %(limit).1f MB.")
            % {"size": upload.size / 1024 / 1024, "limit": limit / 1024 / 1024},
        )
        return _page(request, imp, form, status=400)
    dry_run = bool(form.cleaned_data.get("dry_run"))
    data, filename = upload.read(limit + 1), upload.name or ""
    try:
        result = imp.run(actor=user, filename=filename, data=data, dry_run=dry_run)
    except TabularError as exc:
        return _page(request, imp, form, row_errors=exc.errors, status=400)
    if not dry_run:
        return _done(request, imp, result, filename)
    try:
        held = uploads.upload_keep(actor=user, importer=imp.key, filename=filename, data=data)
    except uploads.UploadTooMuch as exc:  # checked, but not kept: the user is told why
        return _done(request, imp, result, filename, confirm_error=str(exc), status=413)
    return _done(request, imp, result, filename, held=held)


@login_required
@require_POST
def import_confirm(request: HttpRequest, key: str) -> HttpResponse:
    """Import the upload a passing dry run kept: for the uploader only, once, while it is kept."""
    user = request.user
    imp = _importer(user, key)
    try:
        held = uploads.upload_take(actor=user, importer=imp.key, token=request.POST.get("token", ""))
    except uploads.UploadGone as exc:
        return _page(request, imp, UploadForm(), confirm_error=str(exc), status=410)
    except uploads.UploadUnknown as exc:
        return _page(request, imp, UploadForm(), confirm_error=str(exc), status=404)
    try:
        result = imp.run(actor=user, filename=held.filename, data=held.data, dry_run=False)
    except TabularError as exc:  # the data changed since the check: nothing imported, the file kept
        uploads.upload_release(held=held)
        return _page(request, imp, UploadForm(), row_errors=exc.errors, status=400)
    return _done(request, imp, result, held.filename)


@login_required
def import_template(request: HttpRequest, key: str) -> HttpResponse:
    imp = _importer(request.user, key)
    if imp.template is None:
        raise Http404
    data, content_type, filename = imp.template(request.user)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
