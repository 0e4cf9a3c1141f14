"""Posts and shifts: create one or from a template, assign people, the QR code, a post's coverage grid."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from itertools import groupby
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.mobilize import queries, services, shift_templates
from muster.mobilize.forms import AssignForm, CoverageForm, PostForm, ShiftForm, ShiftTemplateForm
from muster.mobilize.models import Deployment, Post, Shift
from muster.mobilize.shift_templates import HourCoverage, ShiftSpec
from muster.mobilize.views.batches import plans_index_url
from muster.mobilize.views.common import dispatch_units, report_warnings
from muster.orgs.access import NotAllowed, Perm, can, can_anywhere, get_scoped_or_404, scoped
from muster.orgs.models import Person
from muster.web.views.common import apply_service_errors, form_status

# ------------------------------------------------------------------ posts


@login_required
def post_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "mobilize/posts/list.html",
        {"posts": queries.post_list(user), "can_add": can_anywhere(user, Perm.MOBILIZE_DISPATCH)},
    )


@login_required
def post_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.MOBILIZE_DISPATCH):
        raise NotAllowed(Perm.MOBILIZE_DISPATCH)
    form = PostForm(request.POST or None, units=dispatch_units(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            post = services.post_create(
                actor=user,
                unit=data["unit"],
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                site=data.get("site") or "",
                required_seats=data.get("required_seats") or None,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The post %(name)s was created.") % {"name": post.name})
            return redirect(reverse("mobilize:post_detail", args=[post.pk]))
    return render(
        request,
        "mobilize/form.html",
        {"form": form, "title": _("New post"), "back": reverse("mobilize:posts")},
    )


def coverage_rows(cells: Sequence[HourCoverage]) -> list[tuple[Any, list[HourCoverage]]]:
    """The grid's cells grouped by local day: [(date, [cell per hour])]."""
    tz = timezone.get_current_timezone()
    return [(day, list(group)) for day, group in groupby(cells, key=lambda c: c.start.astimezone(tz).date())]


@login_required
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A post's shifts and its coverage: every hour a cell, green when covered, red when a seat is empty."""
    user = request.user
    post = get_scoped_or_404(Post.objects.select_related("unit", "partner"), user, pk=pk)
    form = CoverageForm(request.GET or None)
    first = timezone.localdate()
    days = 7
    if form.is_valid():
        first = form.cleaned_data.get("start") or first
        days = form.cleaned_data.get("days") or days
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = start + timedelta(days=days)
    cells = queries.post_coverage(post, start=start, end=end)
    shifts = (
        post.shifts.filter(start__lt=end, end__gt=start).select_related("deployment").order_by("start", "id")
    )
    return render(
        request,
        "mobilize/posts/detail.html",
        {
            "post": post,
            "form": form,
            "grid": coverage_rows(cells),
            "hours": range(24),
            "red": sum(1 for c in cells if c.state == "red"),
            "green": sum(1 for c in cells if c.state == "green"),
            "shifts": [(s, s.assignments.count()) for s in shifts],
            "may_manage": can(user, Perm.MOBILIZE_DISPATCH, post.unit),
            # roster plans reach back through their relation (mobilize does not import the roster app)
            "plans": list(post.roster_plans.order_by("start_date", "pk")),
            "plans_url": plans_index_url(),
        },
        status=form_status(form),
    )


# ------------------------------------------------------------------ creating shifts


def _owner(user: Any, kind: str, pk: int) -> tuple[Deployment | None, Post | None, str]:
    if kind == "batch":
        d = queries.deployment_get_or_404(user, pk=pk)
        return d, None, reverse("mobilize:batch_detail", args=[d.pk])
    post = get_scoped_or_404(Post.objects.select_related("unit"), user, pk=pk)
    return None, post, reverse("mobilize:post_detail", args=[post.pk])


