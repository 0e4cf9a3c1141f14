"""People: the searchable list, a person's page and the person forms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.audit.models import AuditEvent
from muster.orgs import services
from muster.orgs.access import (
    NotAllowed,
    Perm,
    can,
    can_anywhere,
    get_scoped_or_404,
    may_see_personal,
    require,
    scoped,
)
from muster.orgs.models import EmploymentStatus, Gender, Person, PoliticalStatus, Tag, Unit
from muster.orgs.queries import PersonFilter, person_search, team_list
from muster.web.forms import PersonFilterForm, PersonForm
from muster.web.listing import Column, FastSelect, Listing, Sort, choice_label
from muster.web.views.common import HtmxHttpRequest, apply_service_errors, query_without_page
from muster.web.views.units import change_units, visible_units


def _visible_tags(user: Any) -> list[str]:
    people = scoped(Person.objects.all(), user, Perm.VIEW).values("pk")
    return list(
        Tag.objects.filter(people__in=people).values_list("name", flat=True).distinct().order_by("name")
    )


# The list's order and its Excel export (no phone or ID numbers: those stay on the person's page, masked
# unless permitted). The filters are the page's own form (``PersonFilterForm``).
PEOPLE = Listing(
    name="people",
    title=gettext_lazy("People"),
    columns=[
        Column(gettext_lazy("Staff number"), "code", sort="code"),
        Column(gettext_lazy("Name"), "name", sort="name"),
        Column(gettext_lazy("Gender"), "gender", format=choice_label(Gender.choices)),
        Column(gettext_lazy("Unit"), "unit__name", sort="unit"),
        Column(gettext_lazy("Party organization"), "party_unit__name"),
        Column(
            gettext_lazy("Political status"), "political_status", format=choice_label(PoliticalStatus.choices)
        ),
        Column(
            gettext_lazy("Employment status"),
            "employment_status",
            format=choice_label(EmploymentStatus.choices),
        ),
    ],
    sorts={
        "code": Sort(gettext_lazy("Staff number"), ("code",)),
        "name": Sort(gettext_lazy("Name"), ("name", "code")),
        "unit": Sort(gettext_lazy("Unit"), ("unit__path", "code")),
    },
    default_sort="code",
    keep=("q", "unit", "political_status", "employment_status", "team", "tag"),
)


@login_required
def person_list(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    form = PersonFilterForm(
        request.GET or None, units=visible_units(user), teams=team_list(user), tags=_visible_tags(user)
    )
    for name in ("unit", "team", "tag"):  # long selects, rendered in one pass
        if name in form.fields:
            old = form.fields[name].widget
            form.fields[name].widget = FastSelect(attrs=old.attrs, choices=getattr(old, "choices", ()))
    f = PersonFilter()
    if form.is_valid():
        data = form.cleaned_data
        f = PersonFilter(
            q=(data.get("q") or "").strip(),
            unit=data.get("unit"),
            political_status=data.get("political_status") or "",
            employment_status=data.get("employment_status") or "",
            team=data.get("team"),
            tag=data.get("tag") or "",
        )
    lst = PEOPLE.apply(request, person_search(user, f))
    if lst.export_response is not None:
        return lst.export_response
    context = {
        "form": form,
        "lst": lst,
        "page": lst.page,
        "query": query_without_page(request),
        "can_add": can_anywhere(user, Perm.CHANGE),
    }
    # A live update of the results (the filter form or a page link) only needs the results block.
    if request.htmx and request.htmx.target == "people-results":
        return render(request, "web/people/_results.html", context)
    return render(request, "web/people/list.html", context)


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = get_scoped_or_404(Person.objects.select_related("unit", "party_unit"), user, pk=pk)
    show_phone = may_see_personal(user, person, Perm.VIEW_PHONE)
    show_id = may_see_personal(user, person, Perm.VIEW_ID)
    may_audit = can(user, Perm.AUDIT, person.unit)
    history: QuerySet[AuditEvent] | list[AuditEvent] = []
    if may_audit:
        history = scoped(AuditEvent.objects.all(), user, Perm.AUDIT).filter(
            target_type="orgs.person", target_id=str(person.pk)
        )[:100]
    visible_people = scoped(Person.objects.all(), user, Perm.VIEW)
    memberships = (
        person.team_memberships.select_related("team", "team__unit")
        .filter(team__in=team_list(user).values("pk"))
        .filter(person__in=visible_people.values("pk"))
        .order_by("team__code")
    )
    return render(
        request,
        "web/people/detail.html",
        {
            "person": person,
            "phone": person.phone if show_phone else person.phone_masked,
            "id_number": person.id_number if show_id else person.id_number_masked,
            "memberships": memberships,
            "tags": person.tags.all(),
            "may_change": _may_change(user, person),
            "may_audit": may_audit,
            "history": history,
            "unit_visible": can(user, Perm.VIEW, person.unit),
            "party_unit_visible": person.party_unit is not None and can(user, Perm.VIEW, person.party_unit),
        },
    )


def _may_change(user: Any, person: Person) -> bool:
    return can(user, Perm.CHANGE, person.unit) or (
        person.party_unit is not None and can(user, Perm.CHANGE, person.party_unit)
    )


def _form_querysets(user: Any, person: Person | None) -> dict[str, QuerySet[Unit]]:
    units = change_units(user, party=False)
    party_units = visible_units(user, party=True).filter(is_active=True)
    if person is not None:
        # Keep the person's current units selectable even where the user may not place others.
        units = Unit.objects.filter(Q(pk__in=units.values("pk")) | Q(pk=person.unit_id)).order_by("path")
        if person.party_unit_id:
            party_units = Unit.objects.filter(
                Q(pk__in=party_units.values("pk")) | Q(pk=person.party_unit_id)
            ).order_by("path")
    return {"units": units, "party_units": party_units}


def _service_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": data["code"],
        "name": data["name"],
        "gender": data.get("gender") or "",
        "birth_date": data.get("birth_date"),
        "unit": data["unit"],
        "party_unit": data.get("party_unit"),
        "political_status": data["political_status"],
        "employment_status": data["employment_status"],
        "phone": data.get("phone") or "",
        "id_number": data.get("id_number") or "",
        "tags": data.get("tags") or [],
    }


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.CHANGE):
        raise NotAllowed(Perm.CHANGE)
    querysets = _form_querysets(user, None)
    initial: dict[str, Any] = {}
    unit_pk = request.GET.get("unit")
    if unit_pk and unit_pk.isdigit() and querysets["units"].filter(pk=int(unit_pk)).exists():
        initial["unit"] = int(unit_pk)
    form = PersonForm(request.POST or None, initial=initial, **querysets)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_create(actor=user, **_service_kwargs(form.cleaned_data))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": person.name})
            return redirect(reverse("web:person_detail", args=[person.pk]))
    return render(request, "web/people/form.html", {"form": form, "title": _("Add a person")})


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = get_scoped_or_404(Person.objects.select_related("unit", "party_unit"), user, pk=pk)
    require(user, Perm.CHANGE, person)
    show_phone = may_see_personal(user, person, Perm.VIEW_PHONE)
    show_id = may_see_personal(user, person, Perm.VIEW_ID)
    initial = {
        "code": person.code,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "unit": person.unit_id,
        "party_unit": person.party_unit_id,
        "political_status": person.political_status,
        "employment_status": person.employment_status,
        # Shown masked unless the user may see them; a masked value sent back keeps the stored one.
        "phone": person.phone if show_phone else person.phone_masked,
        "id_number": person.id_number if show_id else person.id_number_masked,
        "tags": " ".join(person.tags.values_list("name", flat=True)),
    }
    form = PersonForm(request.POST or None, initial=initial, **_form_querysets(user, person))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=user, person=person, **_service_kwargs(form.cleaned_data))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect(reverse("web:person_detail", args=[person.pk]))
    return render(
        request,
        "web/people/form.html",
        {"form": form, "person": person, "title": _("Edit %(name)s") % {"name": person.name}},
    )
