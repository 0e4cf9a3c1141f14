"""Accounts: API tokens, login throttling, creating users."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.accounts.models import ApiToken, LoginAddress, LoginFailure
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


# Login throttling. Three counts of recent failures, each with its own free allowance; past it, every
# further attempt waits BACKOFF_BASE * 2^(failures - allowance) seconds after the last failure, capped at
# MUSTER_LOGIN_MAX_DELAY_SECONDS:
#   - one user name from one address (MUSTER_LOGIN_MAX_FAILURES): slows an attacker guessing one account
#     and nobody else — the real user at another address is not affected;
#   - one address over all user names (10x), counting the distinct user names that failed there, with a
#     short cap (ADDRESS_MAX_DELAY_SECONDS): slows spraying many names from one address, softly — one
#     name failing again and again is the first count's business, so many people behind one address (an
#     office NAT, the reverse proxy's view of them) are not slowed down by one attacker among them;
#   - one user name over all addresses (20x): slows guessing one account from many addresses.
# The last two apply only to addresses the user name has not logged in from before (LoginAddress): an
# attacker can then slow down strangers, but cannot stop a user at their usual address. No count ever
# locks an account: a wait ends, and a blocked attempt neither checks the password nor counts.
BACKOFF_BASE_SECONDS = 1
ADDRESS_FACTOR = 10
ACCOUNT_FACTOR = 20
KNOWN_ADDRESS_DAYS = 90
ADDRESS_MAX_DELAY_SECONDS = 60


def _name(username: str) -> str:
    return username.strip().lower()[:150]


def _address_key(ip: str | None) -> str | None:
    """The address the throttle counts: an IPv6 client gets a /64 from its provider, so that is one."""
    if not ip:
        return None
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def _delay(failures: int, allowance: int, cap: float | None = None) -> float:
    if failures < allowance:
        return 0.0
    step = min(failures - allowance, 32)
    limit = (
        settings.MUSTER_LOGIN_MAX_DELAY_SECONDS
        if cap is None
        else min(cap, settings.MUSTER_LOGIN_MAX_DELAY_SECONDS)
    )
    return float(min(BACKOFF_BASE_SECONDS * 2**step, limit))


def _wait(name: str, address: str | None, now: datetime) -> int:
    recent = LoginFailure.objects.filter(
        at__gte=now - timedelta(seconds=settings.MUSTER_LOGIN_WINDOW_SECONDS)
    )
    allowance = settings.MUSTER_LOGIN_MAX_FAILURES
    # (failures, what is counted, free allowance, cap of the wait)
    scopes: list[tuple[Any, Any, int, float | None]] = [
        (recent.filter(username=name, ip=address), Count("pk"), allowance, None)
    ]
    known = (
        address is not None
        and LoginAddress.objects.filter(
            username=name, ip=address, last_login_at__gte=now - timedelta(days=KNOWN_ADDRESS_DAYS)
        ).exists()
    )
    if not known:
        if address is not None:
            scopes.append(
                (
                    recent.filter(ip=address),
                    Count("username", distinct=True),
                    allowance * ADDRESS_FACTOR,
                    ADDRESS_MAX_DELAY_SECONDS,
                )
            )
        scopes.append((recent.filter(username=name), Count("pk"), allowance * ACCOUNT_FACTOR, None))
    wait = 0.0
    for failures, counted, free, cap in scopes:
        seen = failures.aggregate(n=counted, last=Max("at"))
        delay = _delay(seen["n"], free, cap)
        if delay and seen["last"] is not None:
            wait = max(wait, (seen["last"] - now).total_seconds() + delay)
    return math.ceil(wait) if wait > 0 else 0


def _lock(*keys: str) -> None:
    """Serialize attempts on the same user name or address, so parallel requests cannot all slip
    through when a wait ends. SQLite: the transaction already holds the write lock (BEGIN IMMEDIATE)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            lock_id = int.from_bytes(
                hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
            )
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


@transaction.atomic
def login_attempt_start(*, username: str, ip: str | None) -> int:
    """Before a password is checked: the seconds to wait (the password must then not be checked), or 0
    after recording the attempt as a failure — ``login_succeeded`` takes it back if the password is
    right. Recording first means parallel attempts see each other."""
    name, address, now = _name(username), _address_key(ip), timezone.now()
    _lock(f"login-name:{name}", f"login-address:{address}")
    wait = _wait(name, address, now)
    if wait:
        return wait
    LoginFailure.objects.filter(at__lt=now - timedelta(seconds=settings.MUSTER_LOGIN_WINDOW_SECONDS)).delete()
    LoginFailure.objects.create(username=name, ip=address, at=now)
    return 0


def login_failed(*, username: str) -> None:
    """The password was wrong: audited (with the client address of the request); the failure is already
    counted by ``login_attempt_start``."""
    log_action(None, action="accounts.login.failed", changes={"username": username[:150]})


def password_change_failed(*, username: str) -> None:
    """The old password given to change the password was wrong: audited; counted by
    ``login_attempt_start`` like a failed login."""
    log_action(None, action="accounts.password_change.failed", changes={"username": username[:150]})


@transaction.atomic
def login_succeeded(*, username: str, ip: str | None) -> None:
    """The password was right: forget this name's failures from this address and remember the address."""
    name, address, now = _name(username), _address_key(ip), timezone.now()
    LoginFailure.objects.filter(username=name, ip=address).delete()
    if address is not None:
        LoginAddress.objects.update_or_create(username=name, ip=address, defaults={"last_login_at": now})
    LoginAddress.objects.filter(last_login_at__lt=now - timedelta(days=KNOWN_ADDRESS_DAYS)).delete()


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
