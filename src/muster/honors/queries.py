"""Reads for honors, scoped through ``muster.orgs.access`` (out of scope = 404).

Approved hours come from the mobilization ledger with its own definition (``muster.mobilize.queries``):
as of a cutoff T, Σ sign × (minutes of each row's interval before T). Reversals and corrections are rows
of that ledger, so they count here exactly as in the reports.

Awards and commendations (``Honor``): ``visible_honors`` (scoped like any record of a unit) and
``evidence_response`` (the evidence file as a download).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.http import FileResponse, Http404
from django.utils import timezone

from muster import clock
from muster.clock import local_tz
from muster.honors.models import Certificate, CertificateStatus, Honor, StarTier
from muster.honors.tiers import Threshold, next_threshold, tier_of
from muster.mobilize.models import Deployment, EntryKind, ServiceEntry
from muster.mobilize.queries import approved_minutes, chain_states
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit


def cutoff_of_day(day: date) -> datetime:
    """ "截至 day 24时": the start of the next local day."""
    return datetime.combine(day + timedelta(days=1), time(), local_tz())


def default_cutoff() -> datetime:
    return timezone.localtime(timezone.now(), local_tz())


# ---------------------------------------------------------------- people


def person_get_or_404(user: Any, **lookup: Any) -> Person:
    """A person the user may see (in scope, or themself); otherwise 404 (a code with a control
    character, which no person has and PostgreSQL cannot even compare, is simply not found)."""
    if any(isinstance(v, str) and (len(v) > 200 or any(ord(ch) < 32 for ch in v)) for v in lookup.values()):
        raise Http404
    qs = access.scoped(Person.objects.select_related("unit", "party_unit", "user"), user, Perm.VIEW)
    person = qs.filter(**lookup).first()
    if person is None:
        raise Http404
    return person


def own_person(user: Any) -> Person | None:
    if getattr(user, "pk", None) is None:
        return None
    return Person.objects.select_related("unit", "party_unit").filter(user_id=user.pk).first()


# ---------------------------------------------------------------- tiers


def thresholds() -> list[Threshold]:
    return [Threshold(t.level, t.min_hours) for t in StarTier.objects.order_by("level")]


def tier_names() -> dict[int, str]:
    return {t.level: t.name for t in StarTier.objects.order_by("level")}


def balances(people: QuerySet[Person] | Iterable[int] | None, as_of: datetime | None) -> dict[int, int]:
    """{person id: approved minutes before ``as_of``} for many people at once (people with rows only)."""
    rows = ServiceEntry.objects.exclude(sign=0)
    if people is not None:
        ids: Any = people.values("pk") if isinstance(people, QuerySet) else list(people)
        rows = rows.filter(person_id__in=ids)
    out: dict[int, int] = {}
    whole = rows
    if as_of is not None:
        c = clock.floor_minute(as_of)
        whole = rows.filter(end__lte=c)
        for pid, sign, start, end in rows.filter(start__lt=c, end__gt=c).values_list(
            "person_id", "sign", "start", "end"
        ):
            out[pid] = out.get(pid, 0) + sign * clock.clip_minutes(start, end, c)
    for r in whole.values("person_id").annotate(t=Sum(F("sign") * F("minutes"))).order_by():
        out[r["person_id"]] = out.get(r["person_id"], 0) + int(r["t"] or 0)
    return out


def person_minutes(person: Person, as_of: datetime | None) -> int:
    return approved_minutes(ServiceEntry.objects.filter(person=person), as_of)


@dataclass(frozen=True)
class TierInfo:
    level: int
    name: str
    minutes: int
    next_level: int | None
    next_name: str
    next_hours: int | None

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def stars(self) -> str:
        return "★" * self.level

    @property
    def hours_to_next(self) -> float | None:
        if self.next_hours is None:
            return None
        return max(0.0, self.next_hours - self.minutes / 60)


def tier_info(
    minutes: int, table: list[Threshold] | None = None, names: dict[int, str] | None = None
) -> TierInfo:
    table = thresholds() if table is None else table
    names = tier_names() if names is None else names
    level = tier_of(minutes, table)
    nxt = next_threshold(minutes, table)
    return TierInfo(
        level=level,
        name=names.get(level, ""),
        minutes=minutes,
        next_level=nxt.level if nxt else None,
        next_name=names.get(nxt.level, "") if nxt else "",
        next_hours=nxt.min_hours if nxt else None,
    )


def person_tier(person: Person, as_of: datetime | None = None) -> TierInfo:
    return tier_info(person_minutes(person, as_of))


def people_tiers(people: Iterable[Person], as_of: datetime | None = None) -> dict[int, TierInfo]:
    people = list(people)
    table, names = thresholds(), tier_names()
    mins = balances([p.pk for p in people], as_of)
    return {p.pk: tier_info(mins.get(p.pk, 0), table, names) for p in people}


def subtree_people(unit: Unit) -> QuerySet[Person]:
    """People of a unit's subtree: by their unit (administrative tree) or party organization."""
    return Person.objects.filter(
        Q(unit__path__startswith=unit.path) | Q(party_unit__path__startswith=unit.path)
    )


