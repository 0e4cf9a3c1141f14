"""Care services: audited reads of health details and receipt files."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import log_action
from muster.care import policy
from muster.care.models import (
    CareSubject,
    Consolation,
    ConsolationKind,
    DeliveryRun,
    Donation,
    Receipt,
)
from muster.care.services.common import _name, clean_text
from muster.orgs.access import NotAllowed, Perm

# ---------------------------------------------------------------- reads that are audited


def health_read_log(*, actor: Any, subject: CareSubject, where: str) -> None:
    """Write the read audit of a view of a subject's health details (answers, tags)."""
    log_action(
        actor,
        action="care.health.viewed",
        target=subject,
        unit_path=subject.unit.path,
        changes={"where": where},
    )


# ---------------------------------------------------------------- receipts


def _may_record_run(actor: Any, run: DeliveryRun) -> bool:
    """A manager of the run's unit, or whoever may record for every subject of its lines (the liaison)."""
    if policy.may_manage(actor, run.unit):
        return True
    subjects = list(CareSubject.objects.filter(delivery_lines__run=run).distinct().select_related("unit"))
    return bool(subjects) and all(policy.may_record(actor, s) for s in subjects)


def receipt_attach(
    *,
    actor: Any,
    data: bytes,
    filename: str,
    run: DeliveryRun | None = None,
    consolation: Consolation | None = None,
    donation: Donation | None = None,
) -> Receipt:
    """Attach a receipt (a photo or a PDF, told by its content; at most ``receipts.max_bytes()``) to a
    delivery run, a consolation payment or a donation. The file goes to private storage."""
    from muster.care import receipts

    targets = [t for t in (run, consolation, donation) if t is not None]
    if len(targets) != 1:
        raise ValidationError({"file": _("Attach a receipt to one delivery, payment or donation.")})
    if run is not None:
        if not _may_record_run(actor, run):
            raise NotAllowed(Perm.CHANGE)
        path = run.unit.path
    elif consolation is not None:
        policy.require_manage(actor, consolation.subject.unit)
        if consolation.kind != ConsolationKind.PAYMENT:
            raise ValidationError({"file": _("Only a consolation payment takes a receipt.")})
        path = consolation.subject.unit.path
    else:
        assert donation is not None
        policy.require_manage(actor, donation.unit)
        path = donation.unit.path
    name = clean_text(filename, field="file", max_length=500) or "receipt"
    name = name.replace("/", "_").replace("\\", "_")[-120:]
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    limit = receipts.max_bytes()
    if len(data) > limit:
        raise ValidationError(
            {"file": _("The file is larger than %(n)s MB.") % {"n": round(limit / 1024 / 1024, 1)}}
        )
    kind = receipts.sniff(data[:16])
    if kind is None:
        raise ValidationError(
            {"file": _("%(name)s is not a JPEG, PNG or WebP photo or a PDF file.") % {"name": name}}
        )
    stored, digest = receipts.store(data, kind[1])
    try:
        with transaction.atomic():
            r = Receipt.objects.create(
                run=run,
                consolation=consolation,
                donation=donation,
                unit_path=path,
                name=name,
                content_type=kind[0],
                size=len(data),
                sha256=digest,
                stored_as=stored,
                uploaded_at=clock.now(),
                uploaded_by_name=_name(actor),
            )
            log_action(
                actor,
                action="care.receipt.attached",
                target=r,
                unit_path=path,
                changes={
                    "run": run.pk if run else None,
                    "consolation": consolation.pk if consolation else None,
                    "donation": donation.pk if donation else None,
                    "name": name,
                    "size": len(data),
                    "sha256": digest,
                },
            )
    except BaseException:
        receipts.remove(stored)
        raise
    return r


def receipt_read_log(*, actor: Any, receipt: Receipt) -> None:
    """The read audit of a receipt file being opened."""
    log_action(
        actor,
        action="care.receipt.viewed",
        target=receipt,
        unit_path=receipt.unit_path,
        changes={"name": receipt.name},
    )
