"""The one place that decides what a user may see and do.

A role granted on a unit applies to that unit's subtree (a path prefix). Views, API endpoints, exports,
imports and CLI commands all ask here; objects out of scope are "not found" (404), never "forbidden",
so a user never learns that people of another unit exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from muster.orgs.models import Role, RoleGrant, Unit


class Perm(StrEnum):
    VIEW = "org.view"  # see units, people (without personal data), teams, partners
    CHANGE = "org.change"  # create, edit and move units, people, teams, partners
    IMPORT = "org.import"  # import and export the staff register (people_io)
    VIEW_PHONE = "person.view_phone"
    VIEW_ID = "person.view_id"
    AUDIT = "audit.view"
    GRANT = "access.grant"  # grant and revoke roles in the subtree
    MOBILIZE_DISPATCH = "mobilize.dispatch"  # requests, batches, posts, shifts, assignments, roll-call
    MOBILIZE_APPROVE = "mobilize.approve"  # approve, reject and correct service entries
    MOBILIZE_CATALOG = "mobilize.catalog"  # edit the measure catalog (admin on a root unit)
    PARTY_RECORD = "partylife.record"  # meetings, attendance, talks, pipeline, posts, honors of a branch
    PARTY_APPROVE = "partylife.approve"  # review meetings, exemptions, honors (held on the committee above)
    PARTY_RULES = "partylife.rules"  # edit the compliance rules (admin)
    POINTS_MANAGE = "points.manage"  # manual point entries with a reason
    POINTS_RULES = "points.rules"  # edit point rules, recompute a year (admin)


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.MANAGER: frozenset({Perm.VIEW, Perm.CHANGE, Perm.IMPORT, Perm.VIEW_PHONE, Perm.VIEW_ID}),
    Role.SECRETARY: frozenset({Perm.VIEW, Perm.CHANGE, Perm.VIEW_PHONE, Perm.VIEW_ID}),
    Role.LEADER: frozenset({Perm.VIEW, Perm.VIEW_PHONE}),
    Role.MEMBER: frozenset({Perm.VIEW}),
    Role.VIEWER: frozenset({Perm.VIEW}),
}
# Mobilization (issue 3): appended, so the lines above stay as they were. Admin already has every Perm.
ROLE_PERMS[Role.MANAGER] |= {Perm.MOBILIZE_DISPATCH, Perm.MOBILIZE_APPROVE}
ROLE_PERMS[Role.LEADER] |= {Perm.MOBILIZE_DISPATCH, Perm.MOBILIZE_APPROVE}
ROLE_PERMS[Role.SECRETARY] |= {Perm.MOBILIZE_APPROVE}
# Party life and points (issue 6): the secretary is the party role. Admin already has every Perm.
ROLE_PERMS[Role.SECRETARY] |= {Perm.PARTY_RECORD, Perm.PARTY_APPROVE, Perm.POINTS_MANAGE}


class Actor(Protocol):
    is_authenticated: bool
    is_superuser: bool
    pk: Any


@dataclass(frozen=True)
class SystemActor:
    """The operator at the server's command line: full rights, audited as ``system``/``cli``."""

    display_name: str = "system"
    is_authenticated: bool = True
    is_superuser: bool = True
    is_active: bool = True
    pk: None = None

    def get_username(self) -> str:
        return self.display_name


SYSTEM = SystemActor()
_CACHE_ATTR = "_muster_grant_paths"


