"""Writes for party-building points. Keyword-only, atomic, permission-checked, audited.

Facts in, entries out
---------------------
Apps emit facts (``muster.points.facts.Fact``) through ``facts_record`` / ``facts_retract``; those
two trust their caller to have checked permission (they are called from inside other services, e.g.
``partylife.services.meeting_approve``). After any change the ledger of each affected (person, year)
is *synchronized* with the engine: every fact's live credit must equal ``engine.allocate`` of that
person-year's active facts under their pinned rule versions. Where it does not, the live credit is
reversed and a new credit of the next generation is written. So

    Σ ledger entries of a person-year  ==  engine.balances(the active facts)   (``queries.facts_balances``)

at all times, which ``tests/points`` prove. The person row is locked while syncing (concurrent writes
for one person serialize), and ``(fact, generation, op)`` is unique, so a credit is never written twice.

Rule versions
-------------
``point_rule_change`` closes the version in force and opens a new one from a date. A fact keeps the
version pinned when it was first credited (old facts keep old points), unless its date changes or an
administrator runs ``points_recompute`` with a reason (audited), which re-resolves every fact of a
year — and, where sources registered a provider, re-derives the facts from the source records first.

Permissions
-----------
``Perm.POINTS_MANAGE`` (secretary, admin) on the person's units: manual entries. ``Perm.POINTS_RULES``
(admin): rules of a subtree; global rules and recomputation need it on a root unit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.points import engine, kinds
from muster.points.facts import Fact, providers
from muster.points.models import CapPeriod, EntryOp, PointEntry, PointFact, PointRule

MANUAL_SOURCE = "points.manual"


# ---------------------------------------------------------------- helpers


def _actor_fields(actor: Any) -> dict[str, Any]:
    if getattr(actor, "pk", None) is None:
        return {"actor": None, "actor_name": getattr(actor, "display_name", "") or "system"}
    return {"actor": actor, "actor_name": actor.get_username()}


def _lock_people(person_ids: Iterable[int]) -> None:
    """Serialize point writes per person (row lock; SQLite serializes writers anyway)."""
    ids = sorted(set(person_ids))
    if ids:
        list(
            Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
        )


def _all_rules() -> list[engine.RuleVersion]:
    return [r.as_engine() for r in PointRule.objects.select_related("unit")]


def _branch_path(branch_id: int | None, cache: dict[int, str]) -> str:
    if branch_id is None:
        return ""
    if branch_id not in cache:
        cache[branch_id] = Unit.objects.filter(pk=branch_id).values_list("path", flat=True).first() or ""
    return cache[branch_id]


def _resolve_id(
    rules: Sequence[engine.RuleVersion], kind: str, on: date, branch_id: int | None, cache: dict[int, str]
) -> int | None:
    r = engine.resolve(rules, kind=kind, on=on, branch_path=_branch_path(branch_id, cache))
    return r.id if r else None


def _require_global(actor: Any, perm: Perm) -> None:
    if access.is_all_powerful(actor):
        return
    if not any(access.can(actor, perm, root) for root in Unit.objects.get_root_nodes()):
        raise access.NotAllowed(perm)


def _clean_quantity(value: Any, field: str) -> Decimal:
    try:
        q = engine.q2(Decimal(str(value)))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("Not a number: %(value)s.") % {"value": value}}) from exc
    if abs(q) >= Decimal("100000000"):
        raise ValidationError({field: _("The number is too large.")})
    return q


# ---------------------------------------------------------------- ledger synchronization


@dataclass
class SyncResult:
    credits: int = 0
    reversals: int = 0

    def add(self, other: SyncResult) -> None:
        self.credits += other.credits
        self.reversals += other.reversals


def _sync_person_year(
    person_id: int, year: int, *, actor: Any, reason: str, touched: set[int], batch: str = ""
) -> SyncResult:
    """Make the ledger of one person-year agree with ``engine.allocate`` of its active facts."""
    facts = list(
        PointFact.objects.select_related("rule__unit").filter(person_id=person_id, occurred_on__year=year)
    )
    # Facts that moved to another year still have their live credit here: include them (target 0 here).
    moved = PointFact.objects.filter(
        person_id=person_id,
        entries__op=EntryOp.CREDIT,
        entries__occurred_on__year=year,
        entries__reversed_by__isnull=True,
    ).exclude(occurred_on__year=year)
    facts += list(moved.select_related("rule__unit").distinct())
    live: dict[int, PointEntry] = {}
    for e in PointEntry.objects.filter(
        fact__in=[f.pk for f in facts], op=EntryOp.CREDIT, reversed_by__isnull=True
    ):
        live[e.fact_id] = e
    engine_facts = [
        engine.FactIn(f.pk, f.person_id, f.occurred_on, f.quantity, f.rule.as_engine())
        for f in facts
        if f.active and f.rule is not None and f.occurred_on.year == year
    ]
    alloc = engine.allocate(engine_facts)
    who = _actor_fields(actor)
    result = SyncResult()
    for f in sorted(facts, key=lambda x: (x.occurred_on, x.pk)):
        target = alloc.get(f.pk)
        cur = live.get(f.pk)
        if (
            cur is not None
            and target is not None
            and (
                cur.points == target.points
                and cur.raw_points == target.raw
                and cur.rule_id == f.rule_id
                and cur.occurred_on == f.occurred_on
                and cur.quantity == f.quantity
                and cur.branch_id == f.branch_id
            )
        ):
            continue
        if cur is None and target is None:
            continue
        why = reason if f.pk in touched else _("Cap reallocated")
        if cur is not None:
            PointEntry.objects.create(
                fact=f,
                generation=cur.generation,
                op=EntryOp.REVERSE,
                person_id=cur.person_id,
                kind=cur.kind,
                occurred_on=cur.occurred_on,
                branch_id=cur.branch_id,
                rule_id=cur.rule_id,
                quantity=-cur.quantity,
                raw_points=-cur.raw_points,
                points=-cur.points,
                reverses=cur,
                reason=why,
                batch=batch,
                **who,
            )
            result.reversals += 1
        if target is not None:
            f.generation += 1
            PointFact.objects.filter(pk=f.pk).update(generation=f.generation)
            PointEntry.objects.create(
                fact=f,
                generation=f.generation,
                op=EntryOp.CREDIT,
                person_id=f.person_id,
                kind=f.kind,
                occurred_on=f.occurred_on,
                branch_id=f.branch_id,
                rule_id=f.rule_id,
                quantity=f.quantity,
                raw_points=target.raw,
                points=target.points,
                reason=why,
                batch=batch,
                **who,
            )
            result.credits += 1
    return result


def _sync(
    pairs: Iterable[tuple[int, int]], *, actor: Any, reason: str, touched: set[int], batch: str = ""
) -> SyncResult:
    total = SyncResult()
    for person_id, year in sorted(set(pairs)):
        total.add(
            _sync_person_year(person_id, year, actor=actor, reason=reason, touched=touched, batch=batch)
        )
    return total


# ---------------------------------------------------------------- facts (called by other apps' services)


def _upsert_fact(
    fact: Fact, *, rules: Sequence[engine.RuleVersion], cache: dict[int, str], rerule: bool
) -> tuple[PointFact, set[tuple[int, int]]] | None:
    """Create or update the stored fact; return it and the person-years to sync (None: unchanged)."""
    quantity = _clean_quantity(fact.quantity, "quantity")
    pf = PointFact.objects.filter(
        source_kind=fact.source_kind, source_id=fact.source_id, person_id=fact.person_id, kind=fact.kind
    ).first()
    if pf is None:
        try:
            with transaction.atomic():
                pf = PointFact.objects.create(
                    person_id=fact.person_id,
                    kind=fact.kind,
                    source_kind=fact.source_kind,
                    source_id=fact.source_id,
                    quantity=quantity,
                    occurred_on=fact.occurred_on,
                    branch_id=fact.branch_id,
                    rule_id=_resolve_id(rules, fact.kind, fact.occurred_on, fact.branch_id, cache),
                    note=fact.note[:200],
                )
        except IntegrityError:  # written by a concurrent request a moment ago: treat as existing
            pf = PointFact.objects.get(
                source_kind=fact.source_kind,
                source_id=fact.source_id,
                person_id=fact.person_id,
                kind=fact.kind,
            )
        else:
            return pf, {(pf.person_id, pf.occurred_on.year)}
    old_year = pf.occurred_on.year
    moved = pf.occurred_on != fact.occurred_on or pf.branch_id != fact.branch_id
    if pf.active and not moved and pf.quantity == quantity and not rerule:
        return None
    pf.quantity = quantity
    pf.occurred_on = fact.occurred_on
    pf.branch_id = fact.branch_id
    pf.note = fact.note[:200]
    pf.active = True
    if moved or rerule or pf.rule_id is None:
        pf.rule_id = _resolve_id(rules, fact.kind, fact.occurred_on, fact.branch_id, cache)
    pf.save()
    return pf, {(pf.person_id, old_year), (pf.person_id, pf.occurred_on.year)}


@transaction.atomic
def facts_record(*, actor: Any, facts: Sequence[Fact], reason: str = "") -> list[PointFact]:
    """Record facts (idempotent per fact key) and credit them by the rules in force on their dates."""
    if not facts:
        return []
    _lock_people(f.person_id for f in facts)
    rules = _all_rules()
    cache: dict[int, str] = {}
    out: list[PointFact] = []
    pairs: set[tuple[int, int]] = set()
    touched: set[int] = set()
    for fact in facts:
        res = _upsert_fact(fact, rules=rules, cache=cache, rerule=False)
        if res is None:
            continue
        pf, years = res
        out.append(pf)
        touched.add(pf.pk)
        pairs |= years
    result = _sync(pairs, actor=actor, reason=reason, touched=touched)
    if out:
        log_action(
            actor,
            action="points.facts.recorded",
            changes={
                "facts": len(out),
                "sources": sorted({f.source_kind for f in facts}),
                "credits": result.credits,
                "reversals": result.reversals,
            },
        )
    return out


@transaction.atomic
def facts_retract(
    *,
    actor: Any,
    source_kind: str,
    source_ids: Sequence[str],
    reason: str,
    kind: str | None = None,
    person_id: int | None = None,
) -> int:
    """Retract the facts of these source records: their live credits get reversing entries."""
    qs = PointFact.objects.filter(
        source_kind=source_kind, source_id__in=[str(s) for s in source_ids], active=True
    )
    if kind is not None:
        qs = qs.filter(kind=kind)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    found = list(qs.values_list("pk", "person_id", "occurred_on"))
    if not found:
        return 0
    _lock_people(p for _pk, p, _d in found)
    PointFact.objects.filter(pk__in=[pk for pk, _p, _d in found]).update(active=False)
    result = _sync(
        {(p, d.year) for _pk, p, d in found},
        actor=actor,
        reason=reason,
        touched={pk for pk, _p, _d in found},
    )
    log_action(
        actor,
        action="points.facts.retracted",
        changes={"source": source_kind, "facts": len(found), "reversals": result.reversals, "reason": reason},
    )
    return len(found)


# ---------------------------------------------------------------- manual entries


@transaction.atomic
def point_manual_add(
    *, actor: Any, person: Person, points: Decimal | int | str, occurred_on: date, reason: str
) -> PointFact:
    """A manual entry (bonus or deduction) with its reason; the actor is the approver."""
    access.require(actor, Perm.POINTS_MANAGE, person)
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("A manual entry needs a reason.")
    amount = _clean_quantity(points, "points")
    if amount == 0:
        errors["points"] = _("A manual entry cannot be zero points.")
    if errors:
        raise ValidationError(errors)
    if not PointRule.objects.filter(kind=kinds.MANUAL).exists():
        raise ValidationError(
            {"points": _("No rule exists for manual entries; an administrator must add one.")}
        )
    fact = Fact(
        person_id=person.pk,
        kind=kinds.MANUAL,
        quantity=amount,
        occurred_on=occurred_on,
        source_kind=MANUAL_SOURCE,
        source_id=uuid.uuid4().hex,
        branch_id=person.party_unit_id,
        note=reason[:200],
    )
    (pf,) = facts_record(actor=actor, facts=[fact], reason=reason)
    log_action(
        actor,
        action="points.manual.added",
        target=person,
        unit_path=person.party_unit.path if person.party_unit else person.unit.path,
        changes={"points": str(amount), "date": occurred_on.isoformat(), "reason": reason},
    )
    return pf


@transaction.atomic
def point_manual_retract(*, actor: Any, fact: PointFact, reason: str) -> None:
    """Withdraw a manual entry (a reversing entry is written)."""
    person = fact.person
    access.require(actor, Perm.POINTS_MANAGE, person)
    if fact.source_kind != MANUAL_SOURCE:
        raise ValidationError(
            {"fact": _("Only manual entries can be withdrawn here; fix the source record instead.")}
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": _("A reason is required.")})
    facts_retract(actor=actor, source_kind=MANUAL_SOURCE, source_ids=[fact.source_id], reason=reason)
    log_action(
        actor,
        action="points.manual.retracted",
        target=person,
        unit_path=person.party_unit.path if person.party_unit else person.unit.path,
        changes={"fact": fact.pk, "reason": reason},
    )


# ---------------------------------------------------------------- rules


@transaction.atomic
def point_rule_change(
    *,
    actor: Any,
    kind: str,
    points: Decimal | int | str,
    valid_from: date,
    cap: Decimal | int | str | None = None,
    cap_period: str = CapPeriod.YEAR,
    cap_group: str = "",
    unit: Unit | None = None,
    note: str = "",
) -> PointRule:
    """Open a new version of the rule for ``kind`` (in ``unit``'s subtree, or everywhere) from ``valid_from``.

    The version in force on that date is closed the day before (its ``valid_to`` = ``valid_from``).
    Facts already credited keep their version; use ``points_recompute`` to apply it retroactively.
    """
    if unit is None:
        _require_global(actor, Perm.POINTS_RULES)
    else:
        access.require(actor, Perm.POINTS_RULES, unit)
    errors: dict[str, str] = {}
    kind = (kind or "").strip()
    if not kind:
        errors["kind"] = _("A fact kind is required.")
    amount = _clean_quantity(points, "points")
    cap_value = None if cap in (None, "") else _clean_quantity(cap, "cap")
    if cap_value is not None and cap_value < 0:
        errors["cap"] = _("A cap cannot be negative.")
    if cap_period not in CapPeriod.values:
        errors["cap_period"] = _("Unknown cap period %(value)s.") % {"value": cap_period}
    if errors:
        raise ValidationError(errors)
    same = PointRule.objects.select_for_update().filter(kind=kind, unit=unit)
    later = same.filter(valid_from__gte=valid_from).order_by("valid_from").first()
    if later is not None:
        raise ValidationError(
            {
                "valid_from": _(
                    "Version %(version)s of this rule already starts on %(date)s; "
                    "a new version must start later."
                )
                % {"version": later.version, "date": later.valid_from.isoformat()}
            }
        )
    previous = same.filter(valid_from__lt=valid_from).order_by("-valid_from").first()
    before: dict[str, Any] = {}
    if previous is not None and (previous.valid_to is None or previous.valid_to > valid_from):
        before = {"version": previous.version, "points": str(previous.points), "valid_to": None}
        previous.valid_to = valid_from
        previous.save(update_fields=["valid_to"])
    version = (max((r.version for r in same), default=0)) + 1
    rule = PointRule.objects.create(
        kind=kind,
        unit=unit,
        points=amount,
        cap=cap_value,
        cap_period=cap_period,
        cap_group=(cap_group or "").strip(),
        valid_from=valid_from,
        version=version,
        note=(note or "").strip()[:300],
        created_by=actor if getattr(actor, "pk", None) is not None else None,
    )
    log_action(
        actor,
        action="points.rule.changed",
        target=rule,
        unit_path=unit.path if unit else "",
        changes={
            "kind": kind,
            "version": version,
            "points": str(amount),
            "cap": str(cap_value) if cap_value is not None else None,
            "cap_period": cap_period,
            "cap_group": rule.cap_group,
            "valid_from": valid_from.isoformat(),
            "previous": before,
        },
    )
    return rule


@dataclass
class RecomputeResult:
    batch: str
    facts_added: int
    facts_changed: int
    facts_retracted: int
    rules_repinned: int
    credits: int
    reversals: int


@transaction.atomic
def points_recompute(*, actor: Any, year: int, reason: str, from_sources: bool = True) -> RecomputeResult:
    """Re-derive a year's facts (from registered sources) and re-apply the rules in force, with a reason.

    Writes only differences (reversals and new credits, all tagged with one batch id) and one audit
    event. Running it twice in a row changes nothing the second time.
    """
    _require_global(actor, Perm.POINTS_RULES)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A recomputation needs a reason (it is audited).")})
    batch = uuid.uuid4().hex[:12]
    rules = _all_rules()
    cache: dict[int, str] = {}
    pairs: set[tuple[int, int]] = set()
    touched: set[int] = set()
    added = changed = retracted = repinned = 0
    if from_sources:
        for source_kind, provider in sorted(providers().items()):
            derived = {f.key: f for f in provider(year)}
            stored = {
                (pf.source_kind, pf.source_id, pf.person_id, pf.kind): pf
                for pf in PointFact.objects.filter(
                    source_kind=source_kind, occurred_on__year=year, active=True
                )
            }
            _lock_people({k[2] for k in derived} | {k[2] for k in stored})
            for key, pf in stored.items():
                if key not in derived:
                    pf.active = False
                    pf.save(update_fields=["active", "updated_at"])
                    retracted += 1
                    touched.add(pf.pk)
                    pairs.add((pf.person_id, year))
            for key, fact in derived.items():
                existed = key in stored
                res = _upsert_fact(fact, rules=rules, cache=cache, rerule=False)
                if res is not None:
                    pf, years = res
                    touched.add(pf.pk)
                    pairs |= years
                    if existed:
                        changed += 1
                    else:
                        added += 1
    facts = list(PointFact.objects.filter(occurred_on__year=year, active=True))
    _lock_people(f.person_id for f in facts)
    for pf in facts:
        rid = _resolve_id(rules, pf.kind, pf.occurred_on, pf.branch_id, cache)
        if rid != pf.rule_id:
            PointFact.objects.filter(pk=pf.pk).update(rule_id=rid)
            repinned += 1
            touched.add(pf.pk)
        pairs.add((pf.person_id, year))
    result = _sync(pairs, actor=actor, reason=reason, touched=touched, batch=batch)
    out = RecomputeResult(batch, added, changed, retracted, repinned, result.credits, result.reversals)
    log_action(
        actor,
        action="points.recomputed",
        changes={
            "year": year,
            "reason": reason,
            "batch": batch,
            "facts_added": added,
            "facts_changed": changed,
            "facts_retracted": retracted,
            "rules_repinned": repinned,
            "credits": result.credits,
            "reversals": result.reversals,
        },
    )
    return out


def facts_by_source(source_kind: str, source_ids: Iterable[Any]) -> dict[str, list[PointFact]]:
    """The stored facts of some source records (for showing what a record earned)."""
    out: dict[str, list[PointFact]] = defaultdict(list)
    for pf in PointFact.objects.filter(source_kind=source_kind, source_id__in=[str(s) for s in source_ids]):
        out[pf.source_id].append(pf)
    return dict(out)
