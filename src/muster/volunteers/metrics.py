"""Report figures of the volunteer side (group ``volunteers``: a section of the rollup "截至…" and a sheet
of the Excel 台账), for a unit's subtree as of a cutoff.

Whose figure it is:

- people counts (registered, active) go by the person's unit or party organization (the rule of the other
  people counts, ``honors.queries.subtree_people``);
- sign-ups, seats and waiting lists go by the unit of the shift's batch (or post);
- call-ups go by the calling unit.

Definitions:

- ``volunteers.registered``: people with a volunteer profile made before the cutoff;
- ``volunteers.active``: people holding a seat (sign-up not cancelled before the cutoff) on a shift that
  started in the cutoff's calendar month, before the cutoff;
- ``volunteers.signups``: sign-ups made before the cutoff and not cancelled before it;
- ``volunteers.open_seats`` / ``volunteers.seats_taken`` / ``volunteers.fill_rate``: the seats of the
  shifts opened for sign-up before the cutoff, the seats held on them as of the cutoff, and the second as
  a percentage of the first;
- ``volunteers.waiting``: sign-ups on a waiting list as of the cutoff (joined before it and still waiting,
  or moved up only after it; one cancelled after the cutoff is taken to have held a seat);
- ``volunteers.callups`` / ``volunteers.callup_invited`` / ``volunteers.callup_answered`` /
  ``volunteers.callup_answer_rate``: call-ups made before the cutoff, the people they invited, the answers
  given before the cutoff, and the answers as a percentage of the invitations.

A rate is cut (not rounded) to one decimal, as every rate in the reports; with nothing to divide by it is
0.0. Rates and people counts are not sums of their parts (``additive=False``: no "own" row).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muster.clock import last_day, local_tz
from muster.orgs.models import Person, Unit
from muster.reports.registry import Metric
from muster.volunteers.models import CallUp, CallUpInvite, Opening, Profile, SignUp, SignUpStatus

GROUP = "volunteers"


def percent(part: int, whole: int) -> Decimal:
    """``part / whole`` in percent, cut to one decimal; 0.0 when ``whole`` is 0."""
    if whole <= 0:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def _people(unit: Unit) -> QuerySet[Person]:
    return Person.objects.filter(
        Q(unit__path__startswith=unit.path) | Q(party_unit__path__startswith=unit.path)
    )


def _shift_in(unit: Unit, prefix: str = "shift__") -> Q:
    return Q(**{f"{prefix}deployment__unit__path__startswith": unit.path}) | Q(
        **{f"{prefix}post__unit__path__startswith": unit.path}
    )


def _live_at(as_of: datetime) -> Q:
    """Sign-ups made before the cutoff and not cancelled before it."""
    return Q(created_at__lt=as_of) & (~Q(status=SignUpStatus.CANCELLED) | Q(changed_at__gte=as_of))


def _promoted_after(as_of: datetime) -> Q:
    """Seated now, but moved up from the waiting list only after the cutoff (a direct seat is written
    with ``changed_at == created_at``; a move up changes ``changed_at``)."""
    return Q(status=SignUpStatus.SEATED, changed_at__gte=as_of) & ~Q(changed_at=F("created_at"))


def _month_start(as_of: datetime) -> datetime:
    day = last_day(as_of)
    return datetime.combine(date(day.year, day.month, 1), time(0), local_tz())


def metric_registered(unit: Unit, as_of: datetime) -> int:
    """Registered volunteers."""
    return Profile.objects.filter(person__in=_people(unit), created_at__lt=as_of).count()


def metric_active(unit: Unit, as_of: datetime) -> int:
    """Active volunteers this month."""
    return (
        SignUp.objects.filter(
            _live_at(as_of),
            person__in=_people(unit),
            opening__shift__start__gte=_month_start(as_of),
            opening__shift__start__lt=as_of,
        )
        .exclude(status=SignUpStatus.WAITING)
        .exclude(_promoted_after(as_of))
        .values("person_id")
        .distinct()
        .count()
    )


def _signups(unit: Unit, as_of: datetime) -> QuerySet[SignUp]:
    return SignUp.objects.filter(_live_at(as_of), _shift_in(unit, "opening__shift__"))


def metric_signups(unit: Unit, as_of: datetime) -> int:
    """Sign-ups."""
    return _signups(unit, as_of).count()


def _open_seats(unit: Unit, as_of: datetime) -> int:
    seats = Opening.objects.filter(_shift_in(unit), opened_at__lt=as_of).aggregate(n=Sum("shift__seats"))["n"]
    return int(seats or 0)


def _taken(unit: Unit, as_of: datetime) -> int:
    """Seats held as of the cutoff: seated (and not moved up only after the cutoff), or cancelled after
    the cutoff (a cancelled sign-up does not say whether it waited; it is taken to have held a seat)."""
    return (
        _signups(unit, as_of)
        .filter(Q(status=SignUpStatus.SEATED) | Q(status=SignUpStatus.CANCELLED, changed_at__gte=as_of))
        .exclude(_promoted_after(as_of))
        .count()
    )


def metric_open_seats(unit: Unit, as_of: datetime) -> int:
    """Seats opened for sign-up."""
    return _open_seats(unit, as_of)


def metric_seats_taken(unit: Unit, as_of: datetime) -> int:
    """Seats taken."""
    return _taken(unit, as_of)


def metric_fill_rate(unit: Unit, as_of: datetime) -> Decimal:
    """Fill rate of open shifts (%)."""
    return percent(_taken(unit, as_of), _open_seats(unit, as_of))


def metric_waiting(unit: Unit, as_of: datetime) -> int:
    """People on a waiting list."""
    return _signups(unit, as_of).filter(Q(status=SignUpStatus.WAITING) | _promoted_after(as_of)).count()


def _callups(unit: Unit, as_of: datetime) -> QuerySet[CallUp]:
    return CallUp.objects.filter(unit__path__startswith=unit.path, created_at__lt=as_of)


def metric_callups(unit: Unit, as_of: datetime) -> int:
    """Call-ups (集结号)."""
    return _callups(unit, as_of).count()


def _invited(unit: Unit, as_of: datetime) -> int:
    return CallUpInvite.objects.filter(callup__in=_callups(unit, as_of)).count()


def _answered(unit: Unit, as_of: datetime) -> int:
    return (
        CallUpInvite.objects.filter(callup__in=_callups(unit, as_of), answered_at__lt=as_of)
        .exclude(answer="")
        .count()
    )


def metric_callup_invited(unit: Unit, as_of: datetime) -> int:
    """People invited by call-ups."""
    return _invited(unit, as_of)


def metric_callup_answered(unit: Unit, as_of: datetime) -> int:
    """Call-up answers."""
    return _answered(unit, as_of)


def metric_callup_answer_rate(unit: Unit, as_of: datetime) -> Decimal:
    """Call-up answer rate (%)."""
    return percent(_answered(unit, as_of), _invited(unit, as_of))


PERSONS = pgettext_lazy("metric unit", "persons")

METRICS: list[Metric] = [
    Metric(
        "volunteers.registered",
        _("Registered volunteers"),
        metric_registered,
        _("People with a volunteer profile made before the cutoff (by their unit or party organization)."),
        PERSONS,
        group=GROUP,
        order=1,
        additive=False,
    ),
    Metric(
        "volunteers.active",
        _("Active volunteers this month"),
        metric_active,
        _("People holding a seat on a shift that started in the cutoff's calendar month, before the cutoff."),
        PERSONS,
        group=GROUP,
        order=2,
        additive=False,
    ),
    Metric(
        "volunteers.signups",
        _("Sign-ups"),
        metric_signups,
        _("Sign-ups for open shifts made before the cutoff and not cancelled before it."),
        pgettext_lazy("metric unit", "sign-ups"),
        group=GROUP,
        order=3,
    ),
    Metric(
        "volunteers.open_seats",
        _("Seats opened for sign-up"),
        metric_open_seats,
        _("The seats of the shifts opened for sign-up before the cutoff."),
        pgettext_lazy("metric unit", "seats"),
        group=GROUP,
    ),
    Metric(
        "volunteers.seats_taken",
        _("Seats taken"),
        metric_seats_taken,
        _("Seats of open shifts held as of the cutoff."),
        pgettext_lazy("metric unit", "seats"),
        group=GROUP,
    ),
    Metric(
        "volunteers.fill_rate",
        _("Fill rate of open shifts"),
        metric_fill_rate,
        _("Seats taken as a percentage of the seats opened for sign-up, cut to one decimal."),
        "%",
        kind="score",
        group=GROUP,
        order=4,
        additive=False,
    ),
    Metric(
        "volunteers.waiting",
        _("On waiting lists"),
        metric_waiting,
        _("Sign-ups on a waiting list as of the cutoff."),
        pgettext_lazy("metric unit", "sign-ups"),
        group=GROUP,
        order=5,
    ),
    Metric(
        "volunteers.callups",
        _("Call-ups"),
        metric_callups,
        _("Call-ups (集结号) made before the cutoff by a unit of the subtree."),
        pgettext_lazy("metric unit", "call-ups"),
        group=GROUP,
        order=6,
    ),
    Metric(
        "volunteers.callup_invited",
        _("People invited by call-ups"),
        metric_callup_invited,
        _("The people the call-ups made before the cutoff invited."),
        PERSONS,
        group=GROUP,
    ),
    Metric(
        "volunteers.callup_answered",
        _("Call-up answers"),
        metric_callup_answered,
        _("Answers (yes or no) to those call-ups given before the cutoff."),
        pgettext_lazy("metric unit", "answers"),
        group=GROUP,
    ),
    Metric(
        "volunteers.callup_answer_rate",
        _("Call-up answer rate"),
        metric_callup_answer_rate,
        _("Answers as a percentage of the people invited, cut to one decimal."),
        "%",
        kind="score",
        group=GROUP,
        order=7,
        additive=False,
    ),
]
