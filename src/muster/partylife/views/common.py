"""Helpers shared by the party-life views."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from muster.clock import local_midnight
from muster.orgs.access import Perm, scoped
from muster.orgs.models import PARTY_KINDS, Person, Unit
from muster.partylife.membership import MEETING_UNIT_KINDS


def party_units(user: Any, perm: Perm = Perm.VIEW) -> QuerySet[Unit]:
    """Active party organizations where ``user`` holds ``perm``, in tree order."""
    return scoped(Unit.objects.filter(kind__in=PARTY_KINDS, is_active=True), user, perm).order_by("path")


def meeting_units(user: Any, perm: Perm = Perm.PARTY_RECORD) -> QuerySet[Unit]:
    """Branches, general branches and party groups where ``user`` holds ``perm``."""
    return party_units(user, perm).filter(kind__in=MEETING_UNIT_KINDS)


def default_scope(user: Any) -> Unit | None:
    """The top-most party organization the user sees."""
    units = list(party_units(user))
    return min(units, key=lambda u: (u.depth, u.path)) if units else None


def person_by_code(user: Any, code: str) -> Person | None:
    code = (code or "").strip()
    if not code:
        return None
    return scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()


def people_by_codes(user: Any, codes: list[str]) -> tuple[list[Person], list[str]]:
    found = {p.code: p for p in scoped(Person.objects.all(), user, Perm.VIEW).filter(code__in=codes)}
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


def resolve_person(form: forms.BaseForm, user: Any, field: str) -> Person | None:
    """The person whose staff number is in ``field`` (a form error when unknown or out of sight)."""
    code = (form.cleaned_data.get(field) or "").strip()
    if not code:
        return None
    person = person_by_code(user, code)
    if person is None:
        form.add_error(field, _("No person with the staff number %(code)s was found.") % {"code": code})
    return person


def day_start(d: date) -> datetime:
    return local_midnight(d)


def end_of_day(d: date) -> datetime:
    """The cutoff that includes the whole day ``d`` (the next day, 00:00)."""
    return day_start(d + timedelta(days=1))
