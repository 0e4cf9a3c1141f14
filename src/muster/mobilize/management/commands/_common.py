"""Shared pieces of the mobilization commands: the actor, lookups in their scope, errors as messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Model
from django.http import Http404
from django.utils.translation import gettext as _

from muster.mobilize import timeutil
from muster.mobilize.ledger_io import describe_time_error
from muster.mobilize.queries import local_tz
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.roster import cli_actor

M = TypeVar("M", bound=Model)


def actor_for(username: str | None) -> Any:
    try:
        return cli_actor(username)
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from None


def messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
    return " ".join(exc.messages)


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn the services' refusals into a ``CommandError`` (a message and a non-zero exit)."""
    try:
        yield
    except ValidationError as exc:
        raise CommandError(messages(exc)) from None
    except NotAllowed:
        raise CommandError(_("This user is not allowed to do this.")) from None
    except Http404:
        raise CommandError(_("Not found (or not visible to this user).")) from None


def when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return timeutil.parse_datetime(value, local_tz())
    except timeutil.TimeParseError as exc:
        raise CommandError(f"{option}: {describe_time_error(exc)} ({value!r})") from None


def codes(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").replace("，", ",").split(",") if c.strip()]


def lookup(model: type[M], actor: Any, code: str, what: Callable[[str], str]) -> M:
    """The object with ``code`` the actor may see; otherwise a ``CommandError`` saying it is unknown."""
    obj = access.scoped(model.objects.all(), actor, Perm.VIEW).filter(code=code).first()  # type: ignore[attr-defined]
    if obj is None:
        raise CommandError(what(code))
    return obj
