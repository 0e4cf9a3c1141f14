"""Outreach writes: enterprises, liaisons, visits, the problem list. Keyword-only, one transaction each,
permission-checked (out of scope = 404, visible but not allowed = 403) and audited.

Who may write: ``Perm.CHANGE`` on the unit of the record (a manager, a secretary or an admin of the unit or
above); a visit or problem of a party branch may also be written by whoever holds ``Perm.PARTY_RECORD`` on
the branch (its secretary).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import dates
from muster.audit.services import diff, log_action
from muster.notify.services import notify, recipients_of
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Partner, Person, Unit
from muster.orgs.rules import Problems
from muster.outreach import creditcode, facts, signals
from muster.outreach.models import (
    CLOSED,
    Attachment,
    Enterprise,
    EnterpriseSize,
    Liaison,
    LiaisonRole,
    Problem,
    ProblemAction,
    ProblemEvent,
    ProblemStatus,
    TaxClass,
    Visit,
    VisitForm,
)

# ---------------------------------------------------------------- helpers


def today() -> date:
    return timezone.localdate()


def _see(actor: Any, *units: Unit | None) -> None:
    """404 unless ``actor`` sees one of ``units``."""
    if not any(u is not None and access.can(actor, Perm.VIEW, u) for u in units):
        raise Http404


def may_write(actor: Any, unit: Unit, branch: Unit | None = None) -> bool:
    return access.can(actor, Perm.CHANGE, unit) or (
        branch is not None and access.can(actor, Perm.PARTY_RECORD, branch)
    )


def _require_write(actor: Any, unit: Unit, branch: Unit | None = None) -> None:
    _see(actor, unit, branch)
    if not may_write(actor, unit, branch):
        raise access.NotAllowed(Perm.CHANGE)


def credit_code_message(value: str) -> str | None:
    """Why ``value`` (normalized) is not a valid unified social credit code, in words; ``None`` if it is."""
    found = creditcode.problem(value)
    if found is None:
        return None
    kind, d = found
    if kind == "length":
        return _("A unified social credit code has 18 characters; %(code)s has %(n)d.") % {
            "code": value,
            "n": d["length"],
        }
    if kind == "character":
        return _(
            "Character %(position)d of the unified social credit code (%(char)s) is not allowed: only digits "
            "and the capital letters other than I, O, S, V and Z."
        ) % {"position": d["position"], "char": d["char"]}
    return _(
        "The check character of the unified social credit code %(code)s is wrong: "
        "%(given)s was given, %(expected)s is expected (GB 32100-2015)."
    ) % {"code": value, "given": d["given"], "expected": d["expected"]}


def _day(p: Problems, key: str, value: date | None, *, future: bool = False) -> None:
    if value is None:
        return
    if not dates.day_in_range(value):
        p.add(key, dates.date_range_message())
    elif not future and value > today():
        p.add(key, _("The date %(date)s is in the future.") % {"date": value.isoformat()})


def enterprise_snapshot(e: Enterprise) -> dict[str, Any]:
    return {
        "credit_code": e.credit_code,
        "name": e.name,
        "industry": e.industry,
        "park": e.park,
        "building": e.building,
        "size": e.size,
        "unit": e.unit.code,
        "is_active": e.is_active,
    }


# ---------------------------------------------------------------- enterprises


def _enterprise_fields(p: Problems, fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "name" in out:
        out["name"] = p.text("name", out["name"] or "", max_length=120)
        if not out["name"] and "name" not in p.errors:
            p.add("name", _("A name is required."))
    for key, length in (("industry", 60), ("park", 120), ("building", 120)):
        if key in out:
            out[key] = p.text(key, out[key] or "", max_length=length)
    if "size" in out:
        out["size"] = out["size"] or ""
        if out["size"] and out["size"] not in EnterpriseSize.values:
            p.add("size", _("Size is one of: %(choices)s.") % {"choices": ", ".join(EnterpriseSize.values)})
    return out


@transaction.atomic
def enterprise_create(
    *,
    actor: Any,
    credit_code: str,
    name: str,
    unit: Unit,
    industry: str = "",
    park: str = "",
    building: str = "",
    size: str = "",
) -> Enterprise:
    """Register a taxpayer under ``unit`` (its responsible tax office)."""
    _require_write(actor, unit)
    p = Problems()
    code = creditcode.normalize(p.text("credit_code", credit_code or ""))
    if "credit_code" not in p.errors:
        problem = credit_code_message(code)
        if problem:
            p.add("credit_code", problem)
        else:
            existing = Enterprise.objects.filter(credit_code=code).select_related("unit").first()
            if existing is not None and access.can(actor, Perm.VIEW, existing.unit):
                p.add(
                    "credit_code",
                    _("An enterprise with the credit code %(code)s is already registered.") % {"code": code},
                )
            elif existing is not None:
                # One the actor may not see: neither its code nor where it is registered is confirmed.
                p.add(
                    "credit_code",
                    _("This credit code cannot be registered here; check it or ask an administrator."),
                )
    fields = _enterprise_fields(
        p, {"name": name, "industry": industry, "park": park, "building": building, "size": size}
    )
    p.raise_if_any()
    e = Enterprise.objects.create(credit_code=code, unit=unit, **fields)
    log_action(
        actor,
        action="outreach.enterprise.created",
        target=e,
        unit_path=unit.path,
        changes=enterprise_snapshot(e),
    )
    return e


@transaction.atomic
def enterprise_update(*, actor: Any, enterprise: Enterprise, **fields: Any) -> Enterprise:
    """Change an enterprise's name, industry, park, building, size, unit or active flag (not its code)."""
    allowed = {"name", "industry", "park", "building", "size", "unit", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: _("This field cannot be changed.") for k in sorted(unknown)})
    _require_write(actor, enterprise.unit)
    if "unit" in fields and fields["unit"] != enterprise.unit:
        _require_write(actor, fields["unit"])
    p = Problems()
    clean = _enterprise_fields(p, fields)
    p.raise_if_any()
    e = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = enterprise_snapshot(e)
    for k, v in clean.items():
        setattr(e, k, v)
    e.save()
    changes = diff(before, enterprise_snapshot(e))
    if changes:
        log_action(
            actor, action="outreach.enterprise.updated", target=e, unit_path=e.unit.path, changes=changes
        )
    return e


