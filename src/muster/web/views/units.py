"""The unit trees, a unit's page, and the unit forms (edit, move, add a sub-unit, role grants)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from muster.orgs import services
from muster.orgs.access import (
    NotAllowed,
    Perm,
    can,
    get_scoped_or_404,
    require,
    scoped,
    visible_roots,
)
from muster.orgs.models import PARTY_KINDS, RoleGrant, Unit
from muster.orgs.queries import (
    PersonFilter,
    children_with_counts,
    partner_list,
    person_search,
    team_list,
    unit_counts,
)
from muster.web.forms import GrantForm, UnitForm, UnitMoveForm
from muster.web.views.common import HtmxHttpRequest, apply_service_errors, paginate


def _tree_filter(qs: QuerySet[Unit], party: bool) -> QuerySet[Unit]:
    return qs.filter(kind__in=PARTY_KINDS) if party else qs.exclude(kind__in=PARTY_KINDS)


def change_units(user: Any, *, party: bool | None = None) -> QuerySet[Unit]:
    """Units where ``user`` may change things (optionally one tree only), in tree order."""
    qs = scoped(Unit.objects.all(), user, Perm.CHANGE).filter(is_active=True)
    if party is not None:
        qs = _tree_filter(qs, party)
    return qs.order_by("path")


def visible_units(user: Any, *, party: bool | None = None) -> QuerySet[Unit]:
    qs = scoped(Unit.objects.all(), user, Perm.VIEW)
    if party is not None:
        qs = _tree_filter(qs, party)
    return qs.order_by("path")


def _breadcrumb(user: Any, unit: Unit) -> list[Unit]:
    return [a for a in Unit.objects.get_ancestors(unit) if can(user, Perm.VIEW, a)]


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    # The top units come open, with their children already drawn; deeper levels load on expand.
    nodes = [(u, unit_counts(u).people_subtree, children_with_counts(u)) for u in visible_roots(request.user)]
    return render(
        request,
        "web/units/tree.html",
        {
            "admin_roots": [n for n in nodes if not n[0].is_party],
            "party_roots": [n for n in nodes if n[0].is_party],
        },
    )


@login_required
def children(request: HttpRequest, pk: int) -> HttpResponse:
    """The children of a unit as tree nodes (loaded by htmx when a node is expanded)."""
    unit = get_scoped_or_404(Unit.objects.all(), request.user, pk=pk)
    return render(request, "web/units/_tree_children.html", {"nodes": children_with_counts(unit)})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = get_scoped_or_404(Unit.objects.all(), user, pk=pk)
    may_grant = can(user, Perm.GRANT, unit)
    context = {
        "unit": unit,
        "breadcrumb": _breadcrumb(user, unit),
        "counts": unit_counts(unit),
        "children": children_with_counts(unit),
        "teams": team_list(user, unit)[:100],
        "partners": partner_list(user, unit)[:100],
        "may_change": can(user, Perm.CHANGE, unit),
        "may_grant": may_grant,
        "grants": unit.grants.select_related("user", "granted_by").order_by("role", "user__username")
        if may_grant
        else [],
        "grant_form": GrantForm() if may_grant else None,
        **_people_context(request, unit),
    }
    return render(request, "web/units/detail.html", context)


def _people_context(request: HttpRequest, unit: Unit) -> dict[str, Any]:
    page = paginate(request, person_search(request.user, PersonFilter(unit=unit)))
    return {"unit": unit, "people_page": page}


@login_required
def people(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One page of a unit's people (its whole subtree): the htmx partial of the unit page."""
    unit = get_scoped_or_404(Unit.objects.all(), request.user, pk=pk)
    if not request.htmx:
        url = unit_url(unit)
        page = request.GET.get("page")
        return redirect(f"{url}?page={page}" if page else url)
    return render(request, "web/units/_people.html", _people_context(request, unit))


def unit_url(unit: Unit) -> str:
    from django.urls import reverse

    return reverse("web:unit_detail", args=[unit.pk])


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = get_scoped_or_404(Unit.objects.all(), user, pk=pk)
    require(user, Perm.CHANGE, unit)
    # A unit with sub-units stays in its tree; a leaf may change tree only if its parent allows it.
    form = UnitForm(
        request.POST or None,
        party=unit.is_party,
        initial={"code": unit.code, "name": unit.name, "short_name": unit.short_name, "kind": unit.kind},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(actor=user, unit=unit, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The unit was saved."))
            return redirect(unit_url(unit))
    return render(
        request,
        "web/units/form.html",
        {"form": form, "unit": unit, "breadcrumb": _breadcrumb(user, unit), "title": _("Edit unit")},
    )


@login_required
def add_child(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    parent = get_scoped_or_404(Unit.objects.all(), user, pk=pk)
    require(user, Perm.CHANGE, parent)
    form = UnitForm(request.POST or None, party=parent.is_party)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(actor=user, parent=parent, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The unit %(name)s was created.") % {"name": unit.name})
            return redirect(unit_url(unit))
    return render(
        request,
        "web/units/form.html",
        {
            "form": form,
            "unit": parent,
            "breadcrumb": [*_breadcrumb(user, parent), parent],
            "title": _("Add a sub-unit to %(name)s") % {"name": parent.name},
        },
    )


@login_required
def move(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = get_scoped_or_404(Unit.objects.all(), user, pk=pk)
    require(user, Perm.CHANGE, unit)
    # Every unit of the same tree where the user may change things; the service refuses cycles.
    parents = change_units(user, party=unit.is_party)
    current_parent = Unit.objects.get_parent(unit)
    form = UnitMoveForm(
        request.POST or None,
        parents=parents,
        initial={"new_parent": current_parent.pk if current_parent else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_move(actor=user, unit=unit, new_parent=form.cleaned_data["new_parent"])
        except ValidationError as exc:
            apply_service_errors(form, exc, rename={"parent": "new_parent"})
        else:
            messages.success(request, _("The unit was moved."))
            return redirect(unit_url(unit))
    return render(
        request,
        "web/units/move.html",
        {"form": form, "unit": unit, "breadcrumb": _breadcrumb(user, unit)},
    )


@login_required
@require_POST
def grant(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    unit = get_scoped_or_404(Unit.objects.all(), user, pk=pk)
    require(user, Perm.GRANT, unit)
    form = GrantForm(request.POST)
    if form.is_valid():
        grantee = (
            get_user_model()
            .objects.filter(username=form.cleaned_data["username"].strip(), is_active=True)
            .first()
        )
        if grantee is None:
            messages.error(
                request,
                _("There is no active user named %(name)s.") % {"name": form.cleaned_data["username"]},
            )
        else:
            try:
                services.role_grant(actor=user, user=grantee, unit=unit, role=form.cleaned_data["role"])
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("The role was granted."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(unit_url(unit) + "#grants")


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    grant_obj = get_scoped_or_404(RoleGrant.objects.select_related("unit", "user"), user, pk=pk)
    if not can(user, Perm.GRANT, grant_obj.unit):
        raise NotAllowed(Perm.GRANT)
    services.role_revoke(actor=user, grant=grant_obj)
    messages.success(request, _("The role was revoked."))
    return redirect(unit_url(grant_obj.unit) + "#grants")