def _grant_paths(user: Any) -> dict[Perm, list[str]]:
    """{perm: [unit paths]} for a user, computed once per user object (i.e. per request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    result: dict[Perm, list[str]] = {p: [] for p in Perm}
    if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        for role, path in RoleGrant.objects.filter(user_id=user.pk, unit__is_active=True).values_list(
            "role", "unit__path"
        ):
            for perm in ROLE_PERMS.get(role, frozenset()):
                result[perm].append(path)
    for perm, paths in result.items():
        result[perm] = _minimal_prefixes(paths)
    try:
        setattr(user, _CACHE_ATTR, result)
    except AttributeError:  # frozen actors
        pass
    return result


def forget(user: Any) -> None:
    """Drop the cached grants (after a grant changes)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _minimal_prefixes(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in sorted(set(paths)):
        if not out or not p.startswith(out[-1]):
            out.append(p)
    return out


def is_all_powerful(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", True))


def scope_paths(user: Any, perm: Perm) -> list[str] | None:
    """Unit path prefixes where ``user`` holds ``perm``; ``None`` means everywhere."""
    if is_all_powerful(user):
        return None
    return _grant_paths(user)[perm]


def can(user: Any, perm: Perm, unit: Unit | None) -> bool:
    """Whether ``user`` holds ``perm`` on ``unit`` (through a grant on it or an ancestor)."""
    paths = scope_paths(user, perm)
    if paths is None:
        return True
    if unit is None:
        return False
    return any(unit.path.startswith(p) for p in paths)


def can_anywhere(user: Any, perm: Perm) -> bool:
    paths = scope_paths(user, perm)
    return paths is None or bool(paths)


def path_q(user: Any, perm: Perm, *fields: str) -> Q:
    """Keep rows whose unit (reached through any of ``fields``, each a path lookup) is in scope."""
    paths = scope_paths(user, perm)
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for f in fields:
        for p in paths:
            q |= Q(**{f"{f}__startswith": p})
    return q


M = TypeVar("M", bound=Model)


def scoped(qs: QuerySet[M], user: Any, perm: Perm = Perm.VIEW) -> QuerySet[M]:
    """Restrict any queryset of a scoped model to what ``user`` may see with ``perm``."""
    fields = SCOPE_FIELDS[qs.model._meta.label_lower]
    q = path_q(user, perm, *fields)
    # A user always sees their own person record. (Not for the all-powerful: ``Q() | Q(x)`` is just
    # ``Q(x)``, which would hide everyone else from them.)
    if (
        qs.model._meta.label_lower == "orgs.person"
        and getattr(user, "pk", None) is not None
        and not is_all_powerful(user)
    ):
        q |= Q(user_id=user.pk)
    # Every scope field is reached through foreign keys (never a many-valued relation), so no row repeats.
    return qs.filter(q)


def get_scoped_or_404(qs: QuerySet[M], user: Any, **lookup: Any) -> M:
    """The object, if ``user`` may see it; otherwise 404 — the same answer as for one that does not exist."""
    try:
        return scoped(qs, user, Perm.VIEW).get(**lookup)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


class NotAllowed(PermissionDenied):
    """The user sees the object but may not do this to it (403: visible, not allowed)."""

    def __init__(self, perm: Perm) -> None:
        super().__init__(perm.value)
        self.perm = perm


def units_of(obj: Any) -> list[Unit]:
    """The units an object belongs to, for permission checks."""
    if isinstance(obj, Unit):
        return [obj]
    units = [getattr(obj, "unit", None), getattr(obj, "party_unit", None)]
    return [u for u in units if u is not None]


def require(user: Any, perm: Perm, obj: Any) -> None:
    """Raise ``NotAllowed`` unless ``user`` holds ``perm`` on (one of) the unit(s) of ``obj``."""
    if not any(can(user, perm, u) for u in units_of(obj)):
        raise NotAllowed(perm)


# How each scoped model reaches a unit path. A person belongs to both their unit and their party unit.
SCOPE_FIELDS: dict[str, tuple[str, ...]] = {
    "orgs.unit": ("path",),
    "orgs.person": ("unit__path", "party_unit__path"),
    "orgs.team": ("unit__path",),
    "orgs.partner": ("unit__path",),
    "orgs.rolegrant": ("unit__path",),
    "audit.auditevent": ("unit_path",),
    "mobilize.request": ("unit__path", "partner__unit__path"),
    "mobilize.deployment": ("unit__path", "supported_unit__path"),
    "mobilize.post": ("unit__path",),
    "mobilize.shift": ("deployment__unit__path", "deployment__supported_unit__path", "post__unit__path"),
    "mobilize.assignment": (
        "shift__deployment__unit__path",
        "shift__deployment__supported_unit__path",
        "shift__post__unit__path",
    ),
    "mobilize.serviceentry": (
        "person__unit__path",
        "person__party_unit__path",
        "deployment__unit__path",
        "deployment__supported_unit__path",
    ),
    "mobilize.measurevalue": (
        "deployment__unit__path",
        "deployment__supported_unit__path",
        "entry__person__unit__path",
        "entry__person__party_unit__path",
    ),
    # Party life and points (issue 6)
    "partylife.branchmembership": ("branch__path", "person__unit__path"),
    "partylife.meeting": ("unit__path",),
    "partylife.attendance": ("meeting__unit__path",),
    "partylife.exemption": ("unit__path",),
    "partylife.compliancesnapshot": ("unit__path",),
    "partylife.talk": ("unit__path",),
    "partylife.membershipcase": ("branch__path", "person__unit__path"),
    "partylife.partypost": ("unit__path", "person__party_unit__path"),
    "partylife.contactpoint": ("branch__path", "leader__unit__path"),
    "partylife.contactvisit": ("contact_point__branch__path", "contact_point__leader__unit__path"),
    "points.pointfact": ("branch__path", "person__unit__path", "person__party_unit__path"),
    "points.pointentry": ("branch__path", "person__unit__path", "person__party_unit__path"),
    "reports.snapshot": ("unit__path",),  # Reports (issue 4)
    # Notification channels (issue 22): a bot by its team; a delivery by its person (e-mail) or team (bots)
    "notify.teambot": ("team__unit__path",),
    "notify.delivery": ("person__unit__path", "person__party_unit__path", "team__unit__path"),
}


def may_see_personal(user: Any, person: Any, perm: Perm) -> bool:
    """Whether ``user`` may see ``person``'s phone (VIEW_PHONE) or ID number (VIEW_ID) unmasked."""
    if getattr(user, "pk", None) is not None and person.user_id == user.pk:
        return True
    return any(can(user, perm, u) for u in units_of(person))


def visible_roots(user: Any) -> QuerySet[Unit]:
    """The top-most units a user may see: the roots of both trees, or the units they hold a grant on."""
    paths = scope_paths(user, Perm.VIEW)
    if paths is None:
        return Unit.objects.get_root_nodes()
    return Unit.objects.filter(path__in=paths).order_by("path")
