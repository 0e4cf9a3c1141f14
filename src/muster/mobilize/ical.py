"""A person's shifts as an iCalendar feed, behind a per-person secret address.

Calendar apps subscribe without a session, so the address carries a random token. Only its SHA-256
digest is stored (``CalendarFeed``); the address is shown once, when it is generated. Generating again
(rotating) replaces it: the old address stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from muster.audit.services import log_action
from muster.mobilize.models import CalendarFeed, Shift
from muster.orgs.models import Person

FEED_HISTORY = timedelta(days=90)  # past shifts kept in the feed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_rotate(*, actor: Any, person: Person) -> str:
    """Give ``person`` a new secret feed token (replacing any old one); returns the raw token.

    Only the person themselves (the login linked to them) manages their feed.
    """
    if getattr(actor, "pk", None) is None or person.user_id != actor.pk:
        from django.http import Http404

        raise Http404
    token = secrets.token_urlsafe(24)
    CalendarFeed.objects.filter(person=person).delete()
    feed = CalendarFeed.objects.create(person=person, digest=_digest(token))
    log_action(
        actor,
        action="mobilize.calendar.rotated",
        target=feed,
        unit_path=person.unit.path,
        changes={"person": person.code},
    )
    return token


@transaction.atomic
def feed_revoke(*, actor: Any, person: Person) -> bool:
    """Stop the person's feed address. Returns whether there was one."""
    if getattr(actor, "pk", None) is None or person.user_id != actor.pk:
        from django.http import Http404

        raise Http404
    deleted, _n = CalendarFeed.objects.filter(person=person).delete()
    if deleted:
        log_action(
            actor,
            action="mobilize.calendar.revoked",
            target=person,
            unit_path=person.unit.path,
            changes={"person": person.code},
        )
    return bool(deleted)


def feed_person(token: str) -> Person | None:
    """The person whose feed ``token`` opens (None for an unknown or revoked token)."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.select_related("person").filter(digest=_digest(token)).first()
    if feed is None:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.person


def has_feed(person: Person) -> bool:
    return CalendarFeed.objects.filter(person=person).exists()


def _summary(shift: Shift) -> str:
    if shift.deployment is not None:
        d = shift.deployment
        base = f"{d.title} · {d.code}"
    elif shift.post is not None:
        base = shift.post.name
    else:  # pragma: no cover - a shift always has an owner (database constraint)
        base = _("Shift")
    return f"{base} ({shift.label})" if shift.label else base


def _location(shift: Shift) -> str:
    if shift.deployment is not None and shift.deployment.site:
        return shift.deployment.site
    if shift.post is not None:
        return shift.post.site
    return ""


def build_calendar(person: Person, shifts: Iterable[Shift], *, now: datetime | None = None) -> bytes:
    """An iCalendar (RFC 5545) document with one VEVENT per shift."""
    cal = Calendar()
    cal.add("prodid", "-//Muster//mobilize//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("My shifts · %(name)s") % {"name": person.name})
    cal.add("x-wr-timezone", timezone.get_default_timezone_name())
    stamp = now or timezone.now()
    for shift in shifts:
        ev = Event()
        ev.add("uid", f"shift-{shift.pk}-{person.pk}@muster")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", shift.start)
        ev.add("dtend", shift.end)
        ev.add("summary", _summary(shift))
        location = _location(shift)
        if location:
            ev.add("location", location)
        if shift.mode == "remote":
            ev.add("description", _("Remote seat"))
        cal.add_component(ev)
    return cal.to_ical()
