"""Mobilization web forms. They parse and present input; ``muster.mobilize.services`` decides."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from muster.files import image_extension
from muster.mobilize.models import MeasureKind, PostKind, Request, RequestStatus
from muster.mobilize.shift_templates import normalize_curve
from muster.orgs import rules
from muster.orgs.models import Partner, Team, Unit
from muster.web.forms import (
    BootstrapForm,
    BoundedDateField,
    BoundedDateTimeField,
    UnitChoiceField,
    _bootstrap,
    bounded_int,
    split_tags,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def dt_field(label: Any, required: bool = True) -> forms.DateTimeField:
    return BoundedDateTimeField(label=label, required=required, widget=DateTimeInput())


_CODE_SPLIT = re.compile(r"[,，、;；\s]+")


def split_codes(value: str) -> list[str]:
    return [c for c in _CODE_SPLIT.split(value or "") if c]


def parse_curve(text: str) -> list[int] | list[list[int]]:
    """24 seat counts (every day) or 7 lines of 24 (Monday first), separated by commas or spaces."""
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    rows = [[int(v) for v in _CODE_SPLIT.split(ln.strip()) if v] for ln in lines]
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1 and sum(len(r) for r in rows) == 24 and len(rows) != 7:
        return [v for r in rows for v in r]
    return rows


class CurveField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 2, "class": "font-monospace"})

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value:
            return []
        try:
            curve = parse_curve(value)
        except ValueError as exc:
            raise forms.ValidationError(_("Seat counts are whole numbers.")) from exc
        try:
            normalize_curve(curve)
        except (ValueError, TypeError) as exc:
            raise forms.ValidationError(
                _("Give 24 seat counts (every day) or 7 lines of 24 (Monday first), each zero or more.")
            ) from exc
        return curve


# ------------------------------------------------------------------ requests


class RequestForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Handling unit"), queryset=Unit.objects.none())
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    title = forms.CharField(label=_("Task"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    site = forms.CharField(label=_("Place"), max_length=200, required=False)
    skills = forms.CharField(
        label=_("Skills"),
        max_length=400,
        required=False,
        help_text=_("Separate skills with commas or spaces."),
    )
    people_needed = bounded_int(_("People needed"), "people_needed", rules.PEOPLE_NEEDED)
    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    code = forms.CharField(
        label=_("Code"), max_length=40, required=False, help_text=_("Empty: numbered automatically.")
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], partners: QuerySet[Partner], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]

    def clean_skills(self) -> list[str]:
        return split_tags(self.cleaned_data.get("skills", ""))


class RequestEditForm(BootstrapForm):
    title = forms.CharField(label=_("Task"), max_length=200)
    site = forms.CharField(label=_("Place"), max_length=200, required=False)
    people_needed = bounded_int(_("People needed"), "people_needed", rules.PEOPLE_NEEDED)
    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    status = forms.ChoiceField(label=_("Status"), choices=RequestStatus.choices)


# ------------------------------------------------------------------ batches


class DeploymentFilterForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit (with sub-units)"), queryset=Unit.objects.none(), required=False)
    since = BoundedDateField(label=_("From"), required=False, widget=DateInput())
    until = BoundedDateField(label=_("To"), required=False, widget=DateInput())
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("active", _("Active")), ("cancelled", _("Cancelled"))],
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = units
        field.empty_label = str(_("All units"))
        _bootstrap(self)


class DispatchForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Dispatching unit"), queryset=Unit.objects.none())
    title = forms.CharField(label=_("Task"), max_length=200)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"),
        queryset=Team.objects.none(),
        required=False,
        help_text=_("Every member of the chosen teams joins the batch."),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    people = forms.CharField(
        label=_("Hand-picked people"),
        required=False,
        max_length=4000,
        help_text=_("Staff numbers, separated by commas or spaces."),
    )
    request = forms.ModelChoiceField(label=_("Request"), queryset=Request.objects.none(), required=False)
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none(), required=False)
    site = forms.CharField(label=_("Place"), max_length=200, required=False)
    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    leader = forms.CharField(label=_("Leader (staff number)"), max_length=40, required=False)
    supported_unit = forms.CharField(
        label=_("Supported unit (code)"),
        max_length=40,
        required=False,
        help_text=_("When the batch supports another unit (e.g. its hotline), that unit's code."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        units: QuerySet[Unit],
        teams: QuerySet[Team],
        requests: QuerySet[Request],
        partners: QuerySet[Partner],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["teams"].queryset = teams  # type: ignore[attr-defined]
        self.fields["request"].queryset = requests  # type: ignore[attr-defined]
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]

    def clean_people(self) -> list[str]:
        return split_codes(self.cleaned_data.get("people", ""))


class MeasureForm(BootstrapForm):
    kind = forms.ModelChoiceField(label=_("Measure"), queryset=MeasureKind.objects.filter(is_active=True))
    value = bounded_int(_("Value"), "value", rules.MEASURE_VALUE)
    on = BoundedDateField(label=_("Day"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


# ------------------------------------------------------------------ posts and shifts


class PostForm(BootstrapForm):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Type"), choices=PostKind.choices)
    site = forms.CharField(label=_("Place"), max_length=200, required=False)
    required_seats = CurveField(
        label=_("Seats needed per hour"),
        required=False,
        help_text=_("24 numbers (every day) or 7 lines of 24 (Monday first); empty: the shifts' seats."),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class ShiftForm(BootstrapForm):
    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    seats = bounded_int(_("Seats"), "seats", rules.SEATS, initial=1)
    remote = forms.BooleanField(label=_("Remote seat"), required=False)
    label = forms.CharField(label=_("Label"), max_length=60, required=False)


TEMPLATE_CHOICES = [
    ("three", _("Three 8-hour rotations (三班倒)")),
    ("duty24", _("24-hour duty")),
    ("hotline", _("Hotline seat curve (N seats per hour)")),
]


class ShiftTemplateForm(BootstrapForm):
    template = forms.ChoiceField(label=_("Template"), choices=TEMPLATE_CHOICES)
    first_day = BoundedDateField(label=_("First day"), widget=DateInput())
    days = bounded_int(_("Days"), "days", rules.TEMPLATE_DAYS, initial=1)
    start_hour = bounded_int(
        _("Start hour"),
        "start_hour",
        rules.START_HOUR,
        initial=8,
        help_text=_("Rotations and duty start at this hour (0–23)."),
    )
    seats = bounded_int(_("Seats per shift"), "seats", rules.SEATS, initial=1)
    curve = CurveField(
        label=_("Seats per hour"),
        required=False,
        help_text=_("For the hotline curve: 24 numbers (every day) or 7 lines of 24 (Monday first)."),
    )
    max_hours = bounded_int(
        _("Longest hotline shift (hours)"), "max_hours", rules.TEMPLATE_MAX_HOURS, initial=4
    )
    remote = forms.BooleanField(label=_("Remote seats"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("template") == "hotline" and not data.get("curve"):
            self.add_error("curve", _("The hotline template needs the seats per hour."))
        return data


class AssignForm(BootstrapForm):
    person_code = forms.CharField(label=_("Staff number"), max_length=40)


# ------------------------------------------------------------------ check-in, roll-call, fixes


class CheckForm(forms.Form):
    """The mobile page's form: a client (or server) generated idempotency key, in or out, the time."""

    key = forms.CharField(max_length=80)
    kind = forms.ChoiceField(choices=[("in", "in"), ("out", "out")])
    at = forms.CharField(required=False, max_length=40)

    def clean_at(self) -> datetime | None:
        raw = (self.cleaned_data.get("at") or "").strip()
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise forms.ValidationError(_("The time of the phone could not be read.")) from exc
        if value.tzinfo is None:
            from zoneinfo import ZoneInfo

            value = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        return value


