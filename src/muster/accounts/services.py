"""Accounts: API tokens, login throttling, creating users."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.accounts.models import ApiToken, LoginFailure
from muster.audit.services import log_action

TOKEN_PREFIX = "mst_"  # noqa: S105 — a public marker, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor: Any, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the token text (shown only now)."""
    if actor.pk != user.pk and not getattr(actor, "is_superuser", False):
        raise ValidationError(_("You can only create tokens for yourself."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name or "api", prefix=raw[:12], digest=_digest(raw))
    log_action(actor, action="accounts.token.created", target=token, changes={"user": user.get_username()})
    return token, raw


@transaction.atomic
def token_revoke(*, actor: Any, token: ApiToken) -> None:
    if actor.pk != token.user_id and not getattr(actor, "is_superuser", False):
        raise ValidationError(_("You can only revoke your own tokens."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    log_action(actor, action="accounts.token.revoked", target=token)


def token_authenticate(raw: str) -> Any | None:
    """The active user owning this token, or ``None``."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def login_locked(*, username: str, ip: str | None) -> bool:
    """Too many recent failures for this user name, or from this address (10× the per-user limit)."""
    since = timezone.now() - timedelta(seconds=settings.MUSTER_LOGIN_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(at__gte=since)
    limit = settings.MUSTER_LOGIN_MAX_FAILURES
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= limit * 10


def login_failed(*, username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip)
    log_action(None, action="accounts.login.failed", changes={"username": username[:150]})


def login_succeeded(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
    cutoff = timezone.now() - timedelta(days=1)
    LoginFailure.objects.filter(Q(at__lt=cutoff)).delete()


@transaction.atomic
def user_create(
    *, actor: Any, username: str, password: str, is_superuser: bool = False, email: str = ""
) -> AbstractBaseUser:
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("The user name %(name)s is taken.") % {"name": username}})
    if is_superuser:
        user = User.objects.create_superuser(username=username, password=password, email=email)
    else:
        user = User.objects.create_user(username=username, password=password, email=email)
    log_action(
        actor,
        action="accounts.user.created",
        target=user,
        changes={"username": username, "superuser": is_superuser},
    )
    return user
