"""Backup and restore: the database, the uploaded files and a manifest in one .tar.gz archive.

An archive holds::

    database/muster.sqlite3   SQLite: a consistent copy through SQLite's online backup API (the app may
                              keep running; WAL mode lets readers and the copy go on beside writers)
    database/muster.pgdump    PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot)
    media/…                   every file under MEDIA_ROOT (evidence photos, meeting attachments, …)
    manifest.json             format, Muster version, time, engine, the migrations applied per app, the
                              number of files, each member's size and SHA-256, the field key's fingerprint
    manifest.sig              HMAC-SHA256 of manifest.json's exact bytes under the backup key: the manifest
                              vouches for every member by its SHA-256, the signature for the manifest

It never holds the field key (``MUSTER_FIELD_KEY`` / ``var/field.key``, the key of the ID numbers and
phones encrypted at rest) nor the secret key: the key is kept apart, and the manifest holds only a
fingerprint of it (a keyed digest of a value derived from it, not the key) so that a restore can tell
whether the configured key is the right one. The database is copied first, then the files: a file uploaded
meanwhile is in the archive unreferenced, never the other way round.

The backup key signs the manifest: ``MUSTER_BACKUP_KEY`` when it is set, otherwise the field key (which a
restore needs anyway, and which is kept apart from the backups). Only a holder of that key can make an
archive that a restore accepts: an altered member or manifest, or an archive made elsewhere, is refused.

A restore checks everything before it changes anything (the signature, the archive, the manifest, every
checksum, the engine, the field key, that the backup is not from a newer Muster, that the target is empty
unless ``force``; PostgreSQL: that ``pg_restore`` reads the whole dump), then puts the database in place
(SQLite: a verified copy renamed over the file in one step, while no connection is open; PostgreSQL: the
dump as one SQL script run by ``psql --single-transaction`` together with the dropping of tables the
backup lacks, so that a failure anywhere leaves the database exactly as it was), then the files, then
runs ``migrate`` (a backup of an older version comes forward). Both are audited (``ops.backup.created``
in the database that was copied, ``ops.backup.restored`` in the restored one).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.orgs.models import Person, Unit

FORMAT = "muster-backup"
FORMAT_VERSION = 2  # 2: signed (manifest.sig)
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_ALGORITHM = "HMAC-SHA256"
SQLITE_MEMBER = "database/muster.sqlite3"
PG_MEMBER = "database/muster.pgdump"
MEDIA_DIR = "media"
_CHUNK = 1024 * 1024
_PG_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator (translated)."""


@dataclass
class BackupReport:
    path: Path
    size: int
    manifest: dict[str, Any]


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    media_files: int
    kept: list[Path] = field(default_factory=list)  # what --force moved aside


# ---------------------------------------------------------------- shared


def key_fingerprint(secret: str) -> str:
    """Eight hex digits that tell field keys apart without revealing them.

    HMAC-SHA256 of a fixed label under SHA-256 of the key (the root the encryption and lookup sub-keys are
    derived from in ``muster.orgs.crypto``), cut to 32 bits: nothing about the key or its sub-keys follows.
    """
    root = hashlib.sha256(secret.encode()).digest()
    return hmac.new(root, b"muster-backup-key-fingerprint", hashlib.sha256).hexdigest()[:8]


def backup_secret() -> tuple[str, str]:
    """(the secret the backup key is derived from, the setting it comes from)."""
    own = str(getattr(settings, "MUSTER_BACKUP_KEY", "") or "")
    if own:
        return own, "MUSTER_BACKUP_KEY"
    return str(settings.FIELD_ENCRYPTION_KEY), "MUSTER_FIELD_KEY"


def _signing_key(secret: str) -> bytes:
    """The manifest's HMAC key: a sub-key of ``secret`` for this one purpose (never the secret itself)."""
    root = hashlib.sha256(secret.encode()).digest()
    return hmac.new(root, b"muster-backup-manifest-hmac-v1", hashlib.sha256).digest()


def signing_key_id(secret: str) -> str:
    """Eight hex digits telling backup keys apart (a digest of the sub-key; reveals nothing of it)."""
    return hmac.new(_signing_key(secret), b"muster-backup-key-id", hashlib.sha256).hexdigest()[:8]


