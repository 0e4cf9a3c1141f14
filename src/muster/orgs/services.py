"""Writes to the organization. Each service is keyword-only, atomic, permission-checked and audited.

Views, the API, the CLI and the staff-register importer (``people_io``) all call these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import diff, log_action
from muster.orgs import access, rules, signals
from muster.orgs.access import Perm
from muster.orgs.models import (
    PARTY_KINDS,
    EmploymentStatus,
    Partner,
    Person,
    Role,
    RoleGrant,
    Tag,
    Team,
    TeamMembership,
    TeamRole,
    Unit,
    UnitKind,
    person_snapshot,
)
from muster.orgs.validators import InvalidValue, normalize_text

# ---------------------------------------------------------------- units


def _unit_snapshot(u: Unit) -> dict[str, Any]:
    return {
        "code": u.code,
        "name": u.name,
        "short_name": u.short_name,
        "kind": u.kind,
        "is_active": u.is_active,
    }


def check_parent_kind(kind: str, parent: Unit | None) -> None:
    """Party units sit in the party tree, administrative units in the administrative tree."""
    if parent is None:
        return
    if (kind in PARTY_KINDS) != (parent.kind in PARTY_KINDS):
        raise ValidationError(
            {"parent": _("A party organization and an administrative unit cannot be nested in each other.")}
        )


def _check_unit_fields(code: str, name: str, kind: str, *, exclude_pk: Any = None) -> None:
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = _("A code is required.")
    elif Unit.objects.filter(code=code).exclude(pk=exclude_pk).exists():
        errors["code"] = _("Another unit already has the code %(code)s.") % {"code": code}
    if not name:
        errors["name"] = _("A name is required.")
    if kind not in UnitKind.values:
        errors["kind"] = _("Unknown unit type %(kind)s.") % {"kind": kind}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def unit_create(
    *, actor: Any, code: str, name: str, kind: str, parent: Unit | None, short_name: str = ""
) -> Unit:
    if parent is None:
        if not access.is_all_powerful(actor):
            raise access.NotAllowed(Perm.CHANGE)
    else:
        access.require(actor, Perm.CHANGE, parent)
    p = rules.Problems()
    code = p.code("code", code)
    name = p.text("name", name, max_length=rules.UNIT_NAME_MAX)
    short_name = p.text("short_name", short_name, max_length=60)
    p.raise_if_any()
    _check_unit_fields(code, name, kind)
    check_parent_kind(kind, parent)
    fields = {"code": code, "name": name, "kind": kind, "short_name": normalize_text(short_name)}
    unit = Unit.objects.add_root(fields) if parent is None else Unit.objects.add_child(parent, fields)
    log_action(
        actor, action="orgs.unit.created", target=unit, unit_path=unit.path, changes=_unit_snapshot(unit)
    )
    return unit


@transaction.atomic
def unit_update(
    *,
    actor: Any,
    unit: Unit,
    name: str | None = None,
    code: str | None = None,
    kind: str | None = None,
    short_name: str | None = None,
    is_active: bool | None = None,
) -> Unit:
    access.require(actor, Perm.CHANGE, unit)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = _unit_snapshot(unit)
    new_code = normalize_text(code) if code is not None else unit.code
    new_name = normalize_text(name) if name is not None else unit.name
    new_kind = kind if kind is not None else unit.kind
    p = rules.Problems()
    if code is not None and new_code != unit.code:
        new_code = p.code("code", code)
    if name is not None:
        new_name = p.text("name", name, max_length=rules.UNIT_NAME_MAX)
    if short_name is not None:
        p.text("short_name", short_name, max_length=60)
    p.raise_if_any()
    _check_unit_fields(new_code, new_name, new_kind, exclude_pk=unit.pk)
    parent = Unit.objects.get_parent(unit)
    check_parent_kind(new_kind, parent)
    if (new_kind in PARTY_KINDS) != (unit.kind in PARTY_KINDS) and Unit.objects.get_children_count(unit):
        raise ValidationError({"kind": _("A unit with sub-units cannot move between the two trees.")})
    unit.code, unit.name, unit.kind = new_code, new_name, new_kind
    if short_name is not None:
        unit.short_name = normalize_text(short_name)
    if is_active is not None:
        unit.is_active = is_active
    changes = diff(before, _unit_snapshot(unit))
    if changes:
        unit.save()
        log_action(actor, action="orgs.unit.updated", target=unit, unit_path=unit.path, changes=changes)
    return unit


@transaction.atomic
def unit_move(*, actor: Any, unit: Unit, new_parent: Unit) -> Unit:
    access.require(actor, Perm.CHANGE, unit)
    access.require(actor, Perm.CHANGE, new_parent)
    unit = Unit.objects.get(pk=unit.pk)
    new_parent = Unit.objects.get(pk=new_parent.pk)
    if new_parent.pk == unit.pk or new_parent.path.startswith(unit.path):
        raise ValidationError(
            {
                "parent": _("%(unit)s cannot be moved under itself or one of its own sub-units.")
                % {"unit": unit.name}
            }
        )
    check_parent_kind(unit.kind, new_parent)
    old_parent = Unit.objects.get_parent(unit)
    if old_parent is not None and old_parent.pk == new_parent.pk:
        return unit
    old_path = unit.path
    Unit.objects.move(unit, new_parent, "last-child")
    unit.refresh_from_db()
    signals.unit_moved.send(Unit, unit_id=unit.pk, old_path=old_path, new_path=unit.path)
    log_action(
        actor,
        action="orgs.unit.moved",
        target=unit,
        unit_path=unit.path,
        changes={"parent": [old_parent.code if old_parent else None, new_parent.code]},
    )
    return unit


# ---------------------------------------------------------------- people


# A value that must be unique (staff number, ID number) but is taken: say by whom only when the actor may
# see that person (and, for an ID number, that person's ID number); otherwise a neutral refusal that names
# nobody and no unit, so that a form, the API or an import never tells where in the organization a number
# is in use (security hole 9 of issue 22).


def _sees(actor: Any, holder: Person) -> bool:
    return access.scoped(Person.objects.filter(pk=holder.pk), actor, Perm.VIEW).exists()


def staff_number_taken_message(actor: Any, holder: Person) -> str:
    if _sees(actor, holder):
        return _("Another person already has the staff number %(code)s.") % {"code": holder.code}
    return _(
        "The staff number %(code)s cannot be used here. If it is right, ask an administrator of the "
        "whole organization."
    ) % {"code": holder.code}


def id_number_taken_message(actor: Any, holder: Person) -> str:
    if _sees(actor, holder) and access.may_see_personal(actor, holder, Perm.VIEW_ID):
        return _("%(person)s already has this ID number.") % {"person": holder}
    return _(
        "This ID number cannot be used here. If it is right, ask an administrator of the whole organization."
    )


def _clean_person_texts(code: str, name: str, *, check_code: bool) -> tuple[str, str]:
    p = rules.Problems()
    code = p.code("code", code) if check_code else normalize_text(code)
    name = p.text("name", name, max_length=rules.PERSON_NAME_MAX)
    p.raise_if_any()
    return code, name


def clean_person_fields(
    *,
    actor: Any,
    code: str,
    name: str,
    unit: Unit | None,
    party_unit: Unit | None,
    phone: str,
    id_number: str,
    gender: str,
    birth_date: date | None,
    exclude_pk: Any = None,
    check_code: bool = True,
    check_identity: bool = True,
) -> dict[str, Any]:
    """Normalize and check a person's fields; raise ``ValidationError`` naming each bad field.

    The rules of ``muster.orgs.rules`` (the staff register import applies the same): the staff number's
    pattern (``check_code``: when it is new or changes), text without control characters, a valid ID
    number, and a birth date and gender that agree with it (``check_identity``: when any of them changes).
    """
    errors: dict[str, str] = {}
    code, name = _clean_person_texts(code, name, check_code=check_code)
    if not code:
        errors["code"] = _("A staff number is required.")
    elif (holder := Person.objects.filter(code=code).exclude(pk=exclude_pk).first()) is not None:
        errors["code"] = staff_number_taken_message(actor, holder)
    if not name:
        errors["name"] = _("A name is required.")
    if unit is None:
        errors["unit"] = _("A unit is required.")
    elif unit.kind in PARTY_KINDS:
        errors["unit"] = _("The unit must be an administrative unit, not a party organization.")
    if party_unit is not None and party_unit.kind not in PARTY_KINDS:
        errors["party_unit"] = _("The party organization must be a unit of the party tree.")
    clean_phone = clean_id = ""
    if phone:
        try:
            clean_phone = rules.clean_phone(phone)
        except InvalidValue as exc:
            errors["phone"] = str(exc)
    if id_number:
        try:
            clean_id = rules.clean_id_number(id_number)
        except InvalidValue as exc:
            errors["id_number"] = str(exc)
        else:
            from muster.orgs import crypto

            holder = (
                Person.objects.filter(id_number_digest=crypto.digest(clean_id)).exclude(pk=exclude_pk).first()
            )
            if holder is not None:
                errors["id_number"] = id_number_taken_message(actor, holder)
    if check_identity and "id_number" not in errors:
        for field, message in rules.identity_problems(
            clean_id, birth_date=birth_date, gender=gender, today=timezone.localdate()
        ).items():
            errors.setdefault(field, message)
    if errors:
        raise ValidationError(errors)
    return {
        "code": code,
        "name": name,
        "unit": unit,
        "party_unit": party_unit,
        "phone": clean_phone,
        "id_number": clean_id,
        "gender": gender,
        "birth_date": birth_date,
    }


@transaction.atomic
def person_create(
    *,
    actor: Any,
    code: str,
    name: str,
    unit: Unit,
    party_unit: Unit | None = None,
    gender: str = "",
    birth_date: date | None = None,
    political_status: str = "non_party",
    employment_status: str = "active",
    phone: str = "",
    id_number: str = "",
    tags: Iterable[str] = (),
) -> Person:
    access.require(actor, Perm.CHANGE, unit)
    if party_unit is not None:
        access.require(actor, Perm.VIEW, party_unit)
    f = clean_person_fields(
        actor=actor,
        code=code,
        name=name,
        unit=unit,
        party_unit=party_unit,
        phone=phone,
        id_number=id_number,
        gender=gender,
        birth_date=birth_date,
    )
    person = Person(
        code=f["code"],
        name=f["name"],
        unit=unit,
        party_unit=party_unit,
        gender=gender,
        birth_date=birth_date,
        political_status=political_status,
        employment_status=employment_status,
    )
    person.phone = f["phone"]
    person.id_number = f["id_number"]
    person.full_clean(exclude=["unit", "party_unit", "code"])
    person.save()
    tag_objs = tags_get_or_create(actor=actor, names=tags)
    person.tags.set(tag_objs)
    snap = person_snapshot(person)
    snap["tags"] = sorted(t.name for t in tag_objs)
    log_action(actor, action="orgs.person.created", target=person, unit_path=unit.path, changes=snap)
    return person


def _rule_problems(item: Mapping[str, Any]) -> dict[str, str]:
    """``person_create``'s rules of ``muster.orgs.rules`` for one item of ``person_create_many``."""
    p = rules.Problems()
    p.code("code", item.get("code", ""))
    p.text("name", item.get("name", ""), max_length=rules.PERSON_NAME_MAX)
    for tag in item.get("tags", ()):
        p.text("tags", tag, max_length=rules.TAG_MAX)
    try:
        id_number = rules.clean_id_number(item["id_number"]) if item.get("id_number") else ""
    except InvalidValue:
        id_number = ""  # reported with the other checks of the item
    birth, gender = item.get("birth_date"), item.get("gender", "")
    identity = rules.identity_problems(id_number, birth_date=birth, gender=gender, today=timezone.localdate())
    for fname, message in identity.items():
        p.add(fname, message)
    return p.errors


