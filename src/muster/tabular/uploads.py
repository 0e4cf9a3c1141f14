"""Keeping a checked upload for "confirm import": the dry run passes, the page (or the API) offers to import
the same file, and the file need not be chosen again.

``upload_keep`` stores the bytes — sealed with the field key (AES-GCM, ``muster.orgs.crypto``: a register
holds phones and ID numbers) — with their SHA-256, the uploader, the importer and an expiry
(``MUSTER_IMPORT_HOLD_MINUTES``, 30 by default) and returns the row; its ``token`` (random, 256 bits) is
what the confirmation sends back. A new keep replaces the same user's earlier unconfirmed upload for the
same importer, and one user holds at most ``MUSTER_IMPORT_HOLD_MAX_BYTES`` at a time (``UploadTooMuch``).

``upload_take`` gives the upload to its uploader only (anyone else's token, or a made-up one, is
``UploadUnknown``: nothing tells that it exists), once (``UploadGone`` after expiry or after use; two
confirmations at the same moment: one wins), and checks the bytes against their digest. An import that is
refused gives the upload back (``upload_release``), so the user may confirm again once the data is fixed.

The bytes go as soon as an upload is taken or expires: ``upload_purge`` blanks them and removes rows a day
past their expiry (taken rows stay that long without their bytes, so a second confirmation says "imported
already"). It runs on every keep and take, from ``muster uploads purge`` (cron) and as the worker task
``tabular.purge_uploads``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from muster import clock
from muster.orgs import crypto
from muster.tabular.models import HeldUpload

TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what ``secrets.token_urlsafe`` makes
SEAL_VERSION = b"v1"
NONCE_BYTES = 12
KEEP_DAYS_AFTER_EXPIRY = 1


class UploadUnknown(Exception):
    """No upload of this caller with this token (never kept, or another user's)."""


class UploadGone(Exception):
    """The upload was kept, but has expired or was imported already."""


class UploadTooMuch(Exception):
    """Keeping this upload would hold more than the user's limit of checked files."""


def hold_minutes() -> int:
    return int(getattr(settings, "MUSTER_IMPORT_HOLD_MINUTES", 30))


def hold_max_bytes() -> int:
    """How many bytes of checked files one user may have waiting for confirmation at a time."""
    default = 3 * int(getattr(settings, "MUSTER_IMPORT_MAX_BYTES", 20 * 1024 * 1024))
    return int(getattr(settings, "MUSTER_IMPORT_HOLD_MAX_BYTES", default))


def _aad(sha256: str) -> bytes:
    return b"muster-held-upload:" + sha256.encode()


def _seal(data: bytes, sha256: str) -> bytes:
    aes, _mac = crypto._keys(settings.FIELD_ENCRYPTION_KEY)
    nonce = os.urandom(NONCE_BYTES)
    return SEAL_VERSION + nonce + aes.encrypt(nonce, data, _aad(sha256))


def _unseal(sealed: bytes, sha256: str) -> bytes:
    """The plain bytes; ``ValueError`` when they are not sealed data of this digest under this key."""
    if not sealed.startswith(SEAL_VERSION):
        raise ValueError("not sealed")
    aes, _mac = crypto._keys(settings.FIELD_ENCRYPTION_KEY)
    body = sealed[len(SEAL_VERSION) :]
    try:
        return aes.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(sha256))
    except InvalidTag as exc:
        raise ValueError("damaged") from exc


def upload_purge(*, now: datetime | None = None) -> tuple[int, int]:
    """Blank the bytes of uploads taken or expired; remove rows a day past their expiry.

    Returns (rows blanked, rows removed)."""
    now = now or clock.now()
    with transaction.atomic():
        removed, _by_model = HeldUpload.objects.filter(
            expires_at__lt=now - timedelta(days=KEEP_DAYS_AFTER_EXPIRY)
        ).delete()
        blanked = (
            HeldUpload.objects.filter(Q(expires_at__lte=now) | Q(taken_at__isnull=False))
            .exclude(data=b"")
            .update(data=b"")
        )
    return blanked, removed


@task()
def purge_uploads() -> str:
    """The worker task: ``upload_purge`` now (enqueued for each kept upload's expiry, see ``_schedule``)."""
    blanked, removed = upload_purge()
    return f"blanked {blanked}, removed {removed}"