# ---------------------------------------------------------------- liaisons


@transaction.atomic
def liaison_assign(
    *,
    actor: Any,
    enterprise: Enterprise,
    person: Person,
    start: date,
    end: date | None = None,
    role: str = LiaisonRole.LIAISON,
) -> Liaison:
    """Assign ``person`` to ``enterprise`` as its liaison (or party-building guide) from ``start``."""
    _require_write(actor, enterprise.unit)
    p = Problems()
    if role not in LiaisonRole.values:
        p.add("role", _("Role is one of: %(choices)s.") % {"choices": ", ".join(LiaisonRole.values)})
    _day(p, "start", start, future=True)
    _day(p, "end", end, future=True)
    if end is not None and start is not None and end < start:
        p.add("end", _("The period cannot end before it starts."))
    if not p.errors:
        overlapping = Liaison.objects.filter(enterprise=enterprise, person=person, role=role).exclude(
            end__lt=start
        )
        if end is not None:
            overlapping = overlapping.exclude(start__gt=end)
        if overlapping.exists():
            p.add(
                "person",
                _("%(name)s is already assigned to this enterprise in that period.") % {"name": person.name},
            )
    p.raise_if_any()
    li = Liaison.objects.create(enterprise=enterprise, person=person, role=role, start=start, end=end)
    log_action(
        actor,
        action="outreach.liaison.assigned",
        target=li,
        unit_path=enterprise.unit.path,
        changes={
            "person": person.code,
            "role": role,
            "start": start.isoformat(),
            "end": end.isoformat() if end else None,
        },
    )
    return li


@transaction.atomic
def liaison_end(*, actor: Any, liaison: Liaison, end: date) -> Liaison:
    """End a liaison's period on ``end`` (the last day)."""
    _require_write(actor, liaison.enterprise.unit)
    li = Liaison.objects.select_for_update().get(pk=liaison.pk)
    p = Problems()
    _day(p, "end", end, future=True)
    if not p.errors and end < li.start:
        p.add("end", _("The period cannot end before it starts."))
    p.raise_if_any()
    before = li.end
    li.end = end
    li.save(update_fields=["end"])
    log_action(
        actor,
        action="outreach.liaison.ended",
        target=li,
        unit_path=li.enterprise.unit.path,
        changes={"end": [before.isoformat() if before else None, end.isoformat()]},
    )
    return li


