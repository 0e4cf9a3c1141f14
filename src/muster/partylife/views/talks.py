"""Heart-to-heart talks (谈心谈话): record a talk; the per-branch pair-coverage matrix with its gaps."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from muster.orgs.access import Perm, scoped
from muster.orgs.models import Person, Unit
from muster.partylife import compliance as engine
from muster.partylife import queries, services
from muster.partylife.forms import TalkForm, split_codes
from muster.partylife.membership import MEETING_UNIT_KINDS
from muster.partylife.models import Talk
from muster.partylife.views.common import end_of_day, meeting_units, people_by_codes
from muster.web.views.common import apply_service_errors, paginate, param_year


def talk_units(user: Any) -> QuerySet[Unit]:
    """Organizations the user may record talks for: visible branches, and the member's own branch."""
    own_ids: list[int] = []
    for p in Person.objects.filter(user_id=user.pk, party_unit__isnull=False).select_related("party_unit"):
        assert p.party_unit is not None
        own_ids += [p.party_unit.pk, *(u.pk for u in Unit.objects.get_ancestors(p.party_unit))]
    own = Unit.objects.filter(pk__in=own_ids, kind__in=MEETING_UNIT_KINDS)
    return (meeting_units(user, Perm.VIEW) | own).distinct().order_by("path")


@login_required
def talk_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = scoped(Talk.objects.select_related("unit"), user, Perm.VIEW).prefetch_related("participants")
    year = param_year(request.GET)  # 400 unless a year in range
    if year is not None:
        qs = qs.filter(held_on__year=year)
    return render(
        request,
        "partylife/talks/list.html",
        {
            "page": paginate(request, qs),
            "query": f"year={year}" if year is not None else "",
            "branches": meeting_units(user, Perm.VIEW),
            "year": timezone.localdate().year,
        },
    )


@login_required
def talk_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = talk_units(user)
    if not units.exists():
        raise Http404
    form = TalkForm(
        request.POST or None, units=units, initial={"unit": units.first(), "held_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        codes = split_codes(data["participants"])
        people, unknown = people_by_codes(user, codes)
        if unknown:  # a member recording their own talk names fellow members of the organization
            fellows = Person.objects.filter(code__in=unknown, party_unit__path__startswith=data["unit"].path)
            found = {p.code: p for p in fellows}
            people += [found[c] for c in unknown if c in found]
            unknown = [c for c in unknown if c not in found]
        if unknown:
            form.add_error(
                "participants",
                _("No person with the staff number %(code)s was found.") % {"code": ", ".join(unknown)},
            )
        else:
            try:
                services.talk_record(
                    actor=user,
                    unit=data["unit"],
                    held_on=data["held_on"],
                    topic=data["topic"],
                    participants=people,
                    notes=data.get("notes") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The talk was recorded."))
                return redirect(reverse("partylife:talks"))
    return render(
        request,
        "partylife/form.html",
        {
            "form": form,
            "title": _("Record a talk"),
            "back": reverse("partylife:talks"),
            "form_id": "talk-form",
        },
    )


@login_required
def talk_matrix(request: HttpRequest) -> HttpResponse:
    user = request.user
    branches = meeting_units(user, Perm.VIEW)
    raw = request.GET.get("branch", "")
    if raw:
        branch = branches.filter(pk=int(raw)).first() if raw.isdigit() else None
        if branch is None:
            raise Http404
    else:
        branch = branches.first()
        if branch is None:
            raise Http404
    year = param_year(request.GET) or timezone.localdate().year  # 400 unless a year in range
    m = queries.talk_matrix(user, branch, year, as_of=end_of_day(timezone.localdate()))
    people = m.people
    grid = []
    for a in people:
        cells: list[int | None] = []
        for b in people:
            if a.person.pk == b.person.pk:
                cells.append(None)
            else:
                cells.append(m.covered(a.person.pk, b.person.pk))
        grid.append((a, cells))
    names = {e.person.pk: e.person for e in people}
    gaps = [(names[g.a], names[g.b], g.category) for g in m.coverage.gaps]
    category_labels = {
        engine.CC: _("Committee ↔ committee"),
        engine.CM: _("Committee ↔ member"),
        engine.MM: _("Member ↔ member"),
    }
    categories = [(category_labels[k], req, cov) for k, (req, cov) in m.coverage.by_category.items() if req]
    return render(
        request,
        "partylife/talks/matrix.html",
        {
            "matrix": m,
            "branch": branch,
            "branches": branches,
            "year": year,
            "grid": grid,
            "people": people,
            "gaps": gaps,
            "categories": categories,
            "category_labels": category_labels,
            "percent": round(100 * m.coverage.ratio),
        },
    )
