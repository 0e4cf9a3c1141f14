"""Writing a checked plan in bulk inside the caller's transaction, with the audit events the services
would write (see the package's docstring for why the services are bypassed)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import PendingEvent, log_action, log_actions_bulk
from muster.mobilize import services, signals
from muster.mobilize.models import Deployment, DeploymentMember, EntryOp, EntrySource, ServiceEntry
from muster.orgs import access
from muster.orgs.models import Partner, PartnerKind, Unit
from muster.tabular.bulk import insert_many
from muster.tabular.pipeline import chunks, common_path
from muster.tabular.schema import Table

from .plan import _Planner
from .rows import _DepRow, _NewPartner, _site_name


def ledger_apply(plan: _Planner, *, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    """Write a checked plan inside the caller's transaction."""
    _apply(plan, actor, filename, tables)


def _apply(plan: _Planner, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    batch = uuid.uuid4().hex
    now = timezone.now()
    events: list[PendingEvent] = []
    who = actor if getattr(actor, "pk", None) is not None else None

    # Partners named for the first time.
    if plan.new_partners:
        taken = set(Partner.objects.values_list("code", flat=True))
        partner_objs = []
        for np in plan.new_partners.values():
            n = 1
            while f"{np.unit.code}-P{n:03d}" in taken:
                n += 1
            code = f"{np.unit.code}-P{n:03d}"
            taken.add(code)
            np.obj = Partner(code=code, name=np.name, kind=PartnerKind.OTHER, unit=np.unit)
            partner_objs.append(np.obj)
        Partner.objects.bulk_create(partner_objs)
        partner_ids = dict(
            Partner.objects.filter(code__in=[o.code for o in partner_objs]).values_list("code", "id")
        )
        for np in plan.new_partners.values():
            assert np.obj is not None
            np.obj.pk = partner_ids[np.obj.code]
            events.append(
                PendingEvent(
                    "orgs.partner.created",
                    np.obj,
                    np.unit.path,
                    {"code": np.obj.code, "name": np.name, "kind": PartnerKind.OTHER, "unit": np.unit.code},
                )
            )

    def partner_of(d: _DepRow) -> Partner | None:
        return d.partner.obj if isinstance(d.partner, _NewPartner) else d.partner

    # New batches, numbered per unit under a lock of the unit's row (as ``deployment_dispatch``).
    new = [d for d in plan.deps.values() if d.existing is None]
    if new:
        unit_ids = sorted({d.unit.pk for d in new})
        list(Unit.objects.select_for_update().filter(pk__in=unit_ids).order_by("pk"))
        seqs = {
            u: m or 0
            for u, m in Deployment.objects.filter(unit_id__in=unit_ids)
            .values("unit_id")
            .annotate(m=Max("seq"))
            .values_list("unit_id", "m")
        }
        objs = []
        for d in sorted(new, key=lambda d: (d.start, d.row)):
            seq = seqs.get(d.unit.pk, 0) + 1
            seqs[d.unit.pk] = seq
            partner = partner_of(d)
            d.obj = Deployment(
                unit=d.unit,
                seq=seq,
                code=d.code,
                title=d.title,
                partner=partner,
                site=_site_name(partner, d.site),
                start=d.start,
                end=d.end,
                created_by=who,
            )
            objs.append(d.obj)
        Deployment.objects.bulk_create(objs, batch_size=500)
        ids: dict[str, int] = {}
        for chunk in chunks([o.code for o in objs]):
            ids.update(Deployment.objects.filter(code__in=chunk).values_list("code", "id"))
        for o in objs:
            o.pk = ids[o.code]

    # Changed batches: through the service (rare; it re-checks the members' conflicts).
    sheet = tables["deployments"].sheet if "deployments" in tables else ""
    for d in plan.deps.values():
        if d.existing is None:
            continue
        if not d.changes:
            d.obj = d.existing
            continue
        partner = partner_of(d) if "site" in d.changes else None
        try:
            services.deployment_update(
                actor=actor,
                deployment=d.existing,
                title=d.title,
                start=d.start,
                end=d.end,
                site=_site_name(partner, d.site) if "site" in d.changes else None,
            )
        except (ValidationError, Http404, access.NotAllowed) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            plan.errors.add(sheet, d.row, "", d.code, reason or _("you may not change this batch"))
            raise plan.errors.exception() from None
        if "site" in d.changes and partner is not None and d.existing.partner_id != partner.pk:
            Deployment.objects.filter(pk=d.existing.pk).update(partner=partner)
        d.obj = Deployment.objects.get(pk=d.existing.pk)

    def deployment_of(dep: _DepRow | Deployment) -> Deployment:
        if isinstance(dep, _DepRow):
            assert dep.obj is not None
            return dep.obj
        return dep

    # Memberships implied by the service rows.
    if plan.new_members:
        DeploymentMember.objects.bulk_create(
            [
                DeploymentMember(deployment=deployment_of(dep), person_id=p.id)
                for dep, p in plan.new_members.values()
            ],
            batch_size=1000,
        )
        for dep, p in plan.new_members.values():
            if isinstance(dep, _DepRow) and dep.existing is None:
                continue  # listed in the batch's dispatch event
            joined = deployment_of(dep)
            events.append(
                PendingEvent(
                    "mobilize.deployment.member_added",
                    joined,
                    joined.unit.path,
                    {"person": p.code, "team": None},
                )
            )
    for d in new:
        assert d.obj is not None
        partner = partner_of(d)
        events.append(
            PendingEvent(
                "mobilize.deployment.dispatched",
                d.obj,
                d.unit.path,
                {
                    "code": d.code,
                    "seq": d.obj.seq,
                    "title": d.title,
                    "start": d.start.isoformat(),
                    "end": d.end.isoformat(),
                    "site": d.obj.site,
                    "partner": partner.code if partner else None,
                    "request": None,
                    "supported_unit": None,
                    "leader": None,
                    "teams": [],
                    "people": sorted(d.people),
                },
            )
        )

    # The ledger rows, appended as ``services._record`` appends them.
    if plan.entries:
        actor_name = actor.get_username() if who is not None else getattr(actor, "display_name", "system")
        chains = [uuid.uuid4() for _r in plan.entries]
        insert_many(
            ServiceEntry,
            [
                "chain", "person", "deployment", "shift", "kind", "source", "start", "end", "minutes", "sign",
                "op", "refers_to", "actor", "actor_name", "reason", "note", "evidence", "created_at",
            ],
            (
                (
                    chain, r.person.id, deployment_of(r.dep).pk if r.dep is not None else None, None, r.kind,
                    EntrySource.IMPORT, r.start, r.end, r.minutes, 1 if r.approved else 0, EntryOp.RECORD,
                    None, who.pk if who is not None else None, actor_name, "", r.note, "", now,
                )
                for chain, r in zip(chains, plan.entries, strict=True)
            ),
        )  # fmt: skip
        entry_ids: dict[uuid.UUID, int] = {}
        for chunk in chunks(chains):
            entry_ids.update(ServiceEntry.objects.filter(chain__in=chunk).values_list("chain", "id"))
        for chain, r in zip(chains, plan.entries, strict=True):
            target = deployment_of(r.dep) if r.dep is not None else None
            row = ServiceEntry(
                pk=entry_ids[chain],
                chain=chain,
                person_id=r.person.id,
                deployment=target,
                kind=r.kind,
                source=EntrySource.IMPORT,
                start=r.start,
                end=r.end,
                minutes=r.minutes,
                sign=1 if r.approved else 0,
                op=EntryOp.RECORD,
            )
            events.append(
                PendingEvent(
                    "mobilize.entry.recorded",
                    row,
                    r.person.unit_path,
                    {
                        "op": EntryOp.RECORD.value,
                        "sign": row.sign,
                        "person": r.person.code,
                        "kind": r.kind,
                        "start": r.start.isoformat(),
                        "end": r.end.isoformat(),
                        "minutes": r.minutes,
                        "refers_to": None,
                        "chain": str(chain),
                        "deployment": target.code if target is not None else None,
                        "source": EntrySource.IMPORT.value,
                    },
                )
            )
    # Tell the listeners (the reports' rollup facts, the points' service hours), set-wise, in this
    # transaction: the same signal as a single row recorded through the services.
    signals.ledger_rows_written.send(
        sender=ServiceEntry,
        actor=actor,
        row_ids=list(entry_ids.values()) if plan.entries else [],
        deployment_ids=[d.obj.pk for d in new if d.obj is not None],
    )
    log_actions_bulk(actor, events, batch=batch)
    summary_changes: dict[str, Any] = plan.result.as_dict()
    summary_changes.pop("dry_run", None)
    summary_changes["file"] = filename[:200]
    log_action(
        actor,
        action="mobilize.ledger.imported",
        unit_path=common_path(e.unit_path for e in events),
        changes=summary_changes,
        batch=batch,
    )
