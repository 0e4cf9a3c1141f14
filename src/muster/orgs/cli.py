"""What every command-line command shares: who it acts as, and the services' refusals as messages.

Commands of every app (mobilization, rostering, points, notices, reports) import these from here — the
base app — rather than from one another's private helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from muster.orgs import access
from muster.orgs.access import NotAllowed


def cli_actor(username: str | None) -> Any:
    """Who a command-line run acts as: ``SYSTEM`` without ``--as``, else that active user (their scope)."""
    if not username:
        return access.SYSTEM
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"as": _("There is no active user named %(name)s.") % {"name": username}})
    return user


def actor_for(username: str | None) -> Any:
    """``cli_actor`` for a command: an unknown user is a ``CommandError``."""
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
