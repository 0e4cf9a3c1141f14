"""Care services: care subjects (one, many at once for imports, edits, status)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    RiskLevel,
    RiskRule,
    RiskTagEvent,
    RiskTagKind,
    RuleOp,
    SubjectStatus,
    TagSource,
)
from muster.care.services.common import _choice, _day, _moment, _name, clean_text
from muster.care.services.plans import _reschedule
from muster.care.services.tags import _apply_rules
from muster.care.signals import subject_changed
from muster.orgs import crypto
from muster.orgs.models import Person, Unit
from muster.orgs.validators import InvalidValue, normalize_id_number, normalize_phone

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


def _check_liaisons(pairs: Sequence[tuple[Person | None, Unit]]) -> None:
    """``_check_liaison`` for many (liaison, subject unit) pairs: one read of the liaisons' units."""
    ids = {i for p, _u in pairs if p is not None for i in (p.unit_id, p.party_unit_id) if i is not None}
    paths: dict[int, str] = {}
    for part in _parts(sorted(ids)):
        paths.update(Unit.objects.filter(pk__in=part).values_list("pk", "path"))
    for liaison, unit in pairs:
        if liaison is None:
            continue
        homes = [paths.get(i, "") for i in (liaison.unit_id, liaison.party_unit_id) if i is not None]
        if not any(h.startswith(unit.path) for h in homes if h):
            raise ValidationError(
                {"liaison": _("There is no person with the code %(code)s.") % {"code": liaison.code}}
            )


def _parts(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


_BULK_FIELDS = (
    "code", "unit", "person", "name", "birth_date", "community", "phone_enc", "id_number_enc",
    "id_number_digest", "address_enc", "liaison", "party_branch", "status", "status_on", "risk_level",
    "last_contact_at", "next_due_on", "created_at",
)  # fmt: skip
_BULK_ATTNAMES = tuple(
    f"{n}_id" if n in ("unit", "person", "liaison", "party_branch") else n for n in _BULK_FIELDS
)


def subjects_create_bulk(
    *, actor: Any, rows: Sequence[Mapping[str, Any]], at: datetime | None = None, batch: str = ""
) -> list[CareSubject]:
    """Many subjects at once (imports): the checks of ``subject_create`` and set-wise writes — one insert
    of the subjects, of their age-rule tags, of their figures' marks and of their audit events, and one
    increment per (unit, figure, day or hour) bucket. ``rows`` hold ``subject_create``'s arguments
    (``unit``, ``code``, ``person``, ``name``, ``birth_date``, ``phone``, ``id_number``, ``address``,
    ``community``, ``liaison``).

    The rows go in through ``executemany`` / ``COPY`` (``muster.tabular.bulk.insert_many``), not
    ``bulk_create``: compiling 100,000 subjects and their tags and marks through the ORM took most of an
    import's time (``bench/care.py --profile``)."""
    from muster.audit.services import PendingEvent, log_actions_bulk
    from muster.tabular.bulk import insert_many

    when = _moment(at, "at")
    for unit in {r["unit"].pk: r["unit"] for r in rows}.values():
        policy.require_manage(actor, unit)
    codes = [clean_text(r["code"], field="code", max_length=40, required=True) for r in rows]
    if len(set(codes)) != len(codes) or _any_taken("code", codes):
        raise ValidationError({"code": _("A care subject with one of these codes exists.")})
    people = [r["person"].pk for r in rows if r.get("person") is not None]
    if len(set(people)) != len(people) or _any_taken("person_id", people):
        raise ValidationError({"person": _("One of these people is a care subject already.")})
    _check_liaisons([(r.get("liaison"), r["unit"]) for r in rows])
    day = clock.local_date(when)
    rules = list(RiskRule.objects.filter(is_active=True, op=RuleOp.AGE_AT_LEAST).select_related("tag"))
    # a new subject has no answers yet: only the age rules can apply
    floors = [(r.age_floor(), r) for r in rules]
    ages = sorted({(least, r.tag.pk): r.tag for least, r in floors if least is not None}.items())
    # the rows as values in the order of the model's columns (no model objects before the insert: making
    # 100,000 of them through the ORM's keyword path took seconds)
    attnames = [f.attname for f in CareSubject._meta.concrete_fields]
    assert attnames[0] == "id" and tuple(attnames[1:]) == tuple(_BULK_ATTNAMES), attnames
    values: list[tuple[Any, ...]] = []
    tagged: list[list[RiskTagKind]] = []
    units: dict[int, Unit] = {}
    encrypt = crypto.encrypt
    for code, r in zip(codes, rows, strict=True):
        person, liaison, branch, unit = r.get("person"), r.get("liaison"), r.get("party_branch"), r["unit"]
        units[unit.pk] = unit
        name = (
            person.name
            if person is not None
            else clean_text(r.get("name"), field="name", max_length=60, required=True)
        )
        birth = _day(r.get("birth_date"), "birth_date") or (person.birth_date if person is not None else None)
        phone = _clean_phone(r["phone"]) if r.get("phone") else ""
        idn = _clean_id(r["id_number"]) if r.get("id_number") else ""
        address = clean_text(r["address"], field="address", max_length=200) if r.get("address") else ""
        age = (
            None
            if birth is None
            else day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
        )
        tags = list({t.pk: t for (least, _pk), t in ages if age is not None and age >= least}.values())
        values.append(
            (
                code, unit.pk, person.pk if person is not None else None, name, birth,
                clean_text(r.get("community"), field="community", max_length=120),
                encrypt(phone), encrypt(idn), crypto.digest(idn) or None, encrypt(address),
                liaison.pk if liaison is not None else None, branch.pk if branch is not None else None,
                SubjectStatus.ACTIVE, None,
                RiskLevel.HIGH if any(t.high_risk for t in tags) else RiskLevel.NORMAL,
                None, day, when,
            )
        )  # fmt: skip
        tagged.append(tags)
    digests = [v[8] for v in values if v[8]]
    if len(set(digests)) != len(digests) or _any_taken("id_number_digest", digests):
        raise ValidationError({"id_number": _("Another care subject has one of these ID numbers.")})
    by = _name(actor)
    with transaction.atomic():
        last_id = CareSubject.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        insert_many(CareSubject, _BULK_FIELDS, values)
        # the new ids: one read (ids only grow; another transaction's rows are told apart by their code)
        ids = dict(CareSubject.objects.filter(pk__gt=last_id).values_list("code", "pk"))
        objs = [CareSubject.from_db(DEFAULT_DB_ALIAS, attnames, (ids[v[0]], *v)) for v in values]
        for s, r in zip(objs, rows, strict=True):  # the related objects the caller gave, as ``s.unit`` …
            cache = s._state.fields_cache
            cache["unit"], cache["person"], cache["liaison"] = r["unit"], r.get("person"), r.get("liaison")
        events = [(s.pk, t, when, True) for s, tags in zip(objs, tagged, strict=True) for t in tags]
        insert_many(
            RiskTagEvent,
            ("subject", "tag", "on", "source", "reason", "at", "by_name"),
            [(sid, t.pk, on, TagSource.RULE, "", at_, by) for sid, t, at_, on in events],
        )
        facts.add_new_subjects(objs, events)
        log_actions_bulk(
            actor,
            [
                PendingEvent(
                    "care.subject.created",
                    s,
                    units[s.unit_id].path,
                    {"code": s.code, "unit": units[s.unit_id].code},
                )
                for s in objs
            ],
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