# ---------------------------------------------------------------- visits


@transaction.atomic
def visit_record(
    *,
    actor: Any,
    held_on: date,
    unit: Unit,
    form: str = VisitForm.ON_SITE,
    branch: Unit | None = None,
    visitors: Sequence[Person] = (),
    enterprises: Sequence[Enterprise] = (),
    partners: Sequence[Partner] = (),
    topics: str = "",
    findings: str = "",
    meeting_id: int | None = None,
    meeting_unit: Unit | None = None,
) -> Visit:
    """Record a visit or survey. ``meeting_id`` links it to a party-life meeting (read-only, checked by
    the caller through party life's queries: ``meeting_unit`` is that meeting's unit, which must be
    ``branch``)."""
    _require_write(actor, unit, branch)
    p = Problems()
    _day(p, "held_on", held_on)
    if form not in VisitForm.values:
        p.add("form", _("Form is one of: %(choices)s.") % {"choices": ", ".join(VisitForm.values)})
    if branch is not None and branch.kind not in PARTY_KINDS:
        p.add("branch", _("%(unit)s is not a party organization.") % {"unit": branch.name})
    topics = p.text("topic", topics or "", max_length=300)
    findings = p.text("findings", findings or "", multiline=True, max_length=10000)
    if not visitors:
        p.add("visitors", _("A visit has at least one visitor."))
    if not enterprises and not partners:
        p.add("enterprises", _("Name the enterprises or partners visited."))
    if meeting_id is not None and (branch is None or meeting_unit is None or meeting_unit.pk != branch.pk):
        p.add("meeting", _("The meeting must be one of the visit's party branch."))
    for e in enterprises:
        if not access.can(actor, Perm.VIEW, e.unit):
            p.add(
                "enterprises",
                _("There is no enterprise with the credit code %(code)s.") % {"code": e.credit_code},
            )
    p.raise_if_any()
    visit = Visit.objects.create(
        held_on=held_on,
        form=form,
        unit=unit,
        branch=branch,
        topics=topics,
        findings=findings,
        meeting_id=meeting_id,
        recorded_by=actor if getattr(actor, "pk", None) is not None else None,
    )
    visit.visitors.set(visitors)
    visit.enterprises.set(enterprises)
    visit.partners.set(partners)
    facts.record([unit.path, branch.path if branch else None], held_on, visits=1)
    log_action(
        actor,
        action="outreach.visit.recorded",
        target=visit,
        unit_path=unit.path,
        changes={
            "date": held_on.isoformat(),
            "form": form,
            "branch": branch.code if branch else None,
            "visitors": sorted(v.code for v in visitors),
            "enterprises": sorted(e.credit_code for e in enterprises),
            "partners": sorted(x.code for x in partners),
            "meeting": meeting_id,
        },
    )
    signals.visit_recorded.send(sender="visit_record", visit=visit)
    return visit


# ---------------------------------------------------------------- problems


def problem_snapshot(pr: Problem) -> dict[str, Any]:
    return {
        "title": pr.title,
        "description": pr.description,
        "category": pr.category,
        "unit": pr.unit.code,
        "owner": pr.owner.code if pr.owner_id and pr.owner else None,
        "deadline": pr.deadline.isoformat() if pr.deadline else None,
        "status": pr.status,
    }


def _event(
    actor: Any, pr: Problem, action: str, on: date, text: str = "", evidence: str = ""
) -> ProblemEvent:
    ev = ProblemEvent.objects.create(
        problem=pr,
        action=action,
        status=pr.status,
        on=on,
        text=text,
        evidence=evidence,
        actor_name=(actor.get_username() if hasattr(actor, "get_username") else str(actor))[:150],
    )
    signals.problem_changed.send(sender=f"problem_{action}", problem=pr, event=ev)
    return ev


