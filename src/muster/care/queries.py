"""Reads of the care ledger: scoped lists for people (through ``muster.care.policy``) and the figures of a
unit subtree as of a cutoff (for the metric registry).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from muster import clock
from muster.care import policy
from muster.care.models import (
    CareSubject,
    Consolation,
    ConsolationKind,
    Contact,
    ContactFrequency,
    ContactOutcome,
    DeliveryLine,
    Donation,
    HelpRequest,
    HelpStatus,
    LineStatus,
    Observation,
    RiskLevel,
    RiskTagEvent,
    SubjectStatus,
    SurveyRound,
)
from muster.orgs.models import Person, Unit

# ---------------------------------------------------------------- the liaison's and manager's lists


def due_list(person: Person, *, today: date | None = None) -> QuerySet[CareSubject]:
    """ "今天要联系的人": the liaison's active subjects due today or overdue, the most overdue first."""
    day = today or clock.today()
    return (
        CareSubject.objects.filter(liaison=person, status=SubjectStatus.ACTIVE, next_due_on__lte=day)
        .select_related("unit")
        .order_by("next_due_on", "code")
        .only(
            "pk",
            "code",
            "name",
            "risk_level",
            "next_due_on",
            "last_contact_at",
            "phone_enc",
            "person_id",
            "unit__path",
        )
    )


@dataclass
class OverdueRow:
    key: str
    name: str
    overdue: int
    due_today: int


def overdue_by(user: Any, *, unit: Unit, by: str = "unit", today: date | None = None) -> list[OverdueRow]:
    """Overdue (and due today) contacts of ``unit``'s subtree, by unit or by liaison."""
    day = today or clock.today()
    rows = CareSubject.objects.filter(
        policy.visible_q(user),
        unit__path__startswith=unit.path,
        status=SubjectStatus.ACTIVE,
        next_due_on__lte=day,
    )
    if by == "liaison":
        keys = ("liaison__code", "liaison__name")
    else:
        keys = ("unit__code", "unit__name")
    got = (
        rows.values(*keys)
        .annotate(
            overdue=Count("pk", filter=Q(next_due_on__lt=day)),
            due_today=Count("pk", filter=Q(next_due_on=day)),
        )
        .order_by(*keys)
    )
    return [OverdueRow(r[keys[0]] or "", r[keys[1]] or "", r["overdue"], r["due_today"]) for r in got]


@dataclass
class Coverage:
    total: int
    reached: int
    by_liaison: list[tuple[str, int, int]]  # (liaison name, reached, total)

    @property
    def percent(self) -> Decimal:
        if not self.total:
            return Decimal("0.0")
        return (Decimal(100) * self.reached / self.total).quantize(Decimal("0.1"))


def round_subjects(r: SurveyRound) -> QuerySet[CareSubject]:
    """The subjects a round covers: its unit subtree's, less those gone (moved, deceased) before it opened."""
    opened = clock.local_date(r.opened_at)
    return CareSubject.objects.filter(unit__path__startswith=r.unit.path).exclude(
        Q(status__in=[SubjectStatus.MOVED, SubjectStatus.DECEASED]) & Q(status_on__lt=opened)
    )


def round_coverage(r: SurveyRound, *, subjects: QuerySet[CareSubject] | None = None) -> Coverage:
    """Coverage live: reached / total, and per liaison."""
    qs = subjects if subjects is not None else round_subjects(r)
    reached_ids = Observation.objects.filter(round=r).values("subject_id")
    per = (
        qs.values("liaison__name")
        .annotate(total=Count("pk"), reached=Count("pk", filter=Q(pk__in=reached_ids)))
        .order_by("liaison__name")
    )
    by = [(p["liaison__name"] or "—", p["reached"], p["total"]) for p in per]
    return Coverage(sum(t for _n, _r, t in by), sum(r for _n, r, _t in by), by)


def not_reached(r: SurveyRound, *, subjects: QuerySet[CareSubject] | None = None) -> QuerySet[CareSubject]:
    qs = subjects if subjects is not None else round_subjects(r)
    return qs.exclude(pk__in=Observation.objects.filter(round=r).values("subject_id")).order_by("code")


def subject_answers(subject: CareSubject) -> list[Observation]:
    """Every observation of a subject, the latest first (the history)."""
    return list(subject.observations.select_related("dimension", "round").order_by("-observed_at", "-pk"))


