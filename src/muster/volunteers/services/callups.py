"""Call-ups (集结号): sending, answering, picking (by hand or by the rostering engine)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.mobilize import rules as mrules
from muster.mobilize import services as msvc
from muster.mobilize.models import Deployment
from muster.notify.services import notify, recipients_of
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team, TeamMembership, Unit
from muster.orgs.validators import normalize_text
from muster.roster import engine as eng
from muster.volunteers import fit, queries
from muster.volunteers.models import (
    AnswerChoice,
    CallUp,
    CallUpInvite,
)
from muster.volunteers.services.common import (
    MAX_CALLUP,
    _audience,
    _audit,
    _fmt,
    _invalid,
    may_edit_person,
    skill_by_code,
)

# ---------------------------------------------------------------- call-ups


def _next_code() -> str:
    year = timezone.localtime(timezone.now(), queries.tz()).year
    prefix = f"JJH{year}-"
    n = CallUp.objects.filter(code__startswith=prefix).count() + 1
    while CallUp.objects.filter(code=f"{prefix}{n:04d}").exists():
        n += 1
    return f"{prefix}{n:04d}"


def audience_people(team: Team | None, unit: Unit | None) -> Any:
    if team is not None:
        return Person.objects.filter(pk__in=TeamMembership.objects.filter(team=team).values("person_id"))
    assert unit is not None
    field = "party_unit__path" if unit.is_party else "unit__path"
    return Person.objects.filter(**{f"{field}__startswith": unit.path})


@transaction.atomic
def callup_create(
    *,
    actor: Any,
    unit: Unit,
    title: str,
    start: datetime,
    end: datetime,
    people_needed: int,
    deadline: datetime,
    place: str = "",
    skills: Sequence[str] = (),
    team: Team | None = None,
    audience_unit: Unit | None = None,
    deployment: Deployment | None = None,
) -> CallUp:
    """Send a call-up (集结号) to everyone of the audience; each gets a notice with their answer link."""
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    _audience(actor, team, audience_unit)
    title = normalize_text(title or "").strip()
    place = normalize_text(place or "").strip()
    if not title or len(title) > 200:
        raise _invalid("title", _("The task is 1 to 200 characters."), "title")
    if len(place) > 200:
        raise _invalid("place", _("The place is at most 200 characters."), "place")
    if end <= start:
        raise _invalid(
            "end",
            _("The end (%(end)s) must be after the start (%(start)s).")
            % {"end": _fmt(end), "start": _fmt(start)},
            "end_before_start",
        )
    if not 1 <= people_needed <= MAX_CALLUP:
        raise _invalid("people_needed", _("People needed: 1 to %(n)s.") % {"n": MAX_CALLUP}, "range")
    now = timezone.now()
    if deadline <= now:
        raise _invalid(
            "deadline", _("The answer deadline (%(at)s) has passed.") % {"at": _fmt(deadline)}, "past"
        )
    if deadline > start:
        raise _invalid("deadline", _("The answer deadline must be before the start."), "after_start")
    if deployment is not None:
        access.require(actor, Perm.MOBILIZE_DISPATCH, deployment.unit)
    sk = [skill_by_code(c, "skills") for c in dict.fromkeys(skills)]
    c = CallUp.objects.create(
        code=_next_code(),
        unit=unit,
        team=team,
        audience_unit=audience_unit,
        title=title,
        place=place,
        start=start,
        end=end,
        people_needed=people_needed,
        deadline=deadline,
        deployment=deployment,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    c.skills.set(sk)
    people = list(audience_people(team, audience_unit).select_related("user").order_by("pk"))
    invites = CallUpInvite.objects.bulk_create(
        [CallUpInvite(callup=c, person=p) for p in people], batch_size=2000
    )
    c.invited = len(invites)
    c.save(update_fields=["invited"])
    _audit(
        actor, "volunteers.callup.created", c, unit.path, code=c.code, invited=c.invited, needed=people_needed
    )
    token_of = {i.person_id: i.token for i in invites}
    by_user = recipients_of(people)
    title_text = _("Call-up: %(title)s") % {"title": title}
    body = _("%(n)s volunteers wanted, %(start)s–%(end)s %(place)s. Answer by %(deadline)s.") % {
        "n": people_needed,
        "start": _fmt(start),
        "end": _fmt(end),
        "place": place,
        "deadline": _fmt(deadline),
    }
    # with a login: one notice each in one write, linking to their sign-up page (which lists the call-up
    # with their answer link); without one (e-mail only): their own answer link in the message
    with_login = [(u, p) for u, p in by_user if u is not None]
    if with_login:
        notify(with_login, verb="volunteers.callup", title=title_text, body=body, link="/volunteers/")
    for u, p in by_user:
        if u is None:
            notify(
                [(u, p)],
                verb="volunteers.callup",
                title=title_text,
                body=body,
                link=f"/volunteers/answer/{token_of[p.pk]}/",
            )
    return c


@transaction.atomic
def callup_answer(
    *, actor: Any, invite: CallUpInvite, answer: str, reason: str = "", by_link: bool = False
) -> CallUpInvite:
    """Answer a call-up: "yes" (报名) or "no" (不能参加, with a reason), once, before the deadline.
    ``by_link``: through the secret link of the message (the link is the credential)."""
    # the answer as committed now, under the invite's row lock (two answers of one invite take turns);
    # the call-up and the person as the caller read them
    invite.answer, invite.reason, invite.answered_at = (
        CallUpInvite.objects.select_for_update()
        .filter(pk=invite.pk)
        .values_list("answer", "reason", "answered_at")
        .get()
    )
    if (
        not by_link
        and not queries.is_self(actor, invite.person)
        and not may_edit_person(actor, invite.person)
    ):
        raise Http404
    c = invite.callup
    now = timezone.now()
    if answer not in AnswerChoice.values:
        raise _invalid("answer", _("Answer yes (报名) or no (不能参加)."), "answer")
    reason = normalize_text(reason or "").strip()
    if answer == AnswerChoice.NO and not reason:
        raise _invalid("reason", _("Say why you cannot attend."), "reason_required")
    if len(reason) > 300:
        raise _invalid("reason", _("The reason is at most 300 characters."), "too_long")
    if invite.answer:
        raise _invalid(
            "answer",
            _("You already answered this call-up (%(answer)s at %(at)s).")
            % {"answer": invite.get_answer_display(), "at": _fmt(invite.answered_at or now)},
            "twice",
        )
    if now >= c.deadline:
        raise _invalid(
            "answer", _("Answers to this call-up closed at %(at)s.") % {"at": _fmt(c.deadline)}, "deadline"
        )
    invite.answer = answer
    invite.reason = reason
    invite.answered_at = now
    invite.save(update_fields=["answer", "reason", "answered_at"])
    if answer == AnswerChoice.YES and c.filled_at is None:
        locked = CallUp.objects.select_for_update().get(pk=c.pk)
        if locked.filled_at is None and (
            CallUpInvite.objects.filter(callup=c, answer=AnswerChoice.YES).count() >= c.people_needed
        ):
            locked.filled_at = now
            locked.save(update_fields=["filled_at"])
    _audit(
        None if by_link else actor,
        "volunteers.callup.answered",
        c,
        c.unit.path,
        person=invite.person.code,
        answer=answer,
        by_link=by_link,
    )
    return invite


def _require_callup_manager(actor: Any, c: CallUp) -> None:
    if not queries.callups_visible(actor).filter(pk=c.pk).exists():
        raise Http404
    access.require(actor, Perm.MOBILIZE_DISPATCH, c.unit)


@transaction.atomic
def callup_pick(
    *, actor: Any, callup: CallUp, people: Sequence[Person], deployment: Deployment | None = None
) -> list[CallUpInvite]:
    """Pick people who answered "yes"; they become members of the batch at once (one transaction)."""
    _require_callup_manager(actor, callup)
    d = deployment or callup.deployment
    if d is None:
        raise _invalid("deployment", _("Name the batch the picked people join."), "required")
    invites = {
        i.person_id: i
        for i in CallUpInvite.objects.select_for_update().filter(callup=callup, person__in=people)
    }
    picked = []
    for p in people:
        inv = invites.get(p.pk)
        if inv is None or inv.answer != AnswerChoice.YES:
            raise _invalid(
                "people", _("%(person)s has not answered yes to this call-up.") % {"person": p}, "not_yes"
            )
        msvc.deployment_member_add(actor=actor, deployment=d, person=p)
        inv.picked = True
        inv.save(update_fields=["picked"])
        picked.append(inv)
    if callup.deployment_id is None:
        callup.deployment = d
        callup.save(update_fields=["deployment"])
    _audit(
        actor,
        "volunteers.callup.picked",
        callup,
        callup.unit.path,
        people=[p.code for p in people],
        batch=d.code,
    )
    return picked


def callup_suggest(callup: CallUp) -> list[Person]:
    """The engine's pick: from the "yes" answers, up to N people who hold the skills (valid on the day),
    are free then (``mobilize.rules``) and may serve on site, earliest answers first — solved by the
    rostering engine as one shift of N seats."""
    answers = list(
        CallUpInvite.objects.filter(callup=callup, answer=AnswerChoice.YES, picked=False)
        .select_related("person")
        .order_by("answered_at", "id")
    )
    if not answers:
        return []
    skills = frozenset(callup.skills.values_list("code", flat=True))
    facts = queries.people_facts([a.person_id for a in answers])
    lo, hi = mrules.window(callup.start, callup.end)
    commitments = mrules.commitments_of([a.person_id for a in answers], lo, hi)
    z = queries.tz()
    day0 = datetime.combine(callup.start.astimezone(z).date(), datetime.min.time(), tzinfo=z)
    s_min = int((callup.start - day0).total_seconds() // 60)
    e_min = int((callup.end - day0).total_seconds() // 60)
    days = max(1, -(-e_min // 1440))
    sf = queries.shift_facts(callup.start, callup.end, "onsite", (skills, frozenset()))
    people = []
    prefs = []
    by_code = {}
    n = len(answers)
    for rank, a in enumerate(answers):
        f = facts[a.person_id]
        misfit = [
            m for m in fit.misfits(f, sf) if m.code in {"skill_missing", "skill_expired", "home_observation"}
        ]
        busy = [
            b
            for b in mrules.judge(
                who="",
                start=callup.start,
                end=callup.end,
                commitments=commitments.get(a.person_id, []),
                deployment_id=callup.deployment_id,
            )
            if b.code == "conflict"
        ]
        if misfit or busy:
            continue
        held = frozenset(c for c in f.skills if fit.holds(f, c, sf.start.date()))
        people.append(eng.Person(id=a.person.code, skills=held, max_minutes_day=None, max_shifts_per_day=1))
        prefs.append(eng.Preference(a.person.code, "callup", n - rank))
        by_code[a.person.code] = a.person
    if not people:
        return []
    shift = eng.Shift(
        id="callup",
        day=0,
        start=s_min,
        end=e_min,
        required=callup.people_needed,
        max_count=callup.people_needed,
        skills=skills,
    )
    problem = eng.Problem(days=days, people=people, shifts=[shift], preferences=prefs)
    result = eng.solve(problem, eng.Options(seconds=2, seed=0, deterministic=True, workers=1))
    chosen = {p for p, _s in result.assignments}
    return [by_code[c] for c in by_code if c in chosen]
