from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the token is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """A password attempt that did not succeed, kept to slow down guessing (in the database, so every
    process sees it). It is written when an attempt is let through, before the password is checked, and
    removed if the password was right (``muster.accounts.services.login_attempt_start``). ``ip`` is the
    client address (an IPv6 address's /64 network)."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return f"{self.username} @ {self.ip or '-'} {self.at:%Y-%m-%d %H:%M}"


class LoginAddress(models.Model):
    """An address (an IPv6 address's /64 network) a user name has logged in from with the right password.

    Failures spread over many user names from one address, or over many addresses for one user name,
    slow down attempts from unknown addresses only: a user at an address they logged in from before is
    slowed down by failures for their own name from that address alone.
    """

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField()
    last_login_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("known login address")
        verbose_name_plural = _("known login addresses")
        constraints = [
            models.UniqueConstraint(fields=["username", "ip"], name="accounts_loginaddress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.ip}"


class ActivationToken(models.Model):
    """A one-time link with which a person sets the password of the login a manager created for them.
    Only the SHA-256 digest of the token is stored: the link is shown once (and printed as a QR slip)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activation_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("activation link")
        verbose_name_plural = _("activation links")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
