"""Teams (list, page, forms, members) and partners (list, create)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.orgs import services
from muster.orgs.access import NotAllowed, Perm, can, can_anywhere, get_scoped_or_404, require, scoped
from muster.orgs.models import Person, Team
from muster.orgs.queries import partner_list, team_list
from muster.web.forms import PartnerForm, TeamForm, TeamMemberForm
from muster.web.views.common import apply_service_errors, paginate
from muster.web.views.units import change_units


@login_required
def team_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "web/teams/list.html",
        {"page": paginate(request, team_list(user)), "can_add": can_anywhere(user, Perm.CHANGE)},
    )


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    team = get_scoped_or_404(Team.objects.select_related("unit"), user, pk=pk)
    visible_people = scoped(Person.objects.all(), user, Perm.VIEW).values("pk")
    memberships = (
        team.memberships.select_related("person", "person__unit")
        .filter(person__in=visible_people)
        .order_by("role", "person__code")
    )
    may_change = can(user, Perm.CHANGE, team.unit)
    return render(
        request,
        "web/teams/detail.html",
        {
            "team": team,
            "memberships": memberships,
            "may_change": may_change,
            "member_form": TeamMemberForm() if may_change else None,
            "unit_visible": can(user, Perm.VIEW, team.unit),
        },
    )


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.CHANGE):
        raise NotAllowed(Perm.CHANGE)
    form = TeamForm(request.POST or None, units=change_units(user, party=None))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_create(
                actor=user,
                code=data["code"],
                name=data["name"],
                unit=data["unit"],
                kind=data["kind"],
                description=data.get("description") or "",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The team %(name)s was created.") % {"name": team.name})
            return redirect(reverse("web:team_detail", args=[team.pk]))
    return render(request, "web/teams/form.html", {"form": form, "title": _("Add a team")})


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    team = get_scoped_or_404(Team.objects.select_related("unit"), user, pk=pk)
    require(user, Perm.CHANGE, team)
    form = TeamForm(
        request.POST or None,
        editing=True,
        initial={
            "name": team.name,
            "kind": team.kind,
            "description": team.description,
            "is_active": team.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.team_update(
                actor=user,
                team=team,
                name=data["name"],
                kind=data["kind"],
                description=data.get("description") or "",
                is_active=bool(data.get("is_active")),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(reverse("web:team_detail", args=[team.pk]))
    return render(
        request,
        "web/teams/form.html",
        {"form": form, "team": team, "title": _("Edit %(name)s") % {"name": team.name}},
    )


@login_required
@require_POST
def team_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    team = get_scoped_or_404(Team.objects.select_related("unit"), user, pk=pk)
    require(user, Perm.CHANGE, team)
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        code = form.cleaned_data["person_code"].strip()
        person = scoped(Person.objects.all(), user, Perm.VIEW).filter(code=code).first()
        if person is None:
            messages.error(request, _("No person with the staff number %(code)s was found.") % {"code": code})
        else:
            try:
                services.team_member_add(actor=user, team=team, person=person, role=form.cleaned_data["role"])
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("%(name)s joined the team.") % {"name": person.name})
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(reverse("web:team_detail", args=[team.pk]))


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    user = request.user
    team = get_scoped_or_404(Team.objects.select_related("unit"), user, pk=pk)
    require(user, Perm.CHANGE, team)
    person = get_scoped_or_404(Person.objects.all(), user, pk=person_pk)
    services.team_member_remove(actor=user, team=team, person=person)
    messages.success(request, _("%(name)s left the team.") % {"name": person.name})
    return redirect(reverse("web:team_detail", args=[team.pk]))


@login_required
def partner_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "web/partners/list.html",
        {"page": paginate(request, partner_list(user)), "can_add": can_anywhere(user, Perm.CHANGE)},
    )


@login_required
def partner_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.CHANGE):
        raise NotAllowed(Perm.CHANGE)
    form = PartnerForm(request.POST or None, units=change_units(user))
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The partner %(name)s was added.") % {"name": partner.name})
            return redirect(reverse("web:partners"))
    return render(request, "web/partners/form.html", {"form": form})
