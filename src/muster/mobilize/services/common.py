"""What every mobilization service shares: input checks (``_invalid``, ``_aware``, ``_check_span``,
``_fmt``), locking people, the conflict and rest rules, and the domain-event announcements. Who may see
and do what is ``muster.mobilize.policy``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.clock import local_tz
from muster.mobilize import rules as mrules
from muster.mobilize import signals
from muster.mobilize.models import Deployment, ServiceEntry, Shift
from muster.orgs import access
from muster.orgs.models import Person

NOTE_MAX = 2000  # an entry's note (the self-report form's and the ledger import's limit)


FUTURE_TOLERANCE = timedelta(minutes=5)  # phones' clocks drift; a check-in may be a little "ahead"


def min_rest_minutes() -> int:
    return int(getattr(settings, "MUSTER_MIN_REST_MINUTES", 480))


@dataclass(frozen=True)
class ConflictWarning:
    """A short rest between two commitments of a person (not refused)."""

    person: Person
    other: str
    gap_minutes: int
    message: str


# ---------------------------------------------------------------- helpers


def _invalid(field_name: str, message: str, code: str) -> ValidationError:
    """A field error with a machine-readable ``code`` (API clients and tests read it)."""
    return ValidationError({field_name: ValidationError(message, code=code)})


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, local_tz()).strftime("%Y-%m-%d %H:%M")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _aware(value: datetime, field_name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError({field_name: _("A date and time is required.")})
    if timezone.is_naive(value):
        return value.replace(tzinfo=local_tz())
    return value


def _check_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise ValidationError(
            {
                "end": _("The end (%(end)s) must be after the start (%(start)s).")
                % {"end": _fmt(end), "start": _fmt(start)}
            }
        )
    return start, end


def _actor_person(actor: Any) -> Person | None:
    pk = getattr(actor, "pk", None)
    if pk is None:
        return None
    return Person.objects.filter(user_id=pk).first()


def _lock_people(people: Iterable[Person]) -> dict[int, Person]:
    """Lock the people's rows (in pk order, to avoid deadlocks) for the rest of the transaction."""
    pks = sorted({p.pk for p in people})
    return {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


# ---------------------------------------------------------------- conflicts


def _shift_name(s: Shift) -> str:
    return mrules.shift_name(s)


def _conflicts(
    person: Person,
    start: datetime,
    end: datetime,
    *,
    shift: Shift | None = None,
    deployment: Deployment | None = None,
    actor: Any = None,
) -> list[ConflictWarning]:
    """Refuse a hard conflict of ``person`` taking ``[start, end)`` (as ``shift`` or ``deployment``);
    return the short-rest warnings. The caller holds the person's lock. The rules are
    ``mobilize.rules.judge`` — the same the volunteers' sign-up uses. The messages name another batch or
    post only if ``actor`` may see it (``rules.commitments_of``)."""
    breaches = _breaches(person, start, end, shift=shift, deployment=deployment, actor=actor)
    return _apply_breaches(person, breaches, strict=False)


def _breaches(
    person: Person,
    start: datetime,
    end: datetime,
    *,
    shift: Shift | None = None,
    deployment: Deployment | None = None,
    seats: int | None = None,
    taken: int = 0,
    week_limit_minutes: int | None = None,
    actor: Any = None,
) -> list[mrules.Breach]:
    own = deployment if deployment is not None else (shift.deployment if shift is not None else None)
    lo, hi = mrules.window(start, end)
    # Another batch or post is named only to whom may see it; a person's own commitments, to themself.
    own_self = person.user_id is not None and person.user_id == getattr(actor, "pk", None)
    viewer = None if actor is None or own_self else actor
    return mrules.judge(
        who=str(person),
        start=start,
        end=end,
        commitments=mrules.commitments_of([person.pk], lo, hi, viewer=viewer).get(person.pk, []),
        shift_id=shift.pk if shift is not None else None,
        deployment_id=own.pk if own is not None else None,
        seats=seats,
        taken=taken,
        week_limit_minutes=week_limit_minutes,
    )


def _apply_breaches(person: Person, breaches: list[mrules.Breach], *, strict: bool) -> list[ConflictWarning]:
    """Raise the first refused breach (a field error with the breach's code); the rest are warnings."""
    refused = mrules.STRICT if strict else mrules.HARD
    for b in breaches:
        if b.code in refused:
            raise _invalid("shift" if b.code == "full" else "person", b.message, b.code)
    return [ConflictWarning(person, b.other, b.gap_minutes, b.message) for b in breaches if b.code == "rest"]


def _visible_person(actor: Any, person: Person) -> Person:
    if not access.scoped(Person.objects.filter(pk=person.pk), actor).exists():
        raise ValidationError({"people": _("Unknown person %(code)s.") % {"code": person.code}})
    return person


# Other apps learn of ledger rows and batch changes through ``muster.mobilize.signals`` (the reports'
# rollup facts, the points app's service hours), inside the transaction that writes them: every ledger
# row goes through ``_write``; every batch creation, time change and cancellation calls
# ``_announce_deployment``.
def _announce_rows(actor: Any, row: ServiceEntry) -> None:
    signals.ledger_rows_written.send(sender=ServiceEntry, actor=actor, rows=[row])


def _announce_deployment(d: Deployment) -> None:
    signals.deployment_changed.send(sender=Deployment, deployment=d)
