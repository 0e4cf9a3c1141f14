"""Delivery: e-mail through Django's mail framework, retries with exponential backoff, the daily digest,
the sweep for lost or interrupted attempts (``muster notify due``), and the claim that keeps two tasks of
one delivery from both sending. Clocks are frozen with time_machine; no wall-clock assertion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models.functions import Now
from django.test import Client
from django_tasks_db.models import DBTaskResult

from muster.audit.models import AuditEvent
from muster.notify import delivery
from muster.notify.models import Delivery, DeliveryKind, DeliveryStatus, Notification
from muster.notify.services import bot_create, notify, preference_set, recipients_of
from muster.orgs.access import SYSTEM
from muster.orgs.models import Person, Team
from muster.worker.recovery import recover_lost_tasks

from .helpers import get, link, post
from .sinks import HttpSink

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2030, 3, 4, 10, 0, tzinfo=TZ)


def due(capture: Any) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("notify", "due", stdout=out)
    return out.getvalue()


def test_email_to_a_person_with_a_login_and_to_one_without(
    org: Any, make_user: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    link(org.alice, make_user("alice"))
    preference_set(actor=SYSTEM, person=org.alice, email_enabled=True, email="ZhangLi@Example.org")
    preference_set(actor=SYSTEM, person=org.dave, email_enabled=True, email="zhaowei@example.org")
    people = list(
        Person.objects.filter(pk__in=[org.alice.pk, org.bob.pk, org.dave.pk]).select_related("user")
    )
    # bob has neither a login nor e-mail: unreachable; dave has no login but chose e-mail
    assert [p.code for _u, p in recipients_of(people)] == ["JG0001", "XH0001"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify(
            recipients_of(people), verb="roster.published", title="排班已变更", body="新：08:00", link="/m/"
        )
    assert len(sent) == 2
    assert Notification.objects.filter(recipient__isnull=False).count() == 1  # alice's bell only
    by_to = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_to) == ["zhangli@example.org", "zhaowei@example.org"]
    m = by_to["zhangli@example.org"]
    assert m.subject == "排班已变更"
    assert m.body.startswith("新：08:00\nhttps://muster.example.org/m/\n")
    assert "https://muster.example.org/notifications/settings/" in m.body
    rows = Delivery.objects.order_by("person__code")
    assert [(d.person.code, d.status, d.attempts, d.target) for d in rows] == [
        ("JG0001", "sent", 1, "z***@example.org"),
        ("XH0001", "sent", 1, "z***@example.org"),
    ]


def test_failing_webhook_is_retried_with_backoff_then_failed_then_retried_by_hand(
    org: Any,
    http_sink: HttpSink,
    settings: Any,
    make_user: Callable[..., Any],
    login: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    team = Team.objects.get(code="XH-T1")
    bot_create(actor=SYSTEM, team=team, kind="webhook", url=f"{http_sink.url}/hook", secret="s" * 20)
    http_sink.statuses = [500, 500, 500]
    with time_machine.travel(T0, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify([], verb="team.news", title="集合", teams=[team])
        d = Delivery.objects.get()
        assert (d.status, d.attempts, d.last_error) == ("retrying", 1, "HTTP 500 Internal Server Error")
        assert d.next_attempt_at == T0 + timedelta(seconds=60)
        clock.move_to(T0 + timedelta(seconds=59))
        due(django_capture_on_commit_callbacks)
        assert Delivery.objects.get().attempts == 1  # not due yet
        clock.move_to(T0 + timedelta(seconds=60))
        due(django_capture_on_commit_callbacks)
        d.refresh_from_db()
        assert (d.status, d.attempts) == ("retrying", 2)
        assert d.next_attempt_at == T0 + timedelta(seconds=60 + 120)  # the wait doubles
        clock.move_to(T0 + timedelta(seconds=180))
        due(django_capture_on_commit_callbacks)
        d.refresh_from_db()
        assert (d.status, d.attempts, d.next_attempt_at) == ("failed", 3, None)  # MUSTER_NOTIFY_MAX_ATTEMPTS
        assert len(http_sink.received) == 3
        clock.move_to(T0 + timedelta(hours=1))
        due(django_capture_on_commit_callbacks)
        assert len(http_sink.received) == 3  # a failed delivery stays failed
        # the sink works again; a manager retries from the delivery log
        manager = login(make_user("mgr", "manager", org.xuhui))
        with django_capture_on_commit_callbacks(execute=True):
            r = post(manager, f"/deliveries/{d.pk}/retry")
        assert r.status_code == 200
        out = get(manager, f"/deliveries/{d.pk}").json()
        assert (out["status"], out["attempts"], out["last_error"]) == ("sent", 4, "")
        assert len(http_sink.received) == 4
        assert AuditEvent.objects.filter(action="notify.delivery.retried").count() == 1
        r = post(manager, f"/deliveries/{d.pk}/retry")
        assert r.status_code == 422
        assert "Only a failed or retrying delivery" in r.json()["errors"]["status"][0]


def test_daily_digest_groups_the_notices_of_a_day(
    org: Any,
    make_user: Callable[..., Any],
    login: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user("alice")
    link(org.alice, user)
    with time_machine.travel(T0, tick=False) as clock:
        r = login(user).post(
            "/notifications/settings/",
            {"email_enabled": "on", "email": "zhangli@example.org", "digest": "daily"},
        )
        assert r.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            for i, title in enumerate(["排班一", "排班二", "排班三"]):
                clock.move_to(T0 + timedelta(hours=i))
                notify([(user, org.alice)], verb="roster.published", title=title, body=f"正文{i}")
        digest = Delivery.objects.get()
        assert digest.kind == DeliveryKind.DIGEST and digest.status == DeliveryStatus.QUEUED
        assert digest.next_attempt_at == datetime(2030, 3, 5, 8, 0, tzinfo=TZ)
        assert digest.notifications.count() == 3
        assert mail.outbox == []
        clock.move_to(datetime(2030, 3, 5, 7, 59, tzinfo=TZ))
        due(django_capture_on_commit_callbacks)
        assert mail.outbox == []
        clock.move_to(datetime(2030, 3, 5, 8, 0, tzinfo=TZ))
        assert "1 due deliveries" in due(django_capture_on_commit_callbacks)
        [m] = mail.outbox
        assert m.to == ["zhangli@example.org"]
        assert m.subject == "Muster daily digest: 3 notices"
        assert m.body.index("[2030-03-04 10:00] 排班一\n正文0") < m.body.index("[2030-03-04 11:00] 排班二")
        assert m.body.index("排班二") < m.body.index("[2030-03-04 12:00] 排班三\n正文2")
        # a notice after the digest went out waits for the next one
        with django_capture_on_commit_callbacks(execute=True):
            notify([(user, org.alice)], verb="roster.published", title="排班四")
        nxt = Delivery.objects.get(status=DeliveryStatus.QUEUED)
        assert nxt.pk != digest.pk and nxt.next_attempt_at == datetime(2030, 3, 6, 8, 0, tzinfo=TZ)
        assert [n.title for n in nxt.notifications.all()] == ["排班四"]
    assert AuditEvent.objects.filter(action="notify.preference.changed").count() == 1


def test_two_tasks_for_one_delivery_send_once(
    org: Any, http_sink: HttpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    team = Team.objects.get(code="XH-T1")
    bot_create(actor=SYSTEM, team=team, kind="webhook", url=f"{http_sink.url}/hook", secret="s" * 20)
    notify([], verb="team.news", title="一次", teams=[team])  # on_commit not run: the task is pending
    d = Delivery.objects.get()
    assert delivery.attempt(d.pk) == "sent"
    # a second task of the same delivery (a retry clicked meanwhile, two workers) sends nothing
    assert delivery.attempt(d.pk) == "skipped"
    assert len(http_sink.received) == 1


def test_an_attempt_interrupted_by_a_dead_worker_is_retried(
    org: Any, http_sink: HttpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    team = Team.objects.get(code="XH-T1")
    bot_create(actor=SYSTEM, team=team, kind="webhook", url=f"{http_sink.url}/hook", secret="s" * 20)
    with time_machine.travel(T0, tick=False) as clock:
        notify([], verb="team.news", title="中断", teams=[team])
        d = Delivery.objects.get()
        # a worker claimed it and was killed before it could record anything
        Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.SENDING, attempts=1, updated_at=T0)
        clock.move_to(T0 + timedelta(minutes=10))
        assert "0 interrupted" in due(django_capture_on_commit_callbacks)  # it may still be running
        clock.move_to(T0 + timedelta(minutes=16))
        assert "1 interrupted" in due(django_capture_on_commit_callbacks)
        d.refresh_from_db()
        assert (d.status, d.attempts) == ("retrying", 1)
        assert "interrupted" in d.last_error
        clock.move_to(d.next_attempt_at)
        due(django_capture_on_commit_callbacks)
        d.refresh_from_db()
        assert (d.status, d.attempts) == ("sent", 2)
    assert len(http_sink.received) == 1


def test_email_to_an_address_removed_meanwhile_fails_without_retrying(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(actor=SYSTEM, person=org.dave, email_enabled=True, email="zhaowei@example.org")
    notify(recipients_of([org.dave]), verb="x", title="通知")
    preference_set(actor=SYSTEM, person=org.dave, email_enabled=False)
    due(django_capture_on_commit_callbacks)
    d = Delivery.objects.get()
    assert (d.status, d.attempts) == ("failed", 1)
    assert "E-mail notifications are off" in d.last_error
    assert mail.outbox == []


def test_no_email_channel_without_a_mail_server(org: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    preference_set(actor=SYSTEM, person=org.dave, email_enabled=True, email="zhaowei@example.org")
    assert recipients_of([org.dave]) == []
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("hour", [0, 7, 23])
def test_next_digest_time(settings: Any, hour: int) -> None:
    settings.MUSTER_NOTIFY_DIGEST_HOUR = hour
    now = datetime(2030, 3, 4, 7, 0, tzinfo=TZ)
    expected = datetime(2030, 3, 4 if hour > 7 else 5, hour, 0, tzinfo=TZ)
    assert delivery.next_digest_at(now) == expected


def test_cli_log_retry_and_test_email(
    org: Any, make_user: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(actor=SYSTEM, person=org.alice, email_enabled=True, email="zhangli@example.org")
    preference_set(actor=SYSTEM, person=org.carol, email_enabled=True, email="lina@example.org")
    notify(recipients_of([org.alice, org.carol]), verb="x", title="通知")
    Delivery.objects.update(status=DeliveryStatus.FAILED, attempts=5, last_error="HTTP 500")
    make_user("mgr", "manager", org.xuhui)
    out = StringIO()
    call_command("notify", "log", "--status", "failed", "--as", "mgr", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "z***@example.org" in lines[0] and "HTTP 500" in lines[0]
    carol = Delivery.objects.get(person=org.carol)
    with pytest.raises(CommandError, match="Not found"):
        call_command("notify", "retry", str(carol.pk), "--as", "mgr")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "notify", "retry", str(Delivery.objects.get(person=org.alice).pk), "--as", "mgr", stdout=out
        )
    assert Delivery.objects.get(person=org.alice).status == DeliveryStatus.SENT
    assert [m.to for m in mail.outbox] == [["zhangli@example.org"]]
    out = StringIO()
    call_command("notify", "test-email", "ops@example.org", stdout=out)
    assert out.getvalue().strip() == "Sent." and mail.outbox[-1].to == ["ops@example.org"]
    with pytest.raises(CommandError, match="valid e-mail"):
        call_command("notify", "test-email", "nope")


@pytest.mark.django_db(transaction=True)
def test_retry_through_the_database_queue_and_a_worker(org: Any, http_sink: HttpSink, settings: Any) -> None:
    """The production path: the task waits in the database queue; the retry is a task deferred to
    now + backoff, which a worker runs once it is due (no sweep needed)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    team = Team.objects.get(code="XH-T1")
    bot_create(actor=SYSTEM, team=team, kind="webhook", url=f"{http_sink.url}/hook", secret="s" * 20)
    http_sink.statuses = [503]
    with time_machine.travel(T0, tick=False) as clock:
        notify([], verb="team.news", title="队列", teams=[team])
        assert http_sink.received == []  # queued, not sent by the web process
        call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", stdout=StringIO())
        d = Delivery.objects.get()
        assert (d.status, d.attempts) == ("retrying", 1)
        call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", stdout=StringIO())
        assert len(http_sink.received) == 1  # the retry is not due yet
        clock.move_to(T0 + timedelta(seconds=60))
        call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", stdout=StringIO())
        d.refresh_from_db()
        assert (d.status, d.attempts) == ("sent", 2)
    assert len(http_sink.received) == 2


