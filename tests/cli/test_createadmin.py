"""``muster createadmin``: a superuser created through the audited accounts service."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from muster.audit.models import AuditEvent
from tests.cli.conftest import ScriptEnv

pytestmark = pytest.mark.django_db
PASSWORD = "Strong-pass-2026!"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_creates_an_audited_superuser(settings: Any) -> None:
    import muster.settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # the suite's fast hasher off: argon2
    out = io.StringIO()
    call_command("createadmin", "--username", "chief", "--password", PASSWORD, "--noinput", stdout=out)
    assert "Administrator chief created." in out.getvalue()
    user = get_user_model().objects.get(username="chief")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.password.startswith("argon2")
    assert Client().login(username="chief", password=PASSWORD)
    event = AuditEvent.objects.get(action="accounts.user.created", target_id=str(user.pk))
    assert event.channel == "cli" and event.actor_name == "system"
    assert event.changes == {"username": "chief", "superuser": True}


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSTER_ADMIN_PASSWORD", PASSWORD)
    call_command("createadmin", "--noinput", stdout=io.StringIO())
    assert Client().login(username="admin", password=PASSWORD)  # default user name


def test_an_existing_name_is_refused_and_nothing_changes() -> None:
    call_command(
        "createadmin", "--username", "chief", "--password", PASSWORD, "--noinput", stdout=io.StringIO()
    )
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="The user name chief is taken"):
        call_command("createadmin", "--username", "chief", "--password", "Other-pass-2026!", "--noinput")
    assert AuditEvent.objects.count() == before
    assert Client().login(username="chief", password=PASSWORD)


def test_no_password_without_a_terminal_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUSTER_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="No password"):
        call_command("createadmin", "--username", "chief", "--noinput")
    assert not get_user_model().objects.filter(username="chief").exists()


def test_a_weak_password_is_refused() -> None:
    with pytest.raises(CommandError, match="too weak"):
        call_command("createadmin", "--username", "chief", "--password", "12345678", "--noinput")
    assert not get_user_model().objects.exists()


def test_interactive_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["Mismatch-1", "Mismatch-2", PASSWORD, PASSWORD])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": "boss")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    err = io.StringIO()
    call_command("createadmin", stdout=io.StringIO(), stderr=err)
    assert "do not match" in err.getvalue()
    assert Client().login(username="boss", password=PASSWORD)


def test_console_script(migrated_script_env: ScriptEnv) -> None:
    script_env = migrated_script_env
    env: dict[str, Any] = {**script_env.env, "MUSTER_ADMIN_PASSWORD": PASSWORD}
    first = ScriptEnv(script_env.var_dir, env).run("createadmin", "--username", "root", "--noinput")
    assert first.returncode == 0, first.stderr
    assert "Administrator root created." in first.stdout
    queries: dict[str, tuple[str, dict[str, Any]]] = {
        "superusers": ("auth.User", {"username": "root", "is_superuser": True}),
        "events": ("audit.AuditEvent", {"action": "accounts.user.created", "channel": "cli"}),
    }
    assert script_env.counts(**queries) == {"superusers": 1, "events": 1}
    again = ScriptEnv(script_env.var_dir, env).run("createadmin", "--username", "root", "--noinput")
    assert again.returncode == 1
    assert "The user name root is taken" in again.stderr
    assert script_env.counts(**queries) == {"superusers": 1, "events": 1}
