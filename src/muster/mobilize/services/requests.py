"""Requests for help (需求): create and update."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.models import Request, RequestStatus
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Tag, Unit
from muster.orgs.validators import normalize_text

from .common import _check_span, _iso


def _next_code(prefix: str, model: Any) -> str:
    n = model.objects.filter(code__startswith=prefix).count() + 1
    while model.objects.filter(code=f"{prefix}{n:03d}").exists():
        n += 1
    return f"{prefix}{n:03d}"


@transaction.atomic
def request_create(
    *,
    actor: Any,
    unit: Unit,
    partner: Partner,
    title: str,
    people_needed: int,
    start: datetime,
    end: datetime,
    site: str = "",
    description: str = "",
    skills: Iterable[str] = (),
    code: str = "",
) -> Request:
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    if not access.scoped(Partner.objects.filter(pk=partner.pk), actor).exists():
        raise ValidationError({"partner": _("Unknown partner.")})
    start, end = _check_span(start, end)
    problems = rules.Problems()
    title = problems.text("title", title, max_length=200)
    site = problems.text("site", site, max_length=200)
    description = problems.text("description", description, multiline=True)
    problems.integer("people_needed", people_needed, rules.PEOPLE_NEEDED)
    code = problems.code("code", code)
    problems.raise_if_any()
    errors = {}
    if not title:
        errors["title"] = _("Say what the task is.")
    code = code or _next_code(f"RQ-{unit.code}-", Request)
    if Request.objects.filter(code=code).exists():
        errors["code"] = _("Another request already has the code %(code)s.") % {"code": code}
    if errors:
        raise ValidationError(errors)
    req = Request.objects.create(
        code=code,
        unit=unit,
        partner=partner,
        title=title,
        description=description,
        site=normalize_text(site),
        people_needed=people_needed,
        start=start,
        end=end,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    from muster.orgs.services import tags_get_or_create

    tags: list[Tag] = tags_get_or_create(actor=actor, names=skills)
    req.skills.set(tags)
    log_action(
        actor,
        action="mobilize.request.created",
        target=req,
        unit_path=unit.path,
        changes={
            "code": code,
            "partner": partner.code,
            "title": title,
            "people_needed": people_needed,
            "start": _iso(start),
            "end": _iso(end),
            "skills": sorted(t.name for t in tags),
        },
    )
    return req


@transaction.atomic
def request_update(
    *,
    actor: Any,
    request: Request,
    status: str | None = None,
    people_needed: int | None = None,
    title: str | None = None,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Request:
    access.require(actor, Perm.MOBILIZE_DISPATCH, request.unit)
    req = Request.objects.select_for_update().get(pk=request.pk)
    before = {
        "status": req.status,
        "people_needed": req.people_needed,
        "title": req.title,
        "site": req.site,
        "start": _iso(req.start),
        "end": _iso(req.end),
    }
    if status is not None:
        if status not in RequestStatus.values:
            raise ValidationError({"status": _("Unknown status %(status)s.") % {"status": status}})
        req.status = status
    problems = rules.Problems()
    if people_needed is not None:
        req.people_needed = problems.integer("people_needed", people_needed, rules.PEOPLE_NEEDED)
    if title is not None:
        req.title = problems.text("title", title, max_length=200)
        if not req.title and "title" not in problems.errors:
            problems.add("title", _("Say what the task is."))
    if site is not None:
        req.site = problems.text("site", site, max_length=200)
    problems.raise_if_any()
    req.start, req.end = _check_span(start or req.start, end or req.end)
    after = {
        "status": req.status,
        "people_needed": req.people_needed,
        "title": req.title,
        "site": req.site,
        "start": _iso(req.start),
        "end": _iso(req.end),
    }
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        req.save()
        log_action(
            actor, action="mobilize.request.updated", target=req, unit_path=req.unit.path, changes=changes
        )
    return req
