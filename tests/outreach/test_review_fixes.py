"""Review findings on outreach (round three): a class changes its co-building agreement only with the rights,
checks and audit of attach/detach; a second "Detach" is a message, not a 500; a partner out of the user's
sight is not named in agreement labels; files are scoped through ``outreach.attachment`` and their actions
labelled; the service log's day is the local one and not in the future; a file gone from the disk is a 404;
an agreement's period and its activities are checked under a lock."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404

from muster import dates
from muster.audit.actions import ACTIONS
from muster.audit.models import AuditEvent
from muster.orgs import access
from muster.orgs.access import SYSTEM
from muster.orgs.services import partner_create, role_grant
from muster.outreach import services
from muster.outreach import services_service as ss
from muster.outreach.models import Agreement, Attachment, ServiceLogEntry, TaxClass, Visit

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
API = "/api/v1/outreach"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _en(c: Any) -> Any:
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def _audit(action: str) -> list[Any]:
    return list(AuditEvent.objects.filter(action=action).order_by("id").values_list("changes", flat=True))


@pytest.fixture
def partners(org: Any) -> dict[str, Any]:
    return {
        "b": partner_create(actor=SYSTEM, code="P-B", name="徐家汇村", kind="village", unit=org.xuhui_branch),
        # a partner of 黄浦: out of the sight of the 徐汇 branch's people
        "hp": partner_create(actor=SYSTEM, code="P-HP", name="外滩社区", kind="community", unit=org.huangpu),
    }


@pytest.fixture
def tax_class(org: Any) -> TaxClass:
    return ss.class_record(
        actor=SYSTEM,
        held_on=date(2026, 2, 10),
        topic="个税汇算",
        unit=org.xuhui,
        attendees=30,
        branch=org.xuhui_branch,
    )


@pytest.fixture
def agreement(org: Any, partners: Any) -> Agreement:
    return ss.agreement_create(
        actor=SYSTEM,
        branch=org.xuhui_branch,
        partner=partners["b"],
        start=date(2026, 1, 1),
        title="村支部共建",
    )


@pytest.fixture
def hp_agreement(org: Any, partners: Any) -> Agreement:
    """An agreement of the 黄浦 party committee (another branch than the class's)."""
    return ss.agreement_create(
        actor=SYSTEM, branch=org.huangpu_committee, partner=partners["hp"], start=date(2026, 1, 1)
    )


@pytest.fixture
def masked(org: Any, partners: Any) -> Agreement:
    """An untitled agreement of the 徐汇 branch with a partner of 黄浦."""
    return ss.agreement_create(
        actor=SYSTEM, branch=org.xuhui_branch, partner=partners["hp"], start=date(2026, 1, 1)
    )


# ------------------------------------------------- 1. changing a class's agreement = detach + attach


@pytest.mark.usefixtures("fixed_clock")
def test_class_update_moves_agreement_with_the_checks_and_audit_of_attach(
    org: Any, tax_class: Any, agreement: Any, hp_agreement: Any
) -> None:
    with pytest.raises(ValidationError) as exc:  # not of the agreement's branch: refused as attach refuses
        ss.class_update(actor=SYSTEM, tax_class=tax_class, agreement=hp_agreement)
    assert "is not of the party branch" in str(exc.value.message_dict["agreement"])
    tax_class.refresh_from_db()
    assert tax_class.agreement_id is None
    ss.class_update(actor=SYSTEM, tax_class=tax_class, agreement=agreement)
    assert _audit("outreach.agreement.activity_attached") == [
        {"tax_class": tax_class.pk, "held_on": "2026-02-10"}
    ]
    attached = AuditEvent.objects.get(action="outreach.agreement.activity_attached")
    assert (attached.target_id, attached.unit_path) == (str(agreement.pk), org.xuhui_branch.path)
    ss.class_update(actor=SYSTEM, tax_class=tax_class, attendees=31)  # the agreement unchanged: no attach
    assert len(_audit("outreach.agreement.activity_attached")) == 1
    ss.class_update(actor=SYSTEM, tax_class=tax_class, agreement=None)
    assert _audit("outreach.agreement.activity_detached") == [{"tax_class": tax_class.pk}]
    tax_class.refresh_from_db()
    assert tax_class.agreement_id is None


@pytest.mark.usefixtures("fixed_clock")
def test_class_update_needs_the_right_to_write_the_agreement(
    org: Any, tax_class: Any, agreement: Any, make_user: Any
) -> None:
    # writes the class (its unit 徐汇) and sees the branch's agreement, but may not write the branch
    user = make_user("mv", "manager", org.xuhui)
    role_grant(actor=SYSTEM, user=user, unit=org.xuhui_branch, role="viewer")
    with pytest.raises(PermissionDenied):
        ss.class_update(actor=user, tax_class=tax_class, agreement=agreement)
    ss.class_update(actor=SYSTEM, tax_class=tax_class, agreement=agreement)
    with pytest.raises(PermissionDenied):  # nor take it out of one
        ss.class_update(actor=user, tax_class=tax_class, agreement=None)
    tax_class.refresh_from_db()
    assert tax_class.agreement_id == agreement.pk
    ss.class_update(actor=user, tax_class=tax_class, attendees=40)  # other fields: still theirs to change


@pytest.mark.usefixtures("fixed_clock")
def test_class_page_offers_only_agreements_the_user_writes(
    org: Any, tax_class: Any, agreement: Any, make_user: Any, login: Any
) -> None:
    user = make_user("mv", "manager", org.xuhui)
    role_grant(actor=SYSTEM, user=user, unit=org.xuhui_branch, role="viewer")
    c = _en(login(user))
    page = c.get(f"/outreach/classes/{tax_class.pk}/").content.decode()
    assert f'<option value="{agreement.pk}"' not in page
    good = {
        "held_on": "2026-02-10",
        "topic": "个税汇算",
        "branch": org.xuhui_branch.pk,
        "home": "",
        "speaker": "",
        "partner": "",
        "attendees": "30",
        "satisfaction": "",
        "enterprises": "",
    }
    r = c.post(f"/outreach/classes/{tax_class.pk}/", {**good, "agreement": agreement.pk})
    assert r.status_code == 422
    tax_class.refresh_from_db()
    assert tax_class.agreement_id is None
    sec = _en(login(make_user("sec", "secretary", org.xuhui_branch)))
    assert f'<option value="{agreement.pk}"' in sec.get(f"/outreach/classes/{tax_class.pk}/").content.decode()


# ------------------------------------------------- 2. a second "Detach" is a message


@pytest.mark.usefixtures("fixed_clock")
def test_detaching_twice_is_a_message_not_a_500(
    org: Any, tax_class: Any, agreement: Any, make_user: Any, login: Any
) -> None:
    ss.agreement_attach(actor=SYSTEM, agreement=agreement, tax_class=tax_class)
    sec = _en(login(make_user("sec", "secretary", org.xuhui_branch)))
    url = f"/outreach/agreements/{agreement.pk}/activities/class/{tax_class.pk}/detach/"
    assert sec.post(url).status_code == 302
    r = sec.post(url, follow=True)
    assert r.status_code == 200
    assert "This activity does not belong to this agreement." in r.content.decode()
    assert len(_audit("outreach.agreement.activity_detached")) == 1


# ------------------------------------------------- 3. partner names out of sight


@pytest.mark.usefixtures("fixed_clock")
def test_partner_out_of_sight_is_not_named_with_the_agreement(
    org: Any, tax_class: Any, masked: Any, make_user: Any, login: Any
) -> None:
    ss.agreement_attach(actor=SYSTEM, agreement=masked, tax_class=tax_class)
    sec = _en(login(make_user("sec", "secretary", org.xuhui_branch)))
    for url in (
        f"/outreach/classes/{tax_class.pk}/",  # the class's facts and the agreement choices
        f"/outreach/agreements/{masked.pk}/edit/",
        f"/outreach/agreements/{masked.pk}/close/",
        f"/outreach/agreements/{masked.pk}/",
    ):
        r = sec.get(url)
        assert r.status_code == 200, url
        assert "外滩社区" not in r.content.decode(), url
    page = sec.get(f"/outreach/classes/{tax_class.pk}/").content.decode()
    assert f"{org.xuhui_branch.name} · —" in page
    # one who sees 黄浦 too is told the name
    boss_user = make_user("boss", "manager", org.root)
    role_grant(actor=SYSTEM, user=boss_user, unit=org.party_root, role="secretary")
    boss = _en(login(boss_user))
    assert "外滩社区" in boss.get(f"/outreach/classes/{tax_class.pk}/").content.decode()
    # nor does the audit log keep the name in the agreement's label
    assert "外滩社区" not in str(masked)
    assert not AuditEvent.objects.filter(
        action__startswith="outreach.", target_repr__contains="外滩社区"
    ).exists()


# ------------------------------------------------- 4. files scoped, their actions labelled


def test_attachments_are_scoped_through_their_visit_problem_or_class(
    org: Any, ent: Any, make_user: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MUSTER_OUTREACH_FILES_ROOT = str(tmp_path / "files")
    visit = services.visit_record(
        actor=SYSTEM, held_on=date(2018, 5, 1), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
    )
    problem = services.problem_raise(actor=SYSTEM, title="发票", unit=org.huangpu, raised_on=date(2018, 5, 1))
    own_class = ss.class_record(
        actor=SYSTEM, held_on=date(2018, 5, 2), topic="x", unit=org.xuhui, attendees=1
    )
    hp_class = ss.class_record(
        actor=SYSTEM, held_on=date(2018, 5, 2), topic="y", unit=org.huangpu, attendees=1
    )
    branch_class = ss.class_record(
        actor=SYSTEM,
        held_on=date(2018, 5, 2),
        topic="z",
        unit=org.huangpu,
        branch=org.xuhui_branch,
        attendees=1,
    )
    files = {
        name: services.attachment_add(actor=SYSTEM, owner=owner, data=PNG, filename=f"{name}.png")
        for name, owner in (
            ("visit", visit),
            ("problem", problem),
            ("class", own_class),
            ("hp_class", hp_class),
            ("branch_class", branch_class),
        )
    }
    xh = make_user("xh", "manager", org.xuhui)
    seen = set(access.scoped(Attachment.objects.all(), xh).values_list("pk", flat=True))
    assert seen == {files["visit"].pk, files["class"].pk}
    hp = make_user("hp", "manager", org.huangpu)
    seen = set(access.scoped(Attachment.objects.all(), hp).values_list("pk", flat=True))
    assert seen == {files["problem"].pk, files["hp_class"].pk, files["branch_class"].pk}
    sec = make_user("sec", "secretary", org.xuhui_branch)  # through the class's party branch
    assert list(access.scoped(Attachment.objects.all(), sec)) == [files["branch_class"]]
    assert access.scoped(Attachment.objects.all(), SYSTEM).count() == 5
    for word in ("visit", "problem", "class"):
        for what in ("file_added", "file_read"):
            assert f"outreach.{word}.{what}" in ACTIONS
    assert str(ACTIONS["outreach.problem.file_added"]) == "File attached to a problem"
    assert str(ACTIONS["outreach.class.file_read"]) == "Taxpayer class file opened"


# ------------------------------------------------- 5. the service log's local day, never in the future


def test_service_log_day_is_local_and_not_in_the_future(org: Any, make_user: Any, login: Any) -> None:
    manager = _en(login(make_user("m", "manager", org.xuhui)))
    body = {"kind": "after_hours", "unit": "XH", "matter": "代开发票", "staff": "XH0002"}
    # 03:00 in Shanghai on 3 March (19:00 UTC the day before); the clock stands at 02:00 on 3 March
    with time_machine.travel(datetime(2026, 3, 3, 2, 0, tzinfo=SH), tick=False):
        r = manager.post(
            f"{API}/service-log", {**body, "at": "2026-03-02T19:00:00Z"}, content_type="application/json"
        )
        assert r.status_code == 422 and "at" in r.json()["errors"], r.json()
        assert "is in the future" in str(r.json()["errors"]["at"])
        # 01:30 in Shanghai: an hour ago
        r = manager.post(
            f"{API}/service-log", {**body, "at": "2026-03-02T17:30:00Z"}, content_type="application/json"
        )
        assert r.status_code == 201, r.json()
    e = ServiceLogEntry.objects.get()
    assert e.at == datetime(2026, 3, 3, 1, 30, tzinfo=SH)
    # the first day there is, told in Shanghai time (UTC is still on the day before)
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=SH), tick=False):
        first = dates.FIRST_DAY
        at = datetime(first.year, first.month, first.day, 0, 30, tzinfo=SH)
        e2 = ss.service_log(
            actor=SYSTEM, at=at.astimezone(ZoneInfo("UTC")), kind="after_hours", unit=org.xuhui, matter="m",
            staff=org.bob,
        )  # fmt: skip
        assert e2.pk is not None


