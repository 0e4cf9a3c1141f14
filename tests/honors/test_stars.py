"""Star tiers: thresholds as data (admin-only edits), tiers from approved hours as of a date, the notice
on reaching a tier (single and bulk ledger writes), the person and team pages, and the metrics."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django_tasks_db.models import DBTaskResult

from muster.audit.models import AuditEvent
from muster.honors import queries, services
from muster.honors.models import StarReached, StarTier
from muster.mobilize import services as svc
from muster.mobilize import signals
from muster.mobilize.models import EntryKind, EntryOp, EntrySource, ServiceEntry
from muster.notify.models import Notification
from muster.orgs.access import SYSTEM, NotAllowed
from muster.reports import registry

from .conftest import add_hours, at, call_command

pytestmark = pytest.mark.django_db


def test_reaching_a_tier_notifies_the_person_once(org: Any, cast: Any) -> None:
    add_hours(org.alice, 99)
    assert not Notification.objects.filter(verb="honors.star_reached").exists()
    add_hours(org.alice, 1, first_day="2025-06-01")  # exactly 100 h: 1★
    notes = list(Notification.objects.filter(verb="honors.star_reached"))
    assert len(notes) == 1
    assert notes[0].recipient == cast.alice_user
    assert "★" in notes[0].title
    assert queries.person_tier(org.alice).level == 1
    assert AuditEvent.objects.filter(action="honors.star.reached", target_id=str(org.alice.pk)).count() == 1
    # a reversal takes the tier away (as of now); reaching it again is not announced twice
    last = ServiceEntry.objects.filter(person=org.alice).order_by("-id").first()
    assert last is not None
    svc.entry_reverse(actor=SYSTEM, entry=last, reason="录入错误")
    assert queries.person_tier(org.alice).level == 0
    add_hours(org.alice, 2, first_day="2025-07-01")
    assert queries.person_tier(org.alice).level == 1
    assert Notification.objects.filter(verb="honors.star_reached").count() == 1


def test_a_pending_entry_counts_only_once_approved(org: Any, cast: Any) -> None:
    add_hours(org.alice, 90)
    pending = svc.entry_record(
        actor=cast.alice_user,
        person=org.alice,
        kind=EntryKind.COMMUNITY,
        start=at("2025-09-01 08:00"),
        end=at("2025-09-01 20:00"),
    )
    assert queries.person_tier(org.alice).level == 0
    assert not StarReached.objects.exists()
    svc.entry_approve(actor=cast.leader, entry=pending)
    assert queries.person_tier(org.alice).level == 1
    assert StarReached.objects.filter(person=org.alice, level=1).exists()


def test_a_correction_that_lowers_the_hours_lowers_the_tier(org: Any, cast: Any) -> None:
    rows = add_hours(org.alice, 100)
    assert queries.person_tier(org.alice).level == 1
    svc.entry_correct(
        actor=cast.leader,
        entry=rows[-1],
        start=rows[-1].start,
        end=rows[-1].start + timedelta(hours=10),
        reason="实际只有10小时",
    )
    assert queries.person_minutes(org.alice, None) == 90 * 60
    assert queries.person_tier(org.alice).level == 0


def test_the_tier_as_of_a_date(org: Any) -> None:
    add_hours(org.alice, 100, first_day="2025-01-01")  # 5 days of 20 h, the last on 2025-01-05
    assert queries.person_tier(org.alice, queries.cutoff_of_day(at("2025-01-04 00:00").date())).level == 0
    assert queries.person_tier(org.alice, queries.cutoff_of_day(at("2025-01-05 00:00").date())).level == 1
    # half of the last day's interval before a cutoff inside it
    assert queries.person_minutes(org.alice, at("2025-01-05 12:00")) == 80 * 60 + 10 * 60


def test_a_bulk_ledger_write_notifies_set_wise(org: Any, cast: Any) -> None:
    """The ledger import sends ``row_ids`` (set-wise); a worker task handles it like single rows."""
    rows = []
    for person, hours in ((org.alice, 320), (org.bob, 120), (org.carol, 50)):
        start = at("2025-02-01 00:00")
        for i in range(hours // 20):
            s = start + timedelta(days=i)
            rows.append(
                ServiceEntry(
                    chain=uuid.uuid4(),
                    person=person,
                    kind=EntryKind.COMMUNITY,
                    source=EntrySource.IMPORT,
                    start=s,
                    end=s + timedelta(hours=20),
                    minutes=20 * 60,
                    sign=1,
                    op=EntryOp.RECORD,
                    actor_name="system",
                )
            )
    written = ServiceEntry.objects.bulk_create(rows)
    signals.ledger_rows_written.send(
        sender=ServiceEntry, actor=SYSTEM, row_ids=[r.pk for r in written], deployment_ids=[]
    )
    # the import's transaction only queues the work; a worker runs it (here: in the test's transaction)
    assert not StarReached.objects.exists()
    queued = [r for r in DBTaskResult.objects.ready() if r.task_path.startswith("muster.honors.")]
    assert [r.task_path for r in queued] == ["muster.honors.listeners.refresh_stars_task"]
    for r in queued:
        r.task.call(*r.args_kwargs["args"], **r.args_kwargs["kwargs"])
    reached = set(StarReached.objects.values_list("person__code", "level"))
    assert reached == {("XH0001", 1), ("XH0001", 2), ("XH0002", 1)}
    # one notice per person, for the highest tier reached
    notes = Notification.objects.filter(verb="honors.star_reached")
    assert notes.count() == 2
    assert notes.get(recipient=cast.alice_user).title.count("★") == 2


def test_metrics_count_people_by_tier(org: Any) -> None:
    add_hours(org.alice, 300)
    add_hours(org.bob, 100)
    add_hours(org.carol, 650)
    now = at("2026-03-04 00:00")
    assert registry.answer("honors.star_1", org.xuhui, now) == 1
    assert registry.answer("honors.star_2", org.xuhui, now) == 1
    assert registry.answer("honors.star_3", org.xuhui, now) == 0
    assert registry.answer("honors.star_3", org.root, now) == 1
    assert registry.answer("honors.starred", org.root, now) == 3
    assert registry.answer("honors.starred", org.huangpu, now) == 1
    # by the party tree too (alice belongs to the Xuhui branch)
    assert registry.answer("honors.star_2", org.xuhui_branch, now) == 1
    # as of an earlier cutoff nobody has a tier yet
    assert registry.answer("honors.starred", org.root, at("2025-01-02 00:00")) == 0


def test_thresholds_are_data_admins_change_them(org: Any, cast: Any, login: Any) -> None:
    add_hours(org.alice, 250)
    assert queries.person_tier(org.alice).level == 1
    services.star_tier_set(actor=cast.admin, level=2, min_hours=200, name="二星级志愿者")  # Beijing
    assert queries.person_tier(org.alice).level == 2
    assert AuditEvent.objects.filter(action="honors.tier.changed").count() == 1
    with pytest.raises(NotAllowed):
        services.star_tier_set(actor=cast.leader, level=2, min_hours=250)
    with pytest.raises(ValidationError, match="more hours than the tier below"):
        services.star_tier_set(actor=cast.admin, level=2, min_hours=50)
    with pytest.raises(ValidationError, match="without gaps"):
        services.star_tier_set(actor=cast.admin, level=9, min_hours=9000)
    with pytest.raises(ValidationError):
        services.star_tier_set(actor=cast.admin, level=6, min_hours=2**63)
    assert StarTier.objects.get(level=2).min_hours == 200
    # web: a leader may read but not change; an admin changes
    c = login(cast.leader)
    assert c.get("/honors/tiers/").status_code == 200
    assert c.post("/honors/tiers/", {"level": "2", "min_hours": "250"}).status_code == 403
    a = login(cast.admin)
    assert a.post("/honors/tiers/", {"level": "6", "min_hours": "2000", "name": "六星"}).status_code == 302
    assert a.post("/honors/tiers/", {"level": "2", "min_hours": "9" * 30}).status_code == 400
    assert a.post("/honors/tiers/", {"level": "x", "min_hours": "1"}).status_code == 400
    # API
    r = a.put("/api/v1/honors/tiers", {"level": 2, "min_hours": 10**19}, content_type="application/json")
    assert r.status_code == 422
    r = login(cast.leader).put(
        "/api/v1/honors/tiers", {"level": 2, "min_hours": 280}, content_type="application/json"
    )
    assert r.status_code == 403
    assert [t["min_hours"] for t in a.get("/api/v1/honors/tiers").json()] == [100, 200, 600, 1000, 1500, 2000]
    # CLI
    call_command("honors", "tiers", "--set", "2", "300")
    assert StarTier.objects.get(level=2).min_hours == 300


def test_tier_on_person_and_team_pages(org: Any, cast: Any, login: Any) -> None:
    add_hours(org.alice, 320)
    c = login(cast.leader)
    page = c.get(f"/people/{org.alice.pk}/").content.decode()
    assert 'id="person-star-tier"' in page and "★★" in page and "二星级志愿者" in page
    assert f"/honors/people/{org.alice.code}/" in page
    team = org.alice.teams.first()
    page = c.get(f"/teams/{team.pk}/").content.decode()
    assert 'id="team-stars"' in page and "二星级志愿者" in page


def test_muster_metrics_carries_the_tiers(org: Any) -> None:
    import json
    from io import StringIO

    add_hours(org.alice, 300)
    out = StringIO()
    call_command("metrics", "--as-of", "2026-03-01 00:00", "--json", stdout=out)
    metrics = json.loads(out.getvalue())["metrics"]
    assert metrics["honors.star_2"] == 1 and metrics["honors.star_1"] == 0 and metrics["honors.starred"] == 1
