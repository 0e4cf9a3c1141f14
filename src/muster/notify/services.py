"""``notify(...)``: send a message to people (and teams) through the configured channels; the channel
choices, group bots, test messages and retries behind it. Every change is permission-checked and audited.

Notices are stored (``Notification``): that is the in-app channel (the bell shows a login's notices) and
the record every other channel delivers from. Outside channels are a registry (``CHANNELS``): a channel has
a ``name`` and a ``deliver(notices)`` method that queues ``Delivery`` rows, each sent by a background task
when the transaction commits (``muster.notify.delivery``). ``settings.MUSTER_NOTIFY_CHANNELS`` says which
run: ``inapp`` (always on), ``email`` (a person's choice; needs the server's e-mail settings) and ``bot``
(a team's group bots and signed webhooks).

* A person chooses e-mail on or off, the address, and immediate messages or one daily digest
  (``Preference``). The person may change their own; a user who may change the person's unit may too (for
  people without a login, who are then reached by e-mail only).
* A team's group bots (``TeamBot``) get the notices addressed to the team, and the notices of its members
  whose kind the bot subscribes to (``verbs``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.audit.services import log_action
from muster.notify import queries, senders
from muster.notify.delivery import next_digest_at, schedule
from muster.notify.models import (
    EMAIL,
    BotKind,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Digest,
    Notification,
    Preference,
    TeamBot,
)
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team, TeamMembership

# Notice kinds a team's bot may subscribe to: {verb: label}. Apps add theirs with ``register_kind``.
NOTICE_KINDS: dict[str, Any] = {"roster.published": gettext_lazy("Roster published or changed")}


def register_kind(verb: str, label: Any) -> None:
    NOTICE_KINDS[verb] = label


@dataclass(frozen=True)
class Message:
    recipient: Any  # a user, or None for a person without a login (reached by e-mail only)
    person: Person | None
    verb: str
    title: str
    body: str = ""
    link: str = ""


class Channel(Protocol):
    name: str

    def deliver(self, notices: list[Notification]) -> None: ...


class InAppChannel:
    """The stored notices are the in-app channel: nothing more to do."""

    name = "inapp"

    def deliver(self, notices: list[Notification]) -> None:
        return None


class EmailChannel:
    """One e-mail per notice, or the notice joins the person's next daily digest."""

    name = "email"

    def deliver(self, notices: list[Notification]) -> None:
        if not senders.email_configured():
            return
        person_ids = {n.person_id for n in notices if n.person_id is not None}
        prefs = {
            p.person_id: p
            for p in Preference.objects.filter(person_id__in=person_ids, email_enabled=True).exclude(
                email_enc=""
            )
        }
        now = timezone.now()
        for n in notices:
            pref = prefs.get(n.person_id) if n.person_id is not None else None
            if pref is None:
                continue
            if pref.digest == Digest.DAILY:
                _digest_add(pref, n, now=now)
                continue
            d = Delivery.objects.create(
                kind=DeliveryKind.NOTICE,
                channel=EMAIL,
                notification=n,
                person_id=pref.person_id,
                title=n.title[:200],
                target=pref.email_masked,
                next_attempt_at=now,
                max_attempts=settings.MUSTER_NOTIFY_MAX_ATTEMPTS,
            )
            schedule(d)


def _digest_add(pref: Preference, n: Notification, *, now: Any) -> None:
    # The open digest is locked, so a digest being claimed for sending waits for this notice to join
    # (or this transaction sees it no longer queued and opens the next one).
    d = (
        Delivery.objects.select_for_update()
        .filter(
            kind=DeliveryKind.DIGEST, channel=EMAIL, person_id=pref.person_id, status=DeliveryStatus.QUEUED
        )
        .order_by("id")
        .first()
    )
    if d is None:
        d = Delivery.objects.create(
            kind=DeliveryKind.DIGEST,
            channel=EMAIL,
            person_id=pref.person_id,
            title=_("Daily digest"),
            target=pref.email_masked,
            next_attempt_at=next_digest_at(now),
            max_attempts=settings.MUSTER_NOTIFY_MAX_ATTEMPTS,
        )
        schedule(d)
    d.notifications.add(n)


