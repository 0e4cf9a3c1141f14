"""Who belonged to a party organization on a date (unscoped helpers for services and queries).

The history is ``BranchMembership``. A person with no membership row at all is taken to have always
belonged to their current ``Person.party_unit`` (if they are a member or probationary member), so the
feature works before any history has been entered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from muster.orgs.models import PARTY_KINDS, Person, PoliticalStatus, Unit, UnitKind
from muster.partylife.models import COMMITTEE_ROLES, BranchMembership, MembershipRole

PARTY_STATUSES = (PoliticalStatus.MEMBER, PoliticalStatus.PROBATIONARY)
COMMITTEE_KINDS = frozenset({UnitKind.PARTY_COMMITTEE, UnitKind.GENERAL_BRANCH})
MEETING_UNIT_KINDS = frozenset({UnitKind.BRANCH, UnitKind.PARTY_GROUP, UnitKind.GENERAL_BRANCH})


@dataclass(frozen=True)
class MemberEntry:
    person: Person
    branch: Unit
    role: str
    since: date | None  # None: no history recorded (taken as "always")

    @property
    def is_committee(self) -> bool:
        return self.role in COMMITTEE_ROLES

    @property
    def is_voting(self) -> bool:
        return self.person.political_status == PoliticalStatus.MEMBER


def members_on(unit: Unit, on: date) -> list[MemberEntry]:
    """Members of ``unit``'s subtree on ``on`` (a branch includes its party groups)."""
    out: dict[int, MemberEntry] = {}
    rows = (
        BranchMembership.objects.filter(branch__path__startswith=unit.path, start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gte=on))
        .select_related("person", "branch")
        .order_by("start", "pk")
    )
    for m in rows:
        prev = out.get(m.person_id)
        role = m.role
        if prev is not None and prev.is_committee and m.role not in COMMITTEE_ROLES:
            role = prev.role
        out[m.person_id] = MemberEntry(m.person, m.branch, role, m.start)
    legacy = (
        Person.objects.filter(party_unit__path__startswith=unit.path, political_status__in=PARTY_STATUSES)
        .exclude(branch_memberships__isnull=False)
        .select_related("party_unit")
    )
    for p in legacy:
        if p.party_unit is not None:
            out.setdefault(p.pk, MemberEntry(p, p.party_unit, MembershipRole.MEMBER, None))
    return sorted(out.values(), key=lambda e: e.person.code)


def member_on(person: Person, unit: Unit, on: date) -> bool:
    return any(e.person.pk == person.pk for e in members_on(unit, on))


def approval_unit(unit: Unit) -> Unit | None:
    """The party committee (or general branch) above ``unit`` that reviews its meetings."""
    ancestors = list(Unit.objects.get_ancestors(unit))
    for a in reversed(ancestors):
        if a.kind in COMMITTEE_KINDS and a.pk != unit.pk:
            return a
    return None


def committee_chain(unit: Unit) -> list[Unit]:
    """The party committees above ``unit``, nearest first."""
    return [a for a in reversed(list(Unit.objects.get_ancestors(unit))) if a.kind in COMMITTEE_KINDS]


def is_party_org(unit: Unit) -> bool:
    return unit.kind in PARTY_KINDS
