"""Care services: survey rounds (排摸), their dimensions as data and the recorded answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster import clock, dates
from muster.audit.services import log_action
from muster.care import facts, policy
from muster.care.models import (
    CareSubject,
    Channel,
    Contact,
    ContactOutcome,
    Dimension,
    DimensionKind,
    Observation,
    SurveyRound,
)
from muster.care.services.common import _choice, _moment, _name, _require_alive, clean_text
from muster.care.services.tags import _apply_rules
from muster.care.signals import contact_recorded
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Unit

# ---------------------------------------------------------------- survey rounds


def round_open(
    *, actor: Any, unit: Unit, name: str, dimensions: Sequence[str] | None = None, at: datetime | None = None
) -> SurveyRound:
    """Open a survey round for ``unit``'s subtree with the named dimensions (default: all of them)."""
    policy.require_manage(actor, unit)
    name = clean_text(name, field="name", max_length=120, required=True)
    dims = (
        list(Dimension.objects.all())
        if not dimensions
        else list(Dimension.objects.filter(code__in=dimensions))
    )
    missing = sorted(set(dimensions or ()) - {d.code for d in dims})
    if missing:
        raise ValidationError(
            {"dimensions": _("Unknown dimensions: %(codes)s.") % {"codes": ", ".join(missing)}}
        )
    with transaction.atomic():
        r = SurveyRound.objects.create(
            unit=unit, name=name, opened_at=_moment(at, "at"), opened_by_name=_name(actor)
        )
        r.dimensions.set(dims)
        log_action(
            actor,
            action="care.round.opened",
            target=r,
            unit_path=unit.path,
            changes={"name": name, "dimensions": [d.code for d in dims]},
        )
    return r


def round_close(*, actor: Any, round: SurveyRound, at: datetime | None = None) -> SurveyRound:
    policy.require_manage(actor, round.unit)
    if round.closed_at is not None:
        raise ValidationError({"round": _("This round is closed already.")})
    with transaction.atomic():
        round.closed_at = _moment(at, "at")
        round.save(update_fields=["closed_at"])
        log_action(actor, action="care.round.closed", target=round, unit_path=round.unit.path)
    return round


def dimension_create(
    *, actor: Any, code: str, label: str, kind: str, choices: Sequence[str] = (), sensitive: bool = True
) -> Dimension:
    """A new survey dimension (data, no code change)."""
    if not access.is_all_powerful(actor) and not any(
        access.can(actor, Perm.CHANGE, u) for u in Unit.objects.filter(depth=1)
    ):
        raise NotAllowed(Perm.CHANGE)
    code = clean_text(code, field="code", max_length=40, required=True)
    label = clean_text(label, field="label", max_length=80, required=True)
    _choice(kind, DimensionKind, "kind")
    values = [clean_text(c, field="choices", max_length=80, required=True) for c in choices]
    if kind == DimensionKind.CHOICE and not values:
        raise ValidationError({"choices": _("A list dimension needs its allowed values.")})
    if Dimension.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A dimension with the code %(code)s exists.") % {"code": code}})
    with transaction.atomic():
        d = Dimension.objects.create(
            code=code,
            label=label,
            kind=kind,
            choices=values,
            sensitive=sensitive,
            order=Dimension.objects.count() * 10 + 10,
        )
        log_action(actor, action="care.dimension.created", target=d, changes={"code": code, "kind": kind})
    return d


def check_value(dimension: Dimension, raw: Any, *, today: date) -> str:
    """The stored text of an answer, or ``ValidationError`` naming the dimension and why."""
    field = dimension.code
    text = clean_text(str(raw) if raw is not None else "", field=field, max_length=500, required=True)
    if dimension.kind == DimensionKind.CHOICE:
        if text not in dimension.choices:
            raise ValidationError(
                {
                    field: _("%(value)s is not an allowed answer for %(dimension)s (allowed: %(allowed)s).")
                    % {"value": text, "dimension": dimension.label, "allowed": "、".join(dimension.choices)}
                }
            )
    elif dimension.kind == DimensionKind.NUMBER:
        if not text.isdigit() or len(text) > 6:
            raise ValidationError(
                {
                    field: _("%(dimension)s is a whole number from 0, not %(value)s.")
                    % {"dimension": dimension.label, "value": text}
                }
            )
        text = str(int(text))
    elif dimension.kind == DimensionKind.DATE:
        try:
            day = date.fromisoformat(text[:10]) if len(text) <= 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValidationError(
                {
                    field: _("%(dimension)s is a date like 2022-04-01, not %(value)s.")
                    % {"dimension": dimension.label, "value": text}
                }
            )
        if not dates.day_in_range(day):
            raise ValidationError({field: dates.date_range_message()})
        if day > today:
            raise ValidationError(
                {field: _("%(dimension)s is in the future.") % {"dimension": dimension.label}}
            )
        text = day.isoformat()
    return text


def survey_answer_record(
    *,
    actor: Any,
    subject: CareSubject,
    round: SurveyRound,
    answers: Mapping[str, Any],
    channel: str,
    at: datetime | None = None,
    note: str = "",
) -> list[Observation]:
    """Record a subject's answers in a round: one contact and one dated observation per answer (a later
    answer supersedes, the history stays); the risk tags and the contact plan follow."""
    policy.require_record(actor, subject)
    if round.closed_at is not None:
        raise ValidationError({"round": _("This round is closed; it takes no more answers.")})
    if not subject.unit.path.startswith(round.unit.path):
        raise ValidationError(
            {"subject": _("%(name)s is not in this round's unit.") % {"name": subject.name}}
        )
    _require_alive(subject)
    _choice(channel, Channel, "channel")
    when = _moment(at, "at")
    if not answers:
        raise ValidationError({"answers": _("No answers given.")})
    dims = {d.code: d for d in round.dimensions.all()}
    unknown = sorted(set(answers) - set(dims))
    if unknown:
        raise ValidationError(
            {"answers": _("Not dimensions of this round: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    today = clock.local_date(when)
    values = {code: check_value(dims[code], raw, today=today) for code, raw in answers.items()}
    note = clean_text(note, field="note", max_length=500)
    with transaction.atomic():
        c = Contact.objects.create(
            subject=subject,
            round=round,
            at=when,
            channel=channel,
            outcome=ContactOutcome.ANSWERED,
            note=note,
            by_name=_name(actor),
            recorded_at=clock.now(),
        )
        obs = Observation.objects.bulk_create(
            Observation(
                subject=subject,
                round=round,
                contact=c,
                dimension=dims[code],
                value=v,
                channel=channel,
                observed_at=when,
                by_name=_name(actor),
                recorded_at=c.recorded_at,
            )
            for code, v in values.items()
        )
        if subject.last_contact_at is None or when > subject.last_contact_at:
            subject.last_contact_at = when
        _apply_rules(actor, subject, at=when)
        log_action(
            actor,
            action="care.answers.recorded",
            target=subject,
            unit_path=subject.unit.path,
            changes={
                "round": round.pk,
                "dimensions": sorted(values),
                "channel": channel,
                "at": when.isoformat(),
            },
        )
        facts.refresh(subjects=[subject.pk])
        contact_recorded.send(sender=CareSubject, subject=subject, contact=c)
    return obs
