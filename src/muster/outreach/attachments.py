"""Files of visits, problems and classes: what a file may be (a JPEG, PNG or WebP photo, or a PDF, told by
its content, not its name), how large (``settings.MUSTER_OUTREACH_FILE_MAX_BYTES``, default 10 MB) and where
it is kept (a private folder outside the static and media roots, ``settings.MUSTER_OUTREACH_FILES_ROOT``,
default ``var/private/outreach-files``). Files are read back only through
``muster.outreach.views_files.attachment_file`` (scoped, audited)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage

MAX_BYTES_DEFAULT = 10 * 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "MUSTER_OUTREACH_FILE_MAX_BYTES", MAX_BYTES_DEFAULT))


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or ``None`` for anything else."""
    if head.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def storage() -> FileSystemStorage:
    root = (
        getattr(settings, "MUSTER_OUTREACH_FILES_ROOT", None)
        or Path(settings.VAR_DIR) / "private" / "outreach-files"
    )
    return FileSystemStorage(location=str(root), base_url=None)  # no URL: read through the view only


def store(data: bytes, extension: str) -> tuple[str, str]:
    """Write ``data`` under a random name; returns (stored name, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    return storage().save(f"{digest[:2]}/{secrets.token_hex(16)}.{extension}", ContentFile(data)), digest


def read(stored_as: str) -> bytes:
    with storage().open(stored_as, "rb") as f:
        return f.read()


def open_file(stored_as: str) -> File:
    """The stored file, opened for reading (the caller closes it); ``OSError`` if it is not on disk."""
    return storage().open(stored_as, "rb")


def remove(stored_as: str) -> None:
    storage().delete(stored_as)
