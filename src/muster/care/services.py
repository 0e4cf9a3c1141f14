"""Writes of the care ledger: each service is keyword-only, runs in one transaction, is audited and
announces what happened through ``muster.care.signals``.

Bad input raises ``ValidationError`` ({field: [message]}) before anything is written; a user who sees an
object but may not do this gets ``NotAllowed`` (403); objects out of scope never reach a service (the
views, API and CLI resolve them through ``muster.care.policy``, 404).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster import clock, dates
from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareDataGrant,
    CareSubject,
    Channel,
    CharityDrive,
    Consolation,
    ConsolationKind,
    Contact,
    ContactFrequency,
    ContactOutcome,
    DeliveryKind,
    DeliveryLine,
    DeliveryRun,
    Dimension,
    DimensionKind,
    Donation,
    DonationKind,
    DriveContribution,
    HelpCategory,
    HelpRequest,
    HelpSource,
    HelpStatus,
    HelpStep,
    LineStatus,
    Observation,
    Receipt,
    RiskLevel,
    RiskRule,
    RiskTagEvent,
    RiskTagKind,
    RuleOp,
    SubjectStatus,
    SurveyRound,
    TagSource,
    Urgency,
)
from muster.care.signals import contact_recorded, help_request_changed, subject_changed
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Partner, Person, Unit
from muster.orgs.validators import InvalidValue, normalize_id_number, normalize_phone

# Hours until a help request is over time, by urgency.
HELP_DUE_HOURS = {Urgency.URGENT: 4, Urgency.HIGH: 24, Urgency.NORMAL: 72}
MAX_QUANTITY = Decimal("100000")
MAX_AMOUNT = Decimal("100000000")


# ---------------------------------------------------------------- small checks


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str:
    """Trimmed NFKC text without control characters (a 4xx, never a 500)."""
    value = value or ""
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in "\t\n\r" for ch in value):
        raise ValidationError({field: _("This text contains control characters or invalid characters.")})
    value = unicodedata.normalize("NFKC", value).strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": max_length}})
    return value


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("%(value)s is not one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(choices.values)}
            }
        )
    return str(value)


def _moment(value: datetime | None, field: str, *, not_future: bool = True) -> datetime:
    now = clock.now()
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.local_tz())
    if not dates.day_in_range(value.date()):
        raise ValidationError({field: dates.date_range_message()})
    if not_future and value > now + timedelta(minutes=1):
        raise ValidationError({field: _("This time is in the future.")})
    return value


def _day(value: date | None, field: str) -> date | None:
    if value is not None and not dates.day_in_range(value):
        raise ValidationError({field: dates.date_range_message()})
    return value


def positive_decimal(value: Any, *, field: str, maximum: Decimal) -> Decimal:
    """A positive number (quantity, amount): refuses negatives, zero, non-numbers and absurd sizes."""
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("%(value)s is not a number.") % {"value": value}}) from exc
    if not d.is_finite() or d <= 0:
        raise ValidationError({field: _("Must be a number greater than zero.")})
    if d > maximum:
        raise ValidationError({field: _("At most %(max)s.") % {"max": maximum}})
    if d != d.quantize(Decimal("0.01")):
        raise ValidationError({field: _("At most two decimals.")})
    return d.quantize(Decimal("0.01"))


def _name(actor: Any) -> str:
    return str(getattr(actor, "get_username", lambda: getattr(actor, "display_name", "system"))())


def _require_alive(subject: CareSubject, field: str = "subject") -> None:
    if subject.status == SubjectStatus.DECEASED:
        raise ValidationError(
            {field: _("%(name)s is deceased; nothing more can be planned.") % {"name": subject.name}}
        )


# ---------------------------------------------------------------- access


def care_grant(*, actor: Any, user: Any, unit: Unit) -> CareDataGrant:
    """Grant the care-data permission on ``unit``'s subtree (needs the grant permission there)."""
    if not access.can(actor, Perm.GRANT, unit):
        raise NotAllowed(Perm.GRANT)
    with transaction.atomic():
        grant, _created = CareDataGrant.objects.get_or_create(
            user=user, unit=unit, defaults={"granted_by_name": _name(actor)}
        )
        log_action(
            actor,
            action="care.grant.created",
            target=grant,
            unit_path=unit.path,
            changes={"user": user.get_username(), "unit": unit.code},
        )
    policy.forget(user)
    return grant


def care_grant_revoke(*, actor: Any, grant: CareDataGrant) -> None:
    if not access.can(actor, Perm.GRANT, grant.unit):
        raise NotAllowed(Perm.GRANT)
    with transaction.atomic():
        log_action(
            actor,
            action="care.grant.revoked",
            target=grant,
            unit_path=grant.unit.path,
            changes={"user": grant.user.get_username(), "unit": grant.unit.code},
        )
        grant.delete()


# ---------------------------------------------------------------- subjects


