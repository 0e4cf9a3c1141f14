"""Kept uploads for "confirm import" (``muster.tabular.uploads``), hardened: the bytes sealed at rest and
gone as soon as the upload is taken or expires (on every keep and take, by ``muster uploads purge`` and the
worker task), one unconfirmed upload per user and importer, a cap on what one user keeps, any token that
``token_urlsafe`` cannot make refused as unknown (PostgreSQL refuses NUL in text), a refused confirmation
that keeps the token, and two confirmations at once importing once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from muster.orgs import access, people_io
from muster.orgs.models import Person, RoleGrant
from muster.tabular import uploads
from muster.tabular.models import HeldUpload
from tests.tabular.helpers import PEOPLE_HEADERS, csv_data, person_row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock")]


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    """These tests read the English page text."""
    settings.LANGUAGE_CODE = "en"


PHONE = "13912345678"
ROSTER = people_io.IMPORTER.key


@pytest.fixture
def manager(org: Any, make_user: Callable[..., Any]) -> Any:
    return make_user("import-manager", "manager", org.xuhui)


@pytest.fixture
def client_of(login: Callable[[Any], Client]) -> Callable[[Any], Client]:
    return login


def people_csv(unit: str, *codes: str) -> SimpleUploadedFile:
    rows = [person_row(code, "新同事", unit, phone=PHONE) for code in codes]
    return SimpleUploadedFile("people.csv", csv_data([PEOPLE_HEADERS, *rows]), content_type="text/csv")


def dry_run(c: Client, unit: str, *codes: str, status: int = 200) -> Any:
    r = c.post(reverse("web:people_import"), {"file": people_csv(unit, *codes), "dry_run": "on"})
    assert r.status_code == status, r.content.decode()[:2000]
    return r


def confirm(c: Client, token: str) -> Any:
    return c.post(reverse("web:people_import_confirm"), {"token": token})


# ----------------------------------------------------------------- at rest


def test_the_kept_file_is_sealed_and_still_imports(org: Any, manager: Any, client_of: Any) -> None:
    c = client_of(manager)
    dry_run(c, "XH-S1", "XH0971")
    held = HeldUpload.objects.get(owner=manager)
    stored = bytes(held.data)
    assert stored and PHONE.encode() not in stored and b"XH0971" not in stored
    assert len(stored) > held.size  # nonce and tag around the sealed bytes
    r = confirm(c, held.token)
    assert r.status_code == 200 and Person.objects.filter(code="XH0971").exists()
    held.refresh_from_db()
    assert bytes(held.data) == b"" and held.taken_at is not None  # the bytes go when taken


def test_expired_bytes_are_blanked_on_the_next_keep_and_rows_go_a_day_later(
    org: Any, manager: Any, client_of: Any, make_user: Any, fixed_clock: Any, settings: Any
) -> None:
    settings.MUSTER_IMPORT_HOLD_MINUTES = 30
    c = client_of(manager)
    dry_run(c, "XH-S1", "XH0972")
    first = HeldUpload.objects.get(owner=manager)
    fixed_clock.shift(timedelta(minutes=31))
    other = client_of(make_user("other-manager", "manager", org.xuhui))
    dry_run(other, "XH-S1", "XH0973")  # anyone's keep purges
    first.refresh_from_db()
    assert bytes(first.data) == b"" and first.taken_at is None
    r = confirm(c, first.token)
    assert r.status_code == 410 and "expired" in r.content.decode()
    fixed_clock.shift(timedelta(days=1))
    with pytest.raises(uploads.UploadUnknown):  # a take purges too
        uploads.upload_take(actor=manager, importer=ROSTER, token="no-such-token")
    assert not HeldUpload.objects.filter(pk=first.pk).exists()


def test_purge_command_and_worker_task(org: Any, manager: Any, client_of: Any, fixed_clock: Any) -> None:
    c = client_of(manager)
    dry_run(c, "XH-S1", "XH0974")
    held = HeldUpload.objects.get(owner=manager)
    fixed_clock.shift(timedelta(minutes=uploads.hold_minutes() + 1))
    call_command("uploads", "purge")
    held.refresh_from_db()
    assert bytes(held.data) == b""
    fixed_clock.shift(timedelta(days=1))
    assert uploads.purge_uploads.call() == "blanked 0, removed 1"  # what the worker runs
    assert not HeldUpload.objects.exists()


# ----------------------------------------------------------------- how much is kept


def test_a_new_check_replaces_the_users_earlier_unconfirmed_file(
    org: Any, manager: Any, client_of: Any
) -> None:
    c = client_of(manager)
    dry_run(c, "XH-S1", "XH0975")
    old = HeldUpload.objects.get(owner=manager).token
    dry_run(c, "XH-S1", "XH0976")
    assert HeldUpload.objects.filter(owner=manager).count() == 1
    assert confirm(c, old).status_code == 404
    new = HeldUpload.objects.get(owner=manager).token
    assert confirm(c, new).status_code == 200
    assert Person.objects.filter(code="XH0976").exists() and not Person.objects.filter(code="XH0975").exists()


def test_one_user_keeps_at_most_the_limit(org: Any, manager: Any, client_of: Any, settings: Any) -> None:
    c = client_of(manager)
    size = len(people_csv("XH-S1", "XH0977").read())
    settings.MUSTER_IMPORT_HOLD_MAX_BYTES = size + 100
    # another importer's file of the same user, waiting
    uploads.upload_keep(actor=manager, importer="workbook:roster", filename="big.xlsx", data=b"x" * 200)
    r = dry_run(c, "XH-S1", "XH0977", status=413)
    page = r.content.decode()
    assert 'id="confirm-error"' in page and "one user may keep" in page and 'id="confirm-form"' not in page
    assert not HeldUpload.objects.filter(owner=manager, importer=ROSTER).exists()
    assert not Person.objects.filter(code="XH0977").exists()
    # once the other file is gone, the check keeps the file again
    HeldUpload.objects.filter(owner=manager).delete()
    r = dry_run(c, "XH-S1", "XH0977")
    assert 'id="confirm-form"' in r.content.decode()


# ----------------------------------------------------------------- tokens


@pytest.mark.parametrize("token", ["ab\x00cd", "a b", "ä" * 3, "x" * 65, "a/b", ""])
def test_a_token_token_urlsafe_cannot_make_is_unknown(
    org: Any, manager: Any, client_of: Any, token: str
) -> None:
    c = client_of(manager)
    dry_run(c, "XH-S1", "XH0978")
    r = confirm(c, token)
    assert r.status_code == 404 and 'id="confirm-error"' in r.content.decode()
    with pytest.raises(uploads.UploadUnknown):
        uploads.upload_take(actor=manager, importer=ROSTER, token=token)
    assert HeldUpload.objects.get(owner=manager).taken_at is None


# ----------------------------------------------------------------- refusals and races


def test_a_refused_confirmation_keeps_the_file_for_another_try(
    org: Any, manager: Any, client_of: Any, make_user: Any
) -> None:
    RoleGrant.objects.create(user=manager, unit=org.huangpu, role="manager")
    c = client_of(manager)
    dry_run(c, "HP", "HP0991")
    token = HeldUpload.objects.get(owner=manager).token
    RoleGrant.objects.filter(user=manager, unit=org.huangpu).delete()  # the scope shrinks
    access.forget(manager)
    r = confirm(c, token)
    assert r.status_code == 400 and not Person.objects.filter(code="HP0991").exists()
    held = HeldUpload.objects.get(token=token)
    assert held.taken_at is None and bytes(held.data) != b""  # given back, still sealed
    RoleGrant.objects.create(user=manager, unit=org.huangpu, role="manager")
    access.forget(manager)
    r = confirm(c, token)
    assert r.status_code == 200, r.content.decode()[:2000]
    assert Person.objects.filter(code="HP0991").exists()


def test_two_confirmations_at_once_take_the_file_once(
    org: Any, manager: Any, client_of: Any, monkeypatch: Any
) -> None:
    c = client_of(manager)
    dry_run(c, "XH-S1", "XH0979")
    token = HeldUpload.objects.get(owner=manager).token
    unseal = uploads._unseal
    inner: list[Any] = []
    started: list[bool] = []

    def racing(sealed: bytes, sha256: str) -> bytes:
        # the other request takes the file between this one's read and its update
        if not started:
            started.append(True)
            inner.append(uploads.upload_take(actor=manager, importer=ROSTER, token=token))
        return unseal(sealed, sha256)

    monkeypatch.setattr(uploads, "_unseal", racing)
    with pytest.raises(uploads.UploadGone):
        uploads.upload_take(actor=manager, importer=ROSTER, token=token)
    assert len(inner) == 1
    assert hashlib.sha256(inner[0].data).hexdigest() == inner[0].sha256  # the winner has the file
