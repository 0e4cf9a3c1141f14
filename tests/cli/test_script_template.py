"""The migrated template the console-script tests start from is the database ``muster migrate`` writes:
every migration applied, the schema of pytest's own (migrated) test database, and a copy that is the
template to the byte."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from django.db import connection

from tests.cli.conftest import DATABASE, ScriptEnv

SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"


def _open(path: Path) -> closing[sqlite3.Connection]:
    """Read the file as it is (no write-ahead log or shared-memory file is made beside it)."""
    return closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True))


def _read(path: Path, query: str) -> list[tuple[object, ...]]:
    with _open(path) as db:
        return db.execute(query).fetchall()


def _dump(path: Path) -> list[str]:
    with _open(path) as db:
        return list(db.iterdump())


def test_a_copy_is_the_template_with_nothing_left_to_migrate(
    migrated_script_env: ScriptEnv, migrated_template: Path
) -> None:
    copy = migrated_script_env.var_dir / DATABASE
    assert copy.read_bytes() == migrated_template.read_bytes()
    assert not list(migrated_template.parent.glob(f"{DATABASE}-*"))  # one self-contained file
    assert _dump(copy) == _dump(migrated_template)
    seeded = _read(copy, "SELECT count(*) FROM points_pointrule")[0][0]
    assert isinstance(seeded, int) and seeded > 0  # the rows of the data migrations are there
    check = migrated_script_env.run("migrate", "--check", "--noinput")
    assert check.returncode == 0, check.stdout + check.stderr  # no migration left to apply


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="compares with pytest's SQLite test database")
def test_the_template_has_the_schema_and_migrations_of_the_test_database(migrated_template: Path) -> None:
    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)
        ours = [tuple(row) for row in cursor.fetchall()]
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        applied = [tuple(row) for row in cursor.fetchall()]
    assert _read(migrated_template, SCHEMA) == ours
    assert _read(migrated_template, "SELECT app, name FROM django_migrations ORDER BY app, name") == applied