def _clean_phone(value: str) -> str:
    value = clean_text(value, field="phone", max_length=40)
    if not value:
        return ""
    try:
        return normalize_phone(value)
    except InvalidValue as exc:
        raise ValidationError(
            {"phone": _("%(value)s is not a phone number: %(why)s.") % {"value": value, "why": _(str(exc))}}
        ) from exc


def _clean_id(value: str) -> str:
    value = clean_text(value, field="id_number", max_length=40)
    if not value:
        return ""
    try:
        return normalize_id_number(value)
    except InvalidValue as exc:
        raise ValidationError(
            {"id_number": _("The ID number is not valid: %(why)s.") % {"why": _(str(exc))}}
        ) from exc


def _check_liaison(liaison: Person | None, unit: Unit) -> None:
    """A liaison must belong (by unit or party unit) to the subject unit's subtree; anyone else is
    answered exactly like a person who does not exist."""
    if liaison is None:
        return
    ids = [i for i in (liaison.unit_id, liaison.party_unit_id) if i is not None]
    if not Unit.objects.filter(pk__in=ids, path__startswith=unit.path).exists():
        raise ValidationError(
            {"liaison": _("There is no person with the code %(code)s.") % {"code": liaison.code}}
        )


def subject_create(
    *,
    actor: Any,
    unit: Unit,
    code: str,
    person: Person | None = None,
    name: str = "",
    birth_date: date | None = None,
    phone: str = "",
    id_number: str = "",
    address: str = "",
    community: str = "",
    liaison: Person | None = None,
    party_branch: Unit | None = None,
    at: datetime | None = None,
    audit: bool = True,
) -> CareSubject:
    """A new care subject: a registry ``person`` or an outside resident (``name``, phone, ID, address)."""
    policy.require_manage(actor, unit)
    code = clean_text(code, field="code", max_length=40, required=True)
    if person is None:
        name = clean_text(name, field="name", max_length=60, required=True)
    else:
        name = person.name
        birth_date = birth_date or person.birth_date
    phone = _clean_phone(phone)
    id_number = _clean_id(id_number)
    address = clean_text(address, field="address", max_length=200)
    community = clean_text(community, field="community", max_length=120)
    _day(birth_date, "birth_date")
    _check_liaison(liaison, unit)
    if CareSubject.objects.filter(code=code).exists():
        if policy.subjects(actor).filter(code=code).exists():
            raise ValidationError(
                {"code": _("A care subject with the code %(code)s exists.") % {"code": code}}
            )
        raise ValidationError(
            {
                "code": _(
                    "This code cannot be used here. If it is right, ask an administrator of the whole "
                    "organization."
                )
            }
        )
    if person is not None and CareSubject.objects.filter(person=person).exists():
        raise ValidationError({"person": _("%(name)s is a care subject already.") % {"name": person.name}})
    s = CareSubject(
        code=code,
        unit=unit,
        person=person,
        name=name,
        birth_date=birth_date,
        community=community,
        liaison=liaison,
        party_branch=party_branch,
        created_at=_moment(at, "at"),
    )
    if phone:
        s.phone = phone
    if id_number:
        s.id_number = id_number
        if CareSubject.objects.filter(id_number_digest=s.id_number_digest).exists():
            if policy.subjects(actor).filter(id_number_digest=s.id_number_digest).exists():
                raise ValidationError({"id_number": _("Another care subject has this ID number.")})
            raise ValidationError(
                {
                    "id_number": _(
                        "This ID number cannot be used here. If it is right, ask an administrator of "
                        "the whole organization."
                    )
                }
            )
    if address:
        s.address = address
    with transaction.atomic():
        s.next_due_on = clock.local_date(s.created_at)
        s.save()
        _apply_rules(actor, s, at=s.created_at)
        facts.refresh(subjects=[s.pk])
        if audit:
            log_action(
                actor,
                action="care.subject.created",
                target=s,
                unit_path=unit.path,
                changes={"code": code, "unit": unit.code},
            )
        subject_changed.send(sender=CareSubject, subject=s)
    return s


def _any_taken(field: str, values: Sequence[Any]) -> bool:
    """Whether a subject holds one of ``values`` in ``field`` (asked in parts: SQLite's IN limit)."""
    return any(
        CareSubject.objects.filter(**{f"{field}__in": values[i : i + 900]}).exists()
        for i in range(0, len(values), 900)
    )


