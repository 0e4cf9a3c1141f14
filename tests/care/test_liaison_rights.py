"""A liaison records deliveries to their own subjects (and marks them), not to anyone else's; a line may
only fulfil a help request of its own subject; receipts go to one target the actor may write."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from muster.care import receipts
from muster.care import services as care
from muster.care.models import DeliveryLine, Receipt
from muster.orgs.access import SYSTEM

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def test_liaison_delivers_to_own_subjects_only(cared: Any) -> None:
    lia = cared.liaison_user
    run = care.delivery_run_create(
        actor=lia, unit=cared.org.xuhui, name="菜", kind="supplies", lines=[care.LineIn(cared.old, "菜", 1)]
    )
    line = run.lines.get()
    care.delivery_line_mark(actor=lia, line=line, status="delivered")
    with pytest.raises(PermissionDenied):
        care.delivery_run_create(
            actor=lia,
            unit=cared.org.huangpu,
            name="菜",
            kind="supplies",
            lines=[care.LineIn(cared.far, "菜", 1)],
        )
    with pytest.raises(PermissionDenied):  # one line not theirs: the whole run is refused
        care.delivery_run_create(
            actor=lia,
            unit=cared.org.root,
            name="菜",
            kind="supplies",
            lines=[care.LineIn(cared.old, "菜", 1), care.LineIn(cared.far, "菜", 1)],
        )
    assert DeliveryLine.objects.count() == 1


def test_a_line_fulfils_only_its_own_subjects_request(cared: Any) -> None:
    other = care.help_request_raise(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        subject=cared.young,
        source="contact",
        category="food",
        urgency="high",
        description="缺米",
    )
    with pytest.raises(ValidationError) as err:
        care.delivery_run_create(
            actor=SYSTEM,
            unit=cared.org.xuhui,
            name="米",
            kind="supplies",
            lines=[care.LineIn(cared.old, "米", 1, help_request=other)],
        )
    assert "lines.1" in err.value.message_dict
    assert not DeliveryLine.objects.exists()


def test_liaison_closing_a_request_by_delivery(cared: Any) -> None:
    hr = care.help_request_raise(
        actor=cared.liaison_user,
        unit=cared.org.xuhui,
        subject=cared.old,
        source="contact",
        category="food",
        urgency="urgent",
        description="缺菜",
    )
    run = care.delivery_run_create(
        actor=cared.liaison_user,
        unit=cared.org.xuhui,
        name="菜",
        kind="supplies",
        lines=[care.LineIn(cared.old, "菜", 1, help_request=hr)],
    )
    care.delivery_line_mark(actor=cared.liaison_user, line=run.lines.get(), status="delivered")
    hr.refresh_from_db()
    assert hr.status == "resolved"


def test_receipt_attach_rules(cared: Any, settings: Any, tmp_path: Any) -> None:
    settings.MUSTER_CARE_RECEIPTS_ROOT = str(tmp_path)
    run = care.delivery_run_create(
        actor=SYSTEM,
        unit=cared.org.xuhui,
        name="菜",
        kind="supplies",
        lines=[care.LineIn(cared.old, "菜", 1)],
    )
    visit = care.consolation_record(actor=SYSTEM, subject=cared.old, kind="visit")
    with pytest.raises(ValidationError):  # a visit takes no receipt
        care.receipt_attach(actor=SYSTEM, data=PNG, filename="a.png", consolation=visit)
    with pytest.raises(ValidationError):  # one target
        care.receipt_attach(actor=SYSTEM, data=PNG, filename="a.png")
    with pytest.raises(PermissionDenied):
        care.receipt_attach(
            actor=cared.manager,
            data=PNG,
            filename="a.png",
            run=care.delivery_run_create(
                actor=SYSTEM,
                unit=cared.org.huangpu,
                name="菜",
                kind="supplies",
                lines=[care.LineIn(cared.far, "菜", 1)],
            ),
        )
    with pytest.raises(ValidationError):
        care.receipt_attach(actor=SYSTEM, data=b"", filename="a.png", run=run)
    r = care.receipt_attach(actor=SYSTEM, data=PNG, filename="../../etc/passwd.png", run=run)
    assert "/" not in r.name and r.stored_as.endswith(".png") and ".." not in r.stored_as
    assert receipts.read(r.stored_as) == PNG
    assert list(tmp_path.rglob("*.png")) == [tmp_path / r.stored_as]
    assert Receipt.objects.count() == 1


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a", None),
        (b"<svg xmlns=", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, kind: str | None) -> None:
    got = receipts.sniff(head)
    assert (got[0] if got else None) == kind
