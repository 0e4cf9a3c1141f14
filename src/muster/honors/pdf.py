"""The certificate as a PDF (志愿服务记录证明): A4, Chinese text in reportlab's standard CJK font
``STSong-Light`` (a CID font every PDF reader has; nothing is downloaded or embedded at run time), and a
QR code (segno, drawn as vector squares) to the public verification page.

The ID number is printed in full only for a viewer who may see it (``person.view_id`` or the person
themself); otherwise masked. Everything else is the certificate's frozen contents.
"""

from __future__ import annotations

import io
from datetime import datetime

import segno
from django.conf import settings
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from muster.honors.models import Certificate, CertificateStatus
from muster.honors.queries import local_tz
from muster.orgs import crypto
from muster.orgs.validators import mask_id_number

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def verify_url(cert: Certificate, base: str = "") -> str:
    base = (base or getattr(settings, "MUSTER_BASE_URL", "") or "").rstrip("/")
    return f"{base}/verify/{cert.token}/"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _day(d: datetime | None) -> str:
    if d is None:
        return ""
    local = timezone.localtime(d, local_tz())
    return f"{local.year}年{local.month}月{local.day}日"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if ch == "\n" or pdfmetrics.stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = "" if ch == "\n" else ch
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def _qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix)
    quiet = 2
    cell = size / (n + 2 * quiet)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, bit in enumerate(row):
            if bit:
                c.rect(
                    x + (col + quiet) * cell, y + size - (r + quiet + 1) * cell, cell, cell, stroke=0, fill=1
                )


def certificate_pdf(cert: Certificate, *, full_id: bool, base_url: str = "") -> bytes:
    """The PDF of an issued (or revoked: marked so) certificate."""
    font = _font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"志愿服务记录证明 {cert.serial}")
    c.setAuthor(cert.issuing_unit.name)
    c.setSubject("志愿服务记录证明")
    w, h = A4
    left, right = 25 * mm, w - 25 * mm
    c.setFont(font, 22)
    c.drawCentredString(w / 2, h - 35 * mm, "志愿服务记录证明")
    c.setFont(font, 10.5)
    c.drawRightString(right, h - 45 * mm, f"证明编号：{cert.serial}")
    id_number = crypto.decrypt(cert.id_number_enc) if cert.id_number_enc else ""
    shown_id = id_number if full_id else mask_id_number(id_number)
    period = ""
    if cert.period_start and cert.period_end:
        ps, pe = cert.period_start, cert.period_end
        period = f"{ps.year}年{ps.month}月{ps.day}日至{pe.year}年{pe.month}月{pe.day}日"
    body = (
        f"兹证明 {cert.name}（{cert.id_type or '证件类型'}：{shown_id or '—'}；"
        f"志愿者编号：{cert.volunteer_number}）"
        f"{('于' + period) if period else ''}参加志愿服务，"
        f"截至{_day(cert.as_of)}，经审核的志愿服务时长累计 {_hours(cert.minutes)} 小时。"
    )
    y = h - 62 * mm
    c.setFont(font, 13)
    for line in _wrap("　　" + body, font, 13, right - left):
        c.drawString(left, y, line)
        y -= 9 * mm
    y -= 2 * mm
    c.setFont(font, 11)
    for line in _wrap("服务内容：" + (cert.content or "—"), font, 11, right - left):
        c.drawString(left, y, line)
        y -= 7 * mm
    y -= 4 * mm
    c.setFont(font, 10.5)
    c.drawString(
        left, y, "本证明依据《志愿服务记录与证明出具办法（试行）》出具，记录真实、准确、完整，无偿出具。"
    )
    y -= 12 * mm
    rows = [
        ("出具单位", cert.issuing_unit.name),
        ("负责人", cert.person_in_charge or "—"),
        ("经办人", cert.handler or "—"),
        ("联系方式", cert.contact or "—"),
        ("出具日期", _day(cert.issued_at)),
    ]
    c.setFont(font, 11.5)
    for label, value in rows:
        c.drawString(left, y, f"{label}：{value}")
        y -= 8 * mm
    qr_size = 38 * mm
    _qr(c, verify_url(cert, base_url), right - qr_size, 38 * mm, qr_size)
    c.setFont(font, 8.5)
    c.drawCentredString(right - qr_size / 2, 34 * mm, "扫码核验真伪")
    c.drawString(left, 20 * mm, f"核验地址：{verify_url(cert, base_url)}")
    if cert.status == CertificateStatus.REVOKED:
        c.saveState()
        c.setFillColorRGB(0.8, 0, 0)
        c.setFont(font, 48)
        c.translate(w / 2, h / 2)
        c.rotate(30)
        c.drawCentredString(0, 0, "已撤销 REVOKED")
        c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()