def subjects_create_bulk(
    *, actor: Any, rows: Sequence[Mapping[str, Any]], at: datetime | None = None, batch: str = ""
) -> list[CareSubject]:
    """Many subjects at once (imports): the checks of ``subject_create`` and set-wise writes — one insert
    of the subjects, of their age-rule tags and of their audit events. ``rows`` hold ``subject_create``'s
    arguments (``unit``, ``code``, ``person``, ``name``, ``birth_date``, ``phone``, ``id_number``,
    ``address``, ``community``, ``liaison``)."""
    from muster.audit.services import PendingEvent, log_actions_bulk

    when = _moment(at, "at")
    for unit in {r["unit"].pk: r["unit"] for r in rows}.values():
        policy.require_manage(actor, unit)
    codes = [clean_text(r["code"], field="code", max_length=40, required=True) for r in rows]
    if len(set(codes)) != len(codes) or _any_taken("code", codes):
        raise ValidationError({"code": _("A care subject with one of these codes exists.")})
    people = [r["person"].pk for r in rows if r.get("person") is not None]
    if len(set(people)) != len(people) or _any_taken("person_id", people):
        raise ValidationError({"person": _("One of these people is a care subject already.")})
    objs: list[CareSubject] = []
    for code, r in zip(codes, rows, strict=True):
        person = r.get("person")
        _check_liaison(r.get("liaison"), r["unit"])
        s = CareSubject(
            code=code,
            unit=r["unit"],
            person=person,
            name=person.name
            if person is not None
            else clean_text(r.get("name"), field="name", max_length=60, required=True),
            birth_date=r.get("birth_date") or (person.birth_date if person is not None else None),
            community=clean_text(r.get("community"), field="community", max_length=120),
            liaison=r.get("liaison"),
            party_branch=r.get("party_branch"),
            created_at=when,
            next_due_on=clock.local_date(when),
        )
        if r.get("phone"):
            s.phone = _clean_phone(r["phone"])
        if r.get("id_number"):
            s.id_number = _clean_id(r["id_number"])
        if r.get("address"):
            s.address = clean_text(r["address"], field="address", max_length=200)
        objs.append(s)
    digests = [s.id_number_digest for s in objs if s.id_number_digest]
    if len(set(digests)) != len(digests) or _any_taken("id_number_digest", digests):
        raise ValidationError({"id_number": _("Another care subject has one of these ID numbers.")})
    day = clock.local_date(when)
    rules = list(RiskRule.objects.filter(is_active=True, op=RuleOp.AGE_AT_LEAST).select_related("tag"))
    with transaction.atomic():
        CareSubject.objects.bulk_create(objs, batch_size=2000)
        events = []
        high: list[int] = []
        for s in objs:  # a new subject has no answers yet: only the age rules can apply
            tagged = [
                r.tag
                for r in rules
                if r.value and (age := s.age_on(day)) is not None and age >= int(r.value[0])
            ]
            for tag in {t.pk: t for t in tagged}.values():
                events.append(
                    RiskTagEvent(
                        subject=s, tag=tag, on=True, source=TagSource.RULE, at=when, by_name=_name(actor)
                    )
                )
            if any(t.high_risk for t in tagged):
                high.append(s.pk)
        RiskTagEvent.objects.bulk_create(events, batch_size=2000)
        for start in range(0, len(high), 2000):
            CareSubject.objects.filter(pk__in=high[start : start + 2000]).update(risk_level=RiskLevel.HIGH)
        high_set = set(high)
        for s in objs:
            if s.pk in high_set:
                s.risk_level = RiskLevel.HIGH
        facts.add_new_subjects(objs, events)
        log_actions_bulk(
            actor,
            (
                PendingEvent("care.subject.created", s, s.unit.path, {"code": s.code, "unit": s.unit.code})
                for s in objs
            ),
            batch=batch,
        )
        subject_changed.send(sender=CareSubject, subject=None, subjects=objs)
    return objs


