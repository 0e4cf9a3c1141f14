"""Notification tests: tasks run inline (the immediate backend), local HTTP and SMTP sinks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from .sinks import http_sink, platforms, smtp_sink  # noqa: F401 (fixtures)

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}


@pytest.fixture(autouse=True)
def _inline_tasks(settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    settings.MUSTER_NOTIFY_MAX_ATTEMPTS = 3
    settings.MUSTER_NOTIFY_BACKOFF_SECONDS = 60
    settings.MUSTER_BASE_URL = "https://muster.example.org"
    settings.LANGUAGE_CODE = "en"  # what goes out is in the organization's language: English here


@pytest.fixture
def login() -> Callable[[Any], Client]:
    """Logged-in clients that chose English (the messages the tests read)."""

    def _login(user: Any) -> Client:
        c = Client()
        c.force_login(user)
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return c

    return _login
