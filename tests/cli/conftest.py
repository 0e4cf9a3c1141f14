"""Helpers for driving the real ``muster`` console script against a throw-away database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MUSTER = Path(sys.executable).parent / "muster"


@dataclass
class ScriptEnv:
    """A private var/ directory and SQLite database for console-script runs."""

    var_dir: Path
    env: dict[str, str]

    def run(
        self, *args: str, input: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MUSTER), *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def counts(self, **queries: tuple[str, dict[str, Any]]) -> dict[str, int]:
        """Row counts through ``muster shell`` (the database belongs to the subprocess world).

        ``counts(people=("orgs.Person", {}), cli=("audit.AuditEvent", {"channel": "cli"}))``
        """
        code = (
            "import json; from django.apps import apps; "
            f"q = {queries!r}; "
            "print(json.dumps({k: apps.get_model(m).objects.filter(**f).count() for k, (m, f) in q.items()}))"
        )
        result = self.run("shell", "-c", code)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def make_script_env(base: Path) -> ScriptEnv:
    base.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_") and k != "DATABASE_URL"}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{base / 'muster.sqlite3'}",
            "MUSTER_VAR_DIR": str(base),
            "MUSTER_LANGUAGE": "en",
            "DJANGO_SETTINGS_MODULE": "muster.settings",
        }
    )
    return ScriptEnv(var_dir=base, env=env)


@pytest.fixture
def script_env(tmp_path: Path) -> ScriptEnv:
    return make_script_env(tmp_path / "var")
