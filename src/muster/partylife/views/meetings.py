"""Meetings (三会一课 …): the list, the record/edit form, attendance, review and corrections."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muster.clock import local_date
from muster.orgs.access import NotAllowed, Perm, can, can_anywhere, is_all_powerful
from muster.partylife import extensions, queries, services
from muster.partylife.forms import (
    AttachForm,
    AttendanceForm,
    MeetingForm,
    OpinionForm,
    ReasonForm,
)
from muster.partylife.membership import approval_unit
from muster.partylife.models import AttendanceStatus, Meeting, MeetingKind, ReviewStatus
from muster.partylife.views.common import meeting_units, party_units, resolve_person
from muster.web.listing import (
    ChoiceFilter,
    Column,
    Listing,
    PeriodFilter,
    Sort,
    TextFilter,
    UnitFilter,
    choice_label,
    yes_no,
)
from muster.web.views.common import apply_service_errors


def may_approve(user: Any, meeting: Meeting) -> bool:
    above = approval_unit(meeting.unit)
    if above is None:
        return is_all_powerful(user)
    return can(user, Perm.PARTY_APPROVE, above)


def _report(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


MEETINGS = Listing(
    name="meetings",
    title=gettext_lazy("Meetings"),
    columns=[
        Column(gettext_lazy("Date"), "starts_at", sort="date"),
        Column(gettext_lazy("Party organization"), "unit__name", sort="unit"),
        Column(
            gettext_lazy("Kinds"), lambda m: "、".join(str(k.get_kind_display()) for k in m.kind_links.all())
        ),
        Column(gettext_lazy("Topic"), "topic", sort="topic"),
        Column(gettext_lazy("Held"), "held", format=yes_no),
        Column(
            gettext_lazy("Review"), "review_status", sort="review", format=choice_label(ReviewStatus.choices)
        ),
    ],
    sorts={
        "date": Sort(gettext_lazy("Date"), ("starts_at", "pk")),
        "unit": Sort(gettext_lazy("Party organization"), ("unit__path", "-starts_at", "pk")),
        "topic": Sort(gettext_lazy("Topic"), ("topic", "pk")),
        "review": Sort(gettext_lazy("Review"), ("review_status", "-starts_at", "pk")),
    },
    default_sort="-date",
    filters=[
        UnitFilter("unit", gettext_lazy("Party organization"), "unit__path"),
        ChoiceFilter("kind", gettext_lazy("Kind"), "kind_links__kind", MeetingKind.choices),
        ChoiceFilter("status", gettext_lazy("Review"), "review_status", ReviewStatus.choices),
        PeriodFilter(
            "period",
            gettext_lazy("Date"),
            "starts_at",
            is_datetime=True,
            names=("since", "until"),
            labels=(gettext_lazy("From"), gettext_lazy("Until")),
        ),
        TextFilter("q", gettext_lazy("Search"), ["topic", "place"]),
    ],
)


@login_required
def meeting_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    lst = MEETINGS.apply(request, queries.meeting_list(user), options={"unit": party_units(user)})
    if lst.export_response is not None:
        return lst.export_response
    return render(
        request,
        "partylife/meetings/list.html",
        {
            "lst": lst,
            "can_add": meeting_units(user).exists(),
            "review_count": len(queries.review_queue(user)),
        },
        status=lst.status,
    )


def _people(form: MeetingForm, user: Any) -> dict[str, Any]:
    return {f: resolve_person(form, user, f) for f in ("host", "recorder", "lecturer")}


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = meeting_units(user)
    if not units.exists():
        raise NotAllowed(Perm.PARTY_RECORD)
    initial: dict[str, Any] = {}
    if units.count() == 1:
        initial["unit"] = units.first()
    form = MeetingForm(request.POST or None, request.FILES or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        people = _people(form, user)
        if not form.errors:
            try:
                meeting = services.meeting_create(
                    actor=user,
                    unit=data["unit"],
                    kinds=data["kinds"],
                    topic=data["topic"],
                    starts_at=data["starts_at"],
                    ends_at=data.get("ends_at"),
                    place=data.get("place") or "",
                    minutes=data.get("minutes") or "",
                    held=bool(data.get("held")),
                    **people,
                )
                if data.get("attachment"):
                    services.meeting_attach(actor=user, meeting=meeting, file=data["attachment"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The meeting was recorded as a draft."))
                return redirect(reverse("partylife:meeting_attendance", args=[meeting.pk]))
    return render(
        request,
        "partylife/form.html",
        {
            "form": form,
            "title": _("Record a meeting"),
            "back": reverse("partylife:meetings"),
            "form_id": "meeting-form",
            "multipart": True,
        },
    )


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    if not can(user, Perm.PARTY_RECORD, meeting.unit):
        raise NotAllowed(Perm.PARTY_RECORD)
    initial = {
        "unit": meeting.unit,
        "kinds": meeting.kinds,
        "topic": meeting.topic,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "place": meeting.place,
        "host": meeting.host.code if meeting.host else "",
        "recorder": meeting.recorder.code if meeting.recorder else "",
        "lecturer": meeting.lecturer.code if meeting.lecturer else "",
        "minutes": meeting.minutes,
        "held": meeting.held,
    }
    form = MeetingForm(
        request.POST or None,
        request.FILES or None,
        units=meeting_units(user).filter(pk=meeting.unit_id),
        initial=initial,
    )
    del form.fields["unit"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        people = _people(form, user)
        if not form.errors:
            try:
                services.meeting_update(
                    actor=user,
                    meeting=meeting,
                    kinds=data["kinds"],
                    topic=data["topic"],
                    starts_at=data["starts_at"],
                    ends_at=data.get("ends_at"),
                    place=data.get("place") or "",
                    minutes=data.get("minutes") or "",
                    held=bool(data.get("held")),
                    **people,
                )
                if data.get("attachment"):
                    services.meeting_attach(actor=user, meeting=meeting, file=data["attachment"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The changes were saved."))
                return redirect(reverse("partylife:meeting_detail", args=[meeting.pk]))
    return render(
        request,
        "partylife/meetings/edit.html",
        {
            "form": form,
            "meeting": meeting,
            "title": _("Edit the meeting"),
            "back": reverse("partylife:meeting_detail", args=[meeting.pk]),
            "locked": not meeting.is_editable,
            "correction_form": ReasonForm(),
        },
    )


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    year = local_date(meeting.starts_at).year
    attendance = sorted(meeting.attendance.all(), key=lambda a: (not a.expected, a.person.code))
    figures = extensions.meeting_points(user, meeting, [a.person for a in attendance], year)
    points: Mapping[int, Decimal] = figures.earned if figures else {}
    balances: Mapping[int, Decimal] = figures.balances if figures else {}
    rows = [(a, points.get(a.person_id), balances.get(a.person_id)) for a in attendance]
    lecturer_points = None
    if meeting.lecturer_id and not any(a.person_id == meeting.lecturer_id for a in attendance):
        lecturer_points = points.get(meeting.lecturer_id)
    expected = [a for a in attendance if a.expected]
    counts = {
        "expected": len(expected),
        "present": sum(a.status == AttendanceStatus.PRESENT for a in expected),
        "absent": sum(a.status == AttendanceStatus.ABSENT for a in expected),
        "excused": sum(a.status == AttendanceStatus.EXCUSED for a in expected),
        "observers": sum(not a.expected for a in attendance),
    }
    quorum = queries.meeting_quorum(meeting)
    may_record = can(user, Perm.PARTY_RECORD, meeting.unit)
    return render(
        request,
        "partylife/meetings/detail.html",
        {
            "meeting": meeting,
            "rows": rows,
            "lecturer_points": lecturer_points,
            "counts": counts,
            "quorum": [(k, ok) for k, ok in sorted(quorum.items())],
            "year": year,
            "may_record": may_record,
            "may_approve": may_approve(user, meeting) and meeting.review_status == ReviewStatus.SUBMITTED,
            "opinion_form": OpinionForm(),
            "reason_form": ReasonForm(),
            "attach_form": AttachForm(),
        },
    )


@login_required
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    if not can(user, Perm.PARTY_RECORD, meeting.unit):
        raise NotAllowed(Perm.PARTY_RECORD)
    rows = sorted(meeting.attendance.all(), key=lambda a: (not a.expected, a.person.code))
    form = AttendanceForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        marks: dict[int, services.AttendanceMark] = {}
        for a in rows:
            status = data.get(f"status_{a.person_id}") or AttendanceStatus.UNMARKED
            if status != AttendanceStatus.UNMARKED:
                marks[a.person_id] = services.AttendanceMark(
                    a.person, status, data.get(f"reason_{a.person_id}") or ""
                )
        extra = resolve_person(form, user, "extra_code")
        if extra is not None:
            marks[extra.pk] = services.AttendanceMark(
                extra, data.get("extra_status") or AttendanceStatus.OBSERVER, data.get("extra_reason") or ""
            )
        if not form.errors:
            try:
                services.attendance_record(actor=user, meeting=meeting, marks=list(marks.values()))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("The attendance was saved."))
                return redirect(reverse("partylife:meeting_detail", args=[meeting.pk]))
    return render(
        request,
        "partylife/meetings/attendance.html",
        {"meeting": meeting, "form": form, "on": local_date(meeting.starts_at)},
    )


@login_required
@require_POST
def meeting_attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.meeting_attach(
                actor=user, meeting=meeting, file=form.cleaned_data["file"], name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            _report(request, exc)
        else:
            messages.success(request, _("The file was attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect(reverse("partylife:meeting_detail", args=[meeting.pk]))


@login_required
@require_POST
def meeting_submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    try:
        quorum = services.meeting_submit(actor=user, meeting=meeting)
    except ValidationError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("The meeting was sent for review."))
        for kind, ok in sorted(quorum.items()):
            if not ok:
                messages.warning(
                    request,
                    _("The quorum was not met for %(kind)s; the meeting will not count for it.")
                    % {"kind": dict(_kind_labels()).get(kind, kind)},
                )
    return redirect(reverse("partylife:meeting_detail", args=[meeting.pk]))


def _kind_labels() -> list[tuple[str, str]]:
    from muster.partylife.models import MeetingKind

    return [(k.value, str(k.label)) for k in MeetingKind]


@login_required
@require_POST
def meeting_review(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    form = OpinionForm(request.POST)
    opinion = form.cleaned_data.get("opinion", "") if form.is_valid() else ""
    try:
        if decision == "approve":
            services.meeting_approve(actor=user, meeting=meeting, opinion=opinion)
            messages.success(request, _("The meeting was approved."))
        else:
            services.meeting_return(actor=user, meeting=meeting, opinion=opinion)
            messages.success(request, _("The meeting was returned with your opinion."))
    except ValidationError as exc:
        _report(request, exc)
    back = request.POST.get("next")
    if back == "queue":
        return redirect(reverse("partylife:review_queue"))
    return redirect(reverse("partylife:meeting_detail", args=[meeting.pk]))


@login_required
@require_POST
def meeting_correction(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = queries.meeting_get(user, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.meeting_correction_start(actor=user, meeting=meeting, reason=reason)
    except ValidationError as exc:
        _report(request, exc)
        return redirect(reverse("partylife:meeting_detail", args=[meeting.pk]))
    messages.success(request, _("A correction was started: edit the meeting and send it for review again."))
    return redirect(reverse("partylife:meeting_edit", args=[meeting.pk]))


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_anywhere(user, Perm.PARTY_APPROVE):
        raise NotAllowed(Perm.PARTY_APPROVE)
    return render(
        request,
        "partylife/meetings/review.html",
        {"meetings": queries.review_queue(user), "opinion_form": OpinionForm()},
    )
