"""The volunteer demo (``muster demo``): 黄浦's "党员集结号" team with profiles, open shifts with sign-ups and
a waiting list, and a call-up answered — its figures through the metric registry; loading twice changes
nothing. (One test: loading the demo organization takes a while.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest

from muster.orgs.demo import load_demo
from muster.orgs.models import Unit
from muster.reports import registry
from muster.volunteers import queries
from muster.volunteers.demo import load_volunteers_demo
from muster.volunteers.models import CallUp, Opening, Profile, SignUp
from tests.volunteers.conftest import at

pytestmark = pytest.mark.django_db


def test_volunteer_demo(db: Any) -> None:
    load_demo()
    out = StringIO()
    assert load_volunteers_demo(out, today=date(2026, 3, 4)) is True  # the fixed clock's day
    assert "call-up" in out.getvalue()
    hp = Unit.objects.get(code="HP")
    figures = {
        m.id.split(".", 1)[1]: m.answer(hp, at("2026-03-04 12:00"))
        for m in registry.metrics()
        if m.id.startswith("volunteers.")
    }
    assert figures["registered"] == Profile.objects.count() == 12
    assert figures["open_seats"] == 16 and Opening.objects.count() == 6
    assert figures["signups"] == SignUp.objects.count() >= 6
    assert figures["waiting"] >= 1
    assert figures["callups"] == 1 and figures["callup_invited"] == 12 and figures["callup_answered"] == 10
    assert figures["callup_answer_rate"] == Decimal("83.3")
    # someone of the team sees open shifts that fit them (the home-observed member: remote seats only)
    observed = Profile.objects.filter(person__home_observations__isnull=False).get().person
    rows = queries.open_shifts(observed, now=at("2026-03-04 12:00"), only_fitting=False)
    assert rows and all(r.mode == "remote" for r in rows if r.fits)
    callup = CallUp.objects.get()
    assert callup.team is not None and callup.team.name == "党员集结号"
    assert load_volunteers_demo(StringIO(), today=date(2026, 3, 4)) is False
    assert Profile.objects.count() == 12 and CallUp.objects.count() == 1
