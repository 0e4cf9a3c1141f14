"""Care services: donations (捐赠) and charity drives (爱心捐款)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    CharityDrive,
    Donation,
    DonationKind,
    DriveContribution,
)
from muster.care.services.common import MAX_AMOUNT, _choice, _moment, _name, clean_text, positive_decimal
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Partner, Person, Unit

# ---------------------------------------------------------------- donations


def donation_record(
    *,
    actor: Any,
    unit: Unit,
    donor: str,
    kind: str,
    value: Any,
    items: str = "",
    partner: Partner | None = None,
    subject: CareSubject | None = None,
    beneficiary: str = "",
    at: datetime | None = None,
) -> Donation:
    policy.require_manage(actor, unit)
    donor = clean_text(donor, field="donor", max_length=120, required=True)
    _choice(kind, DonationKind, "kind")
    amount = positive_decimal(value, field="value", maximum=MAX_AMOUNT)
    items = clean_text(items, field="items", max_length=500, required=kind == DonationKind.GOODS)
    beneficiary = clean_text(beneficiary, field="beneficiary", max_length=120)
    if partner is None and subject is None and not beneficiary:
        raise ValidationError(
            {"beneficiary": _("Name who receives the donation (a partner, a subject or a person).")}
        )
    with transaction.atomic():
        d = Donation.objects.create(
            unit=unit,
            donor=donor,
            kind=kind,
            partner=partner,
            subject=subject,
            beneficiary=beneficiary,
            items=items,
            value=amount,
            given_at=_moment(at, "at"),
            recorded_by_name=_name(actor),
        )
        log_action(
            actor,
            action="care.donation.recorded",
            target=d,
            unit_path=unit.path,
            changes={"kind": kind, "value": str(amount)},
        )
        facts.refresh(donations=[d.pk])
    return d


def drive_open(
    *, actor: Any, unit: Unit, name: str, beneficiary: str, manager: Any, at: datetime | None = None
) -> CharityDrive:
    policy.require_manage(actor, unit)
    name = clean_text(name, field="name", max_length=120, required=True)
    beneficiary = clean_text(beneficiary, field="beneficiary", max_length=200, required=True)
    with transaction.atomic():
        d = CharityDrive.objects.create(
            unit=unit, name=name, beneficiary=beneficiary, manager=manager, opened_at=_moment(at, "at")
        )
        log_action(actor, action="care.drive.opened", target=d, unit_path=unit.path, changes={"name": name})
    return d


def drive_contribute(
    *,
    actor: Any,
    drive: CharityDrive,
    amount: Any,
    person: Person | None = None,
    name: str = "",
    at: datetime | None = None,
) -> DriveContribution:
    """A contribution to a charity drive (the drive's manager or a manager of its unit records it)."""
    if not (getattr(actor, "pk", None) == drive.manager_id or policy.may_manage(actor, drive.unit)):
        raise NotAllowed(Perm.CHANGE)
    value = positive_decimal(amount, field="amount", maximum=MAX_AMOUNT)
    name = person.name if person is not None else clean_text(name, field="name", max_length=60, required=True)
    with transaction.atomic():
        c = DriveContribution.objects.create(
            drive=drive, person=person, name=name, amount=value, at=_moment(at, "at")
        )
        # the amount stays out of the audit log: individual amounts are for the drive's manager only
        log_action(
            actor,
            action="care.drive.contributed",
            target=drive,
            unit_path=drive.unit.path,
            changes={"contribution": c.pk},
        )
    return c