def sign_manifest(data: bytes, *, secret: str, source: str) -> dict[str, str]:
    """The content of ``manifest.sig`` for the manifest's exact bytes ``data``."""
    return {
        "algorithm": SIGNATURE_ALGORITHM,
        "key": source,
        "key_id": signing_key_id(secret),
        "hmac": hmac.new(_signing_key(secret), data, hashlib.sha256).hexdigest(),
    }


def muster_version() -> str:
    try:
        return metadata.version("muster")
    except metadata.PackageNotFoundError:
        return "unknown"


def engine() -> str:
    return str(connection.vendor)  # "sqlite" or "postgresql"


def key_reminder(fingerprint: str) -> str:
    return _(
        "The field key is NOT in the backup, nor is the secret key. Keep MUSTER_FIELD_KEY (or the file "
        "var/field.key) apart from the backups, somewhere safe: without it the ID numbers and phone numbers "
        "in the backup cannot be read, by anyone. A restore needs the same key (fingerprint %(fp)s)."
    ) % {"fp": fingerprint}


class _Hashing:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def _pg_connection() -> tuple[list[str], dict[str, str], str]:
    """Arguments and environment for pg_dump / pg_restore: the password goes in PGPASSWORD, never argv."""
    db = connection.settings_dict
    args: list[str] = ["--no-password"]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    options = db.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(option):
            env[variable] = str(options[option])
    return args, env, str(db["NAME"])


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(tool)s was not found; install the PostgreSQL client programs (the server's version "
                "or newer)."
            )
            % {"tool": name}
        )
    return path


