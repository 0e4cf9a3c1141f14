"""Publishing a plan: preview the moves, then apply them to the shifts in one transaction and notify
the people whose shifts changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.clock import local_tz
from muster.mobilize import services as mob
from muster.mobilize.models import Assignment, Shift
from muster.notify.services import notify, recipients_of
from muster.orgs.models import Person
from muster.roster.adapter import scope_shifts
from muster.roster.models import PlanStatus, RosterPlan

from .policy import _audit, _require_manage


@dataclass
class Move:
    person: Person
    before: Shift
    after: Shift


@dataclass
class PublishPreview:
    """What publishing the plan would do now (see ``publish_preview``); ``token`` names this state:
    ``plan_publish(expected=token)`` refuses to publish anything else."""

    token: str
    assignments: int  # on the plan's shifts after publishing
    added: list[tuple[Person, Shift]]  # new assignments (those of ``moves`` included)
    removed: list[tuple[Person, Shift]]  # assignments withdrawn (those of ``moves`` included)
    moves: list[Move]  # a person's withdrawn shift paired with a new one of theirs (in time order)
    people: list[Person]  # everyone whose shifts change
    notified: int  # of them, those who will get a notice (a login, or e-mail they chose)
    published_before: bool  # the period's shifts already had assignments

    @property
    def unchanged(self) -> int:
        return self.assignments - len(self.added)


def _publish_state(
    plan: RosterPlan,
) -> tuple[list[Shift], dict[tuple[int, int], Any], dict[tuple[int, int], Any]]:
    shifts = list(scope_shifts(plan.deployment, plan.post, plan.start_date, plan.end_date))
    by_pk = {s.pk for s in shifts}
    current = {
        (a.person_id, a.shift_id): a
        for a in Assignment.objects.filter(shift__in=shifts).select_related("person")
    }
    wanted = {
        (r.person_id, r.shift_id): r
        for r in plan.proposals.select_related("person", "shift")
        if r.shift_id in by_pk
    }
    return shifts, current, wanted


def _publish_token(plan: RosterPlan, current: Any, wanted: Any) -> str:
    text = "|".join(
        [
            str(plan.pk),
            plan.status,
            ",".join(f"{p}:{s}" for p, s in sorted(current)),
            ",".join(f"{p}:{s}" for p, s in sorted(wanted)),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def publish_preview(*, actor: Any, plan: RosterPlan) -> PublishPreview:
    """The summary shown before publishing: the assignments there will be, those added and withdrawn
    against what is published now (a person's withdrawn and new shifts paired as moves), the people
    whose shifts change and how many of them will be notified. Reads only."""
    _require_manage(actor, plan)
    shifts, current, wanted = _publish_state(plan)
    by_pk = {s.pk: s for s in shifts}
    people: dict[int, Person] = {}
    added: list[tuple[Person, Shift]] = []
    removed: list[tuple[Person, Shift]] = []
    for key in sorted(set(wanted) - set(current), key=lambda k: (by_pk[k[1]].start, k[1], k[0])):
        r = wanted[key]
        added.append((r.person, by_pk[r.shift_id]))
        people[r.person_id] = r.person
    for key in sorted(set(current) - set(wanted), key=lambda k: (by_pk[k[1]].start, k[1], k[0])):
        a = current[key]
        removed.append((a.person, by_pk[a.shift_id]))
        people[a.person_id] = a.person
    moves: list[Move] = []
    for pk in sorted(people):
        gone = [sh for p, sh in removed if p.pk == pk]
        new = [sh for p, sh in added if p.pk == pk]
        moves += [Move(people[pk], b, a) for b, a in zip(gone, new, strict=False)]
    moves.sort(key=lambda m: (m.before.start, m.person.code))
    ordered = sorted(people.values(), key=lambda p: p.code)
    return PublishPreview(
        token=_publish_token(plan, current, wanted),
        assignments=len(wanted),
        added=added,
        removed=removed,
        moves=moves,
        people=ordered,
        notified=len(recipients_of(Person.objects.filter(pk__in=people).select_related("user"))),
        published_before=bool(current),
    )


@dataclass
class PublishResult:
    added: int
    removed: int
    notified: int
    warnings: list[str]


def _fmt(dt: Any) -> str:
    return timezone.localtime(dt, local_tz()).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def plan_publish(*, actor: Any, plan: RosterPlan, expected: str | None = None) -> PublishResult:
    """Make the proposal the real roster, all or nothing: remove the assignments of the period's shifts
    that the plan dropped and create the new ones through the mobilization services (so their conflict
    rules hold), then notify everyone whose shifts changed. ``expected``: the token of the
    ``publish_preview`` the user confirmed; if the proposal or the published roster changed since,
    nothing is published (code "stale")."""
    _require_manage(actor, plan)
    plan = RosterPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.PROPOSED:
        raise ValidationError(
            {
                "plan": _("Only a proposed roster can be published (this plan is %(status)s).")
                % {"status": plan.get_status_display()}
            }
        )
    shifts, current, wanted = _publish_state(plan)
    by_pk = {s.pk: s for s in shifts}
    if expected is not None and expected != _publish_token(plan, current, wanted):
        raise ValidationError(
            {
                "plan": ValidationError(
                    _(
                        "Nothing was published: the roster changed after you opened the summary. "
                        "Check the new summary and confirm again."
                    ),
                    code="stale",
                )
            }
        )
    removed: dict[int, list[Shift]] = {}
    added: dict[int, list[Shift]] = {}
    people: dict[int, Person] = {}
    for key in sorted(set(current) - set(wanted)):
        a = current[key]
        mob.shift_unassign(actor=actor, shift=by_pk[a.shift_id], person=a.person)
        removed.setdefault(a.person_id, []).append(by_pk[a.shift_id])
        people[a.person_id] = a.person
    warnings: list[str] = []
    for key in sorted(set(wanted) - set(current), key=lambda k: (by_pk[k[1]].start, k[1], k[0])):
        r = wanted[key]
        try:
            res = mob.shift_assign(actor=actor, shift=by_pk[r.shift_id], person=r.person)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "plan": ValidationError(
                        _("Nothing was published: %(person)s on %(shift)s: %(error)s")
                        % {
                            "person": r.person,
                            "shift": _fmt(by_pk[r.shift_id].start),
                            "error": " ".join(exc.messages),
                        },
                        code="conflict",
                    )
                }
            ) from exc
        warnings += [w.message for w in res.warnings]
        added.setdefault(r.person_id, []).append(by_pk[r.shift_id])
        people[r.person_id] = r.person
    plan.status = PlanStatus.PUBLISHED
    plan.published_at = timezone.now()
    plan.save(update_fields=["status", "published_at", "updated_at"])
    link = reverse("mobilize:my_service")
    notified = 0
    for pk in sorted(people):
        person = Person.objects.select_related("user").get(pk=pk)
        lines = [
            _("New: %(start)s – %(end)s") % {"start": _fmt(s.start), "end": _fmt(s.end)}
            for s in added.get(pk, [])
        ]
        lines += [
            _("Cancelled: %(start)s – %(end)s") % {"start": _fmt(s.start), "end": _fmt(s.end)}
            for s in removed.get(pk, [])
        ]
        title = _("Your roster for %(scope)s has changed") % {"scope": plan.scope_name}
        notified += len(
            notify(
                recipients_of([person]),
                verb="roster.published",
                title=title,
                body="\n".join(lines),
                link=link,
            )
        )
    _audit(
        actor,
        "plan.published",
        plan,
        added=sum(len(v) for v in added.values()),
        removed=sum(len(v) for v in removed.values()),
        notified=notified,
    )
    return PublishResult(
        sum(len(v) for v in added.values()),
        sum(len(v) for v in removed.values()),
        notified,
        list(dict.fromkeys(warnings)),
    )