@transaction.atomic
def person_create_many(*, actor: Any, people: Sequence[Mapping[str, Any]], batch: str = "") -> list[Person]:
    """Create many people at once (the demo loader; large batches): the checks of ``person_create``
    with a few queries for the whole batch instead of several per person, and one audit event per person.

    Each item holds ``person_create``'s keyword arguments (``code``, ``name``, ``unit``, ``party_unit``,
    ``gender``, ``birth_date``, ``political_status``, ``employment_status``, ``phone``, ``id_number``,
    ``tags``). One bad item refuses the whole batch: ``ValidationError`` keyed ``"<code>: <field>"``.
    """
    import uuid

    from muster.audit.services import PendingEvent, log_actions_bulk
    from muster.orgs.models import EmploymentStatus, Gender, PoliticalStatus

    checked: dict[tuple[int, Perm], None] = {}

    def _require(perm: Perm, unit: Unit) -> None:
        if (unit.pk, perm) not in checked:
            access.require(actor, perm, unit)
            checked[(unit.pk, perm)] = None

    errors: dict[str, str] = {}
    taken_msg = _("Another person already has the staff number %(code)s.")
    rows: list[tuple[Person, list[str]]] = []
    codes: set[str] = set()
    digests: set[str] = set()
    for item in people:
        unit, party_unit = item.get("unit"), item.get("party_unit")
        code, name = normalize_text(item.get("code", "")), normalize_text(item.get("name", ""))
        key = code or f"#{len(rows) + 1}"
        bad = _rule_problems(item)
        if bad:
            errors.update({f"{key}: {fname}": message for fname, message in bad.items()})
            continue
        if unit is not None:
            _require(Perm.CHANGE, unit)
        if party_unit is not None:
            _require(Perm.VIEW, party_unit)
        if not code:
            errors[f"{key}: code"] = _("A staff number is required.")
        elif len(code) > 40:
            errors[f"{key}: code"] = _("A staff number has at most 40 characters.")
        elif code in codes:
            errors[f"{key}: code"] = taken_msg % {"code": code}
        codes.add(code)
        if not name:
            errors[f"{key}: name"] = _("A name is required.")
        elif len(name) > 60:
            errors[f"{key}: name"] = _("A name has at most 60 characters.")
        if unit is None:
            errors[f"{key}: unit"] = _("A unit is required.")
        elif unit.kind in PARTY_KINDS:
            errors[f"{key}: unit"] = _("The unit must be an administrative unit, not a party organization.")
        if party_unit is not None and party_unit.kind not in PARTY_KINDS:
            errors[f"{key}: party_unit"] = _("The party organization must be a unit of the party tree.")
        gender = item.get("gender", "")
        political_status = item.get("political_status", PoliticalStatus.NON_PARTY)
        employment_status = item.get("employment_status", EmploymentStatus.ACTIVE)
        for fname, value, allowed in (
            ("gender", gender, ["", *Gender.values]),
            ("political_status", political_status, PoliticalStatus.values),
            ("employment_status", employment_status, EmploymentStatus.values),
        ):
            if value not in allowed:
                errors[f"{key}: {fname}"] = _("Unknown value %(value)s.") % {"value": value}
        person = Person(
            code=code,
            name=name,
            unit=unit,
            party_unit=party_unit,
            gender=gender,
            birth_date=item.get("birth_date"),
            political_status=political_status,
            employment_status=employment_status,
        )
        try:
            person.phone = rules.clean_phone(item["phone"]) if item.get("phone") else ""
        except InvalidValue as exc:
            errors[f"{key}: phone"] = str(exc)
        try:
            person.id_number = rules.clean_id_number(item["id_number"]) if item.get("id_number") else ""
        except InvalidValue as exc:
            errors[f"{key}: id_number"] = str(exc)
        if person.id_number_digest:
            if person.id_number_digest in digests:
                errors[f"{key}: id_number"] = _("Another person already has this ID number.")
            digests.add(person.id_number_digest)
        rows.append((person, list(item.get("tags", ()))))
    for holder in Person.objects.filter(code__in=codes):
        errors[f"{holder.code}: code"] = staff_number_taken_message(actor, holder)
    taken = {p.id_number_digest: p for p in Person.objects.filter(id_number_digest__in=digests)}
    for person, _tags in rows:
        if person.id_number_digest in taken:
            errors[f"{person.code}: id_number"] = id_number_taken_message(
                actor, taken[person.id_number_digest]
            )
    if errors:
        raise ValidationError(errors)

    created = Person.objects.bulk_create([p for p, _t in rows], batch_size=500)
    tag_objs = {t.name: t for t in tags_get_or_create(actor=actor, names={t for _p, ts in rows for t in ts})}
    through = Person.tags.through
    links: list[Any] = []
    events = []
    for person, tag_names in rows:
        names = sorted({normalize_text(t) for t in tag_names if normalize_text(t)})
        links.extend(through(person_id=person.pk, tag_id=tag_objs[n].pk) for n in names)
        snap = person_snapshot(person)
        snap["tags"] = names
        events.append(PendingEvent("orgs.person.created", person, person.unit.path, snap))
    through.objects.bulk_create(links, batch_size=2000)
    log_actions_bulk(actor, events, batch=batch or str(uuid.uuid4()))
    return created


