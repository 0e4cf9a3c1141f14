"""Notices (the in-app bell), people's and teams' channel choices, and the delivery log.

A ``Notification`` is one notice: to a login (shown under the bell), to a person without a login (only
delivered by e-mail), or to a team (only delivered to the team's group bots). A ``Delivery`` is one
attempt history of carrying one notice (or a daily digest of several, or a test message) through one
outside channel to one target. Secrets (bot addresses carry their access token, signing secrets) and
e-mail addresses are encrypted at rest with the field key, like ID numbers and phones.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muster.orgs import crypto
from muster.orgs.models import Person, Team


class Notification(models.Model):
    """One notice. ``verb`` is a stable machine code (``roster.published`` …)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notify_recipient_unread")]

    def __str__(self) -> str:
        return f"{self.recipient_id or self.person_id or self.team_id}: {self.title}"


class Digest(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately, one message per notice")
    DAILY = "daily", _("Once a day, in one digest")


class Preference(models.Model):
    """A person's channel choices. In-app notices are always on (for a person with a login)."""

    person = models.OneToOneField(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="notify_preference"
    )
    email_enabled = models.BooleanField(_("by e-mail"), default=False)
    email_enc = models.CharField(max_length=400, blank=True, editable=False)
    digest = models.CharField(_("when"), max_length=12, choices=Digest.choices, default=Digest.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.person)

    @property
    def email(self) -> str:
        return crypto.decrypt(self.email_enc)

    @email.setter
    def email(self, value: str) -> None:
        self.email_enc = crypto.encrypt(value)

    @property
    def email_masked(self) -> str:
        return mask_email(self.email)


class BotKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group bot")
    DINGTALK = "dingtalk", _("DingTalk group bot")
    FEISHU = "feishu", _("Feishu group bot")
    WEBHOOK = "webhook", _("Signed webhook")


class TeamBot(models.Model):
    """A team's group bot (or signed webhook): where the team's notices go."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="bots")
    kind = models.CharField(_("type"), max_length=12, choices=BotKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)
    url_enc = models.CharField(max_length=1200, editable=False)
    secret_enc = models.CharField(max_length=400, blank=True, editable=False)
    # The notice kinds (verbs) of the team's members that also go to this bot; notices addressed to the
    # team itself always do.
    verbs = models.JSONField(_("notices"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group bot")
        verbose_name_plural = _("group bots")
        ordering = ["team_id", "id"]

    def __str__(self) -> str:
        return f"{self.team} · {self.get_kind_display()} · {self.url_masked}"

    @property
    def url(self) -> str:
        return crypto.decrypt(self.url_enc)

    @url.setter
    def url(self, value: str) -> None:
        self.url_enc = crypto.encrypt(value)

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_enc)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_enc = crypto.encrypt(value)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_enc)

    @property
    def url_masked(self) -> str:
        return mask_url(self.url)


class DeliveryKind(models.TextChoices):
    NOTICE = "notice", _("Notice")
    DIGEST = "digest", _("Daily digest")
    TEST = "test", _("Test message")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


EMAIL = "email"
CHANNEL_CHOICES = [(EMAIL, _("E-mail")), *BotKind.choices]


class Delivery(models.Model):
    """The delivery log: one message through one channel to one target, with its attempts."""

    kind = models.CharField(
        _("kind"), max_length=8, choices=DeliveryKind.choices, default=DeliveryKind.NOTICE
    )
    channel = models.CharField(_("channel"), max_length=12, choices=CHANNEL_CHOICES)
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notice"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # A digest carries several notices (and a notice may wait in one digest).
    notifications = models.ManyToManyField(Notification, blank=True, related_name="digests")
    # E-mail: the person (the address is read at each attempt, so a fixed address helps a retry).
    person = models.ForeignKey(
        Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Bots: the bot (if it still exists) and its team (kept for the scope when the bot is removed).
    bot = models.ForeignKey(
        TeamBot,
        verbose_name=_("group bot"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    target = models.CharField(_("to"), max_length=200, blank=True)  # masked, never the full address
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.target}: {self.title}"


def mask_email(address: str) -> str:
    """``z***@example.com``: enough to recognise one's own address, not to read anyone's."""
    if not address:
        return ""
    local, _sep, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_url(url: str) -> str:
    """The host and the last four characters: the token in a bot address is a credential."""
    if not url:
        return ""
    parts = urlsplit(url)
    tail = url.rstrip("/")[-4:]
    return f"{parts.hostname or '?'}/…{tail}"
