"""Shared pieces of the mobilization commands: the actor, lookups in their scope, errors as messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.core.management.base import CommandError
from django.db.models import Model

from muster import clock
from muster.clock import local_tz
from muster.mobilize.ledger_io import describe_time_error
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.cli import actor_for, messages, service_errors

M = TypeVar("M", bound=Model)
__all__ = ["actor_for", "codes", "lookup", "messages", "service_errors", "when"]


def when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return clock.parse_datetime(value, local_tz())
    except clock.TimeParseError as exc:
        raise CommandError(f"{option}: {describe_time_error(exc)} ({value!r})") from None


def codes(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").replace("，", ",").split(",") if c.strip()]


def lookup(model: type[M], actor: Any, code: str, what: Callable[[str], str]) -> M:
    """The object with ``code`` the actor may see; otherwise a ``CommandError`` saying it is unknown."""
    obj = access.scoped(model.objects.all(), actor, Perm.VIEW).filter(code=code).first()  # type: ignore[attr-defined]
    if obj is None:
        raise CommandError(what(code))
    return obj
