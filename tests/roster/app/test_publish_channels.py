"""Publishing a roster notifies through each person's chosen channels: in-app for a login, e-mail for
whoever chose it (people without a login too, who were not reached before), and the group bot of a
team that subscribes to roster notices."""

from __future__ import annotations

from typing import Any

from django.core import mail

from muster.mobilize import services as svc
from muster.notify.models import Delivery, DeliveryStatus, Notification
from muster.notify.services import bot_create, preference_set
from muster.orgs.access import SYSTEM
from muster.orgs.models import Team
from muster.orgs.services import team_member_add
from muster.roster import services
from tests.notify.sinks import HttpSink, http_sink  # noqa: F401 (fixture)

from .conftest import DAY1, DAY2, Batch, Cast


def test_publish_reaches_people_by_their_channels(
    org: Any,
    cast: Cast,
    batch: Batch,
    http_sink: HttpSink,  # noqa: F811 (the fixture imported above)
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    settings.LANGUAGE_CODE = "en"  # what goes out is in the organization's language
    chen = batch.people[2]  # 陈一: no login
    preference_set(actor=SYSTEM, person=chen, email_enabled=True, email="chenyi@example.org")
    team = Team.objects.get(code="XH-T1")
    team_member_add(actor=SYSTEM, team=team, person=chen)
    bot_create(
        actor=SYSTEM,
        team=team,
        kind="webhook",
        url=f"{http_sink.url}/t1",
        secret="s" * 20,
        verbs=["roster.published"],
    )
    for person in (org.bob, chen):
        svc.shift_assign(actor=cast.leader, shift=batch.shifts[0], person=person)
    plan = services.plan_create(
        actor=cast.leader, deployment=batch.deployment, start=DAY1, end=DAY2, seconds=2, seed=1
    )
    for person in (org.bob, chen):
        services.proposal_edit(
            actor=cast.leader, plan=plan, action="remove", shift=batch.shifts[0], person=person
        )
    with django_capture_on_commit_callbacks(execute=True):
        res = services.plan_publish(actor=cast.leader, plan=plan)
    assert (res.removed, res.notified) == (2, 2)  # before: 1 (bob's login only)
    assert Notification.objects.filter(recipient=cast.bob_user).count() == 1
    [m] = mail.outbox
    assert m.to == ["chenyi@example.org"]
    assert "Cancelled: 2030-03-04 08:00" in m.body
    [req] = http_sink.received
    assert req.json()["title"].startswith("陈一: ") and req.json()["event"] == "roster.published"
    assert set(Delivery.objects.values_list("channel", "status")) == {
        ("email", DeliveryStatus.SENT),
        ("webhook", DeliveryStatus.SENT),
    }
