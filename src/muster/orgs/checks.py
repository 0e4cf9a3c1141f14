"""System checks of the organization app: the field key must be a proper key.

``muster check`` reports it (``orgs.E001``), and ``runserver``, ``migrate``, the task worker and every other
command that runs the system checks refuse to start. The WSGI entry point (gunicorn runs no checks) asks
the same question at start-up (``refuse_weak_field_key``), and ``muster.orgs.crypto`` itself refuses to
encrypt or digest with a weak key, so nothing ever runs with one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from muster.orgs import crypto

FIELD_KEY_ERROR = "orgs.E001"


@checks.register(checks.Tags.security)
def field_key_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problem = crypto.key_problem(settings.FIELD_ENCRYPTION_KEY)
    if problem is None:
        return []
    return [checks.Error(crypto.key_message(problem), hint=crypto.key_hint(), id=FIELD_KEY_ERROR)]


def refuse_weak_field_key() -> None:
    """Stop the start-up with the check's message and hint when the field key is not a proper key."""
    crypto.require_proper_key(settings.FIELD_ENCRYPTION_KEY)