def _schedule_purge(when: datetime) -> None:
    """Once the keep commits, have the worker purge at ``when`` (the expiry), so the bytes go then even if
    no one keeps or takes an upload again; a backend that cannot defer leaves it to ``muster uploads
    purge`` (cron) and the next keep or take."""

    def enqueue() -> None:
        job = purge_uploads
        if when > timezone.now():
            if not job.get_backend().supports_defer:
                return
            job = job.using(run_after=when)
        job.enqueue()

    transaction.on_commit(enqueue, robust=True)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}"


def upload_keep(*, actor: Any, importer: str, filename: str, data: bytes) -> HeldUpload:
    """Keep ``data`` (a file that passed its dry run) for ``actor`` to confirm, sealed.

    Replaces the actor's earlier unconfirmed upload for ``importer``; raises ``UploadTooMuch`` when the
    actor's checked files waiting for confirmation would pass ``hold_max_bytes()``."""
    now = clock.now()
    upload_purge(now=now)
    importer = importer[:40]
    limit = hold_max_bytes()
    with transaction.atomic():
        mine = HeldUpload.objects.filter(owner_id=actor.pk, taken_at__isnull=True)
        mine.filter(importer=importer).delete()
        held = mine.filter(expires_at__gt=now).aggregate(total=Sum("size"))["total"] or 0
        if held + len(data) > limit:
            raise UploadTooMuch(
                _(
                    "The file passed the check but is not kept for confirmation: you already have "
                    "%(held)s MB of checked files waiting to be imported, and one user may keep "
                    "%(limit)s MB at a time. Import or let them expire (after %(minutes)s minutes), or "
                    "upload this file again without “Validate only”."
                )
                % {"held": _mb(held), "limit": _mb(limit), "minutes": hold_minutes()}
            )
        digest = hashlib.sha256(data).hexdigest()
        row = HeldUpload.objects.create(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            owner_id=actor.pk,
            importer=importer,
            filename=filename[:255],
            data=_seal(data, digest),
            size=len(data),
            sha256=digest,
            created_at=now,
            expires_at=now + timedelta(minutes=hold_minutes()),
        )
        _schedule_purge(row.expires_at)
    return row


def _unknown() -> UploadUnknown:
    return UploadUnknown(_("There is no checked file to import; upload the file again."))


def upload_take(*, actor: Any, importer: str, token: str) -> HeldUpload:
    """The upload ``token`` names, for its uploader, with its plain bytes in ``data``; marked taken (its
    stored bytes blanked), so it is imported once. Give it back with ``upload_release`` if the import is
    refused.

    Raises ``UploadUnknown`` (not the caller's, or no such token) or ``UploadGone`` (expired, or taken)."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token) or getattr(actor, "pk", None) is None:
        raise _unknown()
    now = clock.now()
    upload_purge(now=now)
    with transaction.atomic():
        held = HeldUpload.objects.filter(token=token, owner_id=actor.pk, importer=importer).first()
        if held is None:
            raise _unknown()
        if held.taken_at is not None:
            raise UploadGone(_("This checked file was imported already."))
        if now >= held.expires_at:
            when = held.expires_at.astimezone(clock.local_tz()).strftime("%H:%M")
            raise UploadGone(
                _(
                    "The checked file was kept until %(time)s and has expired; upload the file again "
                    "(nothing was imported)."
                )
                % {"time": when}
            )
        try:
            data = _unseal(bytes(held.data), held.sha256)
        except ValueError:
            data = b""
        damaged = hashlib.sha256(data).hexdigest() != held.sha256
        # Only one confirmation takes it, even when two arrive at once (no row lock on SQLite).
        won = HeldUpload.objects.filter(pk=held.pk, taken_at__isnull=True).update(taken_at=now, data=b"")
    if won != 1:
        raise UploadGone(_("This checked file was imported already."))
    if damaged:
        raise UploadGone(_("The checked file is damaged; upload the file again (nothing was imported)."))
    held.data, held.taken_at = data, now
    return held


def upload_release(*, held: HeldUpload) -> None:
    """Give back an upload taken by ``upload_take`` whose import was refused (nothing imported), so its
    uploader may confirm it again while it is kept. ``held.data`` holds the plain bytes."""
    data = bytes(held.data)
    if held.taken_at is None or hashlib.sha256(data).hexdigest() != held.sha256:
        return
    HeldUpload.objects.filter(pk=held.pk, taken_at=held.taken_at, expires_at__gt=clock.now()).update(
        taken_at=None, data=_seal(data, held.sha256)
    )
    held.taken_at = None
