"""Party-building points over the API (/api/v1/points/…): statements, leaderboards, rules, manual entries
and recomputation.

Thin: reads through ``muster.points.queries`` (scoped; out of scope = 404), writes through
``muster.points.services`` (permission-checked, audited; visible but not allowed = 403; bad input = 422).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from muster.api.common import BoundedDate, ErrorOut, ReasonIn, Year, actor, required_unit, resolve_unit
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.points import kinds, queries, services
from muster.points.models import PointFact, PointRule

router = Router(tags=["points"])

NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def own_person(user: Any) -> Person | None:
    """The person linked to the login, if any."""
    if getattr(user, "pk", None) is None:
        return None
    return Person.objects.select_related("unit", "party_unit").filter(user_id=user.pk).first()


def statement_person(user: Any, code: str | None) -> Person:
    """The person of a statement: ``code`` (404 when not visible), or the user's own."""
    if not code:
        person = own_person(user)
        if person is None:
            raise Http404
        return person
    person = Person.objects.filter(code=code).first()
    if person is None:
        raise Http404
    return person  # ``queries.statement`` checks the scope


# ================================================================ statement


class PointEntryOut(Schema):
    id: int
    date: date
    kind: str
    label: str
    op: str
    quantity: Decimal
    raw_points: Decimal
    points: Decimal
    capped: bool
    balance: Decimal
    rule_version: int | None
    branch: str | None
    reason: str
    source: str
    written_at: str


class StatementOut(Schema):
    person: str
    name: str
    year: int
    total: Decimal
    branch: str | None
    rank: int | None = Field(description="rank in the branch (standard competition ranking)")
    branch_size: int
    by_kind: dict[str, Decimal]
    entries: list[PointEntryOut]


class StatementQuery(Schema):
    person: str | None = Field(None, description="staff number; default: the person linked to the login")
    year: Year | None = Field(None, description="default: this year")


def statement_data(user: Any, person: Person, year: int) -> dict[str, Any]:
    st = queries.statement(user, person, year)
    facts = {
        f.pk: f for f in PointFact.objects.filter(pk__in={ln.entry.fact_id for ln in st.lines}).only("note")
    }
    rules = dict(
        PointRule.objects.filter(pk__in={ln.entry.rule_id for ln in st.lines}).values_list("pk", "version")
    )
    branches = dict(
        Unit.objects.filter(pk__in={ln.entry.branch_id for ln in st.lines}).values_list("pk", "code")
    )
    return {
        "person": st.person.code,
        "name": st.person.name,
        "year": st.year,
        "total": st.total,
        "branch": st.branch.code if st.branch else None,
        "rank": st.rank,
        "branch_size": st.branch_size,
        "by_kind": st.by_kind,
        "entries": [
            {
                "id": ln.entry.pk,
                "date": ln.entry.occurred_on,
                "kind": ln.entry.kind,
                "label": ln.label,
                "op": ln.entry.op,
                "quantity": ln.entry.quantity,
                "raw_points": ln.entry.raw_points,
                "points": ln.entry.points,
                "capped": ln.capped,
                "balance": ln.balance,
                "rule_version": rules.get(ln.entry.rule_id) if ln.entry.rule_id else None,
                "branch": branches.get(ln.entry.branch_id) if ln.entry.branch_id else None,
                "reason": ln.entry.reason,
                "source": facts[ln.entry.fact_id].note if ln.entry.fact_id in facts else "",
                "written_at": timezone.localtime(ln.entry.created_at).isoformat(),
            }
            for ln in st.lines
        ],
    }


@router.get("/points/statement", response={200: StatementOut, **NOT_FOUND})
def statement(request: HttpRequest, q: Query[StatementQuery]) -> dict[str, Any]:
    """A member's points statement (积分账本) for a year: every entry, running balance, rank in branch."""
    user = actor(request)
    person = statement_person(user, q.person)
    return statement_data(user, person, q.year or timezone.localdate().year)


# ================================================================ leaderboards


class LeaderOut(Schema):
    rank: int
    key: str = Field(description="staff number (person) or unit code (branch, unit)")
    label: str
    points: Decimal
    people: int


class LeaderboardOut(Schema):
    unit: str
    by: str
    start: date
    end: date
    rows: list[LeaderOut]


class LeaderboardQuery(Schema):
    unit: str
    by: Literal["person", "branch", "unit"] = "person"
    start: BoundedDate | None = Field(None, description="first day (default: 1 January of this year)")
    end: BoundedDate | None = Field(None, description="day after the last (default: 1 January of next year)")
    limit: int | None = Field(None, ge=1, le=10000)


def leaderboard_rows(
    user: Any, unit: Unit, *, by: str, start: date, end: date, limit: int | None = None
) -> list[dict[str, Any]]:
    """Leaderboard rows with a stable key (staff number or unit code) for the API and the exports."""
    rows = queries.leaderboard(user, unit, start=start, end=end, by=by, limit=limit)  # type: ignore[arg-type]
    ids = [r.id for r in rows]
    if by == "person":
        keys = dict(Person.objects.filter(pk__in=ids).values_list("pk", "code"))
    else:
        keys = dict(Unit.objects.filter(pk__in=ids).values_list("pk", "code"))
    return [
        {
            "rank": r.rank,
            "key": keys.get(r.id, str(r.id)),
            "label": r.label,
            "points": r.points,
            "people": r.people,
        }
        for r in rows
    ]


def period_or_year(start: date | None, end: date | None) -> tuple[date, date]:
    year = (start or timezone.localdate()).year
    start = start or date(year, 1, 1)
    end = end or date(start.year + 1, 1, 1)
    if end <= start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    return start, end


