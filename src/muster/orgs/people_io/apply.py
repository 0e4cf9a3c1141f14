"""Writing a checked plan: units, tags and people in bulk in one transaction, audited."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import PendingEvent, log_action, log_actions_bulk
from muster.orgs import access, crypto, signals
from muster.orgs.models import Person, Tag, Unit
from muster.tabular.bulk import insert_many, large_write_cache
from muster.tabular.pipeline import chunks, common_path
from muster.tabular.schema import Table

from .plan import _Planner
from .rows import _snapshot

log = logging.getLogger(__name__)


def people_apply(
    plan: _Planner, *, actor: Any, filename: str, tables: dict[str, Table] | None = None
) -> None:
    """Write a checked plan (in one transaction, or inside the caller's)."""
    _apply(plan, actor, filename)
    access.forget(actor)  # units may have moved: later parts of a workbook check rights on the new paths


def _apply(plan: _Planner, actor: Any, filename: str) -> None:
    with large_write_cache():
        _write(plan, actor, filename)


def _write(plan: _Planner, actor: Any, filename: str) -> None:
    batch = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        events: list[PendingEvent] = []
        t0 = time.perf_counter()
        _apply_units(plan, now, events)
        unit_ids: dict[str, int] = {}
        unit_paths: dict[str, str] = {}
        for pk, code, path in Unit.objects.values_list("id", "code", "path"):
            unit_ids[code], unit_paths[code] = pk, path
        tag_ids = _ensure_tags(plan, events)

        new_rows = [r for r in plan.people if r.existing is None]
        upd_rows = [r for r in plan.people if r.existing is not None and r.changes]
        encrypt = crypto.encrypt
        if new_rows:
            last_id = Person.objects.aggregate(m=Max("id"))["m"] or 0
            insert_many(
                Person,
                _PERSON_INSERT_FIELDS,
                (
                    (
                        r.code, r.name, r.gender, r.birth_date, unit_ids[r.unit],
                        unit_ids[r.party_unit] if r.party_unit else None,
                        r.political_status, r.employment_status,
                        encrypt(r.phone or ""), encrypt(r.id_number or ""), r.id_number_digest, now, now,
                    )
                    for r in new_rows
                ),
            )  # fmt: skip
            # The new ids: one query (ids only grow; rows of other transactions are filtered out by code).
            ids = dict(Person.objects.filter(id__gt=last_id).values_list("code", "id"))
            new_people = [_event_target(ids[r.code], r.code, r.name) for r in new_rows]
        else:
            new_people = []
        upd_people = []
        for r in upd_rows:
            cur = r.existing
            assert cur is not None
            upd_people.append(
                Person(
                    pk=cur.id, code=r.code, name=r.name, gender=r.gender, birth_date=r.birth_date,
                    unit_id=unit_ids[r.unit], party_unit_id=unit_ids[r.party_unit] if r.party_unit else None,
                    political_status=r.political_status, employment_status=r.employment_status,
                    phone_enc=encrypt(r.phone) if r.phone is not None else cur.phone_enc,
                    id_number_enc=encrypt(r.id_number) if r.id_number is not None else cur.id_number_enc,
                    id_number_digest=r.id_number_digest, updated_at=now,
                )
            )  # fmt: skip
        if upd_people:
            # Clear changed ID numbers first, so two people swapping theirs never clash on the unique digest.
            swapping = [p.pk for p, r in zip(upd_people, upd_rows, strict=True) if "id_number" in r.changes]
            for chunk in chunks(swapping):
                Person.objects.filter(pk__in=chunk).update(id_number_digest=None)
            Person.objects.bulk_update(upd_people, _PERSON_FIELDS, batch_size=500)
            rehomed = [
                p.pk
                for p, r in zip(upd_people, upd_rows, strict=True)
                if r.existing is not None and p.unit_id != r.existing.unit_id
            ]
            if rehomed:
                signals.home_units_changed.send(Person, person_ids=rehomed)

        through = Person.tags.through
        retag = [p.pk for p, r in zip(upd_people, upd_rows, strict=True) if "tags" in r.changes]
        for chunk in chunks(retag):
            through.objects.filter(person_id__in=chunk).delete()
        links = [(p.pk, tag_ids[name]) for p, r in zip(new_people, new_rows, strict=True) for name in r.tags]
        links += [
            (p.pk, tag_ids[name])
            for p, r in zip(upd_people, upd_rows, strict=True)
            if "tags" in r.changes
            for name in r.tags
        ]
        if links:
            insert_many(through, ["person", "tag"], links)
        t1 = time.perf_counter()

        for p, r in zip(new_people, new_rows, strict=True):
            events.append(PendingEvent("orgs.person.created", p, unit_paths[r.unit], _snapshot(r)))
        for p, r in zip(upd_people, upd_rows, strict=True):
            events.append(PendingEvent("orgs.person.updated", p, unit_paths[r.unit], r.changes))
        log_actions_bulk(actor, events, batch=batch)
        log.debug(
            "roster import writes: units and people %.2fs, audit %.2fs", t1 - t0, time.perf_counter() - t1
        )
        summary: dict[str, Any] = plan.result.as_dict()
        summary.pop("dry_run", None)
        summary["file"] = filename[:200]
        log_action(
            actor,
            action="orgs.roster.imported",
            unit_path=common_path(e.unit_path for e in events),
            changes=summary,
            batch=batch,
        )


def _event_target(pk: int, code: str, name: str) -> Person:
    """A Person standing for a just-inserted row in its audit event (which reads pk, ``_meta`` and str()).

    Made without ``Person.__init__``: for 100,000 rows the per-field descriptors of a full model
    instance cost more than the rest of the event.
    """
    p = Person.__new__(Person)
    p.__dict__.update(id=pk, code=code, name=name, _state=ModelState())
    return p


_PERSON_INSERT_FIELDS = [
    "code", "name", "gender", "birth_date", "unit", "party_unit", "political_status", "employment_status",
    "phone_enc", "id_number_enc", "id_number_digest", "created_at", "updated_at",
]  # fmt: skip
_PERSON_FIELDS = [
    "name",
    "gender",
    "birth_date",
    "unit",
    "party_unit",
    "political_status",
    "employment_status",
    "phone_enc",
    "id_number_enc",
    "id_number_digest",
    "updated_at",
]


def _apply_units(plan: _Planner, now: Any, events: list[PendingEvent]) -> None:
    """Create new units (paths computed here, in bulk), then move and update existing ones."""
    new = sorted((fu for fu in plan.units.values() if fu.existing is None), key=lambda u: plan.depth(u.code))
    step = Unit.steplen
    if new:
        path_of: dict[str, str] = {}
        last_step: dict[str, int] = {}  # parent path ("" for roots) → last child step in use
        for code, path in Unit.objects.values_list("code", "path"):
            path_of[code] = path
            parent = path[:-step]
            last_step[parent] = max(last_step.get(parent, 0), Unit._str2int(path[-step:]))
        added: dict[str, int] = {}  # parent path → children added
        objs = []
        for fu in new:
            parent_code = plan.final_parent.get(fu.code)
            ppath = path_of[parent_code] if parent_code else ""
            n = last_step.get(ppath, 0) + 1
            last_step[ppath] = n
            added[ppath] = added.get(ppath, 0) + 1
            depth = len(ppath) // step + 1
            path = Unit._get_path(ppath, depth, n)
            if len(path) > 255 or len(path) != depth * step:
                raise ValidationError(
                    _("The unit tree is too deep or too wide at %(code)s.") % {"code": fu.code}
                )
            path_of[fu.code] = path
            objs.append(Unit(code=fu.code, name=fu.name, kind=fu.kind, path=path, depth=depth, numchild=0))
        new_paths = {o.path for o in objs}
        for o in objs:
            o.numchild = added.get(o.path, 0)
        Unit.objects.bulk_create(objs, batch_size=500)
        for ppath, count in added.items():
            if ppath and ppath not in new_paths:
                Unit.objects.filter(path=ppath).update(numchild=F("numchild") + count)
    # Moves, in the order of the final depth: every target is then already where it will stay.
    moved = sorted((fu for fu in plan.units.values() if fu.moved), key=lambda u: plan.depth(u.code))
    for fu in moved:
        assert fu.existing is not None
        parent_code = plan.final_parent.get(fu.code)
        assert parent_code is not None
        node = Unit.objects.get(pk=fu.existing.id)
        old_path = node.path
        Unit.objects.move(node, Unit.objects.get(code=parent_code), "last-child")
        new_path = Unit.objects.filter(pk=node.pk).values_list("path", flat=True).get()
        signals.unit_moved.send(Unit, unit_id=node.pk, old_path=old_path, new_path=new_path)
    changed = [fu for fu in plan.units.values() if fu.existing is not None and fu.changes]
    for fu in changed:
        assert fu.existing is not None
        Unit.objects.filter(pk=fu.existing.id).update(name=fu.name, kind=fu.kind, updated_at=now)
    touched = [fu.code for fu in new] + [fu.code for fu in moved] + [fu.code for fu in changed]
    units: dict[str, Unit] = {}
    for chunk in chunks(touched):
        units.update((u.code, u) for u in Unit.objects.filter(code__in=chunk))
    for fu in new:
        u = units[fu.code]
        snap = {"code": u.code, "name": u.name, "short_name": "", "kind": u.kind, "is_active": True}
        events.append(PendingEvent("orgs.unit.created", u, u.path, snap))
    for fu in changed:
        u = units[fu.code]
        events.append(PendingEvent("orgs.unit.updated", u, u.path, fu.changes))
    for fu in moved:
        assert fu.existing is not None
        u = units[fu.code]
        change = {"parent": [fu.existing.parent_code, plan.final_parent.get(fu.code)]}
        events.append(PendingEvent("orgs.unit.moved", u, u.path, change))


def _ensure_tags(plan: _Planner, events: list[PendingEvent]) -> dict[str, int]:
    needed = sorted(plan.new_tags)
    if not needed:
        return {}
    ids: dict[str, int] = {}
    for chunk in chunks(needed):
        ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "id"))
    missing = [Tag(name=n) for n in needed if n not in ids]
    if missing:
        Tag.objects.bulk_create(missing)
        for chunk in chunks([t.name for t in missing]):
            for t in Tag.objects.filter(name__in=chunk):
                ids[t.name] = t.pk
                events.append(PendingEvent("orgs.tag.created", t, ""))
    return ids
