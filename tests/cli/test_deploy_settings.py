"""Security hole 9 of issue 22 (deployment settings): HSTS from the environment, and a field key that must
be a proper key — ``muster check`` reports a weak one (orgs.E001), the WSGI entry point and the
encryption refuse it, ``muster genkey`` prints a good one, and the generated ``var/field.key`` still works."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from muster.orgs import crypto
from muster.orgs.access import SYSTEM
from muster.orgs.services import person_create
from tests.cli.conftest import ScriptEnv

WEAK = "abc"


@pytest.mark.parametrize(
    ("key", "proper"),
    [
        ("abc", False),
        ("", False),
        ("correct horse battery staple", False),  # spaces: no base64
        ("a" * 80, False),  # long, but one character over and over
        ("0123456789abcdef" * 3, False),  # 48 hex digits = 24 bytes
        ("Zm9vYmFy", False),  # base64 of 6 bytes
        ("0123456789abcdef" * 4, True),  # 64 hex digits = 32 bytes
        ("K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols", True),  # 43 characters of URL-safe base64
        ("K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", True),  # standard base64 with padding
    ],
)
def test_what_a_proper_field_key_is(key: str, proper: bool) -> None:
    assert (crypto.key_problem(key) is None) is proper


def test_genkey_prints_a_new_proper_key() -> None:
    keys = set()
    for _ in range(2):
        out = StringIO()
        call_command("genkey", stdout=out)
        key = out.getvalue().strip()
        assert len(key) == 43 and crypto.key_problem(key) is None
        keys.add(key)
    assert len(keys) == 2


def test_check_reports_a_weak_field_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEY=WEAK), pytest.raises(SystemCheckError) as exc:
        call_command("check")
    text = str(exc.value)
    assert "orgs.E001" in text and "MUSTER_FIELD_KEY" in text and "muster genkey" in text
    call_command("check", stdout=StringIO())  # the generated key of the test run is fine


def test_nothing_is_encrypted_with_a_weak_key(org: object) -> None:
    with override_settings(FIELD_ENCRYPTION_KEY=WEAK), pytest.raises(ImproperlyConfigured, match="genkey"):
        person_create(actor=SYSTEM, code="XH0100", name="陈明", unit=org.xuhui, phone="13912345678")  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the real console script and WSGI start


def _with(env: ScriptEnv, **extra: str) -> ScriptEnv:
    return ScriptEnv(env.var_dir, {**env.env, **extra})


def test_console_script_refuses_a_weak_key_and_genkey_makes_one(script_env: ScriptEnv) -> None:
    weak = _with(script_env, MUSTER_FIELD_KEY=WEAK)
    refused = weak.run("check")
    assert refused.returncode != 0
    assert "orgs.E001" in refused.stderr and "muster genkey" in refused.stderr
    made = weak.run("genkey")  # runs although the configured key is the problem
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert crypto.key_problem(key) is None
    good = _with(script_env, MUSTER_FIELD_KEY=key).run("check")
    assert good.returncode == 0, good.stderr
    assert "orgs.E001" not in good.stderr


def test_the_generated_key_file_is_a_proper_key(script_env: ScriptEnv) -> None:
    assert "MUSTER_FIELD_KEY" not in script_env.env
    r = script_env.run("check")
    assert r.returncode == 0, r.stderr
    key = (script_env.var_dir / "field.key").read_text().strip()
    assert crypto.key_problem(key) is None


def test_wsgi_start_refuses_a_weak_key(script_env: ScriptEnv) -> None:
    def start(key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "import muster.wsgi"],
            env={**script_env.env, "MUSTER_FIELD_KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=Path(script_env.var_dir),
        )

    weak = start(WEAK)
    assert weak.returncode != 0
    assert "ImproperlyConfigured" in weak.stderr and "muster genkey" in weak.stderr
    good = start(crypto.new_key())
    assert good.returncode == 0, good.stderr


HSTS_PROBE = (
    "from django.conf import settings; from django.test import Client; "
    "r = Client().get('/', secure=True, HTTP_HOST='localhost'); "
    "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "settings.SECURE_HSTS_PRELOAD); print(r.headers.get('Strict-Transport-Security'))"
)


def _probe(env: ScriptEnv) -> list[str]:
    r = env.run("shell", "-v", "0", "-c", HSTS_PROBE)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line.strip()][-2:]


def test_hsts_from_the_environment(script_env: ScriptEnv) -> None:
    plain = script_env.run("check", "--deploy")
    assert "security.W004" in plain.stderr  # the default: no HSTS, and the deploy check says so
    assert _probe(script_env) == ["0 False False", "None"]
    hsts = _with(
        script_env,
        MUSTER_HSTS_SECONDS="31536000",
        MUSTER_HSTS_INCLUDE_SUBDOMAINS="1",
        MUSTER_HSTS_PRELOAD="true",
    )
    checked = hsts.run("check", "--deploy")
    for warning in ("security.W004", "security.W005", "security.W021"):
        assert warning not in checked.stderr
    assert _probe(hsts) == [
        "31536000 True True",
        "max-age=31536000; includeSubDomains; preload",
    ]


def test_a_malformed_hsts_value_stops_the_start(script_env: ScriptEnv) -> None:
    for bad in ("a year", "-1"):
        r = _with(script_env, MUSTER_HSTS_SECONDS=bad).run("check")
        assert r.returncode != 0
        assert "MUSTER_HSTS_SECONDS must be a whole number" in r.stderr
