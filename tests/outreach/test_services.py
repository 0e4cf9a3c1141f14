"""Outreach services: enterprises, liaisons, visits, the problem list, and the figures as of a cutoff."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from muster.audit.models import AuditEvent
from muster.notify.models import Notification
from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.services import role_grant
from muster.outreach import queries, services
from muster.outreach.models import Enterprise, Problem, ProblemEvent, ProblemStatus
from muster.reports import registry
from tests.outreach.conftest import VALID_CODES

SH = ZoneInfo("Asia/Shanghai")


def cutoff(d: date) -> datetime:
    """'d 24:00' in Shanghai."""
    return datetime(d.year, d.month, d.day, tzinfo=SH) + timedelta(days=1)


# ---------------------------------------------------------------- enterprises


def test_enterprise_created_and_audited(ent: Enterprise) -> None:
    assert ent.credit_code == VALID_CODES[0]
    ev = AuditEvent.objects.get(action="outreach.enterprise.created")
    assert ev.changes["credit_code"] == VALID_CODES[0]
    assert ev.unit_path == ent.unit.path


def test_wrong_check_character_refused(org: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.enterprise_create(
            actor=SYSTEM, credit_code="91350100M000100Y44", name="X", unit=org.xuhui_office
        )
    msg = exc.value.message_dict["credit_code"][0]
    assert "4 was given, 3 is expected" in msg
    assert not Enterprise.objects.exists()


def test_duplicate_code_and_missing_name(org: Any, ent: Enterprise) -> None:
    with pytest.raises(ValidationError) as exc:
        services.enterprise_create(actor=SYSTEM, credit_code=VALID_CODES[0].lower(), name=" ", unit=org.xuhui)
    assert "already registered" in exc.value.message_dict["credit_code"][0]
    assert "name" in exc.value.message_dict


def test_enterprise_out_of_scope_is_404_and_visible_not_allowed_is_403(
    org: Any, ent: Enterprise, make_user: Any
) -> None:
    hp_manager = make_user("hp", "manager", org.huangpu)
    with pytest.raises(Http404):
        queries.enterprise_get(hp_manager, ent.credit_code)
    with pytest.raises(Http404):
        services.enterprise_update(actor=hp_manager, enterprise=ent, name="Y")
    viewer = make_user("v", "viewer", org.xuhui)
    assert queries.enterprise_get(viewer, ent.credit_code) == ent
    with pytest.raises(NotAllowed):
        services.enterprise_update(actor=viewer, enterprise=ent, name="Y")


def test_enterprise_update_diffs(org: Any, ent: Enterprise) -> None:
    services.enterprise_update(actor=SYSTEM, enterprise=ent, industry="制造业", size="medium")
    ev = AuditEvent.objects.get(action="outreach.enterprise.updated")
    assert ev.changes == {"industry": ["软件和信息技术服务业", "制造业"], "size": ["small", "medium"]}
    with pytest.raises(ValidationError):
        services.enterprise_update(actor=SYSTEM, enterprise=ent, credit_code=VALID_CODES[1])


# ---------------------------------------------------------------- liaisons


def test_liaisons_and_my_enterprises(org: Any, ent: Enterprise, make_user: Any) -> None:
    user = make_user("alice")
    org.alice.user = user
    org.alice.save()
    li = services.liaison_assign(
        actor=SYSTEM, enterprise=ent, person=org.alice, start=date(2018, 8, 1), role="party_guide"
    )
    assert [e for e, _ in queries.my_enterprises(user, date(2018, 9, 1))] == [ent]
    assert queries.my_enterprises(user, date(2018, 7, 31)) == []
    with pytest.raises(ValidationError) as exc:
        services.liaison_assign(
            actor=SYSTEM, enterprise=ent, person=org.alice, start=date(2019, 1, 1), role="party_guide"
        )
    assert "already assigned" in exc.value.message_dict["person"][0]
    services.liaison_end(actor=SYSTEM, liaison=li, end=date(2019, 12, 31))
    assert queries.my_enterprises(user, date(2020, 1, 1)) == []
    with pytest.raises(ValidationError):
        services.liaison_end(actor=SYSTEM, liaison=li, end=date(2018, 1, 1))
    as_of = cutoff(date(2019, 6, 30))
    assert registry.answer("outreach.enterprises_with_liaison", org.xuhui, as_of) == 1
    assert registry.answer("outreach.enterprises_with_liaison", org.huangpu, as_of) == 0


# ---------------------------------------------------------------- visits


@pytest.mark.usefixtures("fixed_clock")
def test_visit_in_the_future_refused(org: Any, ent: Enterprise) -> None:
    with pytest.raises(ValidationError) as exc:
        services.visit_record(
            actor=SYSTEM, held_on=date(2026, 3, 5), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
        )
    assert "future" in exc.value.message_dict["held_on"][0]


def test_visit_needs_visitors_and_someone_visited(org: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.visit_record(actor=SYSTEM, held_on=date(2018, 5, 1), unit=org.xuhui)
    assert set(exc.value.message_dict) == {"visitors", "enterprises"}


def test_visit_by_branch_secretary_and_figures(org: Any, ent: Enterprise, make_user: Any) -> None:
    secretary = make_user("sec", "secretary", org.xuhui_branch)
    role_grant(actor=SYSTEM, user=secretary, unit=org.xuhui, role="viewer")  # sees the district's enterprises
    v = services.visit_record(
        actor=secretary,
        held_on=date(2018, 5, 1),
        unit=org.xuhui,
        branch=org.xuhui_branch,
        form="on_site",
        visitors=[org.alice],
        enterprises=[ent],
        topics="留抵退税",
    )
    assert AuditEvent.objects.filter(action="outreach.visit.recorded", target_id=str(v.pk)).exists()
    as_of = cutoff(date(2018, 5, 1))
    for unit in (org.xuhui, org.xuhui_committee, org.root, org.party_root):
        assert registry.answer("outreach.visits", unit, as_of) == 1
        assert registry.answer("outreach.enterprises_visited", unit, as_of) == 1
    assert registry.answer("outreach.visits", org.huangpu, as_of) == 0
    assert registry.answer("outreach.visits", org.xuhui, cutoff(date(2018, 4, 30))) == 0
    # a branch-only secretary may not record under a unit without naming their branch
    with pytest.raises(NotAllowed):
        services.visit_record(
            actor=secretary, held_on=date(2018, 5, 1), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
        )


def test_branch_must_be_a_party_unit(org: Any, ent: Enterprise) -> None:
    with pytest.raises(ValidationError) as exc:
        services.visit_record(
            actor=SYSTEM,
            held_on=date(2018, 5, 1),
            unit=org.xuhui,
            branch=org.huangpu,
            visitors=[org.alice],
            enterprises=[ent],
        )
    assert "branch" in exc.value.message_dict


# ---------------------------------------------------------------- problems


def _problem(org: Any, ent: Enterprise, **kw: Any) -> Problem:
    args: dict[str, Any] = {
        "actor": SYSTEM,
        "title": "发票领用不便",
        "unit": org.xuhui_office,
        "raised_on": date(2018, 5, 2),
        "enterprise": ent,
        "deadline": date(2018, 6, 1),
        "category": "发票",
    }
    args.update(kw)
    return services.problem_raise(**args)


def test_problem_lifecycle_history_is_append_only(org: Any, ent: Enterprise) -> None:
    pr = _problem(org, ent)
    services.problem_start(actor=SYSTEM, problem=pr, on=date(2018, 5, 3))
    with pytest.raises(ValidationError) as exc:
        services.problem_resolve(actor=SYSTEM, problem=pr, resolution="  ", on=date(2018, 5, 10))
    assert "resolution" in exc.value.message_dict
    services.problem_resolve(
        actor=SYSTEM, problem=pr, resolution="上门辅导", evidence="回访记录", on=date(2018, 5, 10)
    )
    with pytest.raises(ValidationError) as exc:
        services.problem_resolve(actor=SYSTEM, problem=pr, resolution="again", on=date(2018, 5, 11))
    assert "reopen it first" in exc.value.message_dict["status"][0]
    with pytest.raises(ValidationError) as exc:
        services.problem_update(actor=SYSTEM, problem=pr, title="改标题")
    assert "reopen it first" in exc.value.message_dict["status"][0]
    with pytest.raises(ValidationError):
        services.problem_reopen(actor=SYSTEM, problem=pr, reason="企业反映仍未解决", on=date(2018, 5, 9))
    services.problem_reopen(actor=SYSTEM, problem=pr, reason="企业反映仍未解决", on=date(2018, 6, 5))
    pr.refresh_from_db()
    assert pr.status == ProblemStatus.OPEN and pr.resolved_on is None
    assert list(ProblemEvent.objects.filter(problem=pr).values_list("action", flat=True)) == [
        "raised",
        "started",
        "resolved",
        "reopened",
    ]
    # The figures read the history: resolved between 5-10 and 6-5, not after.
    unit = org.xuhui
    assert registry.answer("outreach.problems", unit, cutoff(date(2018, 5, 1))) == 0
    assert registry.answer("outreach.problems_resolved", unit, cutoff(date(2018, 5, 9))) == 0
    assert registry.answer("outreach.problems_resolved", unit, cutoff(date(2018, 5, 10))) == 1
    assert registry.answer("outreach.resolution_rate", unit, cutoff(date(2018, 6, 4))) == Decimal("100.0")
    assert registry.answer("outreach.problems_resolved", unit, cutoff(date(2018, 6, 5))) == 0
    assert registry.answer("outreach.problems_overdue", unit, cutoff(date(2018, 6, 1))) == 0
    assert registry.answer("outreach.problems_overdue", unit, cutoff(date(2018, 6, 5))) == 1
    assert registry.answer("outreach.resolution_rate", unit, cutoff(date(2018, 6, 5))) == Decimal("0.0")


def test_unsolvable_needs_a_reason(org: Any, ent: Enterprise) -> None:
    pr = _problem(org, ent)
    with pytest.raises(ValidationError):
        services.problem_declare_unsolvable(actor=SYSTEM, problem=pr, reason="", on=date(2018, 5, 3))
    services.problem_declare_unsolvable(actor=SYSTEM, problem=pr, reason="超出税务职能", on=date(2018, 5, 3))
    pr.refresh_from_db()
    assert pr.status == ProblemStatus.UNSOLVABLE
    assert registry.answer("outreach.problems_overdue", org.root, cutoff(date(2018, 7, 1))) == 0
    assert registry.answer("outreach.problems_resolved", org.root, cutoff(date(2018, 7, 1))) == 0


def test_deadline_before_raise_and_future_raise_refused(org: Any, ent: Enterprise) -> None:
    with pytest.raises(ValidationError) as exc:
        _problem(org, ent, deadline=date(2018, 5, 1))
    assert "deadline" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _problem(org, ent, raised_on=date(2100, 1, 1), deadline=None)


def test_overdue_list(org: Any, ent: Enterprise, make_user: Any) -> None:
    a = _problem(org, ent, deadline=date(2018, 5, 20))
    b = _problem(org, ent, deadline=date(2018, 5, 10), title="b")
    _problem(org, ent, deadline=None, title="c")
    d = _problem(org, ent, deadline=date(2018, 5, 5), title="d")
    services.problem_resolve(actor=SYSTEM, problem=d, resolution="ok", on=date(2018, 5, 4))
    assert list(queries.overdue(SYSTEM, date(2018, 6, 1))) == [b, a]
    assert list(queries.overdue(make_user("hp", "manager", org.huangpu), date(2018, 6, 1))) == []


def test_enterprise_liaisons_are_notified_when_solved(org: Any, ent: Enterprise, make_user: Any) -> None:
    user = make_user("alice")
    org.alice.user = user
    org.alice.save()
    services.liaison_assign(actor=SYSTEM, enterprise=ent, person=org.alice, start=date(2018, 1, 1))
    pr = _problem(org, ent)
    services.problem_resolve(actor=SYSTEM, problem=pr, resolution="已办结", on=date(2018, 5, 10))
    n = Notification.objects.get(recipient=user)
    assert n.verb == "outreach.problem_resolved"
    assert "发票领用不便" in n.title and "已办结" in n.body


def test_problem_out_of_scope_is_404(org: Any, ent: Enterprise, make_user: Any) -> None:
    pr = _problem(org, ent)
    hp = make_user("hp", "manager", org.huangpu)
    with pytest.raises(Http404):
        queries.problem_get(hp, pr.pk)
    with pytest.raises(Http404):
        services.problem_resolve(actor=hp, problem=pr, resolution="x")
    viewer = make_user("v", "viewer", org.xuhui)
    with pytest.raises(NotAllowed):
        services.problem_resolve(actor=viewer, problem=pr, resolution="x")