@transaction.atomic
def problem_raise(
    *,
    actor: Any,
    title: str,
    unit: Unit,
    raised_on: date,
    category: str = "",
    description: str = "",
    owner: Person | None = None,
    enterprise: Enterprise | None = None,
    visit: Visit | None = None,
    deadline: date | None = None,
    branch: Unit | None = None,
) -> Problem:
    """Put a problem on the list, owned by ``unit`` (and ``owner``); from a visit or from elsewhere."""
    if visit is not None and branch is None:
        branch = visit.branch
    _require_write(actor, unit, branch)
    p = Problems()
    title = p.text("title", title or "", max_length=200)
    if not title and "title" not in p.errors:
        p.add("title", _("Say what the problem is."))
    category = p.text("category", category or "", max_length=60)
    description = p.text("description", description or "", multiline=True, max_length=10000)
    _day(p, "raised_on", raised_on)
    _day(p, "deadline", deadline, future=True)
    if deadline is not None and raised_on is not None and deadline < raised_on and "deadline" not in p.errors:
        p.add("deadline", _("The deadline cannot be before the day the problem was raised."))
    if visit is not None and raised_on is not None and raised_on < visit.held_on:
        p.add("raised_on", _("A problem of a visit cannot be raised before the visit."))
    if enterprise is not None and not access.can(actor, Perm.VIEW, enterprise.unit):
        p.add(
            "enterprise",
            _("There is no enterprise with the credit code %(code)s.") % {"code": enterprise.credit_code},
        )
    p.raise_if_any()
    pr = Problem.objects.create(
        title=title,
        description=description,
        category=category,
        raised_on=raised_on,
        unit=unit,
        branch=branch,
        owner=owner,
        enterprise=enterprise or None,
        visit=visit,
        deadline=deadline,
    )
    _event(actor, pr, ProblemAction.RAISED, raised_on)
    facts.record(_paths(pr), raised_on, raised=1)
    log_action(
        actor, action="outreach.problem.raised", target=pr, unit_path=unit.path, changes=problem_snapshot(pr)
    )
    return pr


def _paths(pr: Problem) -> list[str | None]:
    return [pr.unit.path, pr.branch.path if pr.branch is not None else None]


def _locked(actor: Any, problem: Problem) -> Problem:
    _require_write(actor, problem.unit, problem.branch)
    return (
        Problem.objects.select_for_update(of=("self",))
        .select_related("unit", "branch", "enterprise")
        .get(pk=problem.pk)
    )


def _closed_message(pr: Problem) -> str:
    return _("This problem is %(status)s; reopen it first.") % {"status": pr.get_status_display().lower()}


@transaction.atomic
def problem_update(*, actor: Any, problem: Problem, **fields: Any) -> Problem:
    """Edit an open problem (title, description, category, owner, deadline). A resolved or unsolvable
    problem is not edited: it is reopened, which its history records."""
    allowed = {"title", "description", "category", "owner", "deadline"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: _("This field cannot be changed.") for k in sorted(unknown)})
    pr = _locked(actor, problem)
    if pr.status in CLOSED:
        raise ValidationError({"status": _closed_message(pr)})
    p = Problems()
    if "title" in fields:
        fields["title"] = p.text("title", fields["title"] or "", max_length=200)
        if not fields["title"] and "title" not in p.errors:
            p.add("title", _("Say what the problem is."))
    if "category" in fields:
        fields["category"] = p.text("category", fields["category"] or "", max_length=60)
    if "description" in fields:
        fields["description"] = p.text(
            "description", fields["description"] or "", multiline=True, max_length=10000
        )
    if "deadline" in fields:
        _day(p, "deadline", fields["deadline"], future=True)
        if (
            fields["deadline"] is not None
            and fields["deadline"] < pr.raised_on
            and "deadline" not in p.errors
        ):
            p.add("deadline", _("The deadline cannot be before the day the problem was raised."))
    p.raise_if_any()
    before = problem_snapshot(pr)
    for k, v in fields.items():
        setattr(pr, k, v)
    pr.save()
    changes = diff(before, problem_snapshot(pr))
    if changes:
        _event(actor, pr, ProblemAction.EDITED, today(), text=", ".join(sorted(changes)))
        log_action(
            actor, action="outreach.problem.updated", target=pr, unit_path=pr.unit.path, changes=changes
        )
    return pr


def _transition_day(p: Problems, pr: Problem, on: date) -> None:
    _day(p, "on", on)
    if "on" not in p.errors and on < pr.raised_on:
        p.add(
            "on",
            _("This cannot happen before the problem was raised (%(date)s).")
            % {"date": pr.raised_on.isoformat()},
        )
    last = pr.events.order_by("-on", "-id").first()
    if "on" not in p.errors and last is not None and on < last.on:
        p.add(
            "on",
            _("The problem's history already has a step on %(date)s; this one cannot be earlier.")
            % {"date": last.on.isoformat()},
        )