def _run_pg(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = " ".join(done.stderr.strip().splitlines()[-5:])
        raise BackupError(
            _("%(tool)s failed (exit status %(status)s): %(detail)s. Nothing was changed.")
            % {"tool": Path(argv[0]).name, "status": done.returncode, "detail": detail}
        )


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _media_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(path, member name) of every regular file under ``root``, in a stable order; links are skipped."""
    if not root.is_dir():
        return
    for here, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(here) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path, f"{MEDIA_DIR}/{path.relative_to(root).as_posix()}"


# ---------------------------------------------------------------- backup


def _output_path(output: str | None) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    name = f"muster-backup-{stamp}.tar.gz"
    if not output:
        folder = Path(settings.VAR_DIR) / "backups"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / name
    elif Path(output).is_dir() or output.endswith(("/", os.sep)):
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
    else:
        path = Path(output)
        if not path.parent.is_dir():
            raise BackupError(_("There is no directory %(path)s.") % {"path": path.parent})
    if path.exists():
        raise BackupError(_("%(path)s already exists; name a new file or a directory.") % {"path": path})
    media = _media_root().resolve()
    if path.resolve().is_relative_to(media):
        raise BackupError(
            _("Write the backup outside the uploaded files (%(media)s).") % {"media": _media_root()}
        )
    return path


def _dump_sqlite(dest: Path) -> dict[str, list[str]]:
    """A consistent copy of the SQLite database (online backup API); the migrations recorded in it."""
    connection.ensure_connection()
    source = cast(sqlite3.Connection, connection.connection)
    copy = sqlite3.connect(dest)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        status = copy.execute("PRAGMA quick_check").fetchone()[0]
        if status != "ok":
            raise BackupError(_("The database copy failed its check: %(status)s") % {"status": status})
        applied: dict[str, list[str]] = {}
        try:
            rows = copy.execute("SELECT app, name FROM django_migrations ORDER BY app, name").fetchall()
        except sqlite3.OperationalError:
            rows = []
        for app, name in rows:
            applied.setdefault(app, []).append(name)
    finally:
        copy.close()
    return applied


def _dump_postgresql(dest: Path) -> dict[str, list[str]]:
    """``pg_dump --format=custom`` of the configured database; the migrations recorded before it."""
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    args, env, name = _pg_connection()
    _run_pg([_pg_tool("pg_dump"), "--format=custom", "--file", str(dest), *args, "--dbname", name], env)
    return applied


def _add(tar: tarfile.TarFile, path: Path, member: str) -> dict[str, Any]:
    stat = path.stat()
    info = tarfile.TarInfo(member)
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
    with path.open("rb") as f:
        reader = _Hashing(f)
        tar.addfile(info, cast(IO[bytes], reader))
    return {"size": reader.size, "sha256": reader.sha.hexdigest()}


def backup_create(*, actor: Any, output: str | None = None) -> BackupReport:
    """Write a backup archive (see the module's docstring) and audit it; return where and what."""
    path = _output_path(output)
    kind = engine()
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups know SQLite and PostgreSQL, not %(engine)s.") % {"engine": kind})
    fingerprint = key_fingerprint(settings.FIELD_ENCRYPTION_KEY)
    created = timezone.now()
    with tempfile.TemporaryDirectory(prefix="muster-backup-") as tmp:
        if kind == "sqlite":
            db_member, db_file = SQLITE_MEMBER, Path(tmp) / "muster.sqlite3"
            migrations = _dump_sqlite(db_file)
        else:
            db_member, db_file = PG_MEMBER, Path(tmp) / "muster.pgdump"
            migrations = _dump_postgresql(db_file)
        members: dict[str, dict[str, Any]] = {}
        media_bytes = 0
        # A new file of our own (O_EXCL, mode 0600) beside the target, never one someone put there first.
        fd, partial_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        partial = Path(partial_name)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                members[db_member] = _add(tar, db_file, db_member)
                for file, member in _media_files(_media_root()):
                    members[member] = _add(tar, file, member)
                    media_bytes += members[member]["size"]
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "muster_version": muster_version(),
                    "created_at": created.isoformat(),
                    "engine": kind,
                    "database": db_member,
                    "migrations": migrations,
                    "counts": {"media_files": len(members) - 1, "media_bytes": media_bytes},
                    "members": members,
                    "field_key_fingerprint": fingerprint,
                    "field_key_included": False,
                    "secret_key_included": False,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
                secret, source = backup_secret()
                signature = json.dumps(sign_manifest(data, secret=secret, source=source)).encode()
                for member, content in ((MANIFEST, data), (SIGNATURE, signature)):
                    info = tarfile.TarInfo(member)
                    info.size, info.mtime, info.mode = len(content), int(created.timestamp()), 0o600
                    tar.addfile(info, io.BytesIO(content))
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    size = path.stat().st_size
    log_action(
        actor,
        action="ops.backup.created",
        changes={
            "file": str(path),
            "size": size,
            "engine": kind,
            "media_files": len(members) - 1,
            "key_fingerprint": fingerprint,
        },
    )
    return BackupReport(path, size, manifest)


# ---------------------------------------------------------------- restore


def _not_ours(path: Path, why: str) -> BackupError:
    return BackupError(
        _("%(path)s is not a Muster backup: %(why)s") % {"path": path, "why": why},
    )


def _safe_member(name: str) -> bool:
    parts = name.split("/")
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and all(p not in ("", ".", "..") for p in parts)
        and (
            name in (MANIFEST, SIGNATURE)
            or name in (SQLITE_MEMBER, PG_MEMBER)
            or (parts[0] == MEDIA_DIR and len(parts) > 1)
        )
    )


def read_manifest(path: Path) -> tuple[tarfile.TarFile, dict[str, Any]]:
    """Open an archive and check that it is a Muster backup this version can read; (archive, manifest)."""
    if not path.is_file():
        raise BackupError(_("No such file: %(path)s") % {"path": path})
    try:
        tar = tarfile.open(path, "r:gz")  # the caller closes it
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise _not_ours(path, _("it is not a .tar.gz archive")) from None
    try:
        try:
            names = tar.getnames()
            data = _read_member(tar, MANIFEST)
            if data is None:
                raise _not_ours(path, _("it holds no manifest.json"))
            signature = _read_member(tar, SIGNATURE)
        except (tarfile.TarError, OSError, EOFError, zlib.error):
            raise BackupError(
                _("%(path)s is damaged or incomplete; it cannot be read to the end.") % {"path": path}
            ) from None
        try:
            manifest = json.loads(data)
        except ValueError:
            raise _not_ours(path, _("its manifest.json is not a Muster manifest")) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise _not_ours(path, _("its manifest.json is not a Muster manifest"))
        _check_signature(path, data, signature, manifest)
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BackupError(
                _("%(path)s was written by a newer Muster (%(version)s); upgrade Muster to restore it.")
                % {"path": path, "version": manifest.get("muster_version", "?")}
            )
        members = manifest.get("members")
        if not isinstance(members, dict) or manifest.get("database") not in members:
            raise _not_ours(path, _("its manifest.json is not a Muster manifest"))
        for name in [*names, *members]:
            if not _safe_member(name):
                raise _not_ours(path, _("it holds an unexpected member %(name)s") % {"name": name[:200]})
        return tar, manifest
    except BaseException:
        tar.close()
        raise


def _read_member(tar: tarfile.TarFile, name: str, limit: int = 64 * 1024 * 1024) -> bytes | None:
    """A small member's bytes (the manifest, the signature), or ``None`` when the archive lacks it."""
    try:
        info = tar.getmember(name)
    except KeyError:
        return None
    if not info.isfile() or info.size > limit:
        return None
    raw = tar.extractfile(info)
    return raw.read() if raw is not None else None


def _field_key_message(here: str, backup: Any) -> str:
    return _(
        "The field key configured here (fingerprint %(here)s) is not the key of this backup "
        "(fingerprint %(backup)s): the ID numbers and phone numbers in it could not be read. Set "
        "MUSTER_FIELD_KEY (or var/field.key) to the key kept with the backups, then restore again. "
        "Nothing was changed."
    ) % {"here": here, "backup": backup}


def _check_signature(path: Path, data: bytes, raw: bytes | None, manifest: dict[str, Any]) -> None:
    """The manifest's exact bytes must carry a valid HMAC under this installation's backup key; else
    nothing in the archive can be trusted, and nothing is touched."""
    if raw is None:
        raise BackupError(
            _(
                "%(path)s is not signed (it holds no manifest.sig): it cannot be told apart from an archive "
                "forged or altered by someone else, so it is not restored. Nothing was changed."
            )
            % {"path": path}
        )
    try:
        signature = json.loads(raw)
    except ValueError:
        signature = None
    if (
        not isinstance(signature, dict)
        or signature.get("algorithm") != SIGNATURE_ALGORITHM
        or not isinstance(signature.get("hmac"), str)
    ):
        raise _not_ours(path, _("its manifest.sig is not a Muster signature"))
    secret, source = backup_secret()
    ours = sign_manifest(data, secret=secret, source=source)
    if hmac.compare_digest(ours["hmac"].encode(), signature["hmac"].encode()):
        return
    if signature.get("key_id") != ours["key_id"]:
        fingerprint = key_fingerprint(settings.FIELD_ENCRYPTION_KEY)
        if source == "MUSTER_FIELD_KEY" and manifest.get("field_key_fingerprint") != fingerprint:
            # signed with the field key, and the field key here is another one: say which key to set
            raise BackupError(_field_key_message(fingerprint, manifest.get("field_key_fingerprint")))
        raise BackupError(
            _(
                "%(path)s was signed with another backup key (key id %(theirs)s, set in %(their_source)s "
                "where it was made); the key here (%(source)s) has key id %(ours)s. Set MUSTER_BACKUP_KEY — "
                "or, when the backup was signed with the field key, MUSTER_FIELD_KEY — to the key of the "
                "installation that made the backup, then restore again. Nothing was changed."
            )
            % {
                "path": path,
                "theirs": str(signature.get("key_id"))[:16],
                "their_source": str(signature.get("key"))[:40],
                "source": source,
                "ours": ours["key_id"],
            }
        )
    raise BackupError(
        _(
            "%(path)s has been altered: its manifest does not match its signature. Do not use this archive; "
            "restore another copy. Nothing was changed."
        )
        % {"path": path}
    )


def _check_fits(path: Path, manifest: dict[str, Any]) -> None:
    """The engine, the field key and the migrations must fit this installation."""
    kind = engine()
    if manifest.get("engine") != kind:
        raise BackupError(
            _(
                "%(path)s holds a %(backup)s database, but this Muster is configured for %(here)s; "
                "restore it into the same kind of database."
            )
            % {"path": path, "backup": manifest.get("engine"), "here": kind}
        )
    here = key_fingerprint(settings.FIELD_ENCRYPTION_KEY)
    if manifest.get("field_key_fingerprint") != here:
        raise BackupError(_field_key_message(here, manifest.get("field_key_fingerprint")))
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    migrations = manifest.get("migrations") or {}
    for app, names in sorted(migrations.items()):
        for name in names:
            if (app, name) not in known:
                raise BackupError(
                    _(
                        "%(path)s was made by a newer Muster (%(version)s): its migration %(app)s.%(name)s "
                        "is unknown here. Upgrade Muster, then restore."
                    )
                    % {"path": path, "version": manifest.get("muster_version", "?"), "app": app, "name": name}
                )


def _target_counts() -> dict[str, int]:
    """What the configured database and MEDIA_ROOT hold now (zero everywhere: an empty target)."""
    tables = set(connection.introspection.table_names())
    counts = {"units": 0, "people": 0, "users": 0}
    for key, model in (("units", Unit), ("people", Person), ("users", get_user_model())):
        if model._meta.db_table in tables:
            counts[key] = model._default_manager.count()
    counts["files"] = sum(1 for _f in _media_files(_media_root()))
    return counts


def _verify_and_stage(path: Path, tar: tarfile.TarFile, manifest: dict[str, Any], stage: Path) -> None:
    """Extract every member into ``stage`` and check it against the manifest's size and SHA-256."""
    members: dict[str, dict[str, Any]] = manifest["members"]
    seen: set[str] = set()
    try:
        for info in tar:
            if info.name in (MANIFEST, SIGNATURE):
                continue
            if not info.isfile() or info.name not in members or info.name in seen:
                raise _not_ours(path, _("it holds an unexpected member %(name)s") % {"name": info.name[:200]})
            target = (stage / info.name).resolve()
            if not target.is_relative_to(stage.resolve()) or "\\" in info.name:
                # An absolute name or one with ".." would be written outside the staging folder.
                raise _not_ours(path, _("it holds an unexpected member %(name)s") % {"name": info.name[:200]})
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(info)
            assert source is not None
            reader = _Hashing(source)
            with target.open("wb") as out:
                shutil.copyfileobj(cast(IO[bytes], reader), out, _CHUNK)
            want = members[info.name]
            if reader.size != want.get("size") or reader.sha.hexdigest() != want.get("sha256"):
                raise BackupError(
                    _(
                        "%(path)s is damaged: %(member)s does not match its checksum in the manifest. "
                        "Nothing was changed."
                    )
                    % {"path": path, "member": info.name}
                )
            seen.add(info.name)
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise BackupError(
            _("%(path)s is damaged or incomplete; it cannot be read to the end.") % {"path": path}
        ) from None
    missing = sorted(set(members) - seen)
    if missing:
        raise BackupError(
            _("%(path)s is incomplete: %(member)s is missing. Nothing was changed.")
            % {"path": path, "member": missing[0]}
        )


def _sqlite_in_place(staged: Path, *, force: bool, stamp: str, kept: list[Path]) -> None:
    """Put the staged database file where the settings point, in one rename, while no connection is open.

    The copy is made and checked beside the target first (same file system: the rename is atomic); the
    current file stays in place until that rename (with ``force`` a hard link keeps it, renamed
    *.before-restore-*), so a failure at any step leaves the database as it was."""
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise BackupError(_("An in-memory SQLite database cannot be restored into."))
    target = Path(name)
    incoming = target.with_name(f"{target.name}.restoring")
    try:
        shutil.copyfile(staged, incoming)
        os.chmod(incoming, 0o600)
        check = sqlite3.connect(incoming)
        try:
            status = str(check.execute("PRAGMA quick_check").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            status = str(exc)
        finally:
            check.close()
        if status != "ok":
            raise BackupError(
                _(
                    "The database in the backup is damaged (%(status)s); it was not restored. "
                    "Nothing was changed."
                )
                % {"status": status[:200]}
            )
        connections.close_all()
        if target.exists():
            probe = sqlite3.connect(target, timeout=5)
            try:
                mode = probe.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            except sqlite3.OperationalError:
                mode = "busy"
            finally:
                probe.close()
            if str(mode).lower() != "delete":
                raise BackupError(
                    _(
                        "The database %(path)s is in use; stop the web server and the workers, then restore "
                        "again. Nothing was changed."
                    )
                    % {"path": target}
                )
            if force:
                aside = target.with_name(f"{target.name}.before-restore-{stamp}")
                try:
                    os.link(target, aside)
                except OSError:
                    shutil.copyfile(target, aside)
                kept.append(aside)
        for suffix in ("-wal", "-shm", "-journal"):  # never let an old journal meet the new file
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        os.replace(incoming, target)
    finally:
        incoming.unlink(missing_ok=True)


def _pg_in_place(staged: Path, workdir: Path) -> None:
    """The dump as one SQL script (``pg_restore --clean --if-exists --no-owner``), run by ``psql`` in a
    single transaction that first drops the tables the backup lacks (a newer schema in the target, so
    that ``migrate`` can create them again): the database changes all at once or not at all."""
    args, env, name = _pg_connection()
    pg_restore, psql = _pg_tool("pg_restore"), _pg_tool("psql")
    listing = subprocess.run(  # noqa: S603
        [pg_restore, "--list", str(staged)], env=env, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(
            _("pg_restore cannot read the database dump: %(detail)s. Nothing was changed.")
            % {"detail": listing.stderr.strip()[-500:]}
        )
    in_dump = {m.group(2) for m in map(_PG_TABLE.match, listing.stdout.splitlines()) if m}
    # Reading the dump into a script reads every byte of it, and touches no database.
    script = workdir / "restore.sql"
    to_script = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--file", str(script)]
    _run_pg([pg_restore, *to_script, str(staged)], env)
    extra = [t for t in connection.introspection.table_names() if t not in in_dump]
    prelude = workdir / "prelude.sql"
    prelude.write_text(
        "".join(f"DROP TABLE IF EXISTS {connection.ops.quote_name(t)} CASCADE;\n" for t in extra),
        encoding="utf-8",
    )
    connections.close_all()
    _run_pg(
        [
            psql,
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set",
            "ON_ERROR_STOP=1",
            *args,
            "--dbname",
            name,
            "--file",
            str(prelude),
            "--file",
            str(script),
        ],
        env,
    )


def _media_in_place(staged: Path, *, force: bool, stamp: str, kept: list[Path]) -> int:
    root = _media_root()
    if root.exists():
        if any(True for _f in _media_files(root)):
            if not force:  # checked before; the files came meanwhile
                raise BackupError(_("Uploaded files appeared in %(path)s meanwhile.") % {"path": root})
            aside = root.with_name(f"{root.name}.before-restore-{stamp}")
            os.replace(root, aside)
            kept.append(aside)
        else:
            shutil.rmtree(root)
    if staged.is_dir():
        os.replace(staged, root)
    else:
        root.mkdir(parents=True)
    return sum(1 for _f in _media_files(root))


def backup_restore(
    *,
    actor: Any,
    archive: Path,
    force: bool = False,
    say: Callable[[str], None] = lambda _line: None,
    verbosity: int = 1,
    out: Any = None,
) -> RestoreReport:
    """Restore an archive (see the module's docstring); ``say`` hears each step."""
    tar, manifest = read_manifest(archive)
    with tar:
        _check_fits(archive, manifest)
        counts = _target_counts()
        if not force and any(counts.values()):
            raise BackupError(
                _(
                    "The target is not empty (%(units)d units, %(people)d people, %(users)d logins, "
                    "%(files)d uploaded files); a restore would replace it. Restore into an empty database, "
                    "or add --force to replace what is there. Nothing was changed."
                )
                % counts
            )
        root = _media_root()
        root.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".muster-restore-", dir=root.parent))
        try:
            say(_("Checking %(count)d members against the manifest…") % {"count": len(manifest["members"])})
            _verify_and_stage(archive, tar, manifest, stage)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            kept: list[Path] = []
            db_file = stage / manifest["database"]
            if engine() == "sqlite":
                if force:
                    say(
                        _("--force: the current database file is kept beside it, renamed *.before-restore-*.")
                    )
                _sqlite_in_place(db_file, force=force, stamp=stamp, kept=kept)
            else:
                if force:
                    say(
                        _(
                            "--force: every table of the current database is dropped and replaced by the "
                            "backup's; what the database holds now is lost."
                        )
                    )
                _pg_in_place(db_file, stage)
            say(_("Database restored."))
            if force:
                say(
                    _("--force: the current uploaded files are kept beside them, renamed *.before-restore-*.")
                )
            files = _media_in_place(stage / MEDIA_DIR, force=force, stamp=stamp, kept=kept)
            say(_("Uploaded files restored: %(count)d.") % {"count": files})
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    say(_("Bringing the database up to this version of Muster (migrate)…"))
    call_command("migrate", interactive=False, verbosity=verbosity, **({"stdout": out} if out else {}))
    log_action(
        actor,
        action="ops.backup.restored",
        changes={
            "file": str(archive),
            "created_at": manifest.get("created_at"),
            "muster_version": manifest.get("muster_version"),
            "engine": manifest.get("engine"),
            "media_files": files,
            "force": force,
            "kept": [str(p) for p in kept],
        },
    )
    return RestoreReport(manifest, files, kept)
