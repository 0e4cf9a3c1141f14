"""Posts (model posts, vanguard posts, responsibility areas) and leaders' contact points with visits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.orgs.access import NotAllowed, Perm, can, get_scoped_or_404, scoped
from muster.orgs.models import Team
from muster.partylife import services
from muster.partylife.forms import ContactPointForm, PostForm, VisitForm
from muster.partylife.models import ContactPoint, PartyPost
from muster.partylife.views.common import party_units, resolve_person
from muster.web.views.common import apply_service_errors


@login_required
def post_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    posts = scoped(PartyPost.objects.select_related("unit", "person", "team"), user, Perm.VIEW)
    kind = request.GET.get("kind", "")
    if kind:
        posts = posts.filter(kind=kind)
    contact_points = (
        scoped(ContactPoint.objects.select_related("leader", "branch"), user, Perm.VIEW)
        .prefetch_related("visits")
        .order_by("branch__path", "start")
    )
    today = timezone.localdate()
    return render(
        request,
        "partylife/posts/list.html",
        {
            "posts": posts.order_by("kind", "unit__path", "name"),
            "contact_points": contact_points,
            "today": today,
            "can_add": party_units(user, Perm.PARTY_RECORD).exists(),
        },
    )


@login_required
def post_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = party_units(user, Perm.PARTY_RECORD)
    if not units.exists():
        raise NotAllowed(Perm.PARTY_RECORD)
    teams = scoped(Team.objects.filter(is_active=True), user, Perm.VIEW).order_by("code")
    form = PostForm(request.POST or None, units=units, teams=teams, initial={"start": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = resolve_person(form, user, "person")
        if not form.errors:
            try:
                services.party_post_create(
                    actor=user,
                    kind=data["kind"],
                    name=data["name"],
                    unit=data["unit"],
                    start=data["start"],
                    end=data.get("end"),
                    person=person,
                    team=data.get("team"),
                    description=data.get("description") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The post was designated."))
                return redirect(reverse("partylife:posts"))
    return render(
        request,
        "partylife/form.html",
        {
            "form": form,
            "title": _("Designate a post"),
            "back": reverse("partylife:posts"),
            "form_id": "post-form",
        },
    )


@login_required
def contact_point_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = party_units(user, Perm.PARTY_RECORD)
    if not units.exists():
        raise NotAllowed(Perm.PARTY_RECORD)
    form = ContactPointForm(request.POST or None, units=units, initial={"start": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        leader = resolve_person(form, user, "leader")
        if leader is not None:
            try:
                cp = services.contact_point_create(
                    actor=user,
                    leader=leader,
                    branch=data["branch"],
                    start=data["start"],
                    note=data.get("note") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The contact point was recorded."))
                return redirect(reverse("partylife:contact_point_detail", args=[cp.pk]))
    return render(
        request,
        "partylife/form.html",
        {
            "form": form,
            "title": _("Link a leader to a contact point"),
            "back": reverse("partylife:posts"),
            "form_id": "contact-point-form",
        },
    )


@login_required
def contact_point_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    qs = ContactPoint.objects.select_related("leader", "branch")
    own = qs.filter(pk=pk, leader__user_id=user.pk or 0).first()  # the leader sees their own contact point
    cp = own or get_scoped_or_404(qs, user, pk=pk)
    is_leader = own is not None
    may_record = is_leader or can(user, Perm.PARTY_RECORD, cp.branch)
    form = VisitForm(request.POST or None, initial={"visited_on": timezone.localdate()})
    if request.method == "POST":
        if not may_record:
            raise NotAllowed(Perm.PARTY_RECORD)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.contact_visit_record(
                    actor=user,
                    contact_point=cp,
                    visited_on=data["visited_on"],
                    topic=data["topic"],
                    notes=data.get("notes") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The visit was recorded."))
                return redirect(reverse("partylife:contact_point_detail", args=[cp.pk]))
    return render(
        request,
        "partylife/posts/contact_point.html",
        {"cp": cp, "visits": cp.visits.all(), "form": form, "may_record": may_record},
    )