@transaction.atomic
def problem_start(*, actor: Any, problem: Problem, on: date | None = None) -> Problem:
    """Mark an open problem as in progress."""
    pr = _locked(actor, problem)
    on = on or today()
    if pr.status != ProblemStatus.OPEN:
        raise ValidationError({"status": _("Only an open problem can be started.")})
    p = Problems()
    _transition_day(p, pr, on)
    p.raise_if_any()
    pr.status = ProblemStatus.IN_PROGRESS
    pr.save(update_fields=["status"])
    _event(actor, pr, ProblemAction.STARTED, on)
    log_action(
        actor,
        action="outreach.problem.started",
        target=pr,
        unit_path=pr.unit.path,
        changes={"on": on.isoformat()},
    )
    return pr


@transaction.atomic
def problem_resolve(
    *,
    actor: Any,
    problem: Problem,
    resolution: str,
    on: date | None = None,
    evidence: str = "",
    notify_people: bool = True,
) -> Problem:
    """Resolve a problem: how (required), with what evidence, on which day. The enterprise's liaisons and
    the problem's owner are told."""
    pr = _locked(actor, problem)
    on = on or today()
    if pr.status in CLOSED:
        raise ValidationError({"status": _closed_message(pr)})
    p = Problems()
    resolution = p.text("resolution", resolution or "", multiline=True, max_length=10000).strip()
    if not resolution and "resolution" not in p.errors:
        p.add("resolution", _("Say how the problem was resolved."))
    evidence = p.text("evidence", evidence or "", max_length=300)
    _transition_day(p, pr, on)
    p.raise_if_any()
    pr.status = ProblemStatus.RESOLVED
    pr.resolved_on = on
    pr.resolution = resolution
    pr.evidence = evidence
    pr.reason = ""
    pr.save(update_fields=["status", "resolved_on", "resolution", "evidence", "reason"])
    _event(actor, pr, ProblemAction.RESOLVED, on, text=resolution, evidence=evidence)
    facts.record(_paths(pr), on, resolved=1)
    log_action(
        actor,
        action="outreach.problem.resolved",
        target=pr,
        unit_path=pr.unit.path,
        changes={"on": on.isoformat(), "resolution": resolution, "evidence": evidence},
    )
    if notify_people:
        _tell_resolved(pr)
    return pr


def _tell_resolved(pr: Problem) -> None:
    people: dict[int, Person] = {}
    if pr.enterprise_id is not None:
        day = today()
        for li in (
            Liaison.objects.filter(enterprise_id=pr.enterprise_id, start__lte=day)
            .exclude(end__lt=day)
            .select_related("person__user")
        ):
            people[li.person.pk] = li.person
    if pr.owner_id is not None and pr.owner is not None:
        people.setdefault(pr.owner.pk, pr.owner)
    if not people:
        return
    who = pr.enterprise.name if pr.enterprise is not None else pr.unit.name
    notify(
        recipients_of(people.values()),
        verb="outreach.problem_resolved",
        title=_("Problem resolved: %(title)s") % {"title": pr.title},
        body=_("%(who)s: %(resolution)s") % {"who": who, "resolution": pr.resolution},
        link=f"/outreach/problems/{pr.pk}/",
    )


@transaction.atomic
def problem_declare_unsolvable(
    *, actor: Any, problem: Problem, reason: str, on: date | None = None
) -> Problem:
    """Close a problem that cannot be solved, saying why (required)."""
    pr = _locked(actor, problem)
    on = on or today()
    if pr.status in CLOSED:
        raise ValidationError({"status": _closed_message(pr)})
    p = Problems()
    reason = p.text("reason", reason or "", multiline=True, max_length=10000).strip()
    if not reason and "reason" not in p.errors:
        p.add("reason", _("Say why the problem cannot be solved."))
    _transition_day(p, pr, on)
    p.raise_if_any()
    pr.status = ProblemStatus.UNSOLVABLE
    pr.reason = reason
    pr.resolved_on = None
    pr.save(update_fields=["status", "reason", "resolved_on"])
    _event(actor, pr, ProblemAction.UNSOLVABLE, on, text=reason)
    log_action(
        actor,
        action="outreach.problem.unsolvable",
        target=pr,
        unit_path=pr.unit.path,
        changes={"on": on.isoformat(), "reason": reason},
    )
    return pr


