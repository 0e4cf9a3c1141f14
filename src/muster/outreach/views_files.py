"""Files of outreach records: photos and scans of visits, the evidence of a problem's resolution, the files
of a taxpayer class. One upload view and one download view for all three (``services.attachment_add``):
private storage, told by content, size-limited; a download is scoped (out of scope = 404) and audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.outreach import attachments, queries, services
from muster.outreach.models import Attachment


def _upload(request: HttpRequest, owner: Any, back: str) -> HttpResponse:
    """Attach the posted file to ``owner`` (already looked up in scope); a refused file says why and nothing
    is kept."""
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to attach."))
        return redirect(back)
    if upload.size is not None and upload.size > attachments.max_bytes():  # never read a huge file
        limit = round(attachments.max_bytes() / 1024 / 1024, 1)
        messages.error(request, _("The file is larger than %(n)s MB.") % {"n": limit})
        return redirect(back)
    try:
        services.attachment_add(
            actor=request.user, owner=owner, data=upload.read(), filename=upload.name or ""
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("File attached."))
    return redirect(back)


@login_required
@require_POST
def visit_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a file (a photo or a PDF) to a visit in scope."""
    v = queries.visit_get(request.user, pk)
    return _upload(request, v, reverse("outreach:visit_detail", args=[v.pk]))


@login_required
@require_POST
def problem_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach evidence (a photo or a PDF) to a problem in scope, typically of its resolution."""
    pr = queries.problem_get(request.user, pk)
    return _upload(request, pr, reverse("outreach:problem_detail", args=[pr.pk]))


@login_required
@require_POST
def class_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a file (a photo of the class, a sign-in sheet) to a taxpayer class in scope."""
    c = queries.class_get(request.user, pk)
    return _upload(request, c, reverse("outreach:class_edit", args=[c.pk]))


@login_required
def attachment_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A file, to those who may see its visit, problem or class (404 otherwise); every opening audited."""
    a = Attachment.objects.filter(pk=pk).first()
    if a is None:
        raise Http404
    if a.visit_id is not None:
        queries.visit_get(request.user, a.visit_id)  # out of scope: 404
    elif a.problem_id is not None:
        queries.problem_get(request.user, a.problem_id)
    else:
        queries.class_get(request.user, a.tax_class_id)
    try:
        fh = attachments.open_file(a.stored_as)
    except OSError:  # the record is there but its file is gone from the disk
        raise Http404 from None
    try:
        services.attachment_read_log(actor=request.user, attachment=a)  # audited once it could be opened
    except BaseException:
        fh.close()
        raise
    resp = FileResponse(fh, content_type=a.content_type)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(a.name)}"
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp
