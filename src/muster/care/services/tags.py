"""Care services: risk tags, from the rules (as data) on the latest answers and set by hand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    Observation,
    RiskLevel,
    RiskRule,
    RiskTagEvent,
    RiskTagKind,
    RuleOp,
    TagSource,
)
from muster.care.services.common import _name, clean_text
from muster.care.services.plans import _reschedule
from muster.orgs.access import NotAllowed, Perm

# ---------------------------------------------------------------- risk tags


def latest_values(subject_ids: Iterable[int], as_of: datetime | None = None) -> dict[int, dict[str, str]]:
    """{subject id: {dimension code: latest value}} (the latest observation by time, then id)."""
    rows = Observation.objects.filter(subject_id__in=list(subject_ids))
    if as_of is not None:
        rows = rows.filter(observed_at__lt=as_of)
    out: dict[int, dict[str, str]] = {}
    for sid, code, value in rows.order_by("observed_at", "pk").values_list(
        "subject_id", "dimension__code", "value"
    ):
        out.setdefault(sid, {})[code] = value
    return out


def current_tags(subject: CareSubject) -> dict[str, RiskTagEvent]:
    """{tag code: the event that put it on} for the tags on now."""
    latest: dict[str, RiskTagEvent] = {}
    for e in subject.tag_events.select_related("tag").order_by("at", "pk"):
        latest[e.tag.code] = e
    return {code: e for code, e in latest.items() if e.on}


def rule_tags(subject: CareSubject, values: Mapping[str, str], day: date) -> set[str]:
    """The tag codes the active rules give a subject with these latest answers."""
    out: set[str] = set()
    for rule in RiskRule.objects.filter(is_active=True).select_related("tag", "dimension"):
        if rule.op == RuleOp.AGE_AT_LEAST:
            age, least = subject.age_on(day), rule.age_floor()
            if age is not None and least is not None and age >= least:
                out.add(rule.tag.code)
        elif rule.dimension is not None:
            v = values.get(rule.dimension.code)
            if v is not None and v in [str(x) for x in rule.value]:
                out.add(rule.tag.code)
    return out


def _apply_rules(actor: Any, subject: CareSubject, *, at: datetime) -> None:
    """Recompute the rule tags from the latest answers, write the changes as events, keep the risk level
    and the plan (saves the subject)."""
    values = latest_values([subject.pk]).get(subject.pk, {})
    wanted = rule_tags(subject, values, clock.local_date(at))
    # the latest event of each tag, whatever its source
    latest: dict[str, RiskTagEvent] = {}
    for e in RiskTagEvent.objects.filter(subject=subject).select_related("tag").order_by("at", "pk"):
        latest[e.tag.code] = e
    kinds = {k.code: k for k in RiskTagKind.objects.all()}
    events = []
    for code in wanted:
        e = latest.get(code)
        if e is None or not e.on:
            events.append(
                RiskTagEvent(
                    subject=subject,
                    tag=kinds[code],
                    on=True,
                    source=TagSource.RULE,
                    at=at,
                    by_name=_name(actor),
                )
            )
    for code, e in latest.items():
        if e.on and e.source == TagSource.RULE and code not in wanted:
            events.append(
                RiskTagEvent(
                    subject=subject,
                    tag=kinds[code],
                    on=False,
                    source=TagSource.RULE,
                    at=at,
                    by_name=_name(actor),
                )
            )
    if events:
        RiskTagEvent.objects.bulk_create(events)
    _refresh_level(subject)


def _refresh_level(subject: CareSubject) -> None:
    on = current_tags(subject)
    subject.risk_level = RiskLevel.HIGH if any(e.tag.high_risk for e in on.values()) else RiskLevel.NORMAL
    _reschedule(subject)
    subject.save(update_fields=["risk_level", "next_due_on", "last_contact_at"])


def risk_tag_set(*, actor: Any, subject: CareSubject, tag: str, on: bool, reason: str) -> RiskTagEvent:
    """Put a tag on a subject by hand (or take it off), with a reason."""
    policy.require_record(actor, subject)
    if not policy.may_see_health(actor, subject):
        raise NotAllowed(Perm.CHANGE)
    kind = RiskTagKind.objects.filter(code=tag).first()
    if kind is None:
        raise ValidationError({"tag": _("Unknown risk tag %(code)s.") % {"code": tag}})
    reason = clean_text(reason, field="reason", max_length=300, required=True)
    with transaction.atomic():
        e = RiskTagEvent.objects.create(
            subject=subject,
            tag=kind,
            on=on,
            source=TagSource.MANUAL,
            reason=reason,
            at=clock.now(),
            by_name=_name(actor),
        )
        _refresh_level(subject)
        log_action(
            actor,
            action="care.tag.set",
            target=subject,
            unit_path=subject.unit.path,
            changes={"tag_id": kind.pk, "on": on, "event": e.pk},
        )
        facts.refresh(subjects=[subject.pk])
    return e
