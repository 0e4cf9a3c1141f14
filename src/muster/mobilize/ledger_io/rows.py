"""The planner's records of batches, partners, people and service rows as the file wants them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from muster.clock import local_tz
from muster.mobilize.models import Deployment
from muster.orgs.models import Partner, Unit

# ---------------------------------------------------------------- plan


@dataclass
class _NewPartner:
    name: str
    unit: Unit
    row: int
    obj: Partner | None = None


@dataclass
class _DepRow:
    row: int
    code: str
    unit: Unit
    title: str
    site: str
    partner: Partner | _NewPartner | None
    start: datetime
    end: datetime
    existing: Deployment | None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)
    obj: Deployment | None = None


@dataclass
class _PersonInfo:
    id: int
    code: str
    name: str
    user_id: int | None
    unit_path: str
    party_path: str | None


@dataclass
class _EntryRow:
    row: int
    person: _PersonInfo
    dep: _DepRow | Deployment | None
    kind: str
    approved: bool
    start: datetime
    end: datetime
    minutes: int
    note: str


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, local_tz()).strftime("%Y-%m-%d %H:%M")


def _site_name(partner: Partner | _NewPartner | None, site: str) -> str:
    if partner is None:
        return site
    return partner.name