def over_time_help(user: Any, *, unit: Unit, now: datetime | None = None) -> QuerySet[HelpRequest]:
    """Open help requests past their due time, in ``unit``'s subtree (what the user may see)."""
    t = now or clock.now()
    return (
        HelpRequest.objects.filter(
            unit__path__startswith=unit.path,
            status__in=[HelpStatus.NEW, HelpStatus.ASSIGNED, HelpStatus.IN_PROGRESS],
            due_at__lt=t,
        )
        .filter(_unit_q(user))
        .order_by("due_at")
    )


def _unit_q(user: Any) -> Q:
    from muster.orgs import access
    from muster.orgs.access import Perm

    return access.path_q(user, Perm.VIEW, "unit__path")


def help_requests(user: Any) -> QuerySet[HelpRequest]:
    return HelpRequest.objects.filter(_unit_q(user))


# ---------------------------------------------------------------- figures as of a cutoff


def _in(unit: Unit, prefix: str = "") -> Q:
    return Q(**{f"{prefix}unit__path__startswith": unit.path})


def last_day(as_of: datetime) -> date:
    return clock.last_day(as_of)


def subjects_count(unit: Unit, as_of: datetime) -> int:
    return CareSubject.objects.filter(_in(unit), created_at__lt=as_of).count()


def surveyed_count(unit: Unit, as_of: datetime) -> int:
    return (
        Observation.objects.filter(_in(unit, "subject__"), observed_at__lt=as_of)
        .values("subject_id")
        .distinct()
        .count()
    )


def deceased_count(unit: Unit, as_of: datetime) -> int:
    return CareSubject.objects.filter(
        _in(unit), status=SubjectStatus.DECEASED, status_on__lte=last_day(as_of), created_at__lt=as_of
    ).count()


def tags_on(unit: Unit, as_of: datetime) -> dict[int, set[tuple[str, bool]]]:
    """{subject id: {(tag code, high risk)}} on at the cutoff (the latest event per subject and tag)."""
    latest: dict[tuple[int, str], tuple[bool, bool]] = {}
    for sid, code, high, on in (
        RiskTagEvent.objects.filter(_in(unit, "subject__"), at__lt=as_of)
        .order_by("at", "pk")
        .values_list("subject_id", "tag__code", "tag__high_risk", "on")
    ):
        latest[(sid, code)] = (on, high)
    out: dict[int, set[tuple[str, bool]]] = {}
    for (sid, code), (on, high) in latest.items():
        if on:
            out.setdefault(sid, set()).add((code, high))
    return out


def high_risk_count(unit: Unit, as_of: datetime) -> int:
    gone = set(
        CareSubject.objects.filter(
            _in(unit),
            status__in=[SubjectStatus.DECEASED, SubjectStatus.MOVED],
            status_on__lte=last_day(as_of),
        ).values_list("pk", flat=True)
    )
    return sum(
        1 for sid, tags in tags_on(unit, as_of).items() if sid not in gone and any(h for _c, h in tags)
    )


def tag_count(unit: Unit, as_of: datetime, code: str) -> int:
    return sum(1 for tags in tags_on(unit, as_of).values() if any(c == code for c, _h in tags))


def contacts_count(unit: Unit, as_of: datetime) -> int:
    return (
        Contact.objects.filter(_in(unit, "subject__"), at__lt=as_of)
        .exclude(outcome=ContactOutcome.UNREACHED)
        .count()
    )


def overdue_count(unit: Unit, as_of: datetime) -> int:
    """Active subjects whose next contact (from their last contact before the cutoff and the frequency of
    their risk level at the cutoff) fell due before the cutoff's last day."""
    day = last_day(as_of)
    freq = dict(ContactFrequency.objects.values_list("level", "every_days"))
    high_ids = {sid for sid, tags in tags_on(unit, as_of).items() if any(h for _c, h in tags)}
    last = dict(
        Contact.objects.filter(_in(unit, "subject__"), at__lt=as_of)
        .exclude(outcome=ContactOutcome.UNREACHED)
        .values("subject_id")
        .annotate(m=Max("at"))
        .values_list("subject_id", "m")
    )
    n = 0
    subjects = (
        CareSubject.objects.filter(_in(unit), created_at__lt=as_of)
        .exclude(Q(status__in=[SubjectStatus.DECEASED, SubjectStatus.MOVED]) & Q(status_on__lte=day))
        .values_list("pk", "created_at")
    )
    for sid, created in subjects:
        seen = last.get(sid)
        if seen is None:
            due = clock.local_date(created)
        else:
            level = RiskLevel.HIGH if sid in high_ids else RiskLevel.NORMAL
            due = clock.local_date(seen) + timedelta(days=freq.get(level, 7))
        if due < day:
            n += 1
    return n