# ------------------------------------------------- 6. a file gone from the disk


def test_a_file_missing_on_disk_is_404_and_not_audited(
    org: Any, ent: Any, make_user: Any, login: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MUSTER_OUTREACH_FILES_ROOT = str(tmp_path / "files")
    visit = services.visit_record(
        actor=SYSTEM, held_on=date(2018, 5, 1), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
    )
    a = services.attachment_add(actor=SYSTEM, owner=visit, data=PNG, filename="照片.png")
    manager = _en(login(make_user("m", "manager", org.xuhui)))
    r = manager.get(f"/outreach/visit-files/{a.pk}/")
    assert isinstance(r, FileResponse) and r.getvalue() == PNG
    assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert r["Cache-Control"] == "private, no-store" and "sandbox" in r["Content-Security-Policy"]
    assert len(_audit("outreach.visit.file_read")) == 1
    (tmp_path / "files" / a.stored_as).unlink()
    assert manager.get(f"/outreach/visit-files/{a.pk}/").status_code == 404
    assert len(_audit("outreach.visit.file_read")) == 1


# ------------------------------------------------- 7. locks


@pytest.fixture
def locked(monkeypatch: Any) -> list[Any]:
    """The models whose rows were selected for update (SQLite ignores the lock; the query asks for it)."""
    models: list[Any] = []
    original = QuerySet.select_for_update

    def spy(self: QuerySet[Any], *args: Any, **kwargs: Any) -> QuerySet[Any]:
        models.append(self.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", spy)
    return models


@pytest.mark.usefixtures("fixed_clock")
def test_agreement_rows_are_locked_while_periods_are_checked(
    org: Any, tax_class: Any, agreement: Any, ent: Any, locked: list[Any]
) -> None:
    visit = services.visit_record(
        actor=SYSTEM, held_on=date(2026, 2, 1), unit=org.xuhui, branch=org.xuhui_branch, visitors=[org.alice],
        enterprises=[ent],
    )  # fmt: skip
    locked.clear()
    ss.agreement_attach(actor=SYSTEM, agreement=agreement, visit=visit)
    assert locked[:2] == [Agreement, Visit]  # the agreement first, then the activity
    locked.clear()
    ss.class_update(actor=SYSTEM, tax_class=tax_class, agreement=agreement)
    assert locked[:2] == [Agreement, TaxClass]
    locked.clear()
    ss.class_update(
        actor=SYSTEM, tax_class=tax_class, held_on=date(2026, 2, 11)
    )  # checked against the period
    assert locked[:2] == [Agreement, TaxClass]
    locked.clear()
    ss.agreement_update(actor=SYSTEM, agreement=agreement, start=date(2026, 1, 15))
    assert locked[0] is Agreement and {Visit, TaxClass} <= set(locked[1:])
    with pytest.raises(ValidationError):
        ss.agreement_update(actor=SYSTEM, agreement=agreement, start=date(2026, 2, 5))


def test_out_of_scope_agreement_move_is_404(
    org: Any, tax_class: Any, hp_agreement: Any, make_user: Any
) -> None:
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=SH)):
        sec = make_user("sec", "secretary", org.xuhui_branch)
        with pytest.raises(Http404):  # the 黄浦 agreement is out of the secretary's sight
            ss.class_update(actor=sec, tax_class=tax_class, agreement=hp_agreement)
