"""What every volunteers service shares: refusals, formatting, who may edit a person, the audit
entry, a skill by code, the checks of a shift's editor and of an audience."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.models import Shift
from muster.mobilize.queries import shift_is_visible
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, PoliticalStatus, Team, Unit
from muster.volunteers import queries
from muster.volunteers.models import (
    Skill,
)

MAX_ROWS = 200  # windows, days off, qualifications, preferences in one profile edit
MAX_CALLUP = 100_000
PARTY = (PoliticalStatus.MEMBER, PoliticalStatus.PROBATIONARY)


def _invalid(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, queries.tz()).strftime("%Y-%m-%d %H:%M")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _units(person: Person) -> list[Unit]:
    return [u for u in (person.unit, person.party_unit) if u is not None]


def may_edit_person(actor: Any, person: Person) -> bool:
    if queries.is_self(actor, person):
        return True
    return any(
        access.can(actor, perm, u) for perm in (Perm.CHANGE, Perm.MOBILIZE_DISPATCH) for u in _units(person)
    )


def _require_person(actor: Any, person: Person) -> None:
    if not queries.person_visible(actor, person):
        raise Http404
    if not may_edit_person(actor, person):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def _audit(actor: Any, action: str, target: Any, unit_path: str, **changes: Any) -> None:
    log_action(actor, action=action, target=target, unit_path=unit_path, changes=changes)


def skill_by_code(code: str, field: str) -> Skill:
    s = Skill.objects.filter(code=code).first()
    if s is None:
        raise _invalid(field, _("Unknown skill %(code)s.") % {"code": code}, "unknown_skill")
    return s


def _require_shift_editor(actor: Any, shift: Shift) -> None:
    if not shift_is_visible(actor, shift):
        raise Http404
    if not access.can(actor, Perm.MOBILIZE_DISPATCH, shift.owner_unit):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def _audience(actor: Any, team: Team | None, unit: Unit | None) -> None:
    if (team is None) == (unit is None):
        raise _invalid("audience", _("Open to one team, unit or party branch."), "audience")
    if team is not None and not access.scoped(Team.objects.filter(pk=team.pk), actor).exists():
        raise _invalid("team", _("Unknown team."), "unknown")
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise _invalid("unit", _("Unknown unit."), "unknown")
