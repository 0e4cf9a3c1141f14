"""Notification pages: the in-app list, a person's channel choices, team bots, and the delivery log.

Thin: every object is found through ``muster.orgs.access`` / ``muster.notify.queries`` (out of scope =
404) and every change goes through ``muster.notify.services`` (permission, audit).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.notify import queries, senders, services
from muster.notify.forms import BotForm, DeliveryFilterForm, PreferenceForm
from muster.notify.models import Delivery, DeliveryStatus, Notification, TeamBot
from muster.notify.services import notification_read
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team
from muster.web.views.common import apply_service_errors, paginate, query_without_page


@login_required
def index(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.filter(recipient_id=request.user.pk).order_by("-created_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "notify/index.html", {"page": page})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    n = Notification.objects.filter(recipient_id=request.user.pk, pk=pk).first()
    if n is None:
        raise Http404
    notification_read(actor=request.user, notification=n)
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("notify:index")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_read(actor=request.user)
    return redirect("notify:index")


# ================================================================ a person's channel choices


def _own_person(request: HttpRequest) -> Person | None:
    if request.user.pk is None:
        return None
    return Person.objects.select_related("unit").filter(user=request.user).first()


def _person_for(request: HttpRequest, pk: int | None) -> Person | None:
    """The person whose choices the page is about: one's own, or one the user may change (else 404/403)."""
    if pk is None:
        return _own_person(request)
    person = access.get_scoped_or_404(
        Person.objects.select_related("unit", "party_unit"), request.user, pk=pk
    )
    if person.user_id != request.user.pk:
        access.require(request.user, Perm.CHANGE, person)
    return person


def _settings_url(person: Person, own: bool) -> str:
    return reverse("notify:settings") if own else reverse("notify:person_settings", args=[person.pk])


@login_required
def preferences(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    person = _person_for(request, pk)
    if person is None:
        return render(request, "notify/settings.html", {"person": None})
    own = person.user_id == request.user.pk
    pref = services.preference_of(person)
    form = PreferenceForm(
        request.POST or None,
        initial={"email_enabled": pref.email_enabled, "email": pref.email, "digest": pref.digest},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.preference_set(
                actor=request.user,
                person=person,
                email_enabled=bool(data.get("email_enabled")),
                email=data.get("email") or "",
                digest=data["digest"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your choices were saved.") if own else _("The choices were saved."))
            return redirect(_settings_url(person, own))
    recent = queries.deliveries(request.user).filter(person=person)[:10]
    return render(
        request,
        "notify/settings.html",
        {
            "person": person,
            "own": own,
            "form": form,
            "pref": pref,
            "email_configured": senders.email_configured(),
            "recent": recent,
            "test_url": reverse("notify:settings_test")
            if own
            else reverse("notify:person_settings_test", args=[person.pk]),
        },
    )


def _report(request: HttpRequest, d: Delivery) -> None:
    """Say how a test went: sent, failed (and why), or still queued for the worker."""
    d.refresh_from_db()
    if d.status == DeliveryStatus.SENT:
        messages.success(request, _("The test message was sent to %(to)s.") % {"to": d.target})
    elif d.status in (DeliveryStatus.FAILED, DeliveryStatus.RETRYING):
        messages.error(request, _("The test message failed: %(error)s") % {"error": d.last_error})
    else:
        messages.info(request, _("The test message is queued; the delivery log shows when it has gone out."))


@login_required
@require_POST
def preferences_test(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    person = _person_for(request, pk)
    if person is None:
        raise Http404
    own = person.user_id == request.user.pk
    try:
        d = services.email_test(actor=request.user, person=person)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        _report(request, d)
    return redirect(_settings_url(person, own))


# ================================================================ team bots


def _team_for_change(request: HttpRequest, pk: int) -> Team:
    team = access.get_scoped_or_404(Team.objects.select_related("unit"), request.user, pk=pk)
    access.require(request.user, Perm.CHANGE, team)
    return team


def _bot_for_change(request: HttpRequest, pk: int) -> TeamBot:
    bot = queries.bot_or_404(request.user, pk)
    access.require(request.user, Perm.CHANGE, bot.team)
    return bot


def _team_url(team: Team) -> str:
    return reverse("web:team_detail", args=[team.pk]) + "#bots"


@login_required
def bot_add(request: HttpRequest, team_pk: int) -> HttpResponse:
    team = _team_for_change(request, team_pk)
    form = BotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.bot_create(
                actor=request.user,
                team=team,
                kind=data["kind"],
                url=data["url"],
                secret=data.get("secret") or "",
                name=data.get("name") or "",
                verbs=data.get("verbs") or [],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The group bot was added."))
            return redirect(_team_url(team))
    return render(
        request, "notify/bot_form.html", {"form": form, "team": team, "title": _("Add a group bot")}
    )


@login_required
def bot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    bot = _bot_for_change(request, pk)
    form = BotForm(
        request.POST or None,
        editing=True,
        initial={"name": bot.name, "verbs": list(bot.verbs or []), "is_active": bot.is_active},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        secret: str | None = data.get("secret") or None
        if data.get("clear_secret"):
            secret = ""
        try:
            services.bot_update(
                actor=request.user,
                bot=bot,
                name=data.get("name") or "",
                url=data.get("url") or None,
                secret=secret,
                verbs=data.get("verbs") or [],
                is_active=bool(data.get("is_active")),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(_team_url(bot.team))
    return render(
        request,
        "notify/bot_form.html",
        {"form": form, "team": bot.team, "bot": bot, "title": _("Edit the group bot")},
    )


@login_required
@require_POST
def bot_delete(request: HttpRequest, pk: int) -> HttpResponse:
    bot = _bot_for_change(request, pk)
    team = bot.team
    services.bot_delete(actor=request.user, bot=bot)
    messages.success(request, _("The group bot was removed."))
    return redirect(_team_url(team))


@login_required
@require_POST
def bot_test(request: HttpRequest, pk: int) -> HttpResponse:
    bot = _bot_for_change(request, pk)
    _report(request, services.bot_test(actor=request.user, bot=bot))
    return redirect(_team_url(bot.team))


# ================================================================ the delivery log


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET or None)
    qs = queries.deliveries(request.user)
    if form.is_valid():
        if form.cleaned_data.get("status"):
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data.get("channel"):
            qs = qs.filter(channel=form.cleaned_data["channel"])
    page = paginate(request, qs)
    return render(
        request,
        "notify/deliveries.html",
        {"page": page, "form": form, "query": query_without_page(request), "retryable": services.RETRYABLE},
    )


@login_required
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    d = queries.delivery_or_404(request.user, pk)
    try:
        services.delivery_retry(actor=request.user, delivery=d)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        d.refresh_from_db()
        messages.success(
            request, _("Delivery %(id)s: %(status)s.") % {"id": d.pk, "status": d.get_status_display()}
        )
    return redirect(reverse("notify:deliveries"))


def team_section(user: Any, team: Team) -> dict[str, Any]:
    """What the team page's "Group bots" section shows (see ``notify_tags.team_bots``)."""
    return {
        "team": team,
        "bots": list(queries.bots(user).filter(team=team)),
        "may_change": access.can(user, Perm.CHANGE, team.unit),
    }
