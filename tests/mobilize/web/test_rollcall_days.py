"""The batch roll-call of a long batch one local day at a time, and its Excel export (issue 27 item 4)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from muster import dates
from muster.audit.models import AuditEvent
from muster.clock import local_midnight
from muster.mobilize import services as svc
from muster.mobilize.models import CheckEvent, Deployment, Shift
from muster.mobilize.views.days import SHIFTS_ON_ONE_PAGE
from muster.orgs.models import Person

from .conftest import Batch, Cast, local_input

pytestmark = pytest.mark.django_db

DAYS = 14
HOURS = (0, 8, 16)


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def state(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.pgettext("roll-call state", text)


@dataclass
class Long:
    deployment: Deployment
    first: date  # the batch's first day: two days before today
    shifts: dict[date, list[Shift]]  # the staffed shifts of each day

    def url(self, name: str = "batch_rollcall") -> str:
        return reverse(f"mobilize:{name}", args=[self.deployment.pk])


@pytest.fixture
def long(cast: Cast, org: Any) -> Long:
    """A 14-day batch of 徐汇 with three 8-hour shifts a day, bob on each, and one empty shift a day."""
    today = timezone.localdate()
    first = today - timedelta(days=2)
    start0 = local_midnight(first)
    d = svc.deployment_dispatch(
        actor=cast.leader,
        unit=org.xuhui,
        title="方舱值守",
        start=start0,
        end=start0 + timedelta(days=DAYS),
        people=[org.bob],
    ).deployment
    shifts: dict[date, list[Shift]] = {}
    for n in range(DAYS):
        for h in HOURS:
            start = start0 + timedelta(days=n, hours=h)
            s = svc.shift_create(
                actor=cast.leader, deployment=d, start=start, end=start + timedelta(hours=8), seats=2
            )
            svc.shift_assign(actor=cast.leader, shift=s, person=org.bob)
            shifts.setdefault(first + timedelta(days=n), []).append(s)
        # an empty shift is no line on the roll-call and counts for nothing
        empty = start0 + timedelta(days=n, hours=20)
        svc.shift_create(
            actor=cast.leader, deployment=d, start=empty, end=empty + timedelta(hours=2), seats=1
        )
    assert DAYS * len(HOURS) > SHIFTS_ON_ONE_PAGE
    return Long(d, first, shifts)


def shown(r: Any) -> list[int]:
    return [int(x) for x in re.findall(r'data-shift="(\d+)"', r.content.decode())]


def key_of(r: Any) -> str:
    m = re.search(r'name="key" value="(\w+)"', r.content.decode())
    assert m is not None
    return m.group(1)


def xlsx_rows(r: Any) -> list[tuple[Any, ...]]:
    assert r.status_code == 200, r.status_code
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))


def naive(dt: datetime) -> datetime:
    return timezone.localtime(dt).replace(tzinfo=None)


# ---------------------------------------------------------------- one day at a time


def test_long_batch_rollcall_shows_one_day_at_a_time(cast: Cast, long: Long) -> None:
    c = cast.client(cast.leader)
    today = timezone.localdate()
    r = c.get(long.url())
    assert r.status_code == 200
    assert r.context["nav"].day == today and r.context["shift_total"] == DAYS * len(HOURS)
    assert shown(r) == [s.pk for s in long.shifts[today]]
    html = r.content.decode()
    assert 'id="rollcall-day-nav"' in html and 'id="prev-day"' in html and 'id="next-day"' in html
    assert f'?day={(today - timedelta(days=1)).isoformat()}"' in html  # «
    assert f'?day={(today + timedelta(days=1)).isoformat()}"' in html  # »
    # the picker offers every day with staffed shifts
    assert html.count('<option value="') == DAYS
    # the first and last day: no « / no »
    first = c.get(long.url(), {"day": long.first.isoformat()})
    assert (
        shown(first) == [s.pk for s in long.shifts[long.first]]
        and 'id="prev-day"' not in first.content.decode()
    )
    last_day = long.first + timedelta(days=DAYS - 1)
    last = c.get(long.url(), {"day": last_day.isoformat()})
    assert (
        shown(last) == [s.pk for s in long.shifts[last_day]] and 'id="next-day"' not in last.content.decode()
    )
    # a day without staffed shifts moves to the next one that has some; past the end, the last day
    assert (
        c.get(long.url(), {"day": (today - timedelta(days=30)).isoformat()}).context["nav"].day == long.first
    )
    assert (
        c.get(long.url(), {"day": (today + timedelta(days=300)).isoformat()}).context["nav"].day == last_day
    )


@pytest.mark.parametrize("bad", ["2026-02-31", "9999-12-31", "yesterday", "\x00", "2026-1-1x"])
def test_a_bad_day_is_400_with_a_message(cast: Cast, long: Long, bad: str) -> None:
    c = cast.client(cast.leader)
    messages = []
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            messages += [
                translation.gettext("Enter a date like 2024-03-18."),
                str(dates.date_range_message()),
            ]
    for name in ("batch_rollcall", "batch_rollcall_export"):
        r = c.get(long.url(name), {"day": bad}, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 400, (name, bad)
        body = r.content.decode()
        assert any(m in body for m in messages), body[:800]
    assert not AuditEvent.objects.filter(action="mobilize.rollcall.exported").exists()


def test_a_short_batch_keeps_every_shift_on_one_page(cast: Cast, batch: Batch) -> None:
    c = cast.client(cast.leader)
    url = reverse("mobilize:batch_rollcall", args=[batch.deployment.pk])
    r = c.get(url)
    assert r.status_code == 200 and r.context["nav"].day is None
    assert shown(r) == [batch.shift.pk]
    html = r.content.decode()
    assert 'id="rollcall-day-nav"' not in html
    export = reverse("mobilize:batch_rollcall_export", args=[batch.deployment.pk])
    assert f'href="{export}"' in html
    # ?day= is ignored on a short batch, but still checked
    assert c.get(url, {"day": "2026-02-31"}).status_code == 400


# ---------------------------------------------------------------- saving one day


def test_post_saves_only_the_shown_day_and_comes_back_to_it(cast: Cast, long: Long, org: Any) -> None:
    c = cast.client(cast.leader)
    day = long.first + timedelta(days=1)  # yesterday: every shift is over
    other = long.shifts[long.first][0].assignments.get(person=org.bob)
    s = long.shifts[day][0]
    a = s.assignments.get(person=org.bob)
    page = c.get(long.url(), {"day": day.isoformat()})
    html = page.content.decode()
    assert f'name="in_{a.pk}"' in html and f'name="in_{other.pk}"' not in html
    assert f'action="{long.url()}?day={day.isoformat()}"' in html
    data = {
        "key": key_of(page),
        f"in_{a.pk}": "1",
        f"in_at_{a.pk}": local_input(s.start),
        f"out_{a.pk}": "1",
        f"out_at_{a.pk}": local_input(s.end),
        # a line of another day sent along (an old page, a crafted post) is not written
        f"in_{other.pk}": "1",
        f"in_at_{other.pk}": local_input(other.shift.start),
    }
    r = c.post(f"{long.url()}?day={day.isoformat()}", data)
    assert r.status_code == 302 and r["Location"] == f"{long.url()}?day={day.isoformat()}"
    assert set(CheckEvent.objects.values_list("assignment_id", flat=True)) == {a.pk}
    assert CheckEvent.objects.count() == 2
    # only another day's line: nothing of this day is ticked, so nothing is written
    r = c.post(
        f"{long.url()}?day={day.isoformat()}",
        {"key": "k2", f"in_{other.pk}": "1", f"in_at_{other.pk}": local_input(other.shift.start)},
    )
    assert r.status_code == 400 and CheckEvent.objects.count() == 2
    assert r.context["nav"].day == day  # the error page stays on the day
    # a bad time on the day's line: 400, nothing half written, still the same day
    b = long.shifts[day][1].assignments.get(person=org.bob)
    r = c.post(f"{long.url()}?day={day.isoformat()}", {"key": "k3", f"in_{b.pk}": "1", f"in_at_{b.pk}": ""})
    assert r.status_code == 400 and r.context["nav"].day == day and CheckEvent.objects.count() == 2


# ---------------------------------------------------------------- the Excel of the shown day


def test_export_of_the_shown_day(cast: Cast, long: Long, org: Any) -> None:
    c = cast.client(cast.leader)
    day = long.first + timedelta(days=1)
    s = long.shifts[day][0]
    svc.rollcall_record(
        actor=cast.leader,
        shift=s,
        lines=[svc.RollCallLine(person=org.bob, check_in=s.start, check_out=s.end)],
        key="rc-export",
    )
    page = c.get(long.url(), {"day": day.isoformat()})
    assert f'href="{long.url("batch_rollcall_export")}?day={day.isoformat()}"' in page.content.decode()
    r = c.get(long.url("batch_rollcall_export"), {"day": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert day.isoformat() in r["Content-Disposition"]
    rows = xlsx_rows(r)
    headers = [
        "Shift",
        "Shift start",
        "Shift end",
        "Staff number",
        "Name",
        "Unit",
        "Phone",
        "Check-in",
        "Check-out",
        "State",
        "Hours",
    ]
    assert list(rows[0]) == [zh(h) for h in headers]
    assert rows[0][3] != "Staff number"  # translated
    body = rows[1:]
    assert len(body) == len(HOURS)  # the day's staffed shifts, one line per person on each
    assert [naive(x.start) for x in long.shifts[day]] == [row[1] for row in body]
    done = body[0]
    assert done[3] == org.bob.code and done[4] == org.bob.name
    assert done[6] == "13900001111"  # the leader role on 徐汇 may see phones
    assert (done[7], done[8], done[9], done[10]) == (naive(s.start), naive(s.end), state("Checked out"), 8.0)
    assert all(row[7] is None and row[9] == state("Not checked in") for row in body[1:])
    ev = AuditEvent.objects.get(action="mobilize.rollcall.exported")
    assert ev.changes == {"day": day.isoformat(), "rows": len(HOURS)}


def test_export_masks_phones_without_the_right(cast: Cast, batch: Batch, org: Any) -> None:
    d = batch.deployment
    # the manager of the supported 黄浦 leads the batch's shifts but may not see 徐汇's phones
    Deployment.objects.filter(pk=d.pk).update(supported_unit=org.huangpu)
    r = cast.client(cast.manager_hp).get(reverse("mobilize:batch_rollcall_export", args=[d.pk]))
    rows = xlsx_rows(r)
    assert [row[3] for row in rows[1:]] == [org.bob.code]
    assert rows[1][6] == Person.objects.get(pk=org.bob.pk).phone_masked != "13900001111"
    assert "13900001111" not in str(rows)


# ---------------------------------------------------------------- scope


@pytest.mark.parametrize("name", ["batch_rollcall", "batch_rollcall_export"])
def test_scope(cast: Cast, long: Long, name: str) -> None:
    url = long.url(name)
    # out of scope: the batch does not exist for 黄浦's manager
    assert cast.client(cast.manager_hp).get(url).status_code == 404
    # in scope (a member of the batch sees it) without the right: 403
    assert cast.client(cast.bob_user).get(url).status_code == 403
    assert cast.client(cast.bob_user).get(url, {"day": "2026-02-31"}).status_code == 403
    # an id past the database's range is no row
    assert cast.client(cast.leader).get(reverse(f"mobilize:{name}", args=[2**64])).status_code == 404
    assert not AuditEvent.objects.filter(action="mobilize.rollcall.exported").exists()


def test_out_of_scope_post_writes_nothing(cast: Cast, long: Long, org: Any) -> None:
    s = long.shifts[long.first][0]
    a = s.assignments.get(person=org.bob)
    data = {"key": "x", f"in_{a.pk}": "1", f"in_at_{a.pk}": local_input(s.start)}
    assert cast.client(cast.manager_hp).post(long.url(), data).status_code == 404
    assert cast.client(cast.bob_user).post(long.url(), data).status_code == 403
    assert not CheckEvent.objects.exists()


def test_staffed_shifts_starting_together_count_as_two(cast: Cast, batch: Batch, org: Any) -> None:
    s = batch.shift
    twin = svc.shift_create(actor=cast.leader, deployment=batch.deployment, start=s.start, end=s.end, seats=1)
    svc.shift_assign(actor=cast.leader, shift=twin, person=org.alice)
    r = cast.client(cast.leader).get(reverse("mobilize:batch_rollcall", args=[batch.deployment.pk]))
    assert r.context["shift_total"] == 2 and sorted(shown(r)) == sorted([s.pk, twin.pk])