class BotChannel:
    """Team notices to every active bot of the team; members' notices to the bots subscribed to them."""

    name = "bot"

    def deliver(self, notices: list[Notification]) -> None:
        team_ids = {n.team_id for n in notices if n.team_id is not None}
        person_ids = {n.person_id for n in notices if n.person_id is not None}
        teams_of: dict[int, set[int]] = {}
        if person_ids:
            for person_id, team_id in TeamMembership.objects.filter(
                person_id__in=person_ids, team__is_active=True
            ).values_list("person_id", "team_id"):
                teams_of.setdefault(person_id, set()).add(team_id)
        all_teams = team_ids | {t for ts in teams_of.values() for t in ts}
        if not all_teams:
            return
        bots: dict[int, list[TeamBot]] = {}
        for bot in TeamBot.objects.filter(team_id__in=all_teams, is_active=True, team__is_active=True):
            bots.setdefault(bot.team_id, []).append(bot)
        now = timezone.now()
        for n in notices:
            targets: list[TeamBot] = []
            if n.team_id is not None:
                targets += bots.get(n.team_id, [])
            if n.person_id is not None:
                for team_id in sorted(teams_of.get(n.person_id, ())):
                    targets += [b for b in bots.get(team_id, []) if n.verb in (b.verbs or [])]
            for bot in dict.fromkeys(targets):
                d = Delivery.objects.create(
                    kind=DeliveryKind.NOTICE,
                    channel=bot.kind,
                    notification=n,
                    bot=bot,
                    team_id=bot.team_id,
                    title=n.title[:200],
                    target=bot.url_masked,
                    next_attempt_at=now,
                    max_attempts=settings.MUSTER_NOTIFY_MAX_ATTEMPTS,
                )
                schedule(d)


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> None:
    CHANNELS[channel.name] = channel


register_channel(InAppChannel())
register_channel(EmailChannel())
register_channel(BotChannel())


def enabled_channels() -> list[Channel]:
    names = getattr(settings, "MUSTER_NOTIFY_CHANNELS", ["inapp"])
    return [CHANNELS[n] for n in names if n in CHANNELS]


def recipients_of(people: Iterable[Person]) -> list[tuple[Any, Person]]:
    """(login or ``None``, person) of the people who can be reached: by their login (in-app, and their
    chosen channels), or, without a login, by the e-mail they (or their unit) chose."""
    people = list(people)
    by_email: set[int] = set()
    if senders.email_configured():
        by_email = set(
            Preference.objects.filter(person__in=people, email_enabled=True)
            .exclude(email_enc="")
            .values_list("person_id", flat=True)
        )
    out: list[tuple[Any, Person]] = []
    for p in people:
        user = p.user if p.user_id is not None and p.user is not None and p.user.is_active else None
        if user is not None or p.pk in by_email:
            out.append((user, p))
    return out


@transaction.atomic
def notify(
    recipients: Iterable[tuple[Any, Person | None]],
    *,
    verb: str,
    title: str,
    body: str = "",
    link: str = "",
    teams: Iterable[Team] = (),
) -> list[Message]:
    """Send one message to each ``(user, person)`` (and to each team's bots); returns the messages to
    people. Outside channels send in the background after the transaction commits."""
    messages = [Message(u, p, verb, title, body, link) for u, p in recipients]
    notices = [
        Notification(
            recipient=m.recipient,
            person=m.person,
            verb=verb[:60],
            title=title[:200],
            body=body,
            link=link[:300],
        )
        for m in messages
    ]
    notices += [
        Notification(team=t, verb=verb[:60], title=title[:200], body=body, link=link[:300]) for t in teams
    ]
    if notices:
        Notification.objects.bulk_create(notices)
        for channel in enabled_channels():
            channel.deliver(notices)
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


# ================================================================ input checks


def clean_text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    """Trimmed, NFKC-normalised text without control characters or lone surrogates (a 4xx, never a 500)."""
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise ValidationError({field: _("This text contains control characters or invalid characters.")})
    value = unicodedata.normalize("NFKC", value).strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": max_length}})
    return value


# ================================================================ a person's choices


def _require_person(actor: Any, person: Person) -> None:
    """The person themselves, or a user who may change the person (403 otherwise; 404 is the caller's)."""
    if getattr(actor, "pk", None) is not None and person.user_id == actor.pk:
        return
    access.require(actor, Perm.CHANGE, person)


