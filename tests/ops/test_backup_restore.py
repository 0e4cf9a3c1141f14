"""``muster backup`` / ``muster restore`` through the real console script.

An organization is built in one var directory (its own database), backed up, and restored into a fresh
var directory with the same field key: the reports, the briefing, the exports (ID numbers and phones
decrypted), the evidence file and the logins come out the same. On SQLite always; on PostgreSQL when
DATABASE_URL points at one (the restore goes into a second database, created and dropped here).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from muster.ops.backup import sign_manifest
from muster.orgs.crypto import new_key
from tests.cli.conftest import ScriptEnv, make_script_env
from tests.ops import org_builder

BUILDER = Path(org_builder.__file__).resolve()
BUILD = f"import runpy; runpy.run_path({str(BUILDER)!r}, run_name='__main__')"
AS_OF = org_builder.AS_OF
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

# What must come out the same: (command line, file it writes or None for its stdout).
SAME = [
    (("report", "--as-of", AS_OF, "--unit", "SH"), None),
    (("report", "--as-of", AS_OF, "--unit", "SH", "--json"), None),
    (("brief", "--as-of", AS_OF, "--unit", "SH", "--lang", "zh"), None),
    (("brief", "--as-of", AS_OF, "--unit", "XH", "--lang", "en"), None),
    (("export", "{dir}/people.csv"), "people.csv"),  # ID numbers and phones, decrypted
    (("export", "--ledger", "{dir}/service.csv"), "service.csv"),
]
PW = org_builder.PASSWORD
LOGIN = (  # the password hash verifies, and the login page lets her in
    "from django.contrib.auth import get_user_model; from django.test import Client; "
    "u = get_user_model().objects.get(username='zhangli'); c = Client(HTTP_HOST='localhost'); "
    f"r = c.post('/accounts/login/', {{'username': 'zhangli', 'password': {PW!r}}}); "
    f"print(u.check_password({PW!r}), u.check_password('not-the-password'), r.status_code, "
    "c.session.get('_auth_user_id') == str(u.pk))"
)


def ok(env: ScriptEnv, *args: str) -> str:
    r = env.run(*args)
    assert r.returncode == 0, f"muster {' '.join(args)}: {r.stderr}"
    return r.stdout


def refused(env: ScriptEnv, *args: str) -> str:
    r = env.run(*args)
    assert r.returncode != 0, r.stdout
    return r.stderr


def var_env(
    base: Path, key: str, secret: str, database_url: str | None = None, database: Path | None = None
) -> ScriptEnv:
    env = make_script_env(base, database=database)
    env.env.update({"MUSTER_FIELD_KEY": key, "MUSTER_SECRET_KEY": secret})
    if database_url:
        env.env["DATABASE_URL"] = database_url
    return env


def outputs(env: ScriptEnv, folder: Path) -> list[bytes]:
    folder.mkdir(exist_ok=True)
    out = []
    for args, written in SAME:
        stdout = ok(env, *(a.replace("{dir}", str(folder)) for a in args))
        out.append((folder / written).read_bytes() if written else stdout.encode())
    return out


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def write_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def back_up(env: ScriptEnv, folder: Path, key: str, secret: str) -> tuple[Path, dict[str, Any]]:
    out = ok(env, "backup", "--output", f"{folder}/")
    archive = next(folder.glob("muster-backup-*.tar.gz"))
    assert str(archive) in out
    assert "The field key is NOT in the backup" in out and "cannot be read" in out
    inside = members(archive)
    raw_manifest = inside.pop("manifest.json")
    manifest = json.loads(raw_manifest)
    assert manifest["format"] == "muster-backup" and manifest["field_key_fingerprint"] in out
    signature = json.loads(inside.pop("manifest.sig"))  # the manifest's exact bytes, under the field key
    assert signature == sign_manifest(raw_manifest, secret=key, source="MUSTER_FIELD_KEY")
    assert manifest["counts"]["media_files"] == 1
    assert set(manifest["members"]) == set(inside)
    for name, data in inside.items():  # every member's checksum
        assert manifest["members"][name] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    evidence = [n for n in inside if n.startswith("media/mobilize/evidence/")]
    assert len(evidence) == 1 and inside[evidence[0]] == org_builder.EVIDENCE
    everything = archive.read_bytes() + b"".join(inside.values())
    for secret_value in (key, secret):  # neither key, anywhere in the archive
        assert secret_value.encode() not in everything
    assert key.encode() not in json.dumps(manifest).encode()
    return archive, manifest


def resigned(files: dict[str, bytes], key: str, source: str = "MUSTER_FIELD_KEY") -> dict[str, bytes]:
    """The archive's members with manifest.sig made anew for its (changed) manifest under ``key``: what
    only a holder of the key can do."""
    files = dict(files)
    files["manifest.sig"] = json.dumps(
        sign_manifest(files["manifest.json"], secret=key, source=source)
    ).encode()
    return files


def assert_same(a: ScriptEnv, b: ScriptEnv, tmp_path: Path, evidence_member: str) -> None:
    assert outputs(a, tmp_path / "out-a") == outputs(b, tmp_path / "out-b")
    name = evidence_member.removeprefix("media/")
    assert (b.var_dir / "media" / name).read_bytes() == (a.var_dir / "media" / name).read_bytes()
    assert ok(b, "shell", "-v0", "-c", LOGIN).split() == ["True", "False", "302", "True"]


def test_backup_restores_into_a_fresh_directory_with_the_same_reports_files_and_logins(
    tmp_path: Path, migrated_template: Path
) -> None:
    key, other_key = new_key(), new_key()
    a = var_env(tmp_path / "a", key, "secret-of-a-" + new_key(), database=migrated_template)  # migrated
    b = var_env(tmp_path / "b", key, "secret-of-b-" + new_key())  # another secret key: logins still work
    ok(a, "shell", "-v0", "-c", BUILD)
    ok(a, "migrate", "partylife", "0002", "-v0")  # as an older Muster left it
    archive, manifest = back_up(a, tmp_path / "backups", key, a.env["MUSTER_SECRET_KEY"])
    assert manifest["engine"] == "sqlite"
    assert manifest["migrations"]["partylife"] == ["0001_initial", "0002_seed_requirements"]
    assert a.counts(made=("audit.AuditEvent", {"action": "ops.backup.created", "channel": "cli"})) == {
        "made": 1
    }
    evidence = next(n for n in manifest["members"] if n.startswith("media/"))

    # Refused, with nothing changed: no file, not a Muster archive, a damaged one, the wrong field key.
    assert "No such file" in refused(b, "restore", str(tmp_path / "nope.tar.gz"))
    text = tmp_path / "notes.tar.gz"
    text.write_text("hello")
    assert "is not a Muster backup: it is not a .tar.gz archive" in refused(b, "restore", str(text))
    other = write_tar(tmp_path / "other.tar.gz", {"readme.txt": b"hi"})
    assert "is not a Muster backup: it holds no manifest.json" in refused(b, "restore", str(other))
    inside = members(archive)
    inside[evidence] = inside[evidence][:-1] + b"!"
    damaged = write_tar(tmp_path / "damaged.tar.gz", inside)
    assert f"{evidence} does not match its checksum" in refused(b, "restore", str(damaged))
    # A member replaced together with its checksum in the manifest: the manifest no longer matches its
    # signature (the manifest vouches for every member, the signature for the manifest).
    forged = members(archive)
    listed = json.loads(forged["manifest.json"])
    forged[evidence] = b"a photo someone else took"
    listed["members"][evidence] = {"size": 25, "sha256": hashlib.sha256(forged[evidence]).hexdigest()}
    forged["manifest.json"] = json.dumps(listed, ensure_ascii=False, indent=2, sort_keys=True).encode()
    message = refused(b, "restore", str(write_tar(tmp_path / "forged.tar.gz", forged)))
    assert "has been altered: its manifest does not match its signature" in message
    assert "Nothing was changed" in message
    # ... also when the forger signs it with a key of their own
    message = refused(b, "restore", str(write_tar(tmp_path / "forged2.tar.gz", resigned(forged, new_key()))))
    assert "is not the key of this backup" in message or "signed with another backup key" in message
    unsigned = members(archive)
    del unsigned["manifest.sig"]
    message = refused(b, "restore", str(write_tar(tmp_path / "unsigned.tar.gz", unsigned)))
    assert "is not signed (it holds no manifest.sig)" in message
    # A hostile archive whose manifest vouches for a member outside the staging folder: refused unsigned,
    # and refused when signed with the right key too.
    hostile = members(archive)
    listed = json.loads(hostile["manifest.json"])
    listed["members"]["../escaped.txt"] = {"size": 1, "sha256": hashlib.sha256(b"x").hexdigest()}
    hostile["manifest.json"] = json.dumps(listed).encode()
    hostile["../escaped.txt"] = b"x"
    message = refused(b, "restore", str(write_tar(tmp_path / "hostile.tar.gz", hostile)))
    assert "does not match its signature" in message
    message = refused(b, "restore", str(write_tar(tmp_path / "hostile2.tar.gz", resigned(hostile, key))))
    assert "unexpected member ../escaped.txt" in message
    wrong = var_env(b.var_dir, other_key, b.env["MUSTER_SECRET_KEY"])
    message = refused(wrong, "restore", str(archive))
    assert "is not the key of this backup" in message and manifest["field_key_fingerprint"] in message
    assert not (b.var_dir / "media").exists()
    with closing(sqlite3.connect(b.var_dir / "muster.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone() == (0,)

    out = ok(b, "restore", str(archive))
    assert "Restored the backup" in out
    assert "[X] 0003_ordering_ties" in ok(b, "showmigrations", "partylife")  # migrated forward
    assert_same(a, b, tmp_path, evidence)
    assert b.counts(restored=("audit.AuditEvent", {"action": "ops.backup.restored", "channel": "cli"})) == {
        "restored": 1
    }

    # Over data: refused without --force; with --force not while the database is open elsewhere.
    assert "The target is not empty (6 units, 3 people, 1 logins, 1 uploaded files)" in refused(
        b, "restore", str(archive)
    )
    held = sqlite3.connect(b.var_dir / "muster.sqlite3")
    try:
        held.execute("SELECT count(*) FROM orgs_unit").fetchone()
        assert "is in use" in refused(b, "restore", str(archive), "--force")
    finally:
        held.close()
    # A backup whose database file is damaged (its checksum and signature made for the damaged bytes, as
    # when the copy went wrong where it was made): refused before the current database is touched.
    bad = members(archive)
    bad["database/muster.sqlite3"] = bad["database/muster.sqlite3"][:4096] + b"\xff" * 8192
    listed = json.loads(bad["manifest.json"])
    listed["members"]["database/muster.sqlite3"] = {
        "size": len(bad["database/muster.sqlite3"]),
        "sha256": hashlib.sha256(bad["database/muster.sqlite3"]).hexdigest(),
    }
    bad["manifest.json"] = json.dumps(listed).encode()
    before = (b.var_dir / "muster.sqlite3").read_bytes()
    message = refused(b, "restore", str(write_tar(tmp_path / "bad-db.tar.gz", resigned(bad, key))), "--force")
    assert "The database in the backup is damaged" in message and "Nothing was changed" in message
    assert (b.var_dir / "muster.sqlite3").read_bytes() == before
    assert not list(b.var_dir.glob("muster.sqlite3.*"))  # no copy left behind, nothing moved aside
    assert not list(b.var_dir.glob("media.before-restore-*"))

    out = ok(b, "restore", str(archive), "--force")
    assert "--force: the current database file is kept beside it" in out
    assert len(list(b.var_dir.glob("muster.sqlite3.before-restore-*"))) == 1
    assert len(list(b.var_dir.glob("media.before-restore-*"))) == 1
    assert b.counts(units=("orgs.Unit", {}), people=("orgs.Person", {})) == {"units": 6, "people": 3}


@pytest.fixture
def second_database() -> Iterator[str]:
    """A database beside pytest's test database (the ``muster`` role may create databases)."""
    name = f"{connection.settings_dict['NAME']}_restore"
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        cursor.execute(f"CREATE DATABASE {quoted}")
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="") + (":" + quote(s["PASSWORD"], safe="") if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{quote(name, safe='')}"


@pytest.mark.skipif(not ON_POSTGRESQL, reason="DATABASE_URL does not point at PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_postgresql_backup_restores_into_a_second_database(tmp_path: Path, second_database: str) -> None:
    key, backup_key = new_key(), new_key()
    a = var_env(tmp_path / "a", key, "secret-" + new_key(), _url(connection.settings_dict["NAME"]))
    a.env["MUSTER_BACKUP_KEY"] = backup_key  # signs the manifests instead of the field key
    b = var_env(tmp_path / "b", key, "secret-" + new_key(), _url(second_database))
    ok(a, "shell", "-v0", "-c", BUILD)  # into pytest's (migrated) test database; flushed afterwards
    archive, manifest = back_up_signed(a, tmp_path / "backups", key, backup_key)
    assert manifest["engine"] == "postgresql" and "database/muster.pgdump" in manifest["members"]
    message = refused(b, "restore", str(archive))  # the new machine does not have the backup key yet
    assert "signed with another backup key" in message and "MUSTER_BACKUP_KEY" in message
    b.env["MUSTER_BACKUP_KEY"] = backup_key
    out = ok(b, "restore", str(archive))
    assert "Restored the backup" in out
    evidence = next(n for n in manifest["members"] if n.startswith("media/"))
    assert_same(a, b, tmp_path, evidence)
    assert "The target is not empty" in refused(b, "restore", str(archive))
    out = ok(b, "restore", str(archive), "--force")
    assert "every table of the current database is dropped" in out
    assert b.counts(units=("orgs.Unit", {}), people=("orgs.Person", {})) == {"units": 6, "people": 3}

    # A restore that fails part way (here: a view of the operator's own stands in the way of dropping a
    # table) leaves the database as it was: the table of a newer Muster that the backup lacks included.
    ok(b, "shell", "-v0", "-c", PG_EXTRA)
    message = refused(b, "restore", str(archive), "--force")
    assert "psql failed" in message and "Nothing was changed" in message
    assert ok(b, "shell", "-v0", "-c", PG_STATE).split() == ["6", "3", "1", "1"]
    # ... and a truncated archive is refused before anything is touched
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert "damaged or incomplete" in refused(b, "restore", str(cut), "--force")
    assert ok(b, "shell", "-v0", "-c", PG_STATE).split() == ["6", "3", "1", "1"]


PG_EXTRA = (
    "from django.db import connection; c = connection.cursor(); "
    "c.execute('CREATE TABLE ops_newer_feature (id integer PRIMARY KEY, note text)'); "
    "c.execute(\"INSERT INTO ops_newer_feature VALUES (1, 'kept')\"); "
    "c.execute('CREATE VIEW ops_unit_names AS SELECT name FROM orgs_unit')"
)
PG_STATE = (
    "from django.db import connection; c = connection.cursor(); out = []\n"
    "for q in ('SELECT count(*) FROM orgs_unit', 'SELECT count(*) FROM orgs_person', "
    "'SELECT count(*) FROM ops_newer_feature', 'SELECT count(*) FROM ops_unit_names LIMIT 1'):\n"
    "    c.execute(q); out.append(c.fetchone()[0])\n"
    "print(*out[:3], int(out[3] == 6))"
)


def back_up_signed(env: ScriptEnv, folder: Path, key: str, backup_key: str) -> tuple[Path, dict[str, Any]]:
    """``back_up``, when MUSTER_BACKUP_KEY signs the manifest."""
    out = ok(env, "backup", "--output", f"{folder}/")
    archive = next(folder.glob("muster-backup-*.tar.gz"))
    assert str(archive) in out
    inside = members(archive)
    signature = json.loads(inside["manifest.sig"])
    assert signature == sign_manifest(inside["manifest.json"], secret=backup_key, source="MUSTER_BACKUP_KEY")
    assert backup_key.encode() not in archive.read_bytes() + b"".join(inside.values())
    return archive, json.loads(inside["manifest.json"])