def test_a_worker_killed_while_sending_leaves_the_delivery_to_be_retried(
    org: Any, http_sink: HttpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The worker's recovery sweep gives the lost task up; the delivery counts a failed attempt and
    is retried after the backoff (never lost, never left "sending")."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    team = Team.objects.get(code="XH-T1")
    bot_create(actor=SYSTEM, team=team, kind="webhook", url=f"{http_sink.url}/hook", secret="s" * 20)
    with time_machine.travel(T0, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            notify([], verb="team.news", title="被杀", teams=[team])
        task = DBTaskResult.objects.get()
        task.claim("worker-killed-by-kill-9")  # the worker took it ...
        assert delivery._claim(Delivery.objects.get().pk)  # ... started the attempt, and died
        # silence is measured with the database's clock (not the frozen one): the claim is made old there
        DBTaskResult.objects.filter(pk=task.pk).update(started_at=Now() - timedelta(minutes=5))
        clock.move_to(T0 + timedelta(minutes=5))
        recovered = recover_lost_tasks(stale_after=60)
        assert recovered.failed == [str(task.pk)]
        d = Delivery.objects.get()
        assert (d.status, d.attempts) == ("retrying", 1)
        assert "interrupted" in d.last_error
        assert d.next_attempt_at == T0 + timedelta(minutes=5, seconds=60)