class FixForm(BootstrapForm):
    check_in = dt_field(_("Check-in"))
    check_out = dt_field(_("Check-out"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    key = forms.CharField(widget=forms.HiddenInput, max_length=60)


# ------------------------------------------------------------------ approvals and my service


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class CorrectionForm(BootstrapForm):
    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    reason = forms.CharField(label=_("Reason"), max_length=500)


def evidence_max_bytes() -> int:
    return int(getattr(settings, "MUSTER_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024))


class SelfReportForm(BootstrapForm):
    """居家观察: community service while under home observation, with a note and an optional photo."""

    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    note = forms.CharField(label=_("What I did"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("Optional: a JPEG, PNG, WebP or HEIC photo of at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic"}),
    )

    def clean_photo(self) -> UploadedFile | None:
        photo: UploadedFile | None = self.cleaned_data.get("photo")
        if not photo:
            return None
        limit = evidence_max_bytes()
        if (photo.size or 0) > limit:
            raise forms.ValidationError(
                _("The photo is too large (%(size)s MB; at most %(max)s MB).")
                % {"size": round((photo.size or 0) / 1048576, 1), "max": round(limit / 1048576, 1)}
            )
        photo.seek(0)
        head = photo.read(16)
        photo.seek(0)
        ext = image_extension(head)
        if ext is None:
            raise forms.ValidationError(_("The file is not a photo (JPEG, PNG, WebP or HEIC)."))
        import uuid

        photo.name = f"{uuid.uuid4().hex}{ext}"
        return photo


class CoverageForm(forms.Form):
    start = BoundedDateField(label=_("From"), required=False, widget=DateInput())
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=31, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)


def today_local() -> date:
    from django.utils import timezone

    return timezone.localdate()
