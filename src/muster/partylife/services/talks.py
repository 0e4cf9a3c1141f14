"""Heart-to-heart talks (谈心谈话): record and withdraw."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import today
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.partylife import signals
from muster.partylife.membership import MEETING_UNIT_KINDS, members_on
from muster.partylife.models import Talk, TalkParticipant

from .common import _actor_person, _see, _text, _user_or_none


@transaction.atomic
def talk_record(
    *, actor: Any, unit: Unit, held_on: date, topic: str, participants: Sequence[Person], notes: str = ""
) -> Talk:
    """Record a talk. The branch's secretary (``PARTY_RECORD``) records any; a member records their own."""
    ids = {p.pk for p in participants}
    if not access.can(actor, Perm.PARTY_RECORD, unit):
        me = _actor_person(actor)
        if me is None or me.pk not in ids:
            _see(actor, unit)
            raise access.NotAllowed(Perm.PARTY_RECORD)
        if not any(e.person.pk == me.pk for e in members_on(unit, held_on)):
            raise access.NotAllowed(Perm.PARTY_RECORD)
    errors: dict[str, str] = {}
    if len(ids) < 2:
        errors["participants"] = _("A talk has at least two participants.")
    if held_on > today():
        errors["held_on"] = _("A talk cannot be recorded before it happens.")
    if not _text(topic):
        errors["topic"] = _("A topic is required.")
    if unit.kind not in MEETING_UNIT_KINDS:
        errors["unit"] = _("Talks are recorded for a branch, a general branch or a party group.")
    if not errors and not ids & {e.person.pk for e in members_on(unit, held_on)}:
        errors["participants"] = _("None of the participants was a member of %(unit)s on %(date)s.") % {
            "unit": unit.name,
            "date": held_on.isoformat(),
        }
    if errors:
        raise ValidationError(errors)
    talk = Talk.objects.create(
        unit=unit,
        held_on=held_on,
        topic=_text(topic)[:200],
        notes=notes or "",
        recorded_by=_user_or_none(actor),
    )
    TalkParticipant.objects.bulk_create([TalkParticipant(talk=talk, person_id=pid) for pid in sorted(ids)])
    signals.talk_recorded.send(sender=Talk, actor=actor, talk=talk)
    log_action(
        actor,
        action="partylife.talk.recorded",
        target=talk,
        unit_path=unit.path,
        changes={"date": held_on.isoformat(), "participants": sorted(ids)},
    )
    return talk


@transaction.atomic
def talk_withdraw(*, actor: Any, talk: Talk, reason: str) -> Talk:
    """Withdraw a talk recorded by mistake (its points are reversed); the record stays, marked withdrawn."""
    _see(actor, talk.unit)
    if not (
        access.can(actor, Perm.PARTY_RECORD, talk.unit)
        or (talk.recorded_by_id is not None and talk.recorded_by_id == getattr(actor, "pk", None))
    ):
        raise access.NotAllowed(Perm.PARTY_RECORD)
    if not _text(reason):
        raise ValidationError({"reason": _("A reason is required.")})
    talk = Talk.objects.select_for_update().get(pk=talk.pk)
    if talk.withdrawn:
        raise ValidationError({"talk": _("This talk is already withdrawn.")})
    talk.withdrawn = True
    talk.withdrawn_reason = _text(reason)[:200]
    talk.save(update_fields=["withdrawn", "withdrawn_reason"])
    signals.talk_withdrawn.send(sender=Talk, actor=actor, talk=talk, reason=talk.withdrawn_reason)
    log_action(
        actor,
        action="partylife.talk.withdrawn",
        target=talk,
        unit_path=talk.unit.path,
        changes={"reason": talk.withdrawn_reason},
    )
    return talk