def preference_of(person: Person) -> Preference:
    """The person's choices (unsaved defaults if never chosen)."""
    return Preference.objects.filter(person=person).first() or Preference(person=person)


@transaction.atomic
def preference_set(
    *,
    actor: Any,
    person: Person,
    email_enabled: bool | None = None,
    email: str | None = None,
    digest: str | None = None,
) -> Preference:
    """Change a person's channel choices (``None`` keeps a value)."""
    _require_person(actor, person)
    pref = Preference.objects.select_for_update().filter(person=person).first() or Preference(person=person)
    before = {"email_enabled": pref.email_enabled, "email": pref.email_masked, "digest": pref.digest}
    errors: dict[str, str] = {}
    if email is not None:
        address = clean_text(email, field="email", max_length=254).lower()
        if address:
            try:
                validate_email(address)
            except ValidationError:
                errors["email"] = _("Enter a valid e-mail address.")
        if "email" not in errors:
            pref.email = address
    if email_enabled is not None:
        pref.email_enabled = email_enabled
    if digest is not None:
        if digest not in Digest.values:
            errors["digest"] = _("Choose immediate messages or a daily digest.")
        else:
            pref.digest = digest
    if not errors and pref.email_enabled and not pref.email:
        errors["email"] = _("Enter the address to send e-mail to.")
    if errors:
        raise ValidationError(errors)
    after = {"email_enabled": pref.email_enabled, "email": pref.email_masked, "digest": pref.digest}
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes or pref.pk is None:
        pref.save()
        log_action(
            actor,
            action="notify.preference.changed",
            target=person,
            unit_path=person.unit.path,
            changes=changes,
        )
    return pref


# ================================================================ team bots


def _check_bot(kind: str, url: str, secret: str) -> None:
    if kind not in BotKind.values:
        raise ValidationError(
            {"kind": _("Choose a WeCom, DingTalk or Feishu group bot, or a signed webhook.")}
        )
    try:
        senders.check_bot(kind, url, secret)
    except senders.Refused as exc:
        raise ValidationError({exc.field: str(exc)}) from exc


def _clean_verbs(verbs: Sequence[str]) -> list[str]:
    unknown = [v for v in verbs if v not in NOTICE_KINDS]
    if unknown:
        raise ValidationError(
            {"verbs": _("Unknown notice kind: %(kinds)s.") % {"kinds": ", ".join(unknown)[:200]}}
        )
    return sorted(set(verbs))


def _bot_snapshot(bot: TeamBot) -> dict[str, Any]:
    return {
        "kind": bot.kind,
        "name": bot.name,
        "url": bot.url_masked,
        "secret": bool(bot.secret_enc),
        "verbs": list(bot.verbs or []),
        "is_active": bot.is_active,
    }


@transaction.atomic
def bot_create(
    *,
    actor: Any,
    team: Team,
    kind: str,
    url: str,
    secret: str = "",
    name: str = "",
    verbs: Sequence[str] = (),
) -> TeamBot:
    """Add a group bot (or signed webhook) to a team. The address and secret are stored encrypted."""
    access.require(actor, Perm.CHANGE, team)
    name = clean_text(name, field="name", max_length=60)
    url = clean_text(url, field="url", max_length=1000, required=True)
    secret = clean_text(secret, field="secret", max_length=200)
    _check_bot(kind, url, secret)
    bot = TeamBot(team=team, kind=kind, name=name, verbs=_clean_verbs(verbs))
    bot.url = url
    bot.secret = secret
    bot.save()
    log_action(
        actor, action="notify.bot.created", target=bot, unit_path=team.unit.path, changes=_bot_snapshot(bot)
    )
    return bot


