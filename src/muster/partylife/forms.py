"""Party-life web forms. They parse and present input; ``muster.partylife.services`` decides."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muster.dates import FIRST_YEAR, LAST_YEAR, day_in_range
from muster.orgs.models import Team, Unit
from muster.partylife.models import (
    Attendance,
    AttendanceStatus,
    MeetingKind,
    Period,
    PostKind,
    ReviewStatus,
    Stage,
)
from muster.web.forms import (
    BootstrapForm,
    BoundedDateField,
    BoundedDateTimeField,
    UnitChoiceField,
    _bootstrap,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
_CODE_SPLIT = re.compile(r"[,，、;；\s]+")


def split_codes(value: str) -> list[str]:
    return [c for c in _CODE_SPLIT.split(value or "") if c]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: Any, required: bool = True) -> forms.DateField:
    return BoundedDateField(label=label, required=required, widget=DateInput())


def code_field(label: Any, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, max_length=40, required=required, help_text=help_text)


def _set_units(form: forms.BaseForm, name: str, units: QuerySet[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = units


# ---------------------------------------------------------------- meetings


class MeetingFilterForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *MeetingKind.choices], required=False)
    status = forms.ChoiceField(
        label=_("Review"),
        choices=[("", "—"), *ReviewStatus.choices],
        required=False,
    )
    since = date_field(_("From"), required=False)
    until = date_field(_("Until"), required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "unit", units)


class CheckboxList(forms.CheckboxSelectMultiple):
    """Checkboxes styled by Bootstrap. The class goes on each box only: Django also puts the widget's
    class on the list's wrapper, which ``form-check-input`` would shrink to a 1em square."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"]["class"] = "form-check-input me-1"
        return option


class MeetingForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none())
    kinds = forms.MultipleChoiceField(
        label=_("Kinds"),
        choices=MeetingKind.choices,
        widget=CheckboxList,
        help_text=_("One meeting may count as several kinds."),
    )
    topic = forms.CharField(label=_("Topic"), max_length=200)
    starts_at = BoundedDateTimeField(label=_("Starts at"), widget=DateTimeInput())
    ends_at = BoundedDateTimeField(label=_("Ends at"), widget=DateTimeInput(), required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    host = code_field(_("Host (staff number)"))
    recorder = code_field(_("Recorder (staff number)"))
    lecturer = code_field(_("Lecturer (staff number)"), help_text=_("Required for a party lesson."))
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    held = forms.BooleanField(
        label=_("The meeting was held"),
        required=False,
        help_text=_("Attendance can be recorded once the meeting was held."),
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "unit", units)


class AttendanceForm(BootstrapForm):
    """One status and reason per expected (or observing) person, and one more person by staff number."""

    extra_code = code_field(_("Someone else (staff number)"))
    extra_status = forms.ChoiceField(
        label=_("Their attendance"),
        choices=[(AttendanceStatus.OBSERVER, AttendanceStatus.OBSERVER.label)]
        + [
            (s.value, s.label)
            for s in (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)
        ],
        required=False,
    )
    extra_reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    STATUS_CHOICES = [
        (AttendanceStatus.UNMARKED, "—"),
        *[
            (s.value, s.label)
            for s in (
                AttendanceStatus.PRESENT,
                AttendanceStatus.ABSENT,
                AttendanceStatus.EXCUSED,
                AttendanceStatus.OBSERVER,
            )
        ],
    ]

    def __init__(self, *args: Any, rows: list[Attendance], **kwargs: Any) -> None:
        self.rows = rows
        super().__init__(*args, **kwargs)
        for a in rows:
            self.fields[f"status_{a.person_id}"] = forms.ChoiceField(
                label=a.person.name, choices=self.STATUS_CHOICES, initial=a.status, required=False
            )
            self.fields[f"reason_{a.person_id}"] = forms.CharField(
                label=_("Reason"), max_length=200, initial=a.reason, required=False
            )
        _bootstrap(self)

    def lines(self) -> list[tuple[Attendance, Any, Any]]:
        return [(a, self[f"status_{a.person_id}"], self[f"reason_{a.person_id}"]) for a in self.rows]


class OpinionForm(BootstrapForm):
    opinion = forms.CharField(label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReasonForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class AttachForm(BootstrapForm):
    file = forms.FileField(label=_("File"))
    name = forms.CharField(label=_("Name"), max_length=200, required=False)


# ---------------------------------------------------------------- compliance


class ComplianceForm(BootstrapForm):
    scope = UnitChoiceField(label=_("Scope"), queryset=Unit.objects.none(), required=False)
    period = forms.ChoiceField(label=_("Period"), choices=Period.choices, initial=Period.QUARTER)
    year = forms.IntegerField(label=_("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    number = forms.IntegerField(
        label=_("Quarter or month"), min_value=1, max_value=12, required=False, help_text=_("1–4 or 1–12")
    )
    as_of = date_field(_("As of (end of day)"), required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "scope", units)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period, number = data.get("period"), data.get("number")
        if period == Period.QUARTER and number and number > 4:
            self.add_error("number", _("A quarter is 1 to 4."))
        return data


class ExemptionForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none())
    requirement_code = forms.ChoiceField(label=_("Requirement"), choices=())
    start = date_field(_("From"))
    end = date_field(_("Until (exclusive)"))
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(
        self, *args: Any, units: QuerySet[Unit], codes: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "unit", units)
        field = self.fields["requirement_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = codes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The exemption must end after it starts."))
        return data


# ---------------------------------------------------------------- talks


class TalkForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none())
    held_on = date_field(_("Date"))
    topic = forms.CharField(label=_("Topic"), max_length=200)
    participants = forms.CharField(
        label=_("Participants (staff numbers)"), help_text=_("Separate them with commas or spaces.")
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "unit", units)


# ---------------------------------------------------------------- membership pipeline


class CaseOpenForm(BootstrapForm):
    branch = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none())
    person = code_field(_("Applicant (staff number)"), required=True)
    applied_on = date_field(_("Application date"))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "branch", units)


class CaseAdvanceForm(BootstrapForm):
    stage = forms.ChoiceField(label=_("Next stage"), choices=Stage.choices)
    on = date_field(_("Date"))
    introducers = forms.CharField(
        label=_("Introducers (staff numbers)"),
        required=False,
        help_text=_("Two full members, for a probationary member."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class CaseTalkForm(BootstrapForm):
    on = date_field(_("Date of the first talk"))


# ---------------------------------------------------------------- posts and contact points


class PostForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Type"), choices=PostKind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    person = code_field(_("Person (staff number)"))
    team = forms.ModelChoiceField(label=_("or team"), queryset=Team.objects.none(), required=False)
    start = date_field(_("From"))
    end = date_field(_("Until"), required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "unit", units)
        _set_units(self, "team", teams)


class ContactPointForm(BootstrapForm):
    branch = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none())
    leader = code_field(_("Leader (staff number)"), required=True)
    start = date_field(_("From"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_units(self, "branch", units)


class VisitForm(BootstrapForm):
    visited_on = date_field(_("Date"))
    topic = forms.CharField(label=_("Topic"), max_length=200)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


def default_year() -> int:
    return timezone.localdate().year


def parse_date(value: str | None) -> date | None:
    """A day from a link's query string, or ``None`` when it is not one a person may enter."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and day_in_range(day) else None
