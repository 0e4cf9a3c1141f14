"""Volunteer pages: my open shifts (one-tap sign-up on a phone), my profile and a leader's view of it,
a shift's needs, opening shifts, call-ups with live answers, and the answer link of a call-up message.

Thin: objects come through ``orgs.access``/``mobilize.queries``/``volunteers.queries`` (out of scope =
404), changes through ``volunteers.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.mobilize.queries import deployment_get_or_404, shift_get_or_404
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team, Unit
from muster.volunteers import queries, services
from muster.volunteers.forms import AnswerForm, ProfileForm, profile_initial
from muster.volunteers.models import (
    AnswerChoice,
    CallUpInvite,
    Opening,
    ShiftNeed,
    SignUp,
    SignUpStatus,
    Skill,
)
from muster.web.views.common import apply_service_errors

MISFIT_LABELS = {
    "skill_missing": gettext_lazy("lacks a needed skill"),
    "skill_expired": gettext_lazy("qualification expired"),
    "skill_any": gettext_lazy("holds none of the skills needed"),
    "home_observation": gettext_lazy("home observation: remote seats only"),
    "period": gettext_lazy("outside your available period"),
    "day_off": gettext_lazy("a date off"),
    "window": gettext_lazy("outside your weekly windows"),
    "night": gettext_lazy("a night shift"),
}


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for msg in exc.messages:
        messages.error(request, msg)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    person = queries.own_person(request.user)
    page = _page_number(request)
    rows = (
        queries.open_shifts(
            person, only_fitting=False, load=True, limit=OPEN_PAGE + 1, offset=(page - 1) * OPEN_PAGE
        )
        if person
        else []
    )
    more = len(rows) > OPEN_PAGE
    rows = rows[:OPEN_PAGE]
    mine = (
        SignUp.objects.filter(person=person, opening__shift__start__gt=timezone.now())
        .exclude(status=SignUpStatus.CANCELLED)
        .select_related("opening", "opening__shift", "opening__shift__deployment", "opening__shift__post")
        if person
        else SignUp.objects.none()
    )
    invites = (
        CallUpInvite.objects.filter(
            person=person, answer="", callup__deadline__gt=timezone.now()
        ).select_related("callup")
        if person
        else CallUpInvite.objects.none()
    )
    return render(
        request,
        "volunteers/index.html",
        {
            "person": person,
            "fitting": [r for r in rows if r.fits and not r.mine],
            "other": [
                (r, [MISFIT_LABELS.get(m.code, m.code) for m in r.misfits] + [b.message for b in r.breaches])
                for r in rows
                if not r.fits and not r.mine
            ],
            "mine": mine,
            "invites": invites,
            "may_call": access.can_anywhere(request.user, Perm.MOBILIZE_DISPATCH),
            "page": page,
            "next_page": page + 1 if more else None,
            "prev_page": page - 1 if page > 1 else None,
        },
    )


OPEN_PAGE = 50  # open shifts per page of the volunteer's home (fitting or not, in order of start)


def _page_number(request: HttpRequest) -> int:
    """``?page=N`` (1 to 1000; anything else is the first page)."""
    raw = str(request.GET.get("page") or "1").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4:
        return 1
    return min(max(int(raw), 1), 1000)


@login_required
@require_POST
def signup(request: HttpRequest, pk: int) -> HttpResponse:
    me = queries.own_person(request.user)
    o = queries.opening_get_or_404(request.user, pk, me=me)
    try:
        su = services.signup_create(
            actor=request.user, opening=o, person=me, wait=request.POST.get("wait") == "1"
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        if su.status == SignUpStatus.WAITING:
            messages.info(request, _("You are on the waiting list."))
        else:
            messages.success(request, _("Signed up. See you there!"))
    return redirect("volunteers:index")


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    su = SignUp.objects.select_related("person").filter(pk=pk).first()
    if su is None or not queries.person_visible(request.user, su.person):
        raise Http404
    try:
        services.signup_cancel(actor=request.user, signup=su)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Sign-up cancelled."))
    return redirect("volunteers:index")


def _profile_page(request: HttpRequest, person: Person) -> HttpResponse:
    may_edit = services.may_edit_person(request.user, person)
    initial = profile_initial(person)
    if not may_edit:  # health and private time: only for the person and those who may edit them
        initial.update(windows="", days_off="", home_observation="")
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_edit:
            raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.profile_set(actor=request.user, person=person, **d)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Profile saved."))
                return redirect(request.path)
    return render(
        request,
        "volunteers/profile.html",
        {
            "person": person,
            "form": form,
            "may_edit": may_edit,
            "own": queries.is_self(request.user, person),
            "skills": Skill.objects.filter(is_active=True),
        },
    )


@login_required
def my_profile(request: HttpRequest) -> HttpResponse:
    person = queries.own_person(request.user)
    if person is None:
        raise Http404
    return _profile_page(request, person)


@login_required
def person_profile(request: HttpRequest, code: str) -> HttpResponse:
    return _profile_page(request, queries.person_get_or_404(request.user, code))


class NeedForm(forms.Form):
    skills_all = forms.ModelMultipleChoiceField(
        Skill.objects.filter(is_active=True),
        label=gettext_lazy("Needs all of"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )
    skills_any = forms.ModelMultipleChoiceField(
        Skill.objects.filter(is_active=True),
        label=gettext_lazy("Needs one of"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )
    min_party_members = forms.IntegerField(
        label=gettext_lazy("Party members at least"), min_value=0, max_value=32767, initial=0
    )
    min_skill = forms.ModelChoiceField(
        Skill.objects.filter(is_active=True),
        label=gettext_lazy("Skill counted"),
        required=False,
        to_field_name="code",
    )
    min_skill_count = forms.IntegerField(
        label=gettext_lazy("Holders at least"), min_value=0, max_value=32767, initial=0
    )


@login_required
def needs(request: HttpRequest, pk: int) -> HttpResponse:
    shift = shift_get_or_404(request.user, pk=pk)
    need = ShiftNeed.objects.filter(shift=shift).first()
    initial = {}
    if need is not None:
        initial = {
            "skills_all": list(need.skills_all.all()),
            "skills_any": list(need.skills_any.all()),
            "min_party_members": need.min_party_members,
            "min_skill": need.min_skill,
            "min_skill_count": need.min_skill_count,
        }
    form = NeedForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.need_set(
                actor=request.user,
                shift=shift,
                skills_all=[s.code for s in d["skills_all"]],
                skills_any=[s.code for s in d["skills_any"]],
                min_party_members=d["min_party_members"],
                min_skill=d["min_skill"].code if d["min_skill"] else None,
                min_skill_count=d["min_skill_count"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The shift's needs are saved."))
            return redirect(request.path)
    return render(request, "volunteers/needs.html", {"shift": shift, "form": form})


class OpenForm(forms.Form):
    audience = forms.CharField(label=gettext_lazy("Open to (team, unit or party branch code)"), max_length=40)
    deadline = forms.DateTimeField(label=gettext_lazy("Sign-up deadline"))
    cancel_cutoff = forms.DateTimeField(label=gettext_lazy("Cancellation cut-off"))


@login_required
def open_batch(request: HttpRequest, code: str) -> HttpResponse:
    d = deployment_get_or_404(request.user, code=code)
    shifts = list(d.shifts.order_by("start", "id"))
    form = OpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen = [s for s in shifts if str(s.pk) in request.POST.getlist("shift")]
        code_ = form.cleaned_data["audience"].strip()
        team = access.scoped(Team.objects.filter(code=code_), request.user).first()
        unit = None if team else access.scoped(Unit.objects.filter(code=code_), request.user).first()
        if team is None and unit is None:
            form.add_error(
                "audience", _("There is no team or unit with the code %(code)s.") % {"code": code_}
            )
        else:
            try:
                services.shifts_open(
                    actor=request.user,
                    shifts=chosen,
                    team=team,
                    unit=unit,
                    deadline=form.cleaned_data["deadline"],
                    cancel_cutoff=form.cleaned_data["cancel_cutoff"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("%(n)s shifts opened for sign-up.") % {"n": len(chosen)})
                return redirect(request.path)
    openings = {
        o.shift_id: o for o in Opening.objects.filter(shift__in=shifts).select_related("team", "unit")
    }
    rows = [(s, openings.get(s.pk), s.assignments.count()) for s in shifts]
    return render(request, "volunteers/open.html", {"deployment": d, "rows": rows, "form": form})


# ---------------------------------------------------------------- call-ups


@login_required
def callups(request: HttpRequest) -> HttpResponse:
    rows = [(c, queries.callup_figures(c)) for c in queries.callups_visible(request.user)[:100]]
    return render(request, "volunteers/callups.html", {"rows": rows})


class CallUpForm(forms.Form):
    unit = forms.CharField(label=gettext_lazy("Calling unit (code)"), max_length=40)
    audience = forms.CharField(label=gettext_lazy("Called: team, unit or party branch (code)"), max_length=40)
    title = forms.CharField(label=gettext_lazy("Task"), max_length=200)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False)
    skills = forms.ModelMultipleChoiceField(
        Skill.objects.filter(is_active=True),
        label=gettext_lazy("Skills"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )
    people_needed = forms.IntegerField(
        label=gettext_lazy("People needed"), min_value=1, max_value=services.MAX_CALLUP
    )
    start = forms.DateTimeField(label=gettext_lazy("Start"))
    end = forms.DateTimeField(label=gettext_lazy("End"))
    deadline = forms.DateTimeField(label=gettext_lazy("Answer by"))
    deployment = forms.CharField(
        label=gettext_lazy("Batch the picked join (code)"), max_length=40, required=False
    )


@login_required
def callup_new(request: HttpRequest) -> HttpResponse:
    form = CallUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user = request.user
        unit = access.scoped(Unit.objects.filter(code=d["unit"]), user).first()
        team = access.scoped(Team.objects.filter(code=d["audience"]), user).first()
        audience = None if team else access.scoped(Unit.objects.filter(code=d["audience"]), user).first()
        if unit is None:
            form.add_error("unit", _("There is no unit with the code %(code)s.") % {"code": d["unit"]})
        if team is None and audience is None:
            form.add_error(
                "audience", _("There is no team or unit with the code %(code)s.") % {"code": d["audience"]}
            )
        batch = None
        if d["deployment"]:
            try:
                batch = deployment_get_or_404(user, code=d["deployment"])
            except Http404:
                form.add_error("deployment", _("There is no batch %(code)s.") % {"code": d["deployment"]})
        if not form.errors:
            assert unit is not None
            try:
                c = services.callup_create(
                    actor=user,
                    unit=unit,
                    title=d["title"],
                    place=d["place"],
                    skills=[s.code for s in d["skills"]],
                    start=d["start"],
                    end=d["end"],
                    people_needed=d["people_needed"],
                    deadline=d["deadline"],
                    team=team,
                    audience_unit=audience,
                    deployment=batch,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                return redirect("volunteers:callup", code=c.code)
    return render(request, "volunteers/callup_new.html", {"form": form})


@login_required
def callup(request: HttpRequest, code: str) -> HttpResponse:
    c = queries.callup_get_or_404(request.user, code)
    answers = (
        CallUpInvite.objects.filter(callup=c)
        .exclude(answer="")
        .select_related("person")
        .order_by("answered_at", "id")
    )
    ctx = {
        "c": c,
        "f": queries.callup_figures(c),
        "answers": answers[:2000],
        "may_pick": access.can(request.user, Perm.MOBILIZE_DISPATCH, c.unit),
    }
    if getattr(request, "htmx", False):
        return render(request, "volunteers/_answers.html", ctx)
    return render(request, "volunteers/callup.html", ctx)


@login_required
@require_POST
def callup_pick(request: HttpRequest, code: str) -> HttpResponse:
    c = queries.callup_get_or_404(request.user, code)
    try:
        if request.POST.get("engine") == "1":
            people = services.callup_suggest(c)
        else:
            codes = request.POST.getlist("person")
            people = [queries.person_get_or_404(request.user, x) for x in codes[: services.MAX_CALLUP]]
        batch = None
        if request.POST.get("deployment"):
            batch = deployment_get_or_404(request.user, code=request.POST["deployment"])
        services.callup_pick(actor=request.user, callup=c, people=people, deployment=batch)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("%(n)s people picked and added to the batch.") % {"n": len(people)})
    return redirect("volunteers:callup", code=c.code)


def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The answer link of a call-up message: the secret token is the credential (no login needed)."""
    inv = CallUpInvite.objects.select_related("callup__unit", "person").filter(token=token).first()
    if inv is None:
        raise Http404
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.callup_answer(
                actor=request.user if request.user.is_authenticated else None,
                invite=inv,
                answer=form.cleaned_data["answer"],
                reason=form.cleaned_data["reason"],
                by_link=True,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you, your answer is recorded."))
            return redirect(request.path)
        inv.refresh_from_db()
    return render(
        request,
        "volunteers/answer.html",
        {
            "inv": inv,
            "c": inv.callup,
            "form": form,
            "closed": timezone.now() >= inv.callup.deadline,
            "yes": AnswerChoice.YES,
        },
    )
