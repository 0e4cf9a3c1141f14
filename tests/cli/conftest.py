"""Helpers for driving the real ``muster`` console script against a throw-away database.

Migrating a new SQLite database takes the ``muster`` script up to a minute on a loaded machine, so it is done
once per test session (once for all pytest-xdist workers) into a template file, ``migrated_template``;
a test that needs a migrated database copies it (``make_script_env(base, database=migrated_template)``).
The copy is the database ``muster migrate`` writes: the same schema and the rows of the data migrations.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MUSTER = Path(sys.executable).parent / "muster"
DATABASE = "muster.sqlite3"  # the file name make_script_env's DATABASE_URL points at


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


def make_script_env(base: Path, *, database: Path | None = None) -> ScriptEnv:
    """A var/ directory ``base`` for the script; its database starts as a copy of ``database`` (the
    ``migrated_template`` fixture), or does not exist yet."""
    base.mkdir(parents=True, exist_ok=True)
    if database is not None:
        copy_database(database, base / DATABASE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSTER_") and k != "DATABASE_URL"}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{base / DATABASE}",
            "MUSTER_VAR_DIR": str(base),
            "MUSTER_LANGUAGE": "en",
            "DJANGO_SETTINGS_MODULE": "muster.settings",
        }
    )
    return ScriptEnv(var_dir=base, env=env)


def copy_database(template: Path, target: Path) -> None:
    """A copy of the template SQLite file (a single file: its write-ahead log was folded into it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def migrated_template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated by ``muster migrate``, made once per session (the ``migrated_template``
    fixture of tests/conftest.py).

    Under pytest-xdist the workers share it: it lives in the session's temporary directory (the parent of
    each worker's own), and the first worker to take the file lock migrates while the others wait."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / "muster-migrated-template"
    template, ready = folder / DATABASE, folder / "ready"
    with open(root / "muster-migrated-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not ready.exists():
                shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
                result = make_script_env(folder).run("migrate", "--noinput", "-v", "0", timeout=900)
                assert result.returncode == 0, result.stderr
                with closing(sqlite3.connect(template)) as db:  # one self-contained file to copy
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                ready.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return template


@pytest.fixture
def script_env(tmp_path: Path) -> ScriptEnv:
    """A var/ directory whose database does not exist yet."""
    return make_script_env(tmp_path / "var")


@pytest.fixture
def migrated_script_env(tmp_path: Path, migrated_template: Path) -> ScriptEnv:
    """A var/ directory with a migrated database (a copy of the session's template)."""
    return make_script_env(tmp_path / "var", database=migrated_template)
