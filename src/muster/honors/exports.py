"""The volunteer record as a spreadsheet (through ``muster.tabular.writer``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.honors.queries import VolunteerRecord, local_tz
from muster.tabular.writer import XLSX_CONTENT_TYPE, SheetData, xlsx_bytes

OTHER_BATCHES = gettext_lazy("Other units' batches")


def record_headers() -> list[str]:
    return [_("Batch"), _("Task"), _("Kind of service"), _("Start"), _("End"), _("Entries"), _("Hours")]


def record_rows(record: VolunteerRecord) -> list[list[object]]:
    tz = local_tz()
    rows: list[list[object]] = []
    for ln in record.lines:
        d = ln.deployment
        rows.append(
            [
                d.code if d else "",
                d.title if d else (str(OTHER_BATCHES) if ln.other else ""),
                ln.kind_label,
                timezone.localtime(d.start, tz).replace(tzinfo=None) if d else None,
                timezone.localtime(d.end, tz).replace(tzinfo=None) if d else None,
                ln.entries,
                round(ln.minutes / 60, 2),
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            "",
            None,
            None,
            sum(ln.entries for ln in record.lines),
            round(record.minutes / 60, 2),
        ]
    )
    return rows


def record_xlsx(record: VolunteerRecord) -> bytes:
    cutoff = timezone.localtime(record.as_of, local_tz()).strftime("%Y-%m-%d %H:%M")
    title = _("Volunteer record")
    sheet = SheetData(
        title=title,
        headers=record_headers(),
        rows=record_rows(record),
        widths=(18, 36, 24, 18, 18, 10, 10),
    )
    info = SheetData(
        title=_("Person"),
        headers=[_("Staff number"), _("Name"), _("As of"), _("Hours"), _("Star tier")],
        rows=[
            [
                record.person.code,
                record.person.name,
                cutoff,
                round(record.minutes / 60, 2),
                record.tier.name if record.tier and record.tier.level else "",
            ]
        ],
        widths=(14, 14, 18, 10, 16),
    )
    return xlsx_bytes([sheet, info])


def record_response(record: VolunteerRecord) -> HttpResponse:
    day = timezone.localtime(record.as_of, local_tz()).strftime("%Y%m%d")
    resp = HttpResponse(record_xlsx(record), content_type=XLSX_CONTENT_TYPE)
    resp["Content-Disposition"] = f'attachment; filename="volunteer-record-{record.person.code}-{day}.xlsx"'
    return resp
