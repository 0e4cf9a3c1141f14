"""The planner's records of units and people (as stored and as the file wants them) and its cell helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from muster.orgs import rules
from muster.orgs.validators import InvalidValue, mask_id_number, mask_phone
from muster.tabular.cells import CellError, text

from .schema import _SCI_RE


@dataclass
class _DbUnit:
    id: int
    code: str
    name: str
    kind: str
    path: str
    parent_code: str | None


@dataclass
class _FileUnit:
    row: int
    code: str
    name: str
    kind: str | None
    parent: str  # as given; "" keeps the stored parent
    existing: _DbUnit | None
    final_parent: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    moved: bool = False


@dataclass
class _DbPerson:
    id: int
    code: str
    name: str
    gender: str
    birth_date: date | None
    unit_id: int
    party_unit_id: int | None
    political_status: str
    employment_status: str
    phone_enc: str
    id_number_enc: str
    id_number_digest: str | None
    user_id: int | None
    tags: list[str] = field(default_factory=list)


@dataclass
class _PersonRow:
    """A person as the file wants them. Personal data stays plain until written (encrypted then)."""

    row: int
    code: str
    existing: _DbPerson | None
    name: str
    gender: str
    birth_date: date | None
    unit: str
    party_unit: str | None
    political_status: str
    employment_status: str
    phone: str | None  # plain value to store; None keeps the stored one
    id_number: str | None  # plain value to store; None keeps the stored one
    id_number_digest: str | None  # as it will be stored
    tags: list[str]
    changes: dict[str, list[Any]] = field(default_factory=dict)


def _staff_number_unusable(code: str) -> str:
    return _(
        "the staff number %(code)s cannot be used here; if it is right, ask an administrator of the "
        "whole organization"
    ) % {"code": code}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _snapshot(r: _PersonRow) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "gender": r.gender,
        "birth_date": _iso(r.birth_date),
        "unit": r.unit,
        "party_unit": r.party_unit,
        "political_status": r.political_status,
        "employment_status": r.employment_status,
        "phone": mask_phone(r.phone or ""),
        "id_number": mask_id_number(r.id_number or ""),
        "tags": r.tags,
    }


def _already_in_row(row: int) -> str:
    return _("the same value is already in row %(row)d") % {"row": row}


def _clean_id_number(raw: Any) -> str:
    """A valid 18-character resident ID number (GB 11643), or ``CellError`` saying precisely what is wrong."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) >= 1e15:
        raise CellError(_id_lost_digits())
    v = text(raw).replace(" ", "").upper()
    if _SCI_RE.match(v):
        raise CellError(_id_lost_digits())
    try:
        return rules.clean_id_number(raw if isinstance(raw, str) else v)
    except InvalidValue as exc:
        raise CellError(str(exc)) from None


def _id_lost_digits() -> str:
    return _(
        "the ID number was stored as a number, so Excel kept only 15 digits; "
        "format the column as text and type it again"
    )
