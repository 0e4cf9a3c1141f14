"""Standing posts (岗位): create and update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.mobilize.models import Post, PostKind
from muster.mobilize.shift_templates import normalize_curve
from muster.orgs import access, rules
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Unit
from muster.orgs.validators import normalize_text


@transaction.atomic
def post_create(
    *,
    actor: Any,
    unit: Unit,
    code: str,
    name: str,
    kind: str,
    partner: Partner | None = None,
    site: str = "",
    required_seats: Sequence[int] | Sequence[Sequence[int]] | None = None,
) -> Post:
    access.require(actor, Perm.MOBILIZE_DISPATCH, unit)
    problems = rules.Problems()
    code = problems.code("code", code)
    name = problems.text("name", name, max_length=120)
    site = problems.text("site", site, max_length=200)
    problems.raise_if_any()
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = _("A code is required.")
    elif Post.objects.filter(code=code).exists():
        errors["code"] = _("Another post already has the code %(code)s.") % {"code": code}
    if not name:
        errors["name"] = _("A name is required.")
    if kind not in PostKind.values:
        errors["kind"] = _("Unknown post type %(kind)s.") % {"kind": kind}
    curve: list[list[int]] = []
    if required_seats:
        try:
            curve = normalize_curve(required_seats)
        except (ValueError, TypeError):
            errors["required_seats"] = _(
                "Give 24 seat counts (every day) or 7 rows of 24 (Monday first), each zero or more."
            )
        else:
            if (problem := _curve_problem(curve)) is not None:
                errors["required_seats"] = problem
    if errors:
        raise ValidationError(errors)
    post = Post.objects.create(
        code=code,
        name=name,
        kind=kind,
        unit=unit,
        partner=partner,
        site=normalize_text(site),
        required_seats=curve,
    )
    log_action(
        actor,
        action="mobilize.post.created",
        target=post,
        unit_path=unit.path,
        changes={"code": code, "name": name, "kind": kind, "required_seats": curve},
    )
    return post


@transaction.atomic
def post_update(
    *,
    actor: Any,
    post: Post,
    name: str | None = None,
    site: str | None = None,
    required_seats: Sequence[int] | Sequence[Sequence[int]] | None = None,
    is_active: bool | None = None,
) -> Post:
    access.require(actor, Perm.MOBILIZE_DISPATCH, post.unit)
    p = Post.objects.select_for_update().get(pk=post.pk)
    before = {"name": p.name, "site": p.site, "required_seats": p.required_seats, "is_active": p.is_active}
    problems = rules.Problems()
    if name is not None:
        p.name = problems.text("name", name, max_length=120)
        if not p.name and "name" not in problems.errors:
            problems.add("name", _("A name is required."))
    if site is not None:
        p.site = problems.text("site", site, max_length=200)
    problems.raise_if_any()
    if required_seats is not None:
        try:
            p.required_seats = normalize_curve(required_seats) if required_seats else []
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                {
                    "required_seats": _(
                        "Give 24 seat counts (every day) or 7 rows of 24 (Monday first), each zero or more."
                    )
                }
            ) from exc
        if (problem := _curve_problem(p.required_seats)) is not None:
            raise ValidationError({"required_seats": problem})
    if is_active is not None:
        p.is_active = is_active
    after = {"name": p.name, "site": p.site, "required_seats": p.required_seats, "is_active": p.is_active}
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        p.save()
        log_action(actor, action="mobilize.post.updated", target=p, unit_path=p.unit.path, changes=changes)
    return p


def _curve_problem(curve: list[list[int]]) -> str | None:
    """Why a post's seats-per-hour curve is out of bounds (each hour: as many seats as a shift may have)."""
    lo, hi = rules.SEAT_CURVE
    if any(not lo <= v <= hi for row in curve for v in row):
        return rules.int_message("required_seats", lo, hi)
    return None