_UNSET: Any = object()


@transaction.atomic
def person_update(
    *,
    actor: Any,
    person: Person,
    code: str = _UNSET,
    name: str = _UNSET,
    unit: Unit = _UNSET,
    party_unit: Unit | None = _UNSET,
    gender: str = _UNSET,
    birth_date: date | None = _UNSET,
    political_status: str = _UNSET,
    employment_status: str = _UNSET,
    phone: str = _UNSET,
    id_number: str = _UNSET,
    tags: Iterable[str] = _UNSET,
) -> Person:
    """Change the given fields. A masked phone or ID number (with ``*``) means "keep what is stored"."""
    access.require(actor, Perm.CHANGE, person)
    person = (
        Person.objects.select_for_update(of=("self",)).select_related("unit", "party_unit").get(pk=person.pk)
    )
    if unit is not _UNSET and unit.pk != person.unit_id:
        access.require(actor, Perm.CHANGE, unit)
    if party_unit is not _UNSET and party_unit is not None and party_unit.pk != person.party_unit_id:
        access.require(actor, Perm.VIEW, party_unit)
    before = person_snapshot(person)
    before["tags"] = sorted(person.tags.values_list("name", flat=True))
    before_unit = person.unit_id
    keep = lambda v, cur: cur if v is _UNSET else v  # noqa: E731
    new_phone = keep(phone, person.phone)
    new_id = keep(id_number, person.id_number)
    if "*" in (new_phone or ""):
        new_phone = person.phone
    if "*" in (new_id or ""):
        new_id = person.id_number
    f = clean_person_fields(
        actor=actor,
        code=keep(code, person.code),
        name=keep(name, person.name),
        unit=keep(unit, person.unit),
        party_unit=keep(party_unit, person.party_unit),
        phone=new_phone,
        id_number=new_id,
        gender=keep(gender, person.gender),
        birth_date=keep(birth_date, person.birth_date),
        exclude_pk=person.pk,
        check_code=normalize_text(keep(code, person.code)) != person.code,
        check_identity=(
            new_id != person.id_number
            or keep(birth_date, person.birth_date) != person.birth_date
            or keep(gender, person.gender) != person.gender
        ),
    )
    person.code, person.name, person.unit, person.party_unit = (
        f["code"],
        f["name"],
        f["unit"],
        f["party_unit"],
    )
    person.gender, person.birth_date = f["gender"], f["birth_date"]
    person.political_status = keep(political_status, person.political_status)
    person.employment_status = keep(employment_status, person.employment_status)
    if f["phone"] != person.phone:
        person.phone = f["phone"]
    if f["id_number"] != person.id_number:
        person.id_number = f["id_number"]
    person.full_clean(exclude=["unit", "party_unit", "code", "id_number_digest"])
    after = person_snapshot(person)
    if tags is not _UNSET:
        tag_objs = tags_get_or_create(actor=actor, names=tags)
        after["tags"] = sorted(t.name for t in tag_objs)
    else:
        after["tags"] = before["tags"]
    changes = diff(before, after)
    if changes:
        person.save()
        if person.unit_id != before_unit:
            signals.home_units_changed.send(Person, person_ids=[person.pk])
        if "employment_status" in changes and person.employment_status == EmploymentStatus.LEFT:
            signals.people_left.send(Person, person_ids=[person.pk], actor=actor)
        if tags is not _UNSET:
            person.tags.set(tag_objs)
        log_action(
            actor, action="orgs.person.updated", target=person, unit_path=person.unit.path, changes=changes
        )
    return person