@login_required
def shift_create(request: HttpRequest, owner: str, pk: int) -> HttpResponse:
    user = request.user
    deployment, post, back = _owner(user, owner, pk)
    initial: dict[str, Any] = {}
    if deployment is not None:
        initial = {
            "start": deployment.start,
            "end": min(deployment.end, deployment.start + timedelta(hours=8)),
        }
    form = ShiftForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            shift = services.shift_create(
                actor=user,
                deployment=deployment,
                post=post,
                start=data["start"],
                end=data["end"],
                seats=data["seats"],
                remote=bool(data.get("remote")),
                label=data.get("label") or "",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The shift was created."))
            return redirect(reverse("mobilize:shift_detail", args=[shift.pk]))
    return render(
        request,
        "mobilize/form.html",
        {"form": form, "title": _("New shift"), "subtitle": str(deployment or post), "back": back},
    )


def template_specs(data: dict[str, Any]) -> list[ShiftSpec]:
    tz = timezone.get_current_timezone()
    kind = data["template"]
    if kind == "three":
        return shift_templates.three_rotations(
            data["first_day"],
            data["days"],
            tz,
            start_hour=data["start_hour"],
            seats=data["seats"],
            remote=bool(data.get("remote")),
        )
    if kind == "duty24":
        return shift_templates.duty_24h(
            data["first_day"],
            data["days"],
            tz,
            start_hour=data["start_hour"],
            seats=data["seats"],
            remote=bool(data.get("remote")),
        )
    return shift_templates.hotline_curve(
        data["first_day"],
        data["days"],
        tz,
        data["curve"],
        max_hours=data["max_hours"],
        remote=bool(data.get("remote")),
    )


@login_required
def shift_template(request: HttpRequest, owner: str, pk: int) -> HttpResponse:
    """Create shifts from a template (三班倒, 24-hour duty, hotline seat curve) over a date range."""
    user = request.user
    deployment, post, back = _owner(user, owner, pk)
    initial: dict[str, Any] = {"template": "three", "days": 1, "start_hour": 8, "seats": 1, "max_hours": 4}
    if deployment is not None:
        initial["first_day"] = timezone.localtime(deployment.start).date()
    else:
        initial["first_day"] = timezone.localdate()
        if post is not None and post.required_seats:
            initial["template"] = "hotline"
            initial["curve"] = "\n".join(" ".join(str(v) for v in row) for row in post.required_seats)
    form = ShiftTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            specs = template_specs(form.cleaned_data)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            try:
                shifts = services.shifts_create(actor=user, specs=specs, deployment=deployment, post=post)
            except ValidationError as exc:
                apply_service_errors(form, exc, rename={"start": "first_day", "specs": "days"})
            else:
                messages.success(request, _("%(n)s shifts were created.") % {"n": len(shifts)})
                return redirect(back)
    return render(
        request,
        "mobilize/form.html",
        {
            "form": form,
            "title": _("Shifts from a template"),
            "subtitle": str(deployment or post),
            "back": back,
            "form_id": "template-form",
        },
    )


# ------------------------------------------------------------------ one shift


def _shift_back(shift: Shift) -> str:
    if shift.deployment_id:
        return reverse("mobilize:batch_detail", args=[shift.deployment_id])
    return reverse("mobilize:post_detail", args=[shift.post_id])


@login_required
def shift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    shift = queries.shift_get_or_404(user, pk=pk)
    may_lead = services.may_lead_shift(user, shift)
    return render(
        request,
        "mobilize/shifts/detail.html",
        {
            "shift": shift,
            "roll": queries.shift_roll(shift),
            "may_lead": may_lead,
            "assign_form": AssignForm() if may_lead else None,
            "checkin_url": request.build_absolute_uri(reverse("mobilize:checkin", args=[shift.token])),
            "back": _shift_back(shift),
        },
    )


@login_required
def shift_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The shift's QR code (SVG), pointing to its mobile check-in page."""
    shift = queries.shift_get_or_404(request.user, pk=pk)
    url = request.build_absolute_uri(reverse("mobilize:checkin", args=[shift.token]))
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=True, title=str(shift))
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def shift_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    shift = queries.shift_get_or_404(user, pk=pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        code = form.cleaned_data["person_code"].strip()
        person = scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
        if person is None:
            messages.error(request, _("No person with the staff number %(code)s was found.") % {"code": code})
        else:
            try:
                result = services.shift_assign(actor=user, shift=shift, person=person)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                if result.created:
                    messages.success(request, _("%(name)s is on the shift.") % {"name": person.name})
                report_warnings(request, result.warnings)
    else:
        messages.error(request, _("Give a staff number."))
    return redirect(reverse("mobilize:shift_detail", args=[shift.pk]))


@login_required
@require_POST
def shift_unassign(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    user = request.user
    shift = queries.shift_get_or_404(user, pk=pk)
    person = shift.assignments.filter(person_id=person_pk).select_related("person").first()
    if person is None:
        raise Http404
    try:
        services.shift_unassign(actor=user, shift=shift, person=person.person)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(name)s was taken off the shift.") % {"name": person.person.name})
    return redirect(reverse("mobilize:shift_detail", args=[shift.pk]))