@transaction.atomic
def problem_reopen(*, actor: Any, problem: Problem, reason: str, on: date | None = None) -> Problem:
    """Reopen a resolved or unsolvable problem, saying why; it counts as unresolved from ``on``."""
    pr = _locked(actor, problem)
    on = on or today()
    if pr.status not in CLOSED:
        raise ValidationError({"status": _("Only a resolved or unsolvable problem can be reopened.")})
    p = Problems()
    reason = p.text("reason", reason or "", multiline=True, max_length=10000).strip()
    if not reason and "reason" not in p.errors:
        p.add("reason", _("A reason is required."))
    _transition_day(p, pr, on)
    p.raise_if_any()
    was_resolved = pr.status == ProblemStatus.RESOLVED
    pr.status = ProblemStatus.OPEN
    pr.resolved_on = None
    pr.save(update_fields=["status", "resolved_on"])
    _event(actor, pr, ProblemAction.REOPENED, on, text=reason)
    if was_resolved:
        facts.record(_paths(pr), on, resolved=-1)
    log_action(
        actor,
        action="outreach.problem.reopened",
        target=pr,
        unit_path=pr.unit.path,
        changes={"on": on.isoformat(), "reason": reason},
    )
    return pr


# ---------------------------------------------------------------- files of visits, problems and classes

# The record a file may belong to: the attachment's field for it, the audit's word for it.
_FILE_OWNERS: dict[type, tuple[str, str]] = {
    Visit: ("visit", "visit"),
    Problem: ("problem", "problem"),
    TaxClass: ("tax_class", "class"),
}


def attachment_owner(a: Attachment) -> Visit | Problem | TaxClass:
    """The visit, problem or class a file belongs to."""
    owner = a.visit or a.problem or a.tax_class
    assert owner is not None  # the check constraint: exactly one
    return owner


def attachment_add(
    *, actor: Any, owner: Visit | Problem | TaxClass, data: bytes, filename: str
) -> Attachment:
    """Attach a file to a visit, a problem (the evidence of its resolution) or a taxpayer class: a JPEG, PNG
    or WebP photo or a PDF (told by its content), at most ``attachments.max_bytes()``; kept in private
    storage. Needs the right to write the record (its unit, or its party branch); out of scope is 404."""
    from muster.orgs.rules import check_text
    from muster.outreach import attachments

    field, word = _FILE_OWNERS[type(owner)]
    _require_write(actor, owner.unit, owner.branch)
    name = check_text("file", filename or "", max_length=500) or "file"
    name = name.replace("/", "_").replace("\\", "_")[-120:]
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    limit = attachments.max_bytes()
    if len(data) > limit:
        raise ValidationError(
            {"file": _("The file is larger than %(n)s MB.") % {"n": round(limit / 1024 / 1024, 1)}}
        )
    kind = attachments.sniff(data[:16])
    if kind is None:
        raise ValidationError(
            {"file": _("%(name)s is not a JPEG, PNG or WebP photo or a PDF file.") % {"name": name}}
        )
    stored, digest = attachments.store(data, kind[1])
    try:
        with transaction.atomic():
            a = Attachment.objects.create(
                **{field: owner},
                name=name,
                content_type=kind[0],
                size=len(data),
                sha256=digest,
                stored_as=stored,
                uploaded_by=actor if getattr(actor, "pk", None) is not None else None,
            )
            log_action(
                actor,
                action=f"outreach.{word}.file_added",
                target=owner,
                unit_path=owner.unit.path,
                changes={"file": name, "bytes": len(data), "sha256": digest},
            )
    except Exception:
        attachments.remove(stored)  # nothing half written
        raise
    return a


def attachment_read_log(*, actor: Any, attachment: Attachment) -> None:
    """Record that ``actor`` opened a file (the caller has checked its record is in scope)."""
    owner = attachment_owner(attachment)
    log_action(
        actor,
        action=f"outreach.{_FILE_OWNERS[type(owner)][1]}.file_read",
        target=owner,
        unit_path=owner.unit.path,
        changes={"file": attachment.name},
    )
