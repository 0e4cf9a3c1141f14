"""Writing the audit log. Every service that changes data calls ``log_action``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from muster.audit.context import current_origin
from muster.audit.models import AuditEvent


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False) or getattr(actor, "pk", None) is None:
        name = getattr(actor, "display_name", "") or "system"
        return {"actor": None, "actor_name": name}
    return {"actor": actor, "actor_name": actor.get_username()}


def log_action(
    actor: Any,
    *,
    action: str,
    target: models.Model | None = None,
    unit_path: str = "",
    changes: dict[str, Any] | None = None,
    batch: str = "",
) -> AuditEvent:
    origin = current_origin()
    return AuditEvent.objects.create(
        **_actor_fields(actor),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        unit_path=unit_path,
        changes=changes or {},
        ip=origin.ip,
        channel=origin.channel,
        batch=batch,
    )


@dataclass
class PendingEvent:
    action: str
    target: models.Model
    unit_path: str
    changes: dict[str, Any] = field(default_factory=dict)


def log_actions_bulk(actor: Any, events: Iterable[PendingEvent], *, batch: str) -> int:
    """Write many events at once (imports); the same fields as ``log_action``.

    Rows go in through ``executemany`` (``muster.tabular.bulk.insert_many``): an import of 100,000 people
    writes 100,000 events, and ``bulk_create`` would spend most of the import compiling them.
    """
    from django.utils import timezone

    from muster.tabular.bulk import insert_many

    origin = current_origin()
    who = _actor_fields(actor)
    actor_id = who["actor"].pk if who["actor"] is not None else None
    now = timezone.now()
    # Built in full before the write: an event's target or unit may still load a related row, and on
    # PostgreSQL no other query can run on the connection while its COPY stream is open (it would hang).
    rows = [
        (
            now,
            actor_id,
            who["actor_name"],
            e.action,
            e.target._meta.label_lower,
            str(e.target.pk),
            str(e.target)[:255],
            e.unit_path,
            e.changes,
            origin.ip,
            origin.channel,
            batch,
        )
        for e in events
    ]
    fields = [
        "at", "actor", "actor_name", "action", "target_type", "target_id", "target_repr", "unit_path",
        "changes", "ip", "channel", "batch",
    ]  # fmt: skip
    return insert_many(AuditEvent, fields, rows)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
