"""A batch's own pages (issue 27, item 7): edit, cancel with a reason (members notified), members through the
picker, a team or a pasted list of staff numbers, the 名单 as Excel and for print, and roster plans listed
on the batch and post pages. Scope: out of scope → 404, in scope without the right → 403."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from muster.audit.models import AuditEvent
from muster.mobilize import services as svc
from muster.mobilize.models import Deployment, DeploymentMember, DeploymentStatus
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Team
from muster.orgs.services import person_create, team_member_add

from .conftest import Batch, Cast, hour, local_input

pytestmark = pytest.mark.django_db


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def url(name: str, d: Deployment, *args: Any) -> str:
    return reverse(f"mobilize:{name}", args=[d.pk, *args])


def edit_data(d: Deployment, **over: Any) -> dict[str, Any]:
    data = {
        "title": d.title,
        "site": d.site,
        "start": local_input(d.start),
        "end": local_input(d.end),
        "leader": d.leader.code if d.leader else "",
        "note": d.note,
    }
    data.update(over)
    return data


# ---------------------------------------------------------------- scope on every page and action

GET_PAGES = ["batch_edit", "batch_cancel", "batch_members", "batch_export", "batch_print"]
POSTS = ["batch_edit", "batch_cancel", "batch_member_add", "batch_member_team", "batch_member_paste"]


@pytest.mark.parametrize("name", GET_PAGES)
def test_pages_open_for_the_dispatching_unit(cast: Cast, batch: Batch, name: str) -> None:
    r = cast.client(cast.leader).get(url(name, batch.deployment))
    assert r.status_code == 200


@pytest.mark.parametrize("name", [*GET_PAGES, "batch_member_search"])
def test_out_of_scope_is_404(cast: Cast, batch: Batch, name: str) -> None:
    assert cast.client(cast.manager_hp).get(url(name, batch.deployment)).status_code == 404


@pytest.mark.parametrize("name", POSTS)
def test_out_of_scope_post_is_404_and_changes_nothing(cast: Cast, batch: Batch, org: Any, name: str) -> None:
    r = cast.client(cast.manager_hp).post(
        url(name, batch.deployment),
        {"reason": "x", "confirm": "on", "codes": "HP0001", "person": org.carol.pk},
    )
    assert r.status_code == 404
    d = Deployment.objects.get(pk=batch.deployment.pk)
    assert d.status == DeploymentStatus.ACTIVE
    assert not DeploymentMember.objects.filter(deployment=d, person=org.carol).exists()


def test_remove_out_of_scope_is_404(cast: Cast, batch: Batch, org: Any) -> None:
    r = cast.client(cast.manager_hp).post(url("batch_member_remove", batch.deployment, org.alice.pk))
    assert r.status_code == 404
    assert DeploymentMember.objects.filter(deployment=batch.deployment, person=org.alice).exists()


@pytest.mark.parametrize("name", [*GET_PAGES, "batch_member_search"])
def test_a_member_sees_the_batch_but_may_not_change_it(cast: Cast, batch: Batch, name: str) -> None:
    # bob is in the batch (he sees its page) but holds no dispatch right
    assert (
        cast.client(cast.bob_user)
        .get(reverse("mobilize:batch_detail", args=[batch.deployment.pk]))
        .status_code
        == 200
    )
    assert cast.client(cast.bob_user).get(url(name, batch.deployment)).status_code == 403


def test_a_viewer_in_scope_gets_403_on_changes(cast: Cast, batch: Batch, org: Any, make_user: Any) -> None:
    viewer = make_user("viewer", "viewer", org.xuhui)
    c = cast.client(viewer)
    for name in ("batch_edit", "batch_cancel", "batch_members"):
        assert c.get(url(name, batch.deployment)).status_code == 403
    assert c.post(url("batch_cancel", batch.deployment), {"reason": "x", "confirm": "on"}).status_code == 403
    assert c.post(url("batch_member_paste", batch.deployment), {"codes": "XH0001"}).status_code == 403
    assert Deployment.objects.get(pk=batch.deployment.pk).status == DeploymentStatus.ACTIVE


def test_detail_shows_the_actions_only_to_those_allowed(cast: Cast, batch: Batch) -> None:
    page = reverse("mobilize:batch_detail", args=[batch.deployment.pk])
    html = cast.client(cast.leader).get(page).content.decode()
    for anchor in (
        'id="edit-link"',
        'id="cancel-link"',
        'id="members-link"',
        'id="export-link"',
        'id="plans"',
    ):
        assert anchor in html
    html = cast.client(cast.bob_user).get(page).content.decode()
    for anchor in (
        'id="edit-link"',
        'id="cancel-link"',
        'id="members-link"',
        'id="export-link"',
        'id="plans"',
    ):
        assert anchor not in html


# ---------------------------------------------------------------- edit


def test_edit_saves_and_audits(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    r = cast.client(cast.leader).post(
        url("batch_edit", d),
        edit_data(d, title="核酸检测(第二轮)", site="徐家汇街道", end=local_input(hour(12))),
    )
    assert r.status_code == 302
    d.refresh_from_db()
    assert (d.title, d.site, d.end) == ("核酸检测(第二轮)", "徐家汇街道", hour(12))
    ev = AuditEvent.objects.filter(action="mobilize.deployment.updated").latest("pk")
    assert ev.changes["title"] == ["核酸检测", "核酸检测(第二轮)"]


def test_edit_errors_are_per_field(cast: Cast, batch: Batch) -> None:
    d = batch.deployment
    c = cast.client(cast.leader)
    r = c.post(url("batch_edit", d), edit_data(d, title="", end=local_input(hour(-20))))
    assert r.status_code == 400
    form = r.context["form"]
    assert "title" in form.errors
    # the end before the start is the service's check, shown on the field
    r = c.post(url("batch_edit", d), edit_data(d, end=local_input(hour(-20))))
    assert r.status_code == 400
    assert "end" in r.context["form"].errors
    # a shift outside the new span is refused on the start field
    r = c.post(url("batch_edit", d), edit_data(d, start=local_input(hour(-2))))
    assert r.status_code == 400
    assert "start" in r.context["form"].errors
    # the leader cannot be blanked, an unknown one is named
    r = c.post(url("batch_edit", d), edit_data(d, leader=""))
    assert "leader" in r.context["form"].errors
    r = c.post(url("batch_edit", d), edit_data(d, leader="NOPE99"))
    assert "NOPE99" in r.context["form"].errors["leader"][0]
    d.refresh_from_db()
    assert d.title == "核酸检测"


def test_edit_out_of_scope_leader_reads_as_unknown(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    r = cast.client(cast.leader).post(url("batch_edit", d), edit_data(d, leader=org.carol.code))
    assert r.status_code == 400
    unknown = cast.client(cast.leader).post(url("batch_edit", d), edit_data(d, leader="ZZ9999"))
    assert r.context["form"].errors["leader"] == [
        e.replace("ZZ9999", org.carol.code) for e in unknown.context["form"].errors["leader"]
    ]


def test_edit_new_leader_joins(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    dave_like = person_create(actor=SYSTEM, code="XH0009", name="钱进", unit=org.xuhui)
    r = cast.client(cast.leader).post(url("batch_edit", d), edit_data(d, leader=dave_like.code))
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.leader == dave_like
    assert DeploymentMember.objects.filter(deployment=d, person=dave_like).exists()


@pytest.mark.parametrize(
    "over",
    [
        {"title": "a\x00b"},
        {"site": "x\x1b[31m"},
        {"start": "9999-12-31T23:59"},
        {"end": "99999-01-01T00:00"},
        {"leader": "X" * 500},
        {"title": "t" * 5000},
        {"note": "\x07bell"},
    ],
)
def test_edit_hostile_input_is_400(cast: Cast, batch: Batch, over: dict[str, str]) -> None:
    d = batch.deployment
    r = cast.client(cast.leader).post(url("batch_edit", d), edit_data(d, **over))
    assert r.status_code == 400
    d.refresh_from_db()
    assert d.title == "核酸检测"


# ---------------------------------------------------------------- cancel


def test_cancel_needs_reason_and_confirmation(cast: Cast, batch: Batch) -> None:
    d = batch.deployment
    c = cast.client(cast.leader)
    page = c.get(url("batch_cancel", d)).content.decode()
    assert 'id="cancel-consequences"' in page
    r = c.post(url("batch_cancel", d), {"reason": "", "confirm": "on"})
    assert r.status_code == 400 and "reason" in r.context["form"].errors
    r = c.post(url("batch_cancel", d), {"reason": "任务取消"})
    assert r.status_code == 400 and "confirm" in r.context["form"].errors
    r = c.post(url("batch_cancel", d), {"reason": "\x00", "confirm": "on"})
    assert r.status_code == 400
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.ACTIVE


def test_cancel_records_reason_and_notifies_members(cast: Cast, batch: Batch, org: Any) -> None:
    from muster.notify.models import Notification

    d = batch.deployment
    r = cast.client(cast.leader).post(url("batch_cancel", d), {"reason": "社区解除封控", "confirm": "on"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == DeploymentStatus.CANCELLED
    ev = AuditEvent.objects.filter(action="mobilize.deployment.cancelled").latest("pk")
    assert ev.changes["reason"] == "社区解除封控"
    notices = Notification.objects.filter(verb="mobilize.batch_cancelled")
    # alice (leader) and bob are members with logins; each gets one notice carrying the reason
    assert sorted(n.person.code for n in notices) == sorted([org.alice.code, org.bob.code])
    assert all("社区解除封控" in n.body for n in notices)
    assert all(n.link == reverse("mobilize:batch_detail", args=[d.pk]) for n in notices)
    # a second cancel is not offered again
    r = cast.client(cast.leader).get(url("batch_cancel", d))
    assert r.status_code == 302
    html = cast.client(cast.leader).get(reverse("mobilize:batch_detail", args=[d.pk])).content.decode()
    assert 'id="cancel-link"' not in html


# ---------------------------------------------------------------- members


def test_picker_searches_people_in_scope_with_masked_phones(cast: Cast, batch: Batch, org: Any) -> None:
    c = cast.client(cast.leader)
    r = c.get(url("batch_member_search", batch.deployment), {"q": "XH"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200
    assert org.bob.code in html and org.alice.code in html
    assert org.carol.code not in html  # 黄浦 is outside the leader's scope
    assert "13900001111" not in html and org.bob.phone_masked in html
    assert zh("In the batch") in html  # bob is already a member
    by_name = c.get(url("batch_member_search", batch.deployment), {"q": org.carol.name}).content.decode()
    assert org.carol.code not in by_name and zh("Nobody in your units matches.") in by_name


def test_picker_hostile_query_is_400(cast: Cast, batch: Batch) -> None:
    c = cast.client(cast.leader)
    assert c.get(url("batch_member_search", batch.deployment), {"q": "a\x00"}).status_code == 400
    assert c.get(url("batch_member_search", batch.deployment), {"q": "x" * 500}).status_code == 400


def test_add_and_remove_one_person(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    c = cast.client(cast.leader)
    newbie = person_create(actor=SYSTEM, code="XH0010", name="孙丽", unit=org.xuhui_office)
    assert c.post(url("batch_member_add", d), {"person": newbie.pk}).status_code == 302
    assert DeploymentMember.objects.filter(deployment=d, person=newbie).exists()
    assert c.post(url("batch_member_remove", d, newbie.pk)).status_code == 302
    assert not DeploymentMember.objects.filter(deployment=d, person=newbie).exists()
    assert AuditEvent.objects.filter(action="mobilize.deployment.member_removed").exists()


def test_add_out_of_scope_person_is_404_and_hostile_id_400(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    c = cast.client(cast.leader)
    assert c.post(url("batch_member_add", d), {"person": org.carol.pk}).status_code == 404
    assert c.post(url("batch_member_add", d), {"person": "99999999999999999999999"}).status_code == 400
    assert c.post(url("batch_member_add", d), {"person": "-1"}).status_code == 400
    assert not DeploymentMember.objects.filter(deployment=d, person=org.carol).exists()


def test_remove_refused_once_served(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    svc.checkin_record(actor=cast.leader, shift=batch.shift, person=org.bob, key="k-bob-1")
    c = cast.client(cast.leader)
    html = c.get(url("batch_members", d)).content.decode()
    assert zh("Has served") in html
    r = c.post(url("batch_member_remove", d, org.bob.pk), follow=True)
    assert (
        zh("%(person)s has already served in this batch; keep them.") % {"person": org.bob}
        in r.content.decode()
    )
    assert DeploymentMember.objects.filter(deployment=d, person=org.bob).exists()


def test_remove_a_non_member_is_404(cast: Cast, batch: Batch, org: Any) -> None:
    c = cast.client(cast.leader)
    assert c.post(url("batch_member_remove", batch.deployment, org.dave.pk)).status_code == 404


def test_add_a_whole_team(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    team = Team.objects.get(code="XH-T1")
    extra = person_create(actor=SYSTEM, code="XH0011", name="周敏", unit=org.xuhui)
    team_member_add(actor=SYSTEM, team=team, person=extra, role="member")
    r = cast.client(cast.leader).post(url("batch_member_team", d), {"team": team.pk})
    assert r.status_code == 200
    report = r.context["report"]
    assert report["counts"] == {"added": 1, "already": 1, "not_found": 0, "refused": 0}
    m = DeploymentMember.objects.get(deployment=d, person=extra)
    assert m.team == team


def test_out_of_scope_team_is_refused(cast: Cast, batch: Batch, org: Any) -> None:
    from muster.orgs.services import team_create

    hp_team = team_create(actor=SYSTEM, code="HP-T1", name="黄浦突击队", unit=org.huangpu, kind="youth")
    r = cast.client(cast.leader).post(url("batch_member_team", batch.deployment), {"team": hp_team.pk})
    assert r.status_code == 400
    assert "team" in r.context["team_form"].errors


def test_pasted_list_reports_each_line(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    newbie = person_create(actor=SYSTEM, code="XH0012", name="吴刚", unit=org.xuhui)
    codes = f"{newbie.code}\n{org.bob.code}，{org.carol.code}\nZZ404\n{newbie.code}"
    r = cast.client(cast.leader).post(url("batch_member_paste", d), {"codes": codes})
    assert r.status_code == 200
    lines = [(ln.code, ln.outcome) for ln in r.context["report"]["lines"]]
    assert lines == [
        (newbie.code, "added"),
        (org.bob.code, "already"),
        (org.carol.code, "not_found"),  # out of scope reads exactly like unknown
        ("ZZ404", "not_found"),
    ]
    html = r.content.decode()
    assert org.carol.name not in html
    msgs = {ln.code: ln.message for ln in r.context["report"]["lines"]}
    assert msgs[org.carol.code] == msgs["ZZ404"]
    assert DeploymentMember.objects.filter(deployment=d, person=newbie).exists()
    assert not DeploymentMember.objects.filter(deployment=d, person=org.carol).exists()


def test_pasted_list_conflict_is_refused_per_line(cast: Cast, batch: Batch, org: Any) -> None:
    # dave is busy in another batch at the same time: his line is refused, the others still join
    other = svc.deployment_dispatch(
        actor=SYSTEM, unit=org.xuhui, title="值守", start=hour(-10), end=hour(10), people=[org.dave]
    ).deployment
    assert other.pk
    newbie = person_create(actor=SYSTEM, code="XH0013", name="郑好", unit=org.xuhui)
    admin_like = cast.leader
    r = cast.client(admin_like).post(
        url("batch_member_paste", batch.deployment), {"codes": f"{org.dave.code}, {newbie.code}"}
    )
    outcomes = {ln.code: ln.outcome for ln in r.context["report"]["lines"]}
    assert outcomes[newbie.code] == "added"
    assert outcomes[org.dave.code] in ("refused", "not_found")


@pytest.mark.parametrize(
    "codes", ["", "   \n ", "a\x00b", ",".join(f"C{i}" for i in range(501)), "x" * 30000]
)
def test_pasted_list_bad_input_is_400(cast: Cast, batch: Batch, codes: str) -> None:
    before = DeploymentMember.objects.filter(deployment=batch.deployment).count()
    r = cast.client(cast.leader).post(url("batch_member_paste", batch.deployment), {"codes": codes})
    assert r.status_code == 400
    assert DeploymentMember.objects.filter(deployment=batch.deployment).count() == before


def test_cancelled_batch_takes_no_members(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    svc.deployment_cancel(actor=cast.leader, deployment=d, reason="取消")
    newbie = person_create(actor=SYSTEM, code="XH0014", name="冯雪", unit=org.xuhui)
    c = cast.client(cast.leader)
    assert 'id="paste-form"' not in c.get(url("batch_members", d)).content.decode()
    r = c.post(url("batch_member_paste", d), {"codes": newbie.code})
    assert [ln.outcome for ln in r.context["report"]["lines"]] == ["refused"]
    assert not DeploymentMember.objects.filter(deployment=d, person=newbie).exists()


def test_members_page_pages(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    people = [
        person_create(actor=SYSTEM, code=f"XP{i:03d}", name=f"人{i}", unit=org.xuhui) for i in range(60)
    ]
    svc_add = svc.deployment_member_add
    for p in people:
        svc_add(actor=cast.leader, deployment=d, person=p)
    c = cast.client(cast.leader)
    first = c.get(url("batch_members", d))
    assert first.context["page"].paginator.count == 62
    assert len(first.context["page"].object_list) == 50
    assert len(c.get(url("batch_members", d), {"page": "2"}).context["page"].object_list) == 12
    assert c.get(url("batch_members", d), {"page": "99999999999999999999999"}).status_code == 200


# ---------------------------------------------------------------- the 名单: Excel and print


def test_export_is_translated_and_masked(cast: Cast, batch: Batch, org: Any, make_user: Any) -> None:
    from django.utils import translation

    d = batch.deployment
    c = cast.client(cast.leader)
    r = c.get(url("batch_export", d), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        assert rows[0][0] == gettext("Staff number")
    codes = [row[0] for row in rows[1:]]
    assert codes == sorted([org.alice.code, org.bob.code])
    bob_row = rows[1 + codes.index(org.bob.code)]
    # the leader role on 徐汇 may see phones (VIEW_PHONE); a raw enum key never appears
    assert bob_row[5] == "13900001111"
    flat = " ".join(str(v) for row in rows for v in row if v is not None)
    assert "non_party" not in flat and "member" not in flat.split()
    assert AuditEvent.objects.filter(action="mobilize.deployment.exported").exists()


def test_export_masks_phones_without_the_right(cast: Cast, batch: Batch, org: Any, make_user: Any) -> None:
    # a leader of the supported unit manages the batch's shifts but may not see 徐汇's phones
    d = batch.deployment
    Deployment.objects.filter(pk=d.pk).update(supported_unit=org.huangpu)
    # manager on 黄浦: dispatch rights on the supported unit, no phones of 徐汇's people
    r = cast.client(cast.manager_hp).get(url("batch_export", d))
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    bob_row = next(row for row in rows if row[0] == org.bob.code)
    assert bob_row[5] == Person.objects.get(pk=org.bob.pk).phone_masked
    assert "13900001111" not in str(rows)


def test_print_layout(cast: Cast, batch: Batch, org: Any) -> None:
    r = cast.client(cast.leader).get(url("batch_print", batch.deployment))
    html = r.content.decode()
    assert r.status_code == 200
    assert "@page" in html and 'id="print-table"' in html
    assert org.alice.name in html and org.bob.name in html


# ---------------------------------------------------------------- roster plans on the batch and post pages


def test_plans_are_listed_on_batch_and_post_pages(cast: Cast, batch: Batch, org: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from muster.mobilize.models import Post
    from muster.roster.models import RosterPlan

    d = batch.deployment
    today = timezone.localdate()
    plan = RosterPlan.objects.create(deployment=d, start_date=today, end_date=today + timedelta(days=1))
    html = cast.client(cast.leader).get(reverse("mobilize:batch_detail", args=[d.pk])).content.decode()
    assert f'data-plan="{plan.pk}"' in html
    assert reverse("roster:plan_detail", args=[plan.pk]) in html
    assert f'href="{reverse("roster:plan_list")}"' in html  # the plans index
    post = svc.post_create(actor=cast.leader, unit=org.xuhui, code="XH-HL", name="12366 热线", kind="hotline")
    pplan = RosterPlan.objects.create(post=post, start_date=today, end_date=today + timedelta(days=6))
    assert isinstance(post, Post)
    html = cast.client(cast.leader).get(reverse("mobilize:post_detail", args=[post.pk])).content.decode()
    assert f'data-plan="{pplan.pk}"' in html


# ---------------------------------------------------------------- the batches list (shared list component)


def test_batches_list_filters_sorts_pages_and_exports(cast: Cast, batch: Batch, org: Any) -> None:
    for i in range(3):
        svc.deployment_dispatch(
            actor=SYSTEM,
            unit=org.xuhui_office,
            title=f"值守{i}",
            start=hour(20 + i * 30),
            end=hour(25 + i * 30),
            people=[org.alice],
        )
    svc.deployment_cancel(actor=SYSTEM, deployment=batch.deployment, reason="取消")
    c = cast.client(cast.leader)
    lst = c.get(reverse("mobilize:batches")).context["lst"]
    assert lst.total == 4
    assert [d.title for d in lst.rows][:3] == ["值守2", "值守1", "值守0"]  # newest first
    assert c.get(reverse("mobilize:batches"), {"status": "cancelled"}).context["lst"].total == 1
    assert c.get(reverse("mobilize:batches"), {"unit": org.xuhui_office.pk}).context["lst"].total == 3
    assert c.get(reverse("mobilize:batches"), {"q": "值守1"}).context["lst"].total == 1
    asc = c.get(reverse("mobilize:batches"), {"sort": "start"}).context["lst"]
    assert asc.rows[0].pk == batch.deployment.pk
    assert c.get(reverse("mobilize:batches"), {"sort": "drop table"}).status_code == 200
    assert len(c.get(reverse("mobilize:batches"), {"size": "10"}).context["lst"].rows) == 4
    assert c.get(reverse("mobilize:batches"), {"page": "99999999999999999999999"}).status_code == 200
    # a unit out of sight is not a choice (the same answer as a unit that does not exist)
    assert c.get(reverse("mobilize:batches"), {"unit": org.huangpu.pk}).status_code == 400
    assert c.get(reverse("mobilize:batches"), {"since": "9999-99-99"}).status_code == 400
    assert c.get(reverse("mobilize:batches"), {"q": "a\x00"}).status_code == 400
    r = c.get(reverse("mobilize:batches"), {"export": "xlsx", "status": "cancelled"})
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == batch.deployment.code
    assert rows[1][7] == zh("Cancelled")
    assert "cancelled" not in [str(v) for v in rows[1]]
    # 黄浦 sees none of 徐汇's batches
    assert cast.client(cast.manager_hp).get(reverse("mobilize:batches")).context["lst"].total == 0


# ---------------------------------------------------------------- a long batch's shifts, a day at a time


def test_long_batch_shows_its_shifts_one_day_at_a_time(cast: Cast, org: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from muster.clock import local_midnight

    today = timezone.localdate()
    first = local_midnight(today - timedelta(days=2))
    d = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="方舱值守",
        start=first,
        end=first + timedelta(days=14),
        people=[org.bob],
    ).deployment
    for n in range(14):
        for h in (0, 8, 16):
            start = first + timedelta(days=n, hours=h)
            s = svc.shift_create(
                actor=cast.leader, deployment=d, start=start, end=start + timedelta(hours=8), seats=2
            )
            if n == 2 and h == 8:
                svc.shift_assign(actor=cast.leader, shift=s, person=org.bob)
    c = cast.client(cast.leader)
    page = reverse("mobilize:batch_detail", args=[d.pk])
    r = c.get(page)
    assert r.status_code == 200
    assert r.context["day"] == today  # today, the batch's third day
    assert len(r.context["shifts"]) == 3 and r.context["shift_total"] == 42
    html = r.content.decode()
    assert html.count("data-shift=") == 3 and 'id="shift-day-nav"' in html
    assert 'id="prev-day"' in html and 'id="next-day"' in html
    assigned = next(s for s, n in r.context["shifts"] if n)
    assert reverse("mobilize:shift_rollcall", args=[assigned.pk]) in html  # roll-call of one shift
    last = c.get(page, {"day": (today + timedelta(days=11)).isoformat()})
    assert last.context["day"] == today + timedelta(days=11) and 'id="next-day"' not in last.content.decode()
    # a day without shifts moves to the next day that has some; past the end, the last day
    assert c.get(page, {"day": (today - timedelta(days=30)).isoformat()}).context["day"] == today - timedelta(
        days=2
    )
    assert c.get(page, {"day": (today + timedelta(days=300)).isoformat()}).context[
        "day"
    ] == today + timedelta(days=11)
    for bad in ("2026-02-31", "9999-12-31", "yesterday", "\x00"):
        assert c.get(page, {"day": bad}).status_code == 400, bad


def test_short_batch_shows_every_shift(cast: Cast, batch: Batch) -> None:
    r = cast.client(cast.leader).get(reverse("mobilize:batch_detail", args=[batch.deployment.pk]))
    assert r.context["day"] is None and len(r.context["shifts"]) == 1
    assert 'id="shift-day-nav"' not in r.content.decode()


def test_cancel_through_the_api_notifies_the_members_too(cast: Cast, batch: Batch, org: Any) -> None:
    from muster.notify.models import Notification

    d = batch.deployment
    r = cast.client(cast.leader).post(
        f"/api/v1/mobilize/deployments/{d.code}/cancel", {"reason": "撤点"}, content_type="application/json"
    )
    assert r.status_code == 200
    notices = Notification.objects.filter(verb="mobilize.batch_cancelled")
    assert sorted(n.person.code for n in notices) == sorted([org.alice.code, org.bob.code])
    assert all("撤点" in n.body for n in notices)


def test_a_member_without_a_login_or_e_mail_gets_no_notice(cast: Cast, batch: Batch, org: Any) -> None:
    from muster.notify.models import Notification

    d = batch.deployment
    quiet = person_create(actor=SYSTEM, code="XH0030", name="陈静", unit=org.xuhui)
    svc.deployment_member_add(actor=cast.leader, deployment=d, person=quiet)
    svc.deployment_cancel(actor=cast.leader, deployment=d, reason="撤点")
    assert not Notification.objects.filter(person=quiet).exists()
    assert Notification.objects.filter(verb="mobilize.batch_cancelled").count() == 2
