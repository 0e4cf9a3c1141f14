"""Files of a visit (issue 25 part 3, attachments): a photo or a PDF told by its content, bounded in size,
kept in private storage, downloaded only by those who see the visit, every upload and opening audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM
from muster.outreach import services
from muster.outreach.models import Attachment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture
def files_root(settings: Any, tmp_path: Path) -> Path:
    settings.MUSTER_OUTREACH_FILES_ROOT = str(tmp_path / "files")
    settings.MUSTER_OUTREACH_FILE_MAX_BYTES = 4096
    return tmp_path / "files"


@pytest.fixture
def visit(org: Any, ent: Any) -> Any:
    return services.visit_record(
        actor=SYSTEM, held_on=date(2018, 5, 1), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
    )


def test_attach_and_download(org: Any, visit: Any, files_root: Path, make_user: Any, login: Any) -> None:
    manager = login(make_user("xhm", "manager", org.xuhui))
    r = manager.post(
        f"/outreach/visits/{visit.pk}/files/", {"file": SimpleUploadedFile("座谈会.png", PNG, "image/png")}
    )
    assert r.status_code == 302
    a = Attachment.objects.get()
    assert (a.name, a.content_type, a.size) == ("座谈会.png", "image/png", len(PNG))
    assert (files_root / a.stored_as).read_bytes() == PNG and "座谈会" not in a.stored_as
    page = manager.get(f"/outreach/visits/{visit.pk}/").content.decode()
    assert f'data-file="{a.pk}"' in page and 'id="visit-attach"' in page
    got = manager.get(f"/outreach/visit-files/{a.pk}/")
    assert got.status_code == 200 and got.getvalue() == PNG
    assert got["Content-Type"] == "image/png" and got["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in got["Content-Disposition"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="outreach.visit.file").values_list("action", flat=True)
    )
    assert sorted(actions) == ["outreach.visit.file_added", "outreach.visit.file_read"]
    # a PDF named .jpg is kept as what it is
    manager.post(
        f"/outreach/visits/{visit.pk}/files/", {"file": SimpleUploadedFile("x.jpg", PDF, "image/jpeg")}
    )
    assert Attachment.objects.filter(content_type="application/pdf").count() == 1


def test_bad_files_are_refused_with_a_reason(
    org: Any, visit: Any, files_root: Path, make_user: Any, login: Any
) -> None:
    from django.conf import settings

    manager = login(make_user("xhm", "manager", org.xuhui))
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = f"/outreach/visits/{visit.pk}/files/"
    for name, body, why in (
        ("evil.html", b"<script>alert(1)</script>", "is not a JPEG, PNG or WebP photo or a PDF file"),
        ("big.png", PNG + b"\x00" * 5000, "larger than"),
        ("empty.png", b"", "The file is empty"),
    ):
        r = manager.post(url, {"file": SimpleUploadedFile(name, body, "image/png")}, follow=True)
        assert r.status_code == 200 and why in r.content.decode(), name
    r = manager.post(url, {}, follow=True)
    assert r.status_code == 200 and "Choose a file to attach." in r.content.decode()
    assert not Attachment.objects.exists()
    assert not files_root.exists() or not any(p.is_file() for p in files_root.rglob("*"))


def test_scope_and_permission(org: Any, visit: Any, files_root: Path, make_user: Any, login: Any) -> None:
    a = services.attachment_add(actor=SYSTEM, owner=visit, data=PNG, filename="a.png")
    outsider = login(make_user("hpm", "manager", org.huangpu))
    assert outsider.get(f"/outreach/visit-files/{a.pk}/").status_code == 404
    assert (
        outsider.post(
            f"/outreach/visits/{visit.pk}/files/", {"file": SimpleUploadedFile("b.png", PNG)}
        ).status_code
        == 404
    )
    viewer = login(make_user("xhv", "viewer", org.xuhui))
    assert viewer.get(f"/outreach/visit-files/{a.pk}/").status_code == 200  # may see the visit: may read
    assert (
        viewer.post(
            f"/outreach/visits/{visit.pk}/files/", {"file": SimpleUploadedFile("b.png", PNG)}
        ).status_code
        == 403
    )
    assert 'id="visit-attach"' not in viewer.get(f"/outreach/visits/{visit.pk}/").content.decode()
    assert Attachment.objects.count() == 1
    assert outsider.get("/outreach/visit-files/999999/").status_code == 404


# ------------------------------------------------------------ evidence of problems, files of classes


def test_problem_evidence_and_class_files(
    org: Any, visit: Any, files_root: Path, make_user: Any, login: Any
) -> None:
    from django.conf import settings

    from muster.outreach import services_service as ss

    pr = services.problem_raise(
        actor=SYSTEM, title="发票领用难", unit=org.xuhui, raised_on=date(2018, 5, 1), visit=visit
    )
    c = ss.class_record(
        actor=SYSTEM, held_on=date(2018, 5, 2), topic="减税降费", unit=org.xuhui, attendees=20
    )
    manager = login(make_user("xhm", "manager", org.xuhui))
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = manager.get(f"/outreach/problems/{pr.pk}/").content.decode()
    assert 'id="problem-attach"' in page
    r = manager.post(f"/outreach/problems/{pr.pk}/files/", {"file": SimpleUploadedFile("证明.pdf", PDF)})
    assert r.status_code == 302 and r["Location"] == f"/outreach/problems/{pr.pk}/"
    r = manager.post(f"/outreach/classes/{c.pk}/files/", {"file": SimpleUploadedFile("签到.png", PNG)})
    assert r.status_code == 302 and r["Location"] == f"/outreach/classes/{c.pk}/"
    ev = Attachment.objects.get(problem=pr)
    cf = Attachment.objects.get(tax_class=c)
    assert (ev.content_type, ev.visit, cf.content_type) == ("application/pdf", None, "image/png")
    assert f'data-file="{ev.pk}"' in manager.get(f"/outreach/problems/{pr.pk}/").content.decode()
    assert f'data-file="{cf.pk}"' in manager.get(f"/outreach/classes/{c.pk}/").content.decode()
    assert manager.get(f"/outreach/visit-files/{ev.pk}/").getvalue() == PDF
    assert manager.get(f"/outreach/visit-files/{cf.pk}/").getvalue() == PNG
    actions = sorted(
        AuditEvent.objects.filter(action__contains=".file_").values_list("action", "target_type")
    )
    assert actions == [
        ("outreach.class.file_added", "outreach.taxclass"),
        ("outreach.class.file_read", "outreach.taxclass"),
        ("outreach.problem.file_added", "outreach.problem"),
        ("outreach.problem.file_read", "outreach.problem"),
    ]
    # the same checks as a visit's files: content, size; scope; rights
    for url in (f"/outreach/problems/{pr.pk}/files/", f"/outreach/classes/{c.pk}/files/"):
        r = manager.post(url, {"file": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>")}, follow=True)
        assert "is not a JPEG, PNG or WebP photo or a PDF file" in r.content.decode()
        r = manager.post(url, {"file": SimpleUploadedFile("big.pdf", PDF + b"\x00" * 5000)}, follow=True)
        assert r.status_code == 200
    assert Attachment.objects.count() == 2
    outsider = login(make_user("hpm", "manager", org.huangpu))
    viewer = login(make_user("xhv", "viewer", org.xuhui))
    for a in (ev, cf):
        assert outsider.get(f"/outreach/visit-files/{a.pk}/").status_code == 404
        assert viewer.get(f"/outreach/visit-files/{a.pk}/").status_code == 200
    assert (
        outsider.post(
            f"/outreach/problems/{pr.pk}/files/", {"file": SimpleUploadedFile("b.png", PNG)}
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/outreach/classes/{c.pk}/files/", {"file": SimpleUploadedFile("b.png", PNG)}
        ).status_code
        == 404
    )
    assert (
        viewer.post(
            f"/outreach/problems/{pr.pk}/files/", {"file": SimpleUploadedFile("b.png", PNG)}
        ).status_code
        == 403
    )
    assert (
        viewer.post(
            f"/outreach/classes/{c.pk}/files/", {"file": SimpleUploadedFile("b.png", PNG)}
        ).status_code
        == 403
    )
    assert 'id="problem-attach"' not in viewer.get(f"/outreach/problems/{pr.pk}/").content.decode()
    assert Attachment.objects.count() == 2


def test_an_attachment_belongs_to_exactly_one_record(org: Any, visit: Any) -> None:
    from django.db import IntegrityError, transaction

    pr = services.problem_raise(actor=SYSTEM, title="x", unit=org.xuhui, raised_on=date(2018, 5, 1))
    for owners in ({}, {"visit": visit, "problem": pr}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Attachment.objects.create(
                **owners, name="a", content_type="image/png", size=1, sha256="0", stored_as=f"x{len(owners)}"
            )
