"""Delivering the delivery log's rows: the background task, its attempts, retries with backoff, digests.

``deliver`` is a task of Django's tasks API (django-tasks; the database backend in production, run by
``muster worker``). A task attempts one ``Delivery``:

1. it claims the row with one conditional UPDATE (``queued``/``retrying`` and due → ``sending``, one more
   attempt), so two tasks for the same row (a retry clicked while a deferred retry waits, two workers)
   never both send;
2. it reads the target (the person's address, the team's bot) at that moment — a fixed address or bot
   helps a retry — and builds the text (a digest takes every notice that joined it until the claim);
3. it sends outside any transaction, then records ``sent``, or ``retrying`` with ``next_attempt_at`` =
   now + backoff (``MUSTER_NOTIFY_BACKOFF_SECONDS`` × 2^(attempt−1)) and a new task deferred to then
   (django-tasks has no retries of its own), or ``failed`` after ``max_attempts`` or when retrying cannot
   help (no address any more, bot removed, address refused).

A worker killed in the middle of an attempt leaves its row ``sending``: the worker's recovery sweep
(``muster.worker.recovery``) gives the task up and counts the attempt as failed here, so the row is
retried (or failed) visibly. A backend that cannot defer (the immediate backend of tests, a setup
without a worker) runs what is due now and leaves later attempts to ``muster notify due`` (cron), which
also enqueues anything whose task was lost (a crash between the commit and the enqueue) and counts a row
left ``sending`` too long as a failed attempt: delivery is at least once, never silently dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from muster.notify import senders
from muster.notify.models import EMAIL, Delivery, DeliveryKind, DeliveryStatus, Notification, Preference
from muster.worker.recovery import rerun_on_worker_loss

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)  # a row "sending" this long belongs to a worker that died
MAX_BACKOFF = timedelta(hours=6)
ERROR_CHARS = 1000


class Unavailable(Exception):
    """The target is gone (address removed, bot deleted or off): the delivery fails without retrying."""


@task()
def deliver(delivery_id: int) -> str:
    """The task: one attempt of one delivery (see the module's docstring)."""
    return attempt(delivery_id)


def enqueue(delivery_id: int, run_after: datetime | None = None) -> bool:
    """Enqueue the task now (``run_after`` ``None`` or past) or deferred; ``False`` if left to the sweep."""
    job = deliver
    if run_after is not None and run_after > timezone.now():
        if not job.get_backend().supports_defer:
            return False
        job = job.using(run_after=run_after)
    job.enqueue(delivery_id)
    return True


def schedule(delivery: Delivery) -> None:
    """Enqueue ``delivery``'s task once the current transaction commits (never for a rolled-back row)."""
    pk, when = delivery.pk, delivery.next_attempt_at
    # robust: a queue that refuses the task must not undo the caller's committed work; the row stays
    # queued and ``muster notify due`` enqueues it again.
    transaction.on_commit(lambda: enqueue(pk, when), robust=True)


def backoff(attempts: int) -> timedelta:
    base = timedelta(seconds=settings.MUSTER_NOTIFY_BACKOFF_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def next_digest_at(now: datetime) -> datetime:
    """The next ``MUSTER_NOTIFY_DIGEST_HOUR``:00 in the configured zone, strictly after ``now``."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), time(settings.MUSTER_NOTIFY_DIGEST_HOUR), tzinfo=zone)
    if at <= local:
        at = datetime.combine(
            local.date() + timedelta(days=1), time(settings.MUSTER_NOTIFY_DIGEST_HOUR), tzinfo=zone
        )
    return at


def absolute(link: str) -> str:
    base = getattr(settings, "MUSTER_BASE_URL", "")
    return f"{base}{link}" if link.startswith("/") and base else link


# ------------------------------------------------------------------------------------------------ content


def _notice_text(n: Notification) -> str:
    lines = [n.body] if n.body else []
    if n.link:
        lines.append(absolute(n.link))
    return "\n".join(lines)


def _email_footer() -> str:
    where = absolute(reverse("notify:settings"))
    return "\n\n-- \n" + _(
        "You receive this because you chose e-mail notifications in Muster. Change it here: %(url)s"
    ) % {"url": where}


def content(d: Delivery, *, for_bot: bool) -> senders.Content:
    team = d.team.code if d.team_id and d.team else ""
    if d.kind == DeliveryKind.TEST:
        text = _(
            "This is a test message from Muster. If you can read it, notifications through this channel work."
        )
        return senders.Content(
            _("Muster test message"), text, verb="notify.test", team=team, delivery_id=d.pk
        )
    if d.kind == DeliveryKind.DIGEST:
        items = list(d.notifications.order_by("created_at", "id"))
        zone = ZoneInfo(settings.TIME_ZONE)
        title = ngettext(
            "Muster daily digest: %(n)s notice", "Muster daily digest: %(n)s notices", len(items)
        ) % {"n": len(items)}
        blocks = []
        for item in items:
            head = f"[{item.created_at.astimezone(zone):%Y-%m-%d %H:%M}] {item.title}"
            body = _notice_text(item)
            blocks.append(f"{head}\n{body}" if body else head)
        return senders.Content(title, "\n\n".join(blocks), verb="notify.digest", team=team, delivery_id=d.pk)
    n = d.notification
    if n is None:
        raise Unavailable(_("The notice no longer exists."))
    title = n.title
    if for_bot and n.person_id is not None and n.person is not None:
        title = _("%(name)s: %(title)s") % {"name": n.person.name, "title": n.title}
    return senders.Content(
        title, _notice_text(n), verb=n.verb, link=absolute(n.link), team=team, delivery_id=d.pk
    )


# ------------------------------------------------------------------------------------------------ attempts


def _due(now: datetime) -> Q:
    return Q(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRYING]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    return bool(
        Delivery.objects.filter(_due(now), pk=delivery_id).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
    )


def _send(d: Delivery) -> str:
    """Send ``d``; returns the (masked) target. Raises ``Unavailable`` or ``senders.SendError``."""
    if d.channel == EMAIL:
        if not senders.email_configured():
            raise Unavailable(_("E-mail is not configured on this server."))
        pref = Preference.objects.filter(person=d.person).first() if d.person_id is not None else None
        address = pref.email if pref is not None and pref.email_enabled else ""
        if pref is None or not address:
            raise Unavailable(_("E-mail notifications are off for this person, or there is no address."))
        message = content(d, for_bot=False)
        message = senders.Content(
            message.title, message.text + _email_footer(), verb=message.verb, delivery_id=d.pk
        )
        senders.send_email(address, message)
        return pref.email_masked
    bot = d.bot
    if bot is None or not bot.is_active:
        raise Unavailable(_("The group bot was removed or turned off."))
    senders.send_bot(bot.kind, bot.url, bot.secret, content(d, for_bot=True))
    return bot.url_masked


def attempt(delivery_id: int) -> str:
    """One attempt of one delivery; returns the status it ends in (``skipped`` if not due or taken).

    What goes out is written in the organization's language (``MUSTER_LANGUAGE``), whatever process or
    request runs the task."""
    with translation.override(settings.LANGUAGE_CODE):
        return _attempt(delivery_id)


def _attempt(delivery_id: int) -> str:
    if not _claim(delivery_id):
        return "skipped"
    d = Delivery.objects.select_related("notification__person", "bot", "team").get(pk=delivery_id)
    now = timezone.now()
    target = d.target
    try:
        target = _send(d)
    except (Unavailable, senders.Refused) as exc:
        _record(d, DeliveryStatus.FAILED, target=target, error=str(exc), now=now)
    except Exception as exc:
        error = str(exc) if isinstance(exc, senders.SendError) else f"{type(exc).__name__}: {exc}"
        _failed_attempt(d, error, target=target, now=now)
    else:
        _record(d, DeliveryStatus.SENT, target=target, error="", now=now, sent_at=now)
    return str(d.status)


def _record(
    d: Delivery,
    status: str,
    *,
    target: str,
    error: str,
    now: datetime,
    sent_at: datetime | None = None,
    next_at: datetime | None = None,
) -> None:
    d.status = status
    d.target = target[:200]
    d.last_error = error[:ERROR_CHARS]
    d.next_attempt_at = next_at
    fields = ["status", "target", "last_error", "next_attempt_at", "updated_at"]
    if sent_at is not None:
        d.sent_at = sent_at
        fields.append("sent_at")
    d.updated_at = now
    Delivery.objects.filter(pk=d.pk).update(**{f: getattr(d, f) for f in fields})


def _failed_attempt(d: Delivery, error: str, *, target: str, now: datetime) -> None:
    if d.attempts >= d.max_attempts:
        _record(d, DeliveryStatus.FAILED, target=target, error=error, now=now)
        return
    with transaction.atomic():
        _record(
            d, DeliveryStatus.RETRYING, target=target, error=error, now=now, next_at=now + backoff(d.attempts)
        )
        schedule(d)


def interrupted(delivery_id: int) -> bool:
    """Count an attempt whose worker died as a failed one (retried after the backoff, or failed)."""
    d = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).first()
    if d is None:
        return False
    _failed_attempt(
        d, _("The attempt was interrupted (the worker stopped)."), target=d.target, now=timezone.now()
    )
    return True


def _worker_lost(args: list[Any], kwargs: dict[str, Any], attempts: int) -> None:
    delivery_id = kwargs.get("delivery_id", args[0] if args else None)
    if isinstance(delivery_id, int):
        interrupted(delivery_id)


# The task is not rerun as such after a worker loss (its row would no longer be due): the attempt is
# counted as failed and the delivery's own retry schedule takes over.
rerun_on_worker_loss(deliver, max_attempts=1, on_give_up=_worker_lost)


def run_due() -> tuple[int, int]:
    """The sweep (``muster notify due``): rows left ``sending`` by a dead worker, then everything due.

    Returns (interrupted rows, tasks enqueued).
    """
    now = timezone.now()
    count = 0
    stale = Delivery.objects.filter(status=DeliveryStatus.SENDING, updated_at__lt=now - STALE_AFTER)
    for pk in stale.values_list("pk", flat=True):
        # The message may or may not have left: at least once rather than never.
        count += interrupted(pk)
    enqueued = 0
    for pk in (
        Delivery.objects.filter(_due(now)).order_by("next_attempt_at", "id").values_list("pk", flat=True)
    ):
        enqueued += enqueue(pk)
    return count, enqueued
