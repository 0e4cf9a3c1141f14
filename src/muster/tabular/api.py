"""One factory for the import and export endpoints of every importer of the pipeline.

``import_endpoint`` gives the view of ``POST …/import`` (a multipart ``file`` and ``dry_run``): the caller's
right to use the importer is checked first (403), a file over ``MUSTER_IMPORT_MAX_BYTES`` is refused
before it is read (413), a refused file answers 422 with every problem (sheet, row, column, value,
reason), a clean one the importer's counts. A passing dry run also answers ``confirm_token``: posting it
to the ``…/import/confirm`` view (``confirm_endpoint``) imports the same upload, kept on the server for a
limited time (:mod:`muster.tabular.uploads`), without sending the file again.

``export_endpoint`` gives the view of ``GET …/export`` (``format`` xlsx or csv, ``unit``, and ``sheet``
when the importer writes one sheet per .csv): the file the importer reads back, as an attachment.

The apps mount them on their routers with their own paths, summaries and operation ids, so paths and
bodies stay what they were (this module is written without postponed annotations: the views' signatures,
which django-ninja reads, are built here for each importer).
"""

from collections.abc import Callable
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Query, Schema, Status
from ninja.files import UploadedFile

from muster.api.common import ErrorOut, ImportErrorOut, actor
from muster.tabular import uploads
from muster.tabular.errors import TabularError

IMPORT_RESPONSES: dict[int, Any] = {200: dict[str, Any], 403: ErrorOut, 413: ErrorOut, 422: ImportErrorOut}
CONFIRM_RESPONSES: dict[int, Any] = {
    200: dict[str, Any],
    403: ErrorOut,
    404: ErrorOut,
    410: ErrorOut,
    422: ImportErrorOut,
}
EXPORT_RESPONSES: dict[int, Any] = {200: None, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ConfirmIn(Schema):
    """The token a passing dry run answered."""

    token: str


def refused(exc: TabularError) -> Any:
    return Status(422, {"detail": exc.summary(), "errors": [e.as_dict() for e in exc.errors]})


def too_big(file: UploadedFile) -> Any | None:
    """413 for a file over the limit (told by its size, before it is read), else None."""
    limit = settings.MUSTER_IMPORT_MAX_BYTES
    if file.size is not None and file.size > limit:
        detail = _("The file %(name)s is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "name": file.name,
            "size": file.size,
            "limit": limit,
        }
        return Status(413, {"detail": detail})
    return None


def import_endpoint(
    *, name: str, key: str, run: Callable[..., Any], require: Callable[[Any], None]
) -> Callable[..., Any]:
    """The view of an import: ``run(actor=, filename=, data=, dry_run=)`` is the importer (or a workbook
    import based on it); ``require(actor)`` raises unless the caller may use it. ``key`` names the
    importer for a confirm token."""

    def endpoint(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False) -> Any:
        user = actor(request)
        require(user)
        answer = too_big(file)
        if answer is not None:
            return answer
        data = file.read()
        filename = file.name or ""
        try:
            result = run(actor=user, filename=filename, data=data, dry_run=dry_run)
        except TabularError as exc:
            return refused(exc)
        body: dict[str, Any] = result.as_dict()
        if dry_run:
            try:
                held = uploads.upload_keep(actor=user, importer=key, filename=filename, data=data)
            except uploads.UploadTooMuch as exc:  # checked, but not kept for confirmation
                return Status(413, {"detail": str(exc)})
            body["confirm_token"] = held.token
            body["confirm_until"] = held.expires_at.isoformat()
        return body

    endpoint.__name__ = endpoint.__qualname__ = name
    return endpoint


def confirm_endpoint(
    *, name: str, key: str, run: Callable[..., Any], require: Callable[[Any], None]
) -> Callable[..., Any]:
    """The view that imports the upload a passing dry run kept (``{"token": …}``): 404 for a token that is
    not the caller's (or none at all), 410 once it has expired or been used, else the import's answer."""

    def endpoint(request: HttpRequest, payload: ConfirmIn) -> Any:
        user = actor(request)
        require(user)
        try:
            held = uploads.upload_take(actor=user, importer=key, token=payload.token)
        except uploads.UploadGone as exc:
            return Status(410, {"detail": str(exc)})
        except uploads.UploadUnknown as exc:
            return Status(404, {"detail": str(exc)})
        try:
            result = run(actor=user, filename=held.filename, data=held.data, dry_run=False)
        except TabularError as exc:  # nothing imported: the upload is kept for another confirmation
            uploads.upload_release(held=held)
            return refused(exc)
        return result.as_dict()

    endpoint.__name__ = endpoint.__qualname__ = name
    return endpoint


def file_response(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def export_endpoint(
    *,
    name: str,
    export: Callable[..., tuple[bytes, str, str]],
    resolve_unit: Callable[[Any, str | None], Any],
    sheets: tuple[str, ...] = (),
    default_sheet: str = "",
) -> Callable[..., HttpResponse]:
    """The view of an export: ``resolve_unit(actor, code)`` resolves (and checks) the ``unit`` parameter
    (None for none); ``export(actor=, fmt=, unit=[, sheet=])`` writes the file. With ``sheets``, the
    endpoint takes ``sheet`` (``default_sheet``, else the first), the sheet a .csv holds."""
    view: Callable[..., HttpResponse]
    if sheets:
        sheet_type: Any = Literal[sheets]  # the names the endpoint accepts, in its OpenAPI schema too

        def with_sheet(
            request: HttpRequest,
            fmt: Literal["xlsx", "csv"] = Query("xlsx", alias="format"),
            unit: str | None = None,
            sheet: sheet_type = default_sheet or sheets[0],
        ) -> HttpResponse:
            user = actor(request)
            target = resolve_unit(user, unit)
            return file_response(*export(actor=user, fmt=fmt, unit=target, sheet=sheet))

        view = with_sheet
    else:

        def without_sheet(
            request: HttpRequest,
            fmt: Literal["xlsx", "csv"] = Query("xlsx", alias="format"),
            unit: str | None = None,
        ) -> HttpResponse:
            user = actor(request)
            target = resolve_unit(user, unit)
            return file_response(*export(actor=user, fmt=fmt, unit=target))

        view = without_sheet
    view.__name__ = view.__qualname__ = name
    return view
