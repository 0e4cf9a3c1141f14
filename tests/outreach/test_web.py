"""Outreach pages: figures, my enterprises (a liaison on a phone), visits and the problem list's steps."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.conf import settings

from muster.orgs.access import SYSTEM
from muster.outreach import services
from muster.outreach.models import Enterprise, Problem, Visit


@pytest.fixture
def manager(org: Any, make_user: Any, login: Any) -> Any:
    c = login(make_user("m", "manager", org.xuhui))
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def test_figures_page(org: Any, ent: Enterprise, manager: Any) -> None:
    services.visit_record(
        actor=SYSTEM, held_on=date(2018, 5, 1), unit=org.xuhui, visitors=[org.alice], enterprises=[ent]
    )
    pr = services.problem_raise(actor=SYSTEM, title="p", unit=org.xuhui, raised_on=date(2018, 5, 1))
    services.problem_resolve(actor=SYSTEM, problem=pr, resolution="ok", on=date(2018, 5, 2))
    r = manager.get("/outreach/?unit=XH&as_of=2018-10-11")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-metric="outreach.visits">1<' in html
    assert 'data-metric="outreach.resolution_rate">100.0%<' in html
    assert "1 problem found, with a resolution rate of 100.0%." in html
    assert manager.get("/outreach/?unit=HP").status_code == 404
    assert manager.get("/outreach/?unit=XH&as_of=9999-12-31").status_code == 400


def test_my_enterprises_for_a_liaison(org: Any, ent: Enterprise, make_user: Any, login: Any) -> None:
    user = make_user("alice")
    org.alice.user = user
    org.alice.save()
    services.liaison_assign(
        actor=SYSTEM, enterprise=ent, person=org.alice, start=date(2018, 8, 1), role="party_guide"
    )
    html = login(user).get("/outreach/mine/").content.decode()
    assert f'data-code="{ent.credit_code}"' in html and ent.name in html
    assert 'name="viewport"' in html  # the phone layout of the base page


def test_enterprise_pages_scoped(org: Any, ent: Enterprise, manager: Any, make_user: Any, login: Any) -> None:
    assert ent.credit_code in manager.get("/outreach/enterprises/?q=上海").content.decode()
    assert manager.get(f"/outreach/enterprises/{ent.credit_code}/").status_code == 200
    hp = login(make_user("hp", "manager", org.huangpu))
    assert hp.get(f"/outreach/enterprises/{ent.credit_code}/").status_code == 404
    assert ent.credit_code not in hp.get("/outreach/enterprises/").content.decode()


@pytest.mark.usefixtures("fixed_clock")
def test_record_a_visit_and_walk_a_problem(org: Any, ent: Enterprise, manager: Any) -> None:
    xh = org.xuhui
    r = manager.post(
        "/outreach/visits/new/",
        {
            "held_on": "2026-03-09",
            "form": "on_site",
            "unit": xh.pk,
            "visitors": "XH0001",
            "enterprises": ent.credit_code,
        },
    )
    assert r.status_code == 400 and "future" in r.content.decode()
    r = manager.post(
        "/outreach/visits/new/",
        {
            "held_on": "2026-03-02",
            "form": "on_site",
            "unit": xh.pk,
            "visitors": "XH0001",
            "enterprises": ent.credit_code,
        },
    )
    assert r.status_code == 302
    v = Visit.objects.get()
    pr = services.problem_raise(actor=SYSTEM, title="退税慢", unit=xh, raised_on=date(2026, 3, 2), visit=v)
    url = f"/outreach/problems/{pr.pk}/"
    assert manager.get(url).status_code == 200
    r = manager.post(url + "resolve/", {"resolve-on": "2026-03-03", "resolve-resolution": ""})
    assert r.status_code == 400
    r = manager.post(url + "resolve/", {"resolve-on": "2026-03-03", "resolve-resolution": "已办结"})
    assert r.status_code == 302
    r = manager.post(url + "resolve/", {"resolve-on": "2026-03-03", "resolve-resolution": "again"})
    assert r.status_code == 400 and "reopen it first" in r.content.decode()
    r = manager.post(url + "reopen/", {"reopen-on": "2026-03-04", "reopen-reason": "仍未到账"})
    assert r.status_code == 302
    assert Problem.objects.get().status == "open"
    html = manager.get(url).content.decode()
    assert html.count("data-action=") == 3
    assert manager.get("/outreach/problems/?overdue_on=2026-03-04").status_code == 200
    assert manager.get("/outreach/visits/").status_code == 200


def test_viewer_sees_no_step_forms(org: Any, make_user: Any, login: Any) -> None:
    pr = services.problem_raise(actor=SYSTEM, title="p", unit=org.xuhui, raised_on=date(2018, 5, 1))
    viewer = login(make_user("v", "viewer", org.xuhui))
    html = viewer.get(f"/outreach/problems/{pr.pk}/").content.decode()
    assert 'id="form-resolve"' not in html
    r = viewer.post(
        f"/outreach/problems/{pr.pk}/resolve/", {"resolve-on": "2018-05-02", "resolve-resolution": "x"}
    )
    assert r.status_code == 403