@router.get("/points/leaderboard", response={200: LeaderboardOut, **WRITE_ERRORS})
def leaderboard(request: HttpRequest, q: Query[LeaderboardQuery]) -> dict[str, Any]:
    """Totals by person, branch or unit for any period inside a unit's subtree ("晒账本、比分数")."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    start, end = period_or_year(q.start, q.end)
    rows = leaderboard_rows(user, unit, by=q.by, start=start, end=end, limit=q.limit)
    return {"unit": unit.code, "by": q.by, "start": start, "end": end, "rows": rows}


# ================================================================ rules


class RuleOut(Schema):
    id: int
    kind: str
    label: str
    unit: str | None
    points: Decimal
    cap: Decimal | None
    cap_period: str
    cap_group: str
    valid_from: date
    valid_to: date | None
    version: int
    note: str


class RuleIn(Schema):
    kind: str
    points: Decimal
    valid_from: BoundedDate
    cap: Decimal | None = None
    cap_period: str = "year"
    cap_group: str = ""
    unit: str | None = Field(
        None, description="a unit code: the rule applies to its subtree; null: everywhere"
    )
    note: str = ""


class RuleFilters(Schema):
    kind: str | None = None
    on: BoundedDate | None = Field(None, description="only the versions in force on this day")


def rule_out(r: PointRule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "label": kinds.label(r.kind),
        "unit": r.unit.code if r.unit else None,
        "points": r.points,
        "cap": r.cap,
        "cap_period": r.cap_period,
        "cap_group": r.cap_group,
        "valid_from": r.valid_from,
        "valid_to": r.valid_to,
        "version": r.version,
        "note": r.note,
    }


def visible_rules(user: Any) -> list[PointRule]:
    """Every rule version: global ones, and those of units the user may see."""
    rules = PointRule.objects.select_related("unit").order_by("kind", "unit__path", "valid_from", "id")
    return [r for r in rules if r.unit is None or access.can(user, Perm.VIEW, r.unit)]


@router.get("/points/rules", response=list[RuleOut], summary="List point rule versions")
def list_rules(request: HttpRequest, q: Query[RuleFilters]) -> list[dict[str, Any]]:
    out = visible_rules(actor(request))
    if q.kind:
        out = [r for r in out if r.kind == q.kind]
    if q.on:
        on = q.on
        out = [r for r in out if r.valid_from <= on and (r.valid_to is None or on < r.valid_to)]
    return [rule_out(r) for r in out]


@router.post("/points/rules", response={201: RuleOut, **WRITE_ERRORS})
def change_rule(request: HttpRequest, payload: RuleIn) -> Status:
    """Open a new version of a rule from ``valid_from`` (facts already credited keep their version)."""
    user = actor(request)
    rule = services.point_rule_change(
        actor=user,
        kind=payload.kind,
        points=payload.points,
        valid_from=payload.valid_from,
        cap=payload.cap,
        cap_period=payload.cap_period,
        cap_group=payload.cap_group,
        unit=resolve_unit(user, payload.unit, "unit"),
        note=payload.note,
    )
    return Status(201, rule_out(rule))


# ================================================================ manual entries and recomputation


class ManualIn(Schema):
    person: str
    points: Decimal
    occurred_on: BoundedDate
    reason: str


class FactOut(Schema):
    id: int
    person: str
    kind: str
    quantity: Decimal
    occurred_on: date
    active: bool
    note: str


class RecomputeIn(Schema):
    year: Year
    reason: str
    from_sources: bool = True


class RecomputeOut(Schema):
    batch: str
    facts_added: int
    facts_changed: int
    facts_retracted: int
    rules_repinned: int
    credits: int
    reversals: int


def _fact_out(f: PointFact) -> dict[str, Any]:
    return {
        "id": f.pk,
        "person": f.person.code,
        "kind": f.kind,
        "quantity": f.quantity,
        "occurred_on": f.occurred_on,
        "active": f.active,
        "note": f.note,
    }


def _person(user: Any, code: str, field: str) -> Person:
    person = access.scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if person is None:
        raise ValidationError(
            {field: _("There is no person with the staff number %(code)s.") % {"code": code}}
        )
    return person


@router.post("/points/manual", response={201: FactOut, **WRITE_ERRORS})
def manual_entry(request: HttpRequest, payload: ManualIn) -> Status:
    """A manual entry (bonus or deduction) with its reason; the caller is the approver."""
    user = actor(request)
    fact = services.point_manual_add(
        actor=user,
        person=_person(user, payload.person, "person"),
        points=payload.points,
        occurred_on=payload.occurred_on,
        reason=payload.reason,
    )
    return Status(201, _fact_out(fact))


@router.post("/points/manual/{fact_id}/retract", response={200: FactOut, **WRITE_ERRORS})
def manual_retract(request: HttpRequest, fact_id: int, payload: ReasonIn) -> dict[str, Any]:
    """Withdraw a manual entry (a reversing entry is written)."""
    user = actor(request)
    fact = access.get_scoped_or_404(PointFact.objects.select_related("person"), user, pk=fact_id)
    services.point_manual_retract(actor=user, fact=fact, reason=payload.reason)
    fact.refresh_from_db()
    return _fact_out(fact)


@router.post("/points/recompute", response={200: RecomputeOut, **WRITE_ERRORS})
def recompute(request: HttpRequest, payload: RecomputeIn) -> dict[str, Any]:
    """Re-derive a year's facts from the sources and re-apply the rules in force, with an audited reason."""
    res = services.points_recompute(
        actor=actor(request), year=payload.year, reason=payload.reason, from_sources=payload.from_sources
    )
    return vars(res)