def tier_counts(unit: Unit, as_of: datetime) -> dict[int, int]:
    """{level: people at exactly that tier} in a unit's subtree, as of a cutoff."""
    table = thresholds()
    counts = {t.level: 0 for t in table}
    for minutes in balances(subtree_people(unit), as_of).values():
        level = tier_of(minutes, table)
        if level:
            counts[level] = counts.get(level, 0) + 1
    return counts


# ---------------------------------------------------------------- the volunteer record


@dataclass(frozen=True)
class RecordLine:
    deployment: Deployment | None
    kind: str
    minutes: int
    entries: int
    other: bool = False  # hours in batches the reader may not see, grouped without code or title

    @property
    def kind_label(self) -> str:
        return str(EntryKind(self.kind).label) if self.kind in EntryKind.values else self.kind

    @property
    def hours(self) -> float:
        return self.minutes / 60


@dataclass(frozen=True)
class VolunteerRecord:
    person: Person
    as_of: datetime
    lines: list[RecordLine] = field(default_factory=list)
    period_start: date | None = None
    period_end: date | None = None
    tier: TierInfo | None = None

    @property
    def minutes(self) -> int:
        return sum(ln.minutes for ln in self.lines)

    @property
    def hours(self) -> float:
        return self.minutes / 60

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for ln in self.lines:
            out[ln.kind] = out.get(ln.kind, 0) + ln.minutes
        return out


def volunteer_record(person: Person, as_of: datetime) -> VolunteerRecord:
    """A person's approved service before ``as_of``, by batch and kind (lines with minutes only)."""
    tz = local_tz()
    c = clock.floor_minute(as_of)
    rows = list(
        ServiceEntry.objects.filter(person=person, start__lt=c).select_related("deployment").order_by("id")
    )
    groups: dict[tuple[int | None, str], list[ServiceEntry]] = {}
    for r in rows:
        groups.setdefault((r.deployment_id, r.kind), []).append(r)
    lines = []
    for (_dep_id, kind), grp in groups.items():
        minutes = sum(r.sign * clock.clip_minutes(r.start, r.end, c) for r in grp)
        if minutes <= 0:
            continue
        chains = {s.chain for s in chain_states(grp) if s.approved_row is not None}
        lines.append(RecordLine(grp[0].deployment, kind, minutes, len(chains)))
    lines.sort(key=lambda ln: (ln.deployment.start if ln.deployment else c, ln.kind))
    starts, ends = [], []
    for s in chain_states(rows):
        a = s.approved_row
        if a is not None and a.start < c:
            starts.append(a.start)
            ends.append(min(a.end, c))
    return VolunteerRecord(
        person=person,
        as_of=as_of,
        lines=lines,
        period_start=timezone.localtime(min(starts), tz).date() if starts else None,
        period_end=timezone.localtime(max(ends) - timedelta(microseconds=1), tz).date() if ends else None,
        tier=tier_info(sum(ln.minutes for ln in lines)),
    )


