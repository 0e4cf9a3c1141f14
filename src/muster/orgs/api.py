"""The organization over the API: units, people, teams, partners and the staff register.

Thin: every read goes through ``muster.orgs.access`` (out of scope = 404 / absent from lists), every write
through ``muster.orgs.services`` (which checks permissions and audits).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from muster.api.common import (
    ErrorOut,
    PageParams,
    UnitRef,
    actor,
    paginate,
    required_unit,
    resolve_unit,
    resolve_units,
    unit_ref,
)
from muster.orgs import access, people_io, queries, services
from muster.orgs.access import Perm
from muster.orgs.models import (
    PARTY_KINDS,
    Partner,
    Person,
    Team,
    TeamMembership,
    Unit,
)
from muster.tabular.api import (
    CONFIRM_RESPONSES,
    EXPORT_RESPONSES,
    IMPORT_RESPONSES,
    confirm_endpoint,
    export_endpoint,
    import_endpoint,
)
from muster.tabular.workbook import workbook_import  # a whole-organization workbook too

router = Router(tags=["organization"])

NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _label(obj: Any, field: str) -> str:
    return str(getattr(obj, f"get_{field}_display")()) if getattr(obj, field) else ""


# ================================================================ units


class UnitOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    kind_label: str
    tree: Literal["admin", "party"]
    is_active: bool
    depth: int
    parent: str | None = Field(None, description="parent unit code; null for a root or a parent out of scope")


class UnitCountsOut(Schema):
    people_direct: int
    people_subtree: int
    active_subtree: int
    members_subtree: int
    teams_subtree: int
    children: int


class UnitDetailOut(UnitOut):
    children: list[str]
    counts: UnitCountsOut


class UnitPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[UnitOut]


class UnitFilters(Schema):
    tree: Literal["admin", "party"] | None = None
    parent: str | None = Field(None, description="only the direct children of this unit code")
    q: str | None = Field(None, description="part of the name, short name or code")


class UnitIn(Schema):
    code: str
    name: str
    kind: str
    parent: str | None = Field(None, description="parent unit code; null creates a root (superusers only)")
    short_name: str = ""


class UnitPatch(Schema):
    code: str | None = None
    name: str | None = None
    kind: str | None = None
    short_name: str | None = None
    is_active: bool | None = None


class UnitMoveIn(Schema):
    parent: str


def _parent_code(user: Any, unit: Unit) -> str | None:
    if unit.depth <= 1:
        return None
    parent_path = unit.path[: -Unit.steplen]
    if not access.can(user, Perm.VIEW, Unit(path=parent_path)):
        return None
    return Unit.objects.filter(path=parent_path).values_list("code", flat=True).first()


def _unit_out(user: Any, unit: Unit, parents: dict[str, str] | None = None) -> dict[str, Any]:
    if parents is not None and unit.depth > 1:
        parent_path = unit.path[: -Unit.steplen]
        parent = parents.get(parent_path) if access.can(user, Perm.VIEW, Unit(path=parent_path)) else None
    else:
        parent = _parent_code(user, unit)
    return {
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "kind_label": _label(unit, "kind"),
        "tree": unit.tree,
        "is_active": unit.is_active,
        "depth": unit.depth,
        "parent": parent,
    }


def _unit_detail(user: Any, unit: Unit) -> dict[str, Any]:
    out = _unit_out(user, unit)
    out["children"] = [c.code for c in Unit.objects.get_children(unit).order_by("path")]
    out["counts"] = vars(queries.unit_counts(unit))
    return out


def _get_unit(user: Any, code: str) -> Unit:
    return access.get_scoped_or_404(Unit.objects.all(), user, code=code)


@router.get("/units", response=UnitPage, summary="List units")
def list_units(request: HttpRequest, filters: Query[UnitFilters], page: Query[PageParams]) -> dict[str, Any]:
    user = actor(request)
    qs = queries.unit_list(user)
    if filters.tree == "party":
        qs = qs.filter(kind__in=PARTY_KINDS)
    elif filters.tree == "admin":
        qs = qs.exclude(kind__in=PARTY_KINDS)
    if filters.parent:
        parent = required_unit(user, filters.parent, "parent")
        qs = qs.filter(path__startswith=parent.path, depth=parent.depth + 1)
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__icontains=q))
    items, meta = paginate(qs, page)
    parent_paths = {u.path[: -Unit.steplen] for u in items if u.depth > 1}
    parents = dict(Unit.objects.filter(path__in=parent_paths).values_list("path", "code"))
    return {**meta, "items": [_unit_out(user, u, parents) for u in items]}


@router.get("/units/{code}", response={200: UnitDetailOut, **NOT_FOUND}, summary="A unit with head-counts")
def get_unit(request: HttpRequest, code: str) -> dict[str, Any]:
    user = actor(request)
    return _unit_detail(user, _get_unit(user, code))


@router.post("/units", response={201: UnitDetailOut, **WRITE_ERRORS}, summary="Create a unit")
def create_unit(request: HttpRequest, payload: UnitIn) -> Status:
    user = actor(request)
    parent = resolve_unit(user, payload.parent, "parent")
    unit = services.unit_create(
        actor=user,
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        parent=parent,
        short_name=payload.short_name,
    )
    return Status(201, _unit_detail(user, unit))


@router.patch("/units/{code}", response={200: UnitDetailOut, **WRITE_ERRORS}, summary="Change a unit")
def update_unit(request: HttpRequest, code: str, payload: UnitPatch) -> dict[str, Any]:
    user = actor(request)
    unit = _get_unit(user, code)
    changes = payload.model_dump(exclude_unset=True)
    unit = services.unit_update(actor=user, unit=unit, **changes)
    return _unit_detail(user, unit)


@router.post(
    "/units/{code}/move", response={200: UnitDetailOut, **WRITE_ERRORS}, summary="Move a unit under another"
)
def move_unit(request: HttpRequest, code: str, payload: UnitMoveIn) -> dict[str, Any]:
    user = actor(request)
    unit = _get_unit(user, code)
    new_parent = required_unit(user, payload.parent, "parent")
    unit = services.unit_move(actor=user, unit=unit, new_parent=new_parent)
    return _unit_detail(user, unit)


# ================================================================ people


class TeamRef(Schema):
    code: str
    name: str
    role: str
    role_label: str


class PersonOut(Schema):
    code: str
    name: str
    gender: str
    gender_label: str
    birth_date: date | None
    unit: UnitRef | None = Field(description="null when the unit is outside the caller's scope")
    party_unit: UnitRef | None = Field(description="null when none, or outside the caller's scope")
    political_status: str
    political_status_label: str
    employment_status: str
    employment_status_label: str
    phone: str
    phone_is_masked: bool
    id_number: str
    id_number_is_masked: bool
    tags: list[str]


class PersonDetailOut(PersonOut):
    teams: list[TeamRef]


class PersonPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PersonOut]


class PersonFilters(Schema):
    q: str | None = Field(None, description="part of the name or staff number")
    unit: str | None = Field(None, description="unit code: people in its whole subtree (either tree)")
    political_status: str | None = None
    employment_status: str | None = None
    team: str | None = Field(None, description="team code")
    tag: str | None = None


class PersonIn(Schema):
    code: str
    name: str
    unit: str = Field(description="administrative unit code")
    party_unit: str | None = Field(None, description="party organization code")
    gender: str = ""
    birth_date: date | None = None
    political_status: str = "non_party"
    employment_status: str = "active"
    phone: str = ""
    id_number: str = ""
    tags: list[str] = []


class PersonPatch(Schema):
    code: str | None = None
    name: str | None = None
    unit: str | None = None
    party_unit: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    political_status: str | None = None
    employment_status: str | None = None
    phone: str | None = Field(None, description="a masked value (with *) keeps the stored phone")
    id_number: str | None = Field(None, description="a masked value (with *) keeps the stored ID number")
    tags: list[str] | None = None


def _person_out(user: Any, p: Person) -> dict[str, Any]:
    show_phone = access.may_see_personal(user, p, Perm.VIEW_PHONE)
    show_id = access.may_see_personal(user, p, Perm.VIEW_ID)
    return {
        "code": p.code,
        "name": p.name,
        "gender": p.gender,
        "gender_label": _label(p, "gender"),
        "birth_date": p.birth_date,
        "unit": unit_ref(user, p.unit),
        "party_unit": unit_ref(user, p.party_unit),
        "political_status": p.political_status,
        "political_status_label": _label(p, "political_status"),
        "employment_status": p.employment_status,
        "employment_status_label": _label(p, "employment_status"),
        "phone": p.phone if show_phone else p.phone_masked,
        "phone_is_masked": not show_phone and bool(p.phone_enc),
        "id_number": p.id_number if show_id else p.id_number_masked,
        "id_number_is_masked": not show_id and bool(p.id_number_enc),
        "tags": [t.name for t in p.tags.all()],
    }


def _person_detail(user: Any, p: Person) -> dict[str, Any]:
    out = _person_out(user, p)
    teams = access.scoped(Team.objects.all(), user, Perm.VIEW)
    memberships = TeamMembership.objects.filter(person=p, team__in=teams).select_related("team")
    out["teams"] = [
        {"code": m.team.code, "name": m.team.name, "role": m.role, "role_label": _label(m, "role")}
        for m in memberships.order_by("team__code")
    ]
    return out


def _people() -> QuerySet[Person]:
    return Person.objects.select_related("unit", "party_unit").prefetch_related("tags")


def _get_person(user: Any, code: str) -> Person:
    return access.get_scoped_or_404(_people(), user, code=code)


def _resolve_person(user: Any, code: str, field: str) -> Person:
    person = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if person is None:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": code}}
        )
    return person


def _resolve_team(user: Any, code: str | None, field: str) -> Team | None:
    if code is None:
        return None
    team = access.scoped(Team.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if team is None:
        raise ValidationError({field: _("There is no team with the code %(code)s.") % {"code": code}})
    return team


@router.get("/people", response=PersonPage, summary="Search people")
def list_people(
    request: HttpRequest, filters: Query[PersonFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    f = queries.PersonFilter(
        q=(filters.q or "").strip(),
        unit=resolve_unit(user, filters.unit, "unit"),
        political_status=filters.political_status or "",
        employment_status=filters.employment_status or "",
        team=_resolve_team(user, filters.team, "team"),
        tag=(filters.tag or "").strip(),
    )
    qs = queries.person_search(user, f).prefetch_related("tags")
    items, meta = paginate(qs, page)
    return {**meta, "items": [_person_out(user, p) for p in items]}


@router.get("/people/{code}", response={200: PersonDetailOut, **NOT_FOUND}, summary="A person")
def get_person(request: HttpRequest, code: str) -> dict[str, Any]:
    user = actor(request)
    return _person_detail(user, _get_person(user, code))


@router.post("/people", response={201: PersonDetailOut, **WRITE_ERRORS}, summary="Create a person")
def create_person(request: HttpRequest, payload: PersonIn) -> Status:
    user = actor(request)
    units = resolve_units(user, {"unit": payload.unit, "party_unit": payload.party_unit})
    assert units["unit"] is not None
    person = services.person_create(
        actor=user,
        code=payload.code,
        name=payload.name,
        unit=units["unit"],
        party_unit=units["party_unit"],
        gender=payload.gender,
        birth_date=payload.birth_date,
        political_status=payload.political_status,
        employment_status=payload.employment_status,
        phone=payload.phone,
        id_number=payload.id_number,
        tags=payload.tags,
    )
    return Status(201, _person_detail(user, _get_person(user, person.code)))


@router.patch("/people/{code}", response={200: PersonDetailOut, **WRITE_ERRORS}, summary="Change a person")
def update_person(request: HttpRequest, code: str, payload: PersonPatch) -> dict[str, Any]:
    user = actor(request)
    person = _get_person(user, code)
    changes = payload.model_dump(exclude_unset=True)
    if "unit" in changes and changes["unit"] is None:
        raise ValidationError({"unit": _("A unit is required.")})
    refs = {f: changes[f] for f in ("unit", "party_unit") if f in changes}
    changes.update(resolve_units(user, refs))
    for field in ("code", "name", "gender", "political_status", "employment_status", "phone", "id_number"):
        if field in changes and changes[field] is None:
            changes[field] = ""
    if "tags" in changes and changes["tags"] is None:
        changes["tags"] = []
    person = services.person_update(actor=user, person=person, **changes)
    return _person_detail(user, _get_person(user, person.code))


# ================================================================ teams


class TeamOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    unit: UnitRef | None
    description: str
    is_active: bool
    member_count: int


class TeamMemberOut(Schema):
    person: str
    name: str
    role: str
    role_label: str


class TeamDetailOut(TeamOut):
    members: list[TeamMemberOut] = Field(description="the members the caller may see")


class TeamPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[TeamOut]


class TeamFilters(Schema):
    unit: str | None = Field(None, description="unit code: teams of its whole subtree")
    q: str | None = Field(None, description="part of the name or code")


class TeamIn(Schema):
    code: str
    name: str
    unit: str
    kind: str = "volunteer"
    description: str = ""


class TeamPatch(Schema):
    name: str | None = None
    kind: str | None = None
    description: str | None = None
    is_active: bool | None = None


class TeamMemberIn(Schema):
    person: str = Field(description="staff number")
    role: str = "member"


def _visible_memberships(user: Any, team: Team) -> QuerySet[TeamMembership]:
    people = access.scoped(Person.objects.all(), user, Perm.VIEW)
    return team.memberships.filter(person__in=people).select_related("person").order_by("person__code")


def _team_out(user: Any, team: Team, member_count: int | None = None) -> dict[str, Any]:
    return {
        "code": team.code,
        "name": team.name,
        "kind": team.kind,
        "kind_label": _label(team, "kind"),
        "unit": unit_ref(user, team.unit),
        "description": team.description,
        "is_active": team.is_active,
        "member_count": member_count
        if member_count is not None
        else _visible_memberships(user, team).count(),
    }


def _team_detail(user: Any, team: Team) -> dict[str, Any]:
    members = list(_visible_memberships(user, team))
    out = _team_out(user, team, member_count=len(members))
    out["members"] = [
        {"person": m.person.code, "name": m.person.name, "role": m.role, "role_label": _label(m, "role")}
        for m in members
    ]
    return out


def _get_team(user: Any, code: str) -> Team:
    return access.get_scoped_or_404(Team.objects.select_related("unit"), user, code=code)


@router.get("/teams", response=TeamPage, summary="List teams")
def list_teams(request: HttpRequest, filters: Query[TeamFilters], page: Query[PageParams]) -> dict[str, Any]:
    user = actor(request)
    qs = queries.team_list(user, resolve_unit(user, filters.unit, "unit"))
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    people = access.scoped(Person.objects.all(), user, Perm.VIEW)
    qs = qs.prefetch_related(
        Prefetch("memberships", queryset=TeamMembership.objects.filter(person__in=people), to_attr="visible")
    )
    items, meta = paginate(qs, page)
    return {**meta, "items": [_team_out(user, t, member_count=len(t.visible)) for t in items]}  # type: ignore[attr-defined]


@router.get("/teams/{code}", response={200: TeamDetailOut, **NOT_FOUND}, summary="A team with its members")
def get_team(request: HttpRequest, code: str) -> dict[str, Any]:
    user = actor(request)
    return _team_detail(user, _get_team(user, code))


@router.post("/teams", response={201: TeamDetailOut, **WRITE_ERRORS}, summary="Create a team")
def create_team(request: HttpRequest, payload: TeamIn) -> Status:
    user = actor(request)
    team = services.team_create(
        actor=user,
        code=payload.code,
        name=payload.name,
        unit=required_unit(user, payload.unit, "unit"),
        kind=payload.kind,
        description=payload.description,
    )
    return Status(201, _team_detail(user, team))


@router.patch("/teams/{code}", response={200: TeamDetailOut, **WRITE_ERRORS}, summary="Change a team")
def update_team(request: HttpRequest, code: str, payload: TeamPatch) -> dict[str, Any]:
    user = actor(request)
    team = services.team_update(
        actor=user, team=_get_team(user, code), **payload.model_dump(exclude_unset=True)
    )
    return _team_detail(user, team)


@router.post(
    "/teams/{code}/members", response={200: TeamDetailOut, **WRITE_ERRORS}, summary="Add or re-role a member"
)
def add_team_member(request: HttpRequest, code: str, payload: TeamMemberIn) -> dict[str, Any]:
    user = actor(request)
    team = _get_team(user, code)
    person = _resolve_person(user, payload.person, "person")
    services.team_member_add(actor=user, team=team, person=person, role=payload.role)
    return _team_detail(user, team)


@router.delete(
    "/teams/{code}/members/{person}", response={204: None, **WRITE_ERRORS}, summary="Remove a member"
)
def remove_team_member(request: HttpRequest, code: str, person: str) -> Status:
    user = actor(request)
    team = _get_team(user, code)
    member = access.get_scoped_or_404(Person.objects.all(), user, code=person)
    services.team_member_remove(actor=user, team=team, person=member)
    return Status(204, None)


# ================================================================ partners


class PartnerOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    district: str
    address: str
    unit: UnitRef | None = Field(description="the liaison unit")
    is_active: bool


class PartnerPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PartnerOut]


class PartnerFilters(Schema):
    unit: str | None = Field(None, description="unit code: partners of its whole subtree")
    kind: str | None = None
    q: str | None = Field(None, description="part of the name or code")


class PartnerIn(Schema):
    code: str
    name: str
    kind: str
    unit: str = Field(description="liaison unit code")
    district: str = ""
    address: str = ""


def _partner_out(user: Any, p: Partner) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "kind_label": _label(p, "kind"),
        "district": p.district,
        "address": p.address,
        "unit": unit_ref(user, p.unit),
        "is_active": p.is_active,
    }


@router.get("/partners", response=PartnerPage, summary="List partners")
def list_partners(
    request: HttpRequest, filters: Query[PartnerFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    qs = queries.partner_list(user, resolve_unit(user, filters.unit, "unit"))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    items, meta = paginate(qs, page)
    return {**meta, "items": [_partner_out(user, p) for p in items]}


@router.get("/partners/{code}", response={200: PartnerOut, **NOT_FOUND}, summary="A partner")
def get_partner(request: HttpRequest, code: str) -> dict[str, Any]:
    user = actor(request)
    return _partner_out(
        user, access.get_scoped_or_404(Partner.objects.select_related("unit"), user, code=code)
    )


@router.post("/partners", response={201: PartnerOut, **WRITE_ERRORS}, summary="Create a partner")
def create_partner(request: HttpRequest, payload: PartnerIn) -> Status:
    user = actor(request)
    partner = services.partner_create(
        actor=user,
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        unit=required_unit(user, payload.unit, "unit"),
        district=payload.district,
        address=payload.address,
    )
    return Status(201, _partner_out(user, partner))


# ======================================================== the staff register (人员名册): import / export
# At /people/import and /people/export; the first addresses, /roster/import and /roster/export, stay as
# deprecated aliases for a release (/roster/… is rostering: /api/v1/roster/plans).

IMPORT_SUMMARY = "Import the staff register (.xlsx or .csv), or a whole organization in one workbook"
EXPORT_SUMMARY = "Export the staff register (.xlsx or .csv)"
EXPORT_DESCRIPTION = "The same layout the import reads. Without unit, everything the caller may export."
IMPORT_DESCRIPTION = (
    "A workbook may also hold the ledger sheets (派出批次 / 服务记录): units and people are then "
    "written first and the ledger rows checked against them, all in one transaction (the caller also needs "
    "the right to dispatch). "
    "Every row is checked before anything is written: one bad row refuses the whole file "
    "(422, each error with its sheet, row, column, value and reason). Re-importing a file changes nothing. "
    "With dry_run=true nothing is written either way; a passing dry run answers confirm_token, which "
    "/people/import/confirm takes to import the same file (kept 30 minutes, for the caller only)."
)

# Its own router, mounted before ``router`` (``muster.api.urls``): /people/import and /people/export must
# be matched before /people/{code}. The views are the import pipeline's (``muster.tabular.api``).
register_router = Router(tags=["staff register"])


def _import_register(*, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> Any:
    """The register upload: a whole-organization workbook too (units and people first)."""
    return workbook_import(actor=actor, filename=filename, data=data, dry_run=dry_run, base="roster")


def _export_unit(user: Any, code: str | None) -> Unit | None:
    if code is None:
        people_io.require(user)
        return None
    target = _get_unit(user, code)
    access.require(user, Perm.IMPORT, target)
    return target


def _register_views(suffix: str) -> tuple[Any, Any, Any]:
    # Kept uploads of this endpoint are a whole-organization workbook's (not the register page's own).
    key, run, require = "workbook:roster", _import_register, people_io.require
    return (
        import_endpoint(name=f"import_people{suffix}", key=key, run=run, require=require),
        confirm_endpoint(name=f"confirm_people{suffix}", key=key, run=run, require=require),
        export_endpoint(
            name=f"export_people{suffix}",
            export=people_io.people_export,
            resolve_unit=_export_unit,
            sheets=("people", "units"),
        ),
    )


import_people, confirm_people, export_people = _register_views("")
register_router.post(
    "/people/import",
    response=IMPORT_RESPONSES,
    summary=IMPORT_SUMMARY,
    operation_id="people_import",
    description=IMPORT_DESCRIPTION,
)(import_people)
register_router.post(
    "/people/import/confirm",
    response=CONFIRM_RESPONSES,
    summary="Import the register file a passing dry run checked (by its confirm_token)",
    operation_id="people_import_confirm",
    description="404: no such token of the caller; 410: it expired or was imported already.",
)(confirm_people)
register_router.get(
    "/people/export",
    response=EXPORT_RESPONSES,
    summary=EXPORT_SUMMARY,
    description=EXPORT_DESCRIPTION,
    operation_id="people_export",
)(export_people)

# The first addresses, kept for a release.
import_people_alias, _confirm_alias, export_people_alias = _register_views("_alias")
register_router.post(
    "/roster/import",
    response=IMPORT_RESPONSES,
    summary=IMPORT_SUMMARY + " — alias of /people/import",
    description="The first address of the import, kept for a release.",
    operation_id="roster_import_alias",
    deprecated=True,
)(import_people_alias)
register_router.get(
    "/roster/export",
    response=EXPORT_RESPONSES,
    summary=EXPORT_SUMMARY + " — alias of /people/export",
    description=EXPORT_DESCRIPTION,
    operation_id="roster_export_alias",
    deprecated=True,
)(export_people_alias)
