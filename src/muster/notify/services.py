"""``notify(...)``: send a message to people through the configured channels.

Channels are a registry (``CHANNELS``): a channel is an object with a ``name`` and a
``deliver(messages) -> list`` method. ``settings.MUSTER_NOTIFY_CHANNELS`` (default ``["inapp"]``) says
which ones run. Only the in-app channel exists (it stores ``Notification`` rows, shown under the bell).
An e-mail or webhook channel is added later by writing such a class and calling
``register_channel(MyChannel())`` from its app's ``ready()``; ``notify`` does not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from muster.notify.models import Notification
from muster.orgs.models import Person


@dataclass(frozen=True)
class Message:
    recipient: Any  # a user
    person: Person | None
    verb: str
    title: str
    body: str = ""
    link: str = ""


class Channel(Protocol):
    name: str

    def deliver(self, messages: list[Message]) -> list[Any]: ...


class InAppChannel:
    name = "inapp"

    def deliver(self, messages: list[Message]) -> list[Any]:
        return Notification.objects.bulk_create(
            [
                Notification(
                    recipient=m.recipient,
                    person=m.person,
                    verb=m.verb[:60],
                    title=m.title[:200],
                    body=m.body,
                    link=m.link[:300],
                )
                for m in messages
            ]
        )


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> None:
    CHANNELS[channel.name] = channel


register_channel(InAppChannel())


def enabled_channels() -> list[Channel]:
    names = getattr(settings, "MUSTER_NOTIFY_CHANNELS", ["inapp"])
    return [CHANNELS[n] for n in names if n in CHANNELS]


def recipients_of(people: Iterable[Person]) -> list[tuple[Any, Person]]:
    """(login, person) of the people who have a login (people without one cannot be notified in-app)."""
    out = []
    for p in people:
        if p.user_id is not None and p.user is not None and p.user.is_active:
            out.append((p.user, p))
    return out


@transaction.atomic
def notify(
    recipients: Iterable[tuple[Any, Person | None]],
    *,
    verb: str,
    title: str,
    body: str = "",
    link: str = "",
) -> list[Message]:
    """Send one message to each ``(user, person)``; returns the messages sent (every channel gets all)."""
    messages = [Message(u, p, verb, title, body, link) for u, p in recipients]
    if messages:
        for channel in enabled_channels():
            channel.deliver(messages)
    return messages


@transaction.atomic
def notification_read(*, actor: Any, notification: Notification | None = None) -> int:
    """Mark one of the actor's notifications (or all of them) read; returns how many changed."""
    qs = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    if notification is not None:
        qs = qs.filter(pk=notification.pk)
    return qs.update(read_at=timezone.now())


def unread_count(user: Any) -> int:
    if getattr(user, "pk", None) is None:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
