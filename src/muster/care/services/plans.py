"""Care services: the contact plan (frequencies per risk level, the next contact, contacts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    Channel,
    Contact,
    ContactFrequency,
    ContactOutcome,
    RiskLevel,
    SubjectStatus,
    SurveyRound,
)
from muster.care.services.common import _choice, _day, _moment, _name, _require_alive, clean_text
from muster.care.signals import contact_recorded
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Unit

# ---------------------------------------------------------------- contact plan


def _frequencies() -> dict[str, int]:
    got = dict(ContactFrequency.objects.values_list("level", "every_days"))
    return {RiskLevel.HIGH: got.get(RiskLevel.HIGH, 2), RiskLevel.NORMAL: got.get(RiskLevel.NORMAL, 7)}


def _reschedule(subject: CareSubject, freq: Mapping[str, int] | None = None) -> None:
    """Set ``next_due_on`` from the last contact and the risk level's frequency (not saved)."""
    if subject.status != SubjectStatus.ACTIVE:
        subject.next_due_on = None
        return
    freq = freq or _frequencies()
    if subject.last_contact_at is None:
        subject.next_due_on = clock.local_date(subject.created_at)
    else:
        subject.next_due_on = clock.local_date(subject.last_contact_at) + timedelta(
            days=freq[subject.risk_level]
        )


def frequency_set(*, actor: Any, level: str, every_days: int) -> ContactFrequency:
    """Change how often subjects of a risk level are contacted; every active subject is rescheduled."""
    if not access.is_all_powerful(actor) and not any(
        access.can(actor, Perm.CHANGE, u) for u in Unit.objects.filter(depth=1)
    ):
        raise NotAllowed(Perm.CHANGE)
    _choice(level, RiskLevel, "level")
    if not isinstance(every_days, int) or not 1 <= every_days <= 365:
        raise ValidationError({"every_days": _("Between 1 and 365 days.")})
    with transaction.atomic():
        f, _c = ContactFrequency.objects.update_or_create(level=level, defaults={"every_days": every_days})
        freq = _frequencies()
        batch = []
        for s in CareSubject.objects.filter(status=SubjectStatus.ACTIVE, risk_level=level).iterator(2000):
            _reschedule(s, freq)
            batch.append(s)
            if len(batch) >= 2000:
                CareSubject.objects.bulk_update(batch, ["next_due_on"])
                batch = []
        CareSubject.objects.bulk_update(batch, ["next_due_on"])
        facts.rebuild()  # the overdue figure of every subject follows the frequency
        log_action(
            actor,
            action="care.frequency.changed",
            target=f,
            changes={"level": level, "every_days": every_days},
        )
    return f


def contact_schedule(*, actor: Any, subject: CareSubject, on: date) -> CareSubject:
    """Plan the next contact with a subject for a given day (earlier or later than the frequency says)."""
    policy.require_record(actor, subject)
    _require_alive(subject)
    if subject.status != SubjectStatus.ACTIVE:
        raise ValidationError(
            {"subject": _("%(name)s has moved away; no contact is planned.") % {"name": subject.name}}
        )
    _day(on, "on")
    with transaction.atomic():
        subject.next_due_on = on
        subject.save(update_fields=["next_due_on"])
        log_action(
            actor,
            action="care.contact.planned",
            target=subject,
            unit_path=subject.unit.path,
            changes={"on": on.isoformat()},
        )
    return subject


def contact_record(
    *,
    actor: Any,
    subject: CareSubject,
    channel: str,
    outcome: str = ContactOutcome.OK,
    at: datetime | None = None,
    note: str = "",
    round: SurveyRound | None = None,
) -> Contact:
    """Record a contact ("联系上，一切正常" is ``outcome="ok"``); the next contact is planned from it."""
    policy.require_record(actor, subject)
    _require_alive(subject)
    _choice(channel, Channel, "channel")
    _choice(outcome, ContactOutcome, "outcome")
    when = _moment(at, "at")
    note = clean_text(note, field="note", max_length=500)
    with transaction.atomic():
        c = Contact.objects.create(
            subject=subject,
            round=round,
            at=when,
            channel=channel,
            outcome=outcome,
            note=note,
            by_name=_name(actor),
            recorded_at=clock.now(),
        )
        if outcome != ContactOutcome.UNREACHED and (
            subject.last_contact_at is None or when > subject.last_contact_at
        ):
            subject.last_contact_at = when
            _reschedule(subject)
            subject.save(update_fields=["last_contact_at", "next_due_on"])
        log_action(
            actor,
            action="care.contact.recorded",
            target=subject,
            unit_path=subject.unit.path,
            changes={"channel": channel, "outcome": outcome, "at": when.isoformat()},
        )
        facts.refresh(subjects=[subject.pk])
        contact_recorded.send(sender=CareSubject, subject=subject, contact=c)
    return c
