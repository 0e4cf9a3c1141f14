"""Receipt files of the care ledger: what a receipt may be (a JPEG, PNG or WebP photo, or a PDF, told by
its content, not its name) and where it is kept (a private folder outside the static and media roots,
``settings.MUSTER_CARE_RECEIPTS_ROOT``, default ``var/private/care-receipts``). Files are read back only
through ``muster.care.views.receipt_file`` (scoped, audited)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

MAX_BYTES_DEFAULT = 5 * 1024 * 1024

# (content type, extension, test on the first bytes)
KINDS: list[tuple[str, str]] = [
    ("application/pdf", "pdf"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/webp", "webp"),
]


def max_bytes() -> int:
    return int(getattr(settings, "MUSTER_CARE_RECEIPT_MAX_BYTES", MAX_BYTES_DEFAULT))


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a receipt from its first bytes, or ``None`` for anything else."""
    if head.startswith(b"%PDF-"):
        return KINDS[0]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS[1]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS[2]
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return KINDS[3]
    return None


def storage() -> FileSystemStorage:
    root = (
        getattr(settings, "MUSTER_CARE_RECEIPTS_ROOT", None)
        or Path(settings.VAR_DIR) / "private" / "care-receipts"
    )
    # base_url=None: a stored receipt has no URL; it is only ever read through the receipt view
    return FileSystemStorage(location=str(root), base_url=None)


def store(data: bytes, extension: str) -> tuple[str, str]:
    """Write ``data`` under a random name; returns (stored name, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    name = f"{digest[:2]}/{secrets.token_hex(16)}.{extension}"
    return storage().save(name, ContentFile(data)), digest


def read(stored_as: str) -> bytes:
    with storage().open(stored_as, "rb") as f:
        return f.read()


def remove(stored_as: str) -> None:
    storage().delete(stored_as)