@transaction.atomic
def bot_update(
    *,
    actor: Any,
    bot: TeamBot,
    name: str | None = None,
    url: str | None = None,
    secret: str | None = None,
    verbs: Sequence[str] | None = None,
    is_active: bool | None = None,
) -> TeamBot:
    """Change a bot; ``None`` (or an empty address) keeps a value, ``secret=""`` removes the secret."""
    access.require(actor, Perm.CHANGE, bot.team)
    before = _bot_snapshot(bot)
    new_url = clean_text(url, field="url", max_length=1000) if url is not None else ""
    new_secret = clean_text(secret, field="secret", max_length=200) if secret is not None else bot.secret
    if name is not None:
        bot.name = clean_text(name, field="name", max_length=60)
    _check_bot(bot.kind, new_url or bot.url, new_secret)
    if new_url:
        bot.url = new_url
    if secret is not None:
        bot.secret = new_secret
    if verbs is not None:
        bot.verbs = _clean_verbs(verbs)
    if is_active is not None:
        bot.is_active = is_active
    after = _bot_snapshot(bot)
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if new_url and "url" not in changes:
        changes["url"] = [before["url"], after["url"]]  # a new token with the same last characters
    if changes:
        bot.save()
        log_action(
            actor, action="notify.bot.updated", target=bot, unit_path=bot.team.unit.path, changes=changes
        )
    return bot


@transaction.atomic
def bot_delete(*, actor: Any, bot: TeamBot) -> None:
    access.require(actor, Perm.CHANGE, bot.team)
    log_action(
        actor,
        action="notify.bot.deleted",
        target=bot,
        unit_path=bot.team.unit.path,
        changes=_bot_snapshot(bot),
    )
    bot.delete()


# ================================================================ test messages and retries


def _test_delivery(**fields: Any) -> Delivery:
    d = Delivery.objects.create(
        kind=DeliveryKind.TEST,
        title=_("Muster test message"),
        next_attempt_at=timezone.now(),
        max_attempts=1,  # a test shows what happens now; retry it by hand
        **fields,
    )
    schedule(d)
    return d


@transaction.atomic
def bot_test(*, actor: Any, bot: TeamBot) -> Delivery:
    """Queue a test message to a team's bot; the delivery log shows how it went."""
    access.require(actor, Perm.CHANGE, bot.team)
    d = _test_delivery(channel=bot.kind, bot=bot, team=bot.team, target=bot.url_masked)
    log_action(
        actor,
        action="notify.test.sent",
        target=bot,
        unit_path=bot.team.unit.path,
        changes={"to": bot.url_masked},
    )
    return d


@transaction.atomic
def email_test(*, actor: Any, person: Person) -> Delivery:
    """Queue a test e-mail to the person's chosen address."""
    _require_person(actor, person)
    if not senders.email_configured():
        raise ValidationError({"email": _("E-mail is not configured on this server.")})
    pref = preference_of(person)
    if not pref.email:
        raise ValidationError({"email": _("Enter the address to send e-mail to.")})
    if not pref.email_enabled:
        raise ValidationError({"email": _("Turn e-mail notifications on first.")})
    d = _test_delivery(channel=EMAIL, person=person, target=pref.email_masked)
    log_action(
        actor,
        action="notify.test.sent",
        target=person,
        unit_path=person.unit.path,
        changes={"to": pref.email_masked},
    )
    return d


RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.RETRYING)


@transaction.atomic
def delivery_retry(*, actor: Any, delivery: Delivery) -> Delivery:
    """Send a failed (or waiting) delivery again now, with a fresh allowance of attempts.

    Allowed to whoever sees the delivery in the log (their own, or a person's or team's they may
    change); anyone else gets "not found".
    """
    d = queries.deliveries(actor).select_for_update(of=("self",)).filter(pk=delivery.pk).first()
    if d is None:
        raise Http404
    if d.status not in RETRYABLE:
        raise ValidationError({"status": _("Only a failed or retrying delivery can be sent again.")})
    previous = d.status
    d.status = DeliveryStatus.QUEUED
    d.next_attempt_at = timezone.now()
    d.max_attempts = d.attempts + (1 if d.kind == DeliveryKind.TEST else settings.MUSTER_NOTIFY_MAX_ATTEMPTS)
    d.save(update_fields=["status", "next_attempt_at", "max_attempts", "updated_at"])
    unit = d.person.unit if d.person_id and d.person else (d.team.unit if d.team_id and d.team else None)
    log_action(
        actor,
        action="notify.delivery.retried",
        target=d,
        unit_path=unit.path if unit is not None else "",
        changes={"status": [previous, d.status]},
    )
    schedule(d)
    return d
