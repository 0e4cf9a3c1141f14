"""Logins for people (issue 27 item 2): a manager creates the login of a person from their page (or of a
team's members at once); the person sets their own password through a one-time activation link, shown
once and printable as a QR slip. A login made here is linked to the person and holds the member role on
the person's home unit. When a person leaves (employment status "left"), their login ends.

Who may: whoever may change the person (``Perm.CHANGE`` on their unit: managers, secretaries, admins).
Linking a login and granting a role otherwise take ``Perm.GRANT``; here both are limited to the person's
own login and the member role (which only lets them see), so changing the person is enough.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.accounts.models import ActivationToken
from muster.audit.services import log_action
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import EmploymentStatus, Person, Role, RoleGrant, Team

ACTIVATION_DAYS = 14
TOKEN_BYTES = 24


@dataclass(frozen=True)
class Activation:
    person: Person
    user: Any
    token: str  # the raw token: shown once, never stored
    expires_at: Any
    new_login: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _username_for(person: Person) -> str:
    """The person's 工号 as the user name (lower case); a suffix when it is taken."""
    users = get_user_model().objects
    base = person.code.strip().lower()[:140] or f"person{person.pk}"
    name, n = base, 1
    while users.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _issue(actor: Any, person: Person) -> Activation:
    if person.employment_status == EmploymentStatus.LEFT:
        raise ValidationError(
            _("%(name)s has left; a person who has left gets no login.") % {"name": person.name}
        )
    users = get_user_model().objects
    user = users.filter(pk=person.user_id).first() if person.user_id else None
    new_login = user is None
    if user is None:
        user = users.create_user(username=_username_for(person))  # no usable password until activated
        Person.objects.filter(pk=person.pk).update(user=user, updated_at=timezone.now())
        person.user = user
    _grant, granted = RoleGrant.objects.get_or_create(
        user=user,
        unit=person.unit,
        role=Role.MEMBER,
        defaults={"granted_by": actor if getattr(actor, "pk", None) else None},
    )
    access.forget(user)
    now = timezone.now()
    # an earlier link that was not used yet stops working: only the newest slip is valid
    ActivationToken.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + timedelta(days=ACTIVATION_DAYS)
    ActivationToken.objects.create(
        user=user,
        digest=_digest(token),
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        expires_at=expires,
    )
    log_action(
        actor,
        action="accounts.login.created" if new_login else "accounts.activation.reissued",
        target=person,
        unit_path=person.unit.path,
        changes={
            "username": user.get_username(),
            "role": Role.MEMBER.value if granted else None,
            "unit": person.unit.code,
            "expires": timezone.localtime(expires).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return Activation(person, user, token, expires, new_login)


@transaction.atomic
def person_login_create(*, actor: Any, person: Person) -> Activation:
    """A login for ``person`` (or, if they have one, a new activation link for it) with the member role on
    their home unit. The raw token is returned once."""
    access.require(actor, Perm.CHANGE, person)
    person = Person.objects.select_for_update(of=("self",)).select_related("unit").get(pk=person.pk)
    return _issue(actor, person)


@transaction.atomic
def team_logins_create(*, actor: Any, team: Team) -> list[Activation]:
    """Logins for the team's members who have none (and are still in service), in one transaction.
    Members the actor may not change are left out (they are not theirs to give a login)."""
    access.require(actor, Perm.VIEW, team)
    people = (
        Person.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(team_memberships__team=team, user__isnull=True)
        .exclude(employment_status=EmploymentStatus.LEFT)
        .order_by("code")
    )
    return [_issue(actor, p) for p in people if access.can(actor, Perm.CHANGE, p.unit)]


def activation_user(token: str) -> Any | None:
    """The login a still valid activation token is for, else ``None``."""
    if not token or len(token) > 200:
        return None
    row = (
        ActivationToken.objects.select_related("user")
        .filter(
            digest=_digest(token),
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )
    return row.user if row is not None else None


@transaction.atomic
def login_activate(*, token: str, password: str) -> Any:
    """Set the password of the login of a valid token and use the token up. ``ValidationError`` for a
    token that is not valid (any more) or a password the validators refuse."""
    row = (
        ActivationToken.objects.select_for_update()
        .select_related("user")
        .filter(digest=_digest(token or ""), used_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if row is None or row.expires_at <= timezone.now() or not row.user.is_active:
        raise ValidationError(_("This activation link is not valid any more. Ask for a new one."))
    user = row.user
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    person = Person.objects.filter(user=user).select_related("unit").first()
    log_action(
        user,
        action="accounts.login.activated",
        target=person if person is not None else user,
        unit_path=person.unit.path if person is not None else "",
        changes={"username": user.get_username()},
    )
    return user


def end_logins(sender: Any, *, person_ids: list[int], actor: Any = None, **kwargs: Any) -> None:
    """Receiver of ``orgs.signals.people_left``: the logins of people who left stop working (the user is
    deactivated, unused activation links are revoked); inside the transaction of the change."""
    now = timezone.now()
    for person in Person.objects.filter(pk__in=person_ids, user__isnull=False).select_related("unit", "user"):
        user = person.user
        if user is None or not user.is_active:
            continue
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        ActivationToken.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        log_action(
            actor,
            action="accounts.login.ended",
            target=person,
            unit_path=person.unit.path,
            changes={"username": user.get_username()},
        )