def help_raised(unit: Unit, as_of: datetime) -> int:
    return HelpRequest.objects.filter(_in(unit), raised_at__lt=as_of).count()


def help_resolved(unit: Unit, as_of: datetime) -> int:
    return HelpRequest.objects.filter(_in(unit), status=HelpStatus.RESOLVED, resolved_at__lt=as_of).count()


def help_open(unit: Unit, as_of: datetime) -> int:
    raised = HelpRequest.objects.filter(_in(unit), raised_at__lt=as_of)
    closed = raised.filter(
        Q(status=HelpStatus.RESOLVED, resolved_at__lt=as_of)
        | Q(status=HelpStatus.CANCELLED, steps__status=HelpStatus.CANCELLED, steps__at__lt=as_of)
    ).distinct()
    return raised.count() - closed.count()


def help_median_hours(unit: Unit, as_of: datetime) -> Decimal:
    spans = [
        (b - a).total_seconds() / 3600 if b is not None else 0.0
        for a, b in HelpRequest.objects.filter(
            _in(unit), status=HelpStatus.RESOLVED, resolved_at__lt=as_of
        ).values_list("raised_at", "resolved_at")
    ]
    return Decimal(str(round(median(spans), 1))) if spans else Decimal("0.0")


def deliveries_count(unit: Unit, as_of: datetime, kind: str | None = None) -> int:
    rows = DeliveryLine.objects.filter(
        _in(unit, "run__"), status__in=[LineStatus.DELIVERED, LineStatus.CONFIRMED], done_at__lt=as_of
    )
    if kind:
        rows = rows.filter(run__kind=kind)
    return rows.count()


def payments(unit: Unit, as_of: datetime) -> QuerySet[Consolation]:
    return Consolation.objects.filter(
        _in(unit, "subject__"), kind=ConsolationKind.PAYMENT, approved_at__isnull=False, approved_at__lt=as_of
    )


def donations_value(unit: Unit, as_of: datetime) -> Decimal:
    v = Donation.objects.filter(_in(unit), given_at__lt=as_of).aggregate(t=Sum("value"))["t"]
    return (v or Decimal("0")).quantize(Decimal("0.01"))


def serving_people(unit: Unit, as_of: datetime, person_ids: Iterable[int] | None = None) -> set[int]:
    """Person ids of the subtree's subjects with approved service in the mobilization ledger before the
    cutoff (read through ``muster.mobilize.queries``)."""
    from muster.mobilize import queries as mq
    from muster.mobilize.models import ServiceEntry

    ids = list(person_ids) if person_ids is not None else list(_linked(unit, as_of))
    if not ids:
        return set()
    candidates = set(
        ServiceEntry.objects.filter(person_id__in=ids, start__lt=as_of)
        .exclude(sign=0)
        .values_list("person_id", flat=True)
    )
    return {
        pid
        for pid in candidates
        if mq.approved_minutes(ServiceEntry.objects.filter(person_id=pid), as_of) > 0
    }


def serving_paths(unit: Unit, as_of: datetime) -> list[str]:
    """The unit paths of the subtree's subjects with approved service in the mobilization ledger before
    the cutoff (``serving_people``, with where each one is: a table of units counts them per row)."""
    where = _linked(unit, as_of)
    return sorted(where[pid] for pid in serving_people(unit, as_of, person_ids=list(where)))


def _linked(unit: Unit, as_of: datetime) -> dict[int, str]:
    """{person id: unit path} of the subtree's subjects that are people of the registry, created before
    the cutoff. Read through the index of ``person`` (``person_id > 0``, no ordering: otherwise SQLite
    walks every subject in the order of their codes), the subtree and the time checked here: the
    subjects linked to the registry are a few of the ledger's."""
    return {
        pid: path
        for pid, path, created in CareSubject.objects.filter(person_id__gt=0)
        .order_by()
        .values_list("person_id", "unit__path", "created_at")
        if path.startswith(unit.path) and created < as_of
    }