def tags_get_or_create(*, actor: Any, names: Iterable[str], field: str = "tags") -> list[Tag]:
    p = rules.Problems()
    clean = sorted({t for t in (p.text(field, n) for n in names) if t})
    p.raise_if_any()
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    out = []
    for n in clean:
        if n not in existing:
            if len(n) > 40:
                raise ValidationError({"tags": _("A tag has at most 40 characters: %(tag)s") % {"tag": n}})
            existing[n] = Tag.objects.create(name=n)
            log_action(actor, action="orgs.tag.created", target=existing[n])
        out.append(existing[n])
    return out


# ---------------------------------------------------------------- teams


@transaction.atomic
def team_create(
    *, actor: Any, code: str, name: str, unit: Unit, kind: str = "volunteer", description: str = ""
) -> Team:
    access.require(actor, Perm.CHANGE, unit)
    p = rules.Problems()
    code = p.code("code", code)
    name = p.text("name", name, max_length=120)
    description = p.text("description", description, multiline=True)
    p.raise_if_any()
    errors = {}
    if not code:
        errors["code"] = _("A code is required.")
    elif Team.objects.filter(code=code).exists():
        errors["code"] = _("Another team already has the code %(code)s.") % {"code": code}
    if not name:
        errors["name"] = _("A name is required.")
    if errors:
        raise ValidationError(errors)
    team = Team(code=code, name=name, unit=unit, kind=kind, description=description)
    team.full_clean(exclude=["unit"])
    team.save()
    log_action(
        actor,
        action="orgs.team.created",
        target=team,
        unit_path=unit.path,
        changes={"code": code, "name": name, "kind": kind, "unit": unit.code},
    )
    return team