def subject_update(
    *,
    actor: Any,
    subject: CareSubject,
    liaison: Person | Any | None = ...,
    community: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> CareSubject:
    policy.require_manage(actor, subject.unit)
    changes: dict[str, Any] = {}
    if liaison is not ...:
        _check_liaison(liaison, subject.unit)
        subject.liaison = liaison
        changes["liaison"] = liaison.code if liaison else None
    if community is not None:
        subject.community = clean_text(community, field="community", max_length=120)
        changes["community"] = subject.community
    if phone is not None:
        subject.phone = _clean_phone(phone)
        changes["phone"] = subject.phone_masked
    if address is not None:
        subject.address = clean_text(address, field="address", max_length=200)
        changes["address"] = "****"
    with transaction.atomic():
        subject.save()
        log_action(
            actor, action="care.subject.updated", target=subject, unit_path=subject.unit.path, changes=changes
        )
        subject_changed.send(sender=CareSubject, subject=subject)
    return subject


def subject_status_set(
    *, actor: Any, subject: CareSubject, status: str, on: date, note: str = ""
) -> CareSubject:
    """Mark a subject moved away or deceased (with the date), or active again (not after a death)."""
    policy.require_manage(actor, subject.unit)
    _choice(status, SubjectStatus, "status")
    _day(on, "on")
    if on > clock.today():
        raise ValidationError({"on": _("This date is in the future.")})
    if subject.status == SubjectStatus.DECEASED and status != SubjectStatus.DECEASED:
        raise ValidationError({"status": _("A deceased subject cannot become active or move again.")})
    note = clean_text(note, field="note", max_length=300)
    before = subject.status
    subject.status = status
    subject.status_on = on
    if status != SubjectStatus.ACTIVE:
        subject.next_due_on = None
    else:
        _reschedule(subject)
    with transaction.atomic():
        subject.save()
        log_action(
            actor,
            action="care.subject.status",
            target=subject,
            unit_path=subject.unit.path,
            changes={"status": [before, status], "on": on.isoformat(), "note": note},
        )
        facts.refresh(subjects=[subject.pk])
        subject_changed.send(sender=CareSubject, subject=subject)
    return subject


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


# ---------------------------------------------------------------- survey rounds


def round_open(
    *, actor: Any, unit: Unit, name: str, dimensions: Sequence[str] | None = None, at: datetime | None = None
) -> SurveyRound:
    """Open a survey round for ``unit``'s subtree with the named dimensions (default: all of them)."""
    policy.require_manage(actor, unit)
    name = clean_text(name, field="name", max_length=120, required=True)
    dims = (
        list(Dimension.objects.all())
        if not dimensions
        else list(Dimension.objects.filter(code__in=dimensions))
    )
    missing = sorted(set(dimensions or ()) - {d.code for d in dims})
    if missing:
        raise ValidationError(
            {"dimensions": _("Unknown dimensions: %(codes)s.") % {"codes": ", ".join(missing)}}
        )
    with transaction.atomic():
        r = SurveyRound.objects.create(
            unit=unit, name=name, opened_at=_moment(at, "at"), opened_by_name=_name(actor)
        )
        r.dimensions.set(dims)
        log_action(
            actor,
            action="care.round.opened",
            target=r,
            unit_path=unit.path,
            changes={"name": name, "dimensions": [d.code for d in dims]},
        )
    return r


def round_close(*, actor: Any, round: SurveyRound, at: datetime | None = None) -> SurveyRound:
    policy.require_manage(actor, round.unit)
    if round.closed_at is not None:
        raise ValidationError({"round": _("This round is closed already.")})
    with transaction.atomic():
        round.closed_at = _moment(at, "at")
        round.save(update_fields=["closed_at"])
        log_action(actor, action="care.round.closed", target=round, unit_path=round.unit.path)
    return round


def dimension_create(
    *, actor: Any, code: str, label: str, kind: str, choices: Sequence[str] = (), sensitive: bool = True
) -> Dimension:
    """A new survey dimension (data, no code change)."""
    if not access.is_all_powerful(actor) and not any(
        access.can(actor, Perm.CHANGE, u) for u in Unit.objects.filter(depth=1)
    ):
        raise NotAllowed(Perm.CHANGE)
    code = clean_text(code, field="code", max_length=40, required=True)
    label = clean_text(label, field="label", max_length=80, required=True)
    _choice(kind, DimensionKind, "kind")
    values = [clean_text(c, field="choices", max_length=80, required=True) for c in choices]
    if kind == DimensionKind.CHOICE and not values:
        raise ValidationError({"choices": _("A list dimension needs its allowed values.")})
    if Dimension.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A dimension with the code %(code)s exists.") % {"code": code}})
    with transaction.atomic():
        d = Dimension.objects.create(
            code=code,
            label=label,
            kind=kind,
            choices=values,
            sensitive=sensitive,
            order=Dimension.objects.count() * 10 + 10,
        )
        log_action(actor, action="care.dimension.created", target=d, changes={"code": code, "kind": kind})
    return d


def check_value(dimension: Dimension, raw: Any, *, today: date) -> str:
    """The stored text of an answer, or ``ValidationError`` naming the dimension and why."""
    field = dimension.code
    text = clean_text(str(raw) if raw is not None else "", field=field, max_length=500, required=True)
    if dimension.kind == DimensionKind.CHOICE:
        if text not in dimension.choices:
            raise ValidationError(
                {
                    field: _("%(value)s is not an allowed answer for %(dimension)s (allowed: %(allowed)s).")
                    % {"value": text, "dimension": dimension.label, "allowed": "、".join(dimension.choices)}
                }
            )
    elif dimension.kind == DimensionKind.NUMBER:
        if not text.isdigit() or len(text) > 6:
            raise ValidationError(
                {
                    field: _("%(dimension)s is a whole number from 0, not %(value)s.")
                    % {"dimension": dimension.label, "value": text}
                }
            )
        text = str(int(text))
    elif dimension.kind == DimensionKind.DATE:
        try:
            day = date.fromisoformat(text[:10]) if len(text) <= 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValidationError(
                {
                    field: _("%(dimension)s is a date like 2022-04-01, not %(value)s.")
                    % {"dimension": dimension.label, "value": text}
                }
            )
        if not dates.day_in_range(day):
            raise ValidationError({field: dates.date_range_message()})
        if day > today:
            raise ValidationError(
                {field: _("%(dimension)s is in the future.") % {"dimension": dimension.label}}
            )
        text = day.isoformat()
    return text


def survey_answer_record(
    *,
    actor: Any,
    subject: CareSubject,
    round: SurveyRound,
    answers: Mapping[str, Any],
    channel: str,
    at: datetime | None = None,
    note: str = "",
) -> list[Observation]:
    """Record a subject's answers in a round: one contact and one dated observation per answer (a later
    answer supersedes, the history stays); the risk tags and the contact plan follow."""
    policy.require_record(actor, subject)
    if round.closed_at is not None:
        raise ValidationError({"round": _("This round is closed; it takes no more answers.")})
    if not subject.unit.path.startswith(round.unit.path):
        raise ValidationError(
            {"subject": _("%(name)s is not in this round's unit.") % {"name": subject.name}}
        )
    _require_alive(subject)
    _choice(channel, Channel, "channel")
    when = _moment(at, "at")
    if not answers:
        raise ValidationError({"answers": _("No answers given.")})
    dims = {d.code: d for d in round.dimensions.all()}
    unknown = sorted(set(answers) - set(dims))
    if unknown:
        raise ValidationError(
            {"answers": _("Not dimensions of this round: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    today = clock.local_date(when)
    values = {code: check_value(dims[code], raw, today=today) for code, raw in answers.items()}
    note = clean_text(note, field="note", max_length=500)
    with transaction.atomic():
        c = Contact.objects.create(
            subject=subject,
            round=round,
            at=when,
            channel=channel,
            outcome=ContactOutcome.ANSWERED,
            note=note,
            by_name=_name(actor),
            recorded_at=clock.now(),
        )
        obs = Observation.objects.bulk_create(
            Observation(
                subject=subject,
                round=round,
                contact=c,
                dimension=dims[code],
                value=v,
                channel=channel,
                observed_at=when,
                by_name=_name(actor),
                recorded_at=c.recorded_at,
            )
            for code, v in values.items()
        )
        if subject.last_contact_at is None or when > subject.last_contact_at:
            subject.last_contact_at = when
        _apply_rules(actor, subject, at=when)
        log_action(
            actor,
            action="care.answers.recorded",
            target=subject,
            unit_path=subject.unit.path,
            changes={
                "round": round.pk,
                "dimensions": sorted(values),
                "channel": channel,
                "at": when.isoformat(),
            },
        )
        facts.refresh(subjects=[subject.pk])
        contact_recorded.send(sender=CareSubject, subject=subject, contact=c)
    return obs


# ---------------------------------------------------------------- risk tags


def latest_values(subject_ids: Iterable[int], as_of: datetime | None = None) -> dict[int, dict[str, str]]:
    """{subject id: {dimension code: latest value}} (the latest observation by time, then id)."""
    rows = Observation.objects.filter(subject_id__in=list(subject_ids))
    if as_of is not None:
        rows = rows.filter(observed_at__lt=as_of)
    out: dict[int, dict[str, str]] = {}
    for sid, code, value in rows.order_by("observed_at", "pk").values_list(
        "subject_id", "dimension__code", "value"
    ):
        out.setdefault(sid, {})[code] = value
    return out


def current_tags(subject: CareSubject) -> dict[str, RiskTagEvent]:
    """{tag code: the event that put it on} for the tags on now."""
    latest: dict[str, RiskTagEvent] = {}
    for e in subject.tag_events.select_related("tag").order_by("at", "pk"):
        latest[e.tag.code] = e
    return {code: e for code, e in latest.items() if e.on}


def rule_tags(subject: CareSubject, values: Mapping[str, str], day: date) -> set[str]:
    """The tag codes the active rules give a subject with these latest answers."""
    out: set[str] = set()
    for rule in RiskRule.objects.filter(is_active=True).select_related("tag", "dimension"):
        if rule.op == RuleOp.AGE_AT_LEAST:
            age = subject.age_on(day)
            if age is not None and rule.value and age >= int(rule.value[0]):
                out.add(rule.tag.code)
        elif rule.dimension is not None:
            v = values.get(rule.dimension.code)
            if v is not None and v in [str(x) for x in rule.value]:
                out.add(rule.tag.code)
    return out


def _apply_rules(actor: Any, subject: CareSubject, *, at: datetime) -> None:
    """Recompute the rule tags from the latest answers, write the changes as events, keep the risk level
    and the plan (saves the subject)."""
    values = latest_values([subject.pk]).get(subject.pk, {})
    wanted = rule_tags(subject, values, clock.local_date(at))
    # the latest event of each tag, whatever its source
    latest: dict[str, RiskTagEvent] = {}
    for e in RiskTagEvent.objects.filter(subject=subject).select_related("tag").order_by("at", "pk"):
        latest[e.tag.code] = e
    kinds = {k.code: k for k in RiskTagKind.objects.all()}
    events = []
    for code in wanted:
        e = latest.get(code)
        if e is None or not e.on:
            events.append(
                RiskTagEvent(
                    subject=subject,
                    tag=kinds[code],
                    on=True,
                    source=TagSource.RULE,
                    at=at,
                    by_name=_name(actor),
                )
            )
    for code, e in latest.items():
        if e.on and e.source == TagSource.RULE and code not in wanted:
            events.append(
                RiskTagEvent(
                    subject=subject,
                    tag=kinds[code],
                    on=False,
                    source=TagSource.RULE,
                    at=at,
                    by_name=_name(actor),
                )
            )
    if events:
        RiskTagEvent.objects.bulk_create(events)
    _refresh_level(subject)


def _refresh_level(subject: CareSubject) -> None:
    on = current_tags(subject)
    subject.risk_level = RiskLevel.HIGH if any(e.tag.high_risk for e in on.values()) else RiskLevel.NORMAL
    _reschedule(subject)
    subject.save(update_fields=["risk_level", "next_due_on", "last_contact_at"])


def risk_tag_set(*, actor: Any, subject: CareSubject, tag: str, on: bool, reason: str) -> RiskTagEvent:
    """Put a tag on a subject by hand (or take it off), with a reason."""
    policy.require_record(actor, subject)
    if not policy.may_see_health(actor, subject):
        raise NotAllowed(Perm.CHANGE)
    kind = RiskTagKind.objects.filter(code=tag).first()
    if kind is None:
        raise ValidationError({"tag": _("Unknown risk tag %(code)s.") % {"code": tag}})
    reason = clean_text(reason, field="reason", max_length=300, required=True)
    with transaction.atomic():
        e = RiskTagEvent.objects.create(
            subject=subject,
            tag=kind,
            on=on,
            source=TagSource.MANUAL,
            reason=reason,
            at=clock.now(),
            by_name=_name(actor),
        )
        _refresh_level(subject)
        log_action(
            actor,
            action="care.tag.set",
            target=subject,
            unit_path=subject.unit.path,
            changes={"tag_id": kind.pk, "on": on, "event": e.pk},
        )
        facts.refresh(subjects=[subject.pk])
    return e


# ---------------------------------------------------------------- help requests


_NEXT = {
    HelpStatus.NEW: {HelpStatus.ASSIGNED, HelpStatus.IN_PROGRESS, HelpStatus.RESOLVED, HelpStatus.CANCELLED},
    HelpStatus.ASSIGNED: {
        HelpStatus.ASSIGNED,
        HelpStatus.IN_PROGRESS,
        HelpStatus.RESOLVED,
        HelpStatus.CANCELLED,
    },
    HelpStatus.IN_PROGRESS: {HelpStatus.ASSIGNED, HelpStatus.RESOLVED, HelpStatus.CANCELLED},
    HelpStatus.RESOLVED: set(),
    HelpStatus.CANCELLED: set(),
}


def help_request_raise(
    *,
    actor: Any,
    unit: Unit,
    source: str,
    category: str,
    urgency: str,
    description: str,
    subject: CareSubject | None = None,
    requester_name: str = "",
    at: datetime | None = None,
) -> HelpRequest:
    """Raise a help request (from a contact, a duty post, the hotline, a QR form or the subject)."""
    if subject is not None:
        if not (policy.may_record(actor, subject) or policy.may_manage(actor, subject.unit)):
            raise NotAllowed(Perm.CHANGE)
        unit = subject.unit
        requester_name = requester_name or subject.name
    else:
        policy.require_manage(actor, unit)
    _choice(source, HelpSource, "source")
    _choice(category, HelpCategory, "category")
    _choice(urgency, Urgency, "urgency")
    description = clean_text(description, field="description", max_length=1000, required=True)
    requester_name = clean_text(requester_name, field="requester_name", max_length=60, required=True)
    when = _moment(at, "at")
    with transaction.atomic():
        r = HelpRequest.objects.create(
            unit=unit,
            subject=subject,
            requester_name=requester_name,
            raised_by=actor if getattr(actor, "pk", None) is not None else None,
            source=source,
            category=category,
            urgency=urgency,
            description=description,
            raised_at=when,
            due_at=when + timedelta(hours=HELP_DUE_HOURS[Urgency(urgency)]),
        )
        HelpStep.objects.create(request=r, status=HelpStatus.NEW, at=when, by_name=_name(actor), note="")
        log_action(
            actor,
            action="care.help.raised",
            target=r,
            unit_path=unit.path,
            changes={"category": category, "urgency": urgency, "source": source},
        )
        facts.refresh(helps=[r.pk])
        help_request_changed.send(sender=HelpRequest, request=r, status=r.status)
    return r


def help_request_step(
    *,
    actor: Any,
    request: HelpRequest,
    status: str,
    note: str = "",
    assignee: Person | None = None,
    at: datetime | None = None,
) -> HelpStep:
    """Move a help request along (assigned → in progress → resolved / cancelled). A resolved or cancelled
    request takes no more steps; on resolution the person who raised it is told."""
    policy.require_manage(actor, request.unit)
    return _help_step(actor=actor, request=request, status=status, note=note, assignee=assignee, at=at)


def _help_step(
    *,
    actor: Any,
    request: HelpRequest,
    status: str,
    note: str = "",
    assignee: Person | None = None,
    at: datetime | None = None,
) -> HelpStep:
    _choice(status, HelpStatus, "status")
    note = clean_text(note, field="note", max_length=500)
    when = _moment(at, "at")
    with transaction.atomic():
        request = HelpRequest.objects.select_for_update().get(pk=request.pk)
        if request.status in (HelpStatus.RESOLVED, HelpStatus.CANCELLED):
            raise ValidationError(
                {
                    "status": _("This help request is %(status)s already; it takes no more steps.")
                    % {"status": request.get_status_display()}
                }
            )
        if status not in _NEXT[HelpStatus(request.status)]:
            raise ValidationError(
                {
                    "status": _("A help request cannot go from %(a)s to %(b)s.")
                    % {"a": request.status, "b": status}
                }
            )
        if status == HelpStatus.ASSIGNED:
            if assignee is None:
                raise ValidationError({"assignee": _("Name the person it is assigned to.")})
            request.assignee = assignee
        request.status = status
        if status == HelpStatus.RESOLVED:
            request.resolved_at = when
        request.save()
        step = HelpStep.objects.create(
            request=request, status=status, at=when, by_name=_name(actor), note=note
        )
        log_action(
            actor,
            action=f"care.help.{status}",
            target=request,
            unit_path=request.unit.path,
            changes={"status": status, "note": note, "assignee": assignee.code if assignee else None},
        )
        facts.refresh(helps=[request.pk])
        help_request_changed.send(sender=HelpRequest, request=request, status=status)
        if status == HelpStatus.RESOLVED and request.raised_by_id is not None:
            _tell_raiser(request)
    return step


def _tell_raiser(request: HelpRequest) -> None:
    # Notices are a shared mechanism (DESIGN.md: notifications) — care emits, notify stores and delivers.
    from muster.notify.services import notify

    user = request.raised_by
    person = getattr(user, "person", None) if user is not None else None
    notify(
        [(user, person)],
        verb="care.help.resolved",
        title=_("Help request #%(id)s is resolved") % {"id": request.pk},
        body=request.description[:200],
        link=f"/care/help/{request.pk}/",
    )


# ---------------------------------------------------------------- deliveries


@dataclass
class LineIn:
    subject: CareSubject
    item: str
    quantity: Any
    note: str = ""
    help_request: HelpRequest | None = None


def delivery_run_create(
    *,
    actor: Any,
    unit: Unit,
    name: str,
    kind: str,
    lines: Sequence[LineIn],
    at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> DeliveryRun:
    """A delivery run (配送 / 代配药) to many subjects; every line is checked before anything is written.
    A manager of ``unit`` records any run; a liaison (or a care-data holder) a run to their own subjects."""
    if not policy.may_manage(actor, unit) and not (
        lines and all(policy.may_record(actor, line.subject) for line in lines)
    ):
        raise NotAllowed(Perm.CHANGE)
    name = clean_text(name, field="name", max_length=120, required=True)
    _choice(kind, DeliveryKind, "kind")
    when = _moment(at, "at", not_future=False)
    if not lines:
        raise ValidationError({"lines": _("A delivery run has at least one line.")})
    checked = []
    for i, line in enumerate(lines, start=1):
        field = f"lines.{i}"
        if not line.subject.unit.path.startswith(unit.path):
            raise ValidationError({field: _("%(name)s is not in this unit.") % {"name": line.subject.name}})
        if line.subject.status == SubjectStatus.DECEASED:
            raise ValidationError(
                {field: _("%(name)s is deceased; no delivery can be made.") % {"name": line.subject.name}}
            )
        item = clean_text(line.item, field=f"{field}.item", max_length=80, required=True)
        qty = positive_decimal(line.quantity, field=f"{field}.quantity", maximum=MAX_QUANTITY)
        note = clean_text(line.note, field=f"{field}.note", max_length=300)
        if line.help_request is not None and line.help_request.status in (
            HelpStatus.RESOLVED,
            HelpStatus.CANCELLED,
        ):
            raise ValidationError(
                {field: _("Help request #%(id)s is closed.") % {"id": line.help_request.pk}}
            )
        if line.help_request is not None and (
            not line.help_request.unit.path.startswith(unit.path)
            or line.help_request.subject_id not in (None, line.subject.pk)
        ):
            raise ValidationError(
                {
                    field: _("Help request #%(id)s is not for %(name)s.")
                    % {"id": line.help_request.pk, "name": line.subject.name}
                }
            )
        checked.append(
            DeliveryLine(
                subject=line.subject, item=item, quantity=qty, note=note, help_request=line.help_request
            )
        )
    with transaction.atomic():
        run = DeliveryRun.objects.create(
            unit=unit, name=name, kind=kind, run_at=when, created_by_name=_name(actor)
        )
        for line_obj in checked:
            line_obj.run = run
        if delivered_at is not None:  # a run recorded after the fact: every line delivered then
            done = _moment(delivered_at, "delivered_at")
            for line_obj in checked:
                line_obj.status, line_obj.done_at = LineStatus.DELIVERED, done
        DeliveryLine.objects.bulk_create(checked)
        if delivered_at is not None:
            facts.refresh(lines=[line_obj.pk for line_obj in checked])
        log_action(
            actor,
            action="care.delivery.created",
            target=run,
            unit_path=unit.path,
            changes={"kind": kind, "lines": len(checked)},
        )
    return run


def delivery_line_mark(
    *, actor: Any, line: DeliveryLine, status: str, reason: str = "", at: datetime | None = None
) -> DeliveryLine:
    """Mark a line delivered, confirmed by the recipient, or failed (with a reason). A delivered line that
    fulfils a help request resolves it."""
    run = line.run
    if not (policy.may_manage(actor, run.unit) or policy.may_record(actor, line.subject)):
        raise NotAllowed(Perm.CHANGE)
    _choice(status, LineStatus, "status")
    reason = clean_text(reason, field="reason", max_length=300, required=status == LineStatus.FAILED)
    when = _moment(at, "at")
    if line.status in (LineStatus.CONFIRMED, LineStatus.FAILED):
        raise ValidationError(
            {"status": _("This line is closed (%(status)s).") % {"status": line.get_status_display()}}
        )
    with transaction.atomic():
        line.status = status
        line.reason = reason
        line.done_at = when
        line.save(update_fields=["status", "reason", "done_at"])
        log_action(
            actor,
            action="care.delivery.line",
            target=run,
            unit_path=run.unit.path,
            changes={"line": line.pk, "status": status, "reason": reason},
        )
        facts.refresh(lines=[line.pk])
        hr = line.help_request
        if (
            hr is not None
            and status in (LineStatus.DELIVERED, LineStatus.CONFIRMED)
            and hr.status not in (HelpStatus.RESOLVED, HelpStatus.CANCELLED)
        ):
            _help_step(  # the delivery's permission covers closing the request it fulfils
                actor=actor,
                request=hr,
                status=HelpStatus.RESOLVED,
                at=when,
                note=_("Delivered: %(item)s") % {"item": line.item},
            )
    return line


# ---------------------------------------------------------------- consolations


def consolation_record(
    *,
    actor: Any,
    subject: CareSubject,
    kind: str,
    at: datetime | None = None,
    note: str = "",
    to_family: bool = False,
    amount: Any = None,
    channel: str = "",
) -> Consolation:
    """A consolation call, visit or payment request (a payment waits for a second person's approval)."""
    policy.require_manage(actor, subject.unit)
    _choice(kind, ConsolationKind, "kind")
    when = _moment(at, "at")
    note = clean_text(note, field="note", max_length=500)
    channel = clean_text(channel, field="channel", max_length=12)
    value = None
    if kind == ConsolationKind.PAYMENT:
        value = positive_decimal(amount, field="amount", maximum=MAX_AMOUNT)
        if not channel:
            raise ValidationError(
                {"channel": _("Say how the payment is made (WeChat, bank transfer, cash).")}
            )
    with transaction.atomic():
        c = Consolation.objects.create(
            subject=subject,
            kind=kind,
            at=when,
            note=note,
            to_family=to_family,
            amount=value,
            channel=channel,
            requested_by=actor if getattr(actor, "pk", None) is not None else None,
            requested_by_name=_name(actor),
        )
        log_action(
            actor,
            action="care.consolation.recorded",
            target=subject,
            unit_path=subject.unit.path,
            changes={
                "kind": kind,
                "amount": str(value) if value is not None else None,
                "to_family": to_family,
            },
        )
    return c


def consolation_approve(*, actor: Any, consolation: Consolation, at: datetime | None = None) -> Consolation:
    """Approve a consolation payment: needs the care-data permission; not by the person who requested it."""
    subject = consolation.subject
    if consolation.kind != ConsolationKind.PAYMENT:
        raise ValidationError({"kind": _("Only a payment needs approval.")})
    if consolation.approved_at is not None:
        raise ValidationError({"consolation": _("This payment is approved already.")})
    same = (getattr(actor, "pk", None) is not None and consolation.requested_by_id == actor.pk) or (
        getattr(actor, "pk", None) is None
        and consolation.requested_by_id is None
        and consolation.requested_by_name == _name(actor)
    )
    if same:
        raise ValidationError({"approved_by": _("The person who requested a payment cannot approve it.")})
    if not (policy.has_care_data(actor, subject.unit) and policy.may_manage(actor, subject.unit)):
        raise NotAllowed(Perm.CHANGE)
    with transaction.atomic():
        consolation.approved_by = actor if getattr(actor, "pk", None) is not None else None
        consolation.approved_by_name = _name(actor)
        when = _moment(at, "at")
        if when < consolation.at:
            raise ValidationError({"at": _("A payment cannot be approved before it was requested.")})
        consolation.approved_at = when
        consolation.save(update_fields=["approved_by", "approved_by_name", "approved_at"])
        log_action(
            actor,
            action="care.consolation.approved",
            target=subject,
            unit_path=subject.unit.path,
            changes={"consolation": consolation.pk, "amount": str(consolation.amount)},
        )
        facts.refresh(payments=[consolation.pk])
    return consolation


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