def visible_deployment_ids(user: Any, ids: Iterable[int]) -> set[int]:
    """Of ``ids``, the batches the user may see (as ``mobilize.queries.deployment_get_or_404``: in scope
    with VIEW, or one they are a member of)."""
    ids = set(ids)
    if not ids:
        return set()
    q = Q(pk__in=access.scoped(Deployment.objects.all(), user, Perm.VIEW).values("pk"))
    if getattr(user, "pk", None) is not None:
        q |= Q(memberships__person__user_id=user.pk)
    return set(Deployment.objects.filter(q, pk__in=ids).values_list("pk", flat=True))


def record_seen_by(user: Any, record: VolunteerRecord) -> VolunteerRecord:
    """The record as ``user`` may read it: the hours in batches they may not see (unless it is their own
    record) are grouped by kind as "other units' batches", without code or title; totals are unchanged."""
    if record.person.user_id is not None and record.person.user_id == getattr(user, "pk", None):
        return record
    seen = visible_deployment_ids(user, (ln.deployment.pk for ln in record.lines if ln.deployment))
    lines: list[RecordLine] = []
    others: dict[str, RecordLine] = {}
    for ln in record.lines:
        if ln.deployment is None or ln.deployment.pk in seen:
            lines.append(ln)
            continue
        prev = others.get(ln.kind)
        others[ln.kind] = RecordLine(
            None,
            ln.kind,
            ln.minutes + (prev.minutes if prev else 0),
            ln.entries + (prev.entries if prev else 0),
            other=True,
        )
    if not others:
        return record
    return replace(record, lines=lines + sorted(others.values(), key=lambda ln: ln.kind))


# ---------------------------------------------------------------- certificates


def visible_certificates(user: Any) -> QuerySet[Certificate]:
    """Certificates of the people the user may see (their own included)."""
    people = access.scoped(Person.objects.all(), user, Perm.VIEW).values("pk")
    return Certificate.objects.filter(person__in=people).select_related("person", "issuing_unit")


def certificate_get_or_404(user: Any, **lookup: Any) -> Certificate:
    cert = visible_certificates(user).filter(**lookup).first()
    if cert is None:
        raise Http404
    return cert


def person_certificates(user: Any, person: Person) -> QuerySet[Certificate]:
    return visible_certificates(user).filter(person=person).order_by("-created_at", "-pk")


def may_decide(user: Any, person: Person) -> bool:
    """Whether ``user`` may issue, approve or revoke ``person``'s certificates (a leader of the person)."""
    if (
        getattr(user, "pk", None) is not None
        and person.user_id == user.pk
        and not access.is_all_powerful(user)
    ):
        return False
    return any(access.can(user, Perm.MOBILIZE_APPROVE, u) for u in access.units_of(person))


def pending_requests(user: Any) -> list[Certificate]:
    qs = visible_certificates(user).filter(status=CertificateStatus.REQUESTED).order_by("requested_at", "pk")
    return [c for c in qs if may_decide(user, c.person) and c.requested_by_id != getattr(user, "pk", None)]


def mask_name(name: str) -> str:
    """张* · 王*明 · 欧阳**: the first and (for three or more characters) the last character shown."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ---------------------------------------------------------------- awards and commendations


def visible_honors(user: Any) -> QuerySet[Honor]:
    """The honors ``user`` may see (by the proposing organization, the unit or the person honored)."""
    return access.scoped(Honor.objects.select_related("person", "unit", "branch"), user, Perm.VIEW)


def evidence_response(honor: Honor) -> FileResponse:
    """The evidence file of an honor the caller may see (checked by the caller), as a download."""
    if not honor.evidence:
        raise Http404
    try:
        handle = honor.evidence.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    name = f"honor-{honor.pk}-evidence{Path(honor.evidence.name).suffix}"
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