@transaction.atomic
def team_update(
    *,
    actor: Any,
    team: Team,
    name: str | None = None,
    kind: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Team:
    access.require(actor, Perm.CHANGE, team)
    before = {
        "name": team.name,
        "kind": team.kind,
        "description": team.description,
        "is_active": team.is_active,
    }
    p = rules.Problems()
    if name is not None:
        team.name = p.text("name", name, max_length=120)
    if kind is not None:
        team.kind = kind
    if description is not None:
        team.description = p.text("description", description, multiline=True)
    p.raise_if_any()
    if is_active is not None:
        team.is_active = is_active
    team.full_clean(exclude=["unit", "code"])
    after = {
        "name": team.name,
        "kind": team.kind,
        "description": team.description,
        "is_active": team.is_active,
    }
    changes = diff(before, after)
    if changes:
        team.save()
        log_action(actor, action="orgs.team.updated", target=team, unit_path=team.unit.path, changes=changes)
    return team


@transaction.atomic
def team_member_add(*, actor: Any, team: Team, person: Person, role: str = TeamRole.MEMBER) -> TeamMembership:
    access.require(actor, Perm.CHANGE, team)
    access.require(actor, Perm.VIEW, person)
    if role not in TeamRole.values:
        raise ValidationError({"role": _("Unknown team role %(role)s.") % {"role": role}})
    membership, created = TeamMembership.objects.get_or_create(
        team=team, person=person, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        created = True
    if created:
        log_action(
            actor,
            action="orgs.team.member_added",
            target=team,
            unit_path=team.unit.path,
            changes={"person": person.code, "role": role},
        )
    return membership


@transaction.atomic
def team_member_remove(*, actor: Any, team: Team, person: Person) -> None:
    access.require(actor, Perm.CHANGE, team)
    deleted, _n = TeamMembership.objects.filter(team=team, person=person).delete()
    if deleted:
        log_action(
            actor,
            action="orgs.team.member_removed",
            target=team,
            unit_path=team.unit.path,
            changes={"person": person.code},
        )


# ---------------------------------------------------------------- partners


@transaction.atomic
def partner_create(
    *, actor: Any, code: str, name: str, kind: str, unit: Unit, district: str = "", address: str = ""
) -> Partner:
    access.require(actor, Perm.CHANGE, unit)
    p = rules.Problems()
    code = p.code("code", code)
    name = p.text("name", name, max_length=120)
    district = p.text("district", district, max_length=40)
    address = p.text("address", address, max_length=200)
    p.raise_if_any()
    if Partner.objects.filter(code=code).exists():
        raise ValidationError({"code": _("Another partner already has the code %(code)s.") % {"code": code}})
    partner = Partner(code=code, name=name, kind=kind, unit=unit, district=district, address=address)
    partner.full_clean(exclude=["unit"])
    partner.save()
    log_action(
        actor,
        action="orgs.partner.created",
        target=partner,
        unit_path=unit.path,
        changes={"code": code, "name": name, "kind": kind, "unit": unit.code},
    )
    return partner


# ---------------------------------------------------------------- role grants


@transaction.atomic
def role_grant(*, actor: Any, user: Any, unit: Unit, role: str) -> RoleGrant:
    access.require(actor, Perm.GRANT, unit)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": role}})
    grant, created = RoleGrant.objects.get_or_create(
        user=user,
        unit=unit,
        role=role,
        defaults={"granted_by": actor if getattr(actor, "pk", None) else None},
    )
    if created:
        log_action(
            actor,
            action="accounts.grant.created",
            target=grant,
            unit_path=unit.path,
            changes={"user": user.get_username(), "unit": unit.code, "role": role},
        )
    access.forget(user)
    return grant


@transaction.atomic
def role_revoke(*, actor: Any, grant: RoleGrant) -> None:
    access.require(actor, Perm.GRANT, grant.unit)
    log_action(
        actor,
        action="accounts.grant.revoked",
        target=grant,
        unit_path=grant.unit.path,
        changes={"user": grant.user.get_username(), "unit": grant.unit.code, "role": grant.role},
    )
    grant.delete()
    access.forget(grant.user)


@transaction.atomic
def person_link_user(*, actor: Any, person: Person, user: Any | None) -> Person:
    """Link a login to a person (their self-service identity), or unlink with ``user=None``."""
    access.require(actor, Perm.GRANT, person)
    person = Person.objects.select_for_update(of=("self",)).get(pk=person.pk)
    if user is not None:
        other = Person.objects.filter(user=user).exclude(pk=person.pk).first()
        if other is not None:
            raise ValidationError(
                {"user": _("This login already belongs to %(person)s.") % {"person": other.name}}
            )
    before = person.user.get_username() if person.user_id and person.user else None
    after = user.get_username() if user is not None else None
    if before != after:
        person.user = user
        person.save(update_fields=["user", "updated_at"])
        log_action(
            actor,
            action="orgs.person.user_linked",
            target=person,
            unit_path=person.unit.path,
            changes={"user": [before, after]},
        )
    return person
