"""Web forms. They only parse and present input; the services in ``muster.orgs.services`` decide."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from muster import dates
from muster.audit.actions import ACTIONS
from muster.orgs import rules
from muster.orgs.models import (
    PARTY_KINDS,
    EmploymentStatus,
    Gender,
    PartnerKind,
    PoliticalStatus,
    Role,
    Team,
    TeamKind,
    TeamRole,
    Unit,
    UnitKind,
)

ADMIN_KIND_CHOICES = [(k.value, k.label) for k in UnitKind if k not in PARTY_KINDS]
PARTY_KIND_CHOICES = [(k.value, k.label) for k in UnitKind if k in PARTY_KINDS]


class UnitChoiceField(forms.ModelChoiceField):
    """A unit select showing the tree by indentation, with each unit's code."""

    def label_from_instance(self, obj: Any) -> str:
        return "\u3000" * max(0, obj.depth - 1) + f"{obj.name} ({obj.code})"


def _bootstrap(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class TextRule:
    """A text field checked by the rule of ``muster.orgs.rules`` (no control characters), whose message
    the services, the API and the importers give too."""

    def __init__(self, key: str, label: Any) -> None:
        self.key, self.label = key, label

    def __call__(self, value: Any) -> None:
        if isinstance(value, str) and (problem := rules.text_problem(value, self.key, self.label)):
            raise forms.ValidationError(problem, code="invalid_character")


def use_text_rules(form: forms.BaseForm) -> None:
    """Every text field of ``form`` checked by ``TextRule`` (instead of Django's own NUL check)."""
    for name, field in form.fields.items():
        if isinstance(field, forms.CharField):
            field.validators = [
                v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
            ]
            field.validators.append(TextRule(name, field.label))


def bounded_int(label: Any, key: str, bounds: tuple[int, int], **kwargs: Any) -> forms.IntegerField:
    """A whole-number field with the bounds (and the message) of ``muster.orgs.rules``."""
    lo, hi = bounds
    messages = rules.int_error_messages(key, bounds)
    return forms.IntegerField(label=label, min_value=lo, max_value=hi, error_messages=messages, **kwargs)


class BootstrapForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)
        use_text_rules(self)


class BoundedDateField(forms.DateField):
    """A date a person enters, in ``muster.dates``' range (the API's ``BoundedDate``)."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not dates.day_in_range(value):
            raise forms.ValidationError(dates.date_range_message(), code="date_range")


class BoundedDateTimeField(forms.DateTimeField):
    """A date-time a person enters, its day in ``muster.dates``' range (the API's ``BoundedDateTime``)."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not dates.day_in_range(value.date()):
            raise forms.ValidationError(dates.date_range_message(), code="date_range")


# ------------------------------------------------------------------ units


class UnitForm(BootstrapForm):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    short_name = forms.CharField(label=_("Short name"), max_length=60, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=UnitKind.choices)

    def __init__(self, *args: Any, party: bool | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if party is not None:
            kind = self.fields["kind"]
            assert isinstance(kind, forms.ChoiceField)
            kind.choices = PARTY_KIND_CHOICES if party else ADMIN_KIND_CHOICES


class UnitMoveForm(BootstrapForm):
    new_parent = UnitChoiceField(label=_("New parent unit"), queryset=Unit.objects.none())

    def __init__(self, *args: Any, parents: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["new_parent"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = parents


class GrantForm(BootstrapForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


# ------------------------------------------------------------------ people

_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def split_tags(value: str) -> list[str]:
    return [t for t in _TAG_SPLIT.split(value or "") if t]


class PersonForm(BootstrapForm):
    code = forms.CharField(label=_("Staff number"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=60)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    party_unit = UnitChoiceField(label=_("Party organization"), queryset=Unit.objects.none(), required=False)
    political_status = forms.ChoiceField(label=_("Political status"), choices=PoliticalStatus.choices)
    employment_status = forms.ChoiceField(label=_("Employment status"), choices=EmploymentStatus.choices)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("A masked value (with *) left as it is keeps the stored number."),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        required=False,
        help_text=_("A masked value (with *) left as it is keeps the stored number."),
    )
    tags = forms.CharField(
        label=_("Tags"), max_length=400, required=False, help_text=_("Separate tags with commas or spaces.")
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], party_units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, qs in (("unit", units), ("party_unit", party_units)):
            field = self.fields[name]
            assert isinstance(field, UnitChoiceField)
            field.queryset = qs

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags", ""))


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or staff number"), required=False)
    unit = UnitChoiceField(label=_("Unit (with sub-units)"), queryset=Unit.objects.none(), required=False)
    political_status = forms.ChoiceField(
        label=_("Political status"), choices=[("", _("All")), *PoliticalStatus.choices], required=False
    )
    employment_status = forms.ChoiceField(
        label=_("Employment status"), choices=[("", _("All")), *EmploymentStatus.choices], required=False
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    tag = forms.ChoiceField(label=_("Tag"), choices=[], required=False)

    def __init__(
        self, *args: Any, units: QuerySet[Unit], teams: QuerySet[Team], tags: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, UnitChoiceField)
        unit_field.queryset = units
        unit_field.empty_label = str(_("All units"))
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams
        team_field.empty_label = str(_("All teams"))
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ChoiceField)
        tag_field.choices = [("", _("All tags")), *((t, t) for t in tags)]
        _bootstrap(self)


# ------------------------------------------------------------------ teams and partners


class TeamForm(BootstrapForm):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Type"), choices=TeamKind.choices)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, units: QuerySet[Unit] | None = None, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if editing:
            # The code and the unit of a team stay as they are; the rest can change.
            del self.fields["code"]
            del self.fields["unit"]
        else:
            del self.fields["is_active"]
            field = self.fields["unit"]
            assert isinstance(field, UnitChoiceField)
            field.queryset = units if units is not None else Unit.objects.none()


class TeamMemberForm(BootstrapForm):
    person_code = forms.CharField(label=_("Staff number"), max_length=40)
    role = forms.ChoiceField(label=_("Role"), choices=TeamRole.choices, initial=TeamRole.MEMBER)


class PartnerForm(BootstrapForm):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Type"), choices=PartnerKind.choices)
    unit = UnitChoiceField(label=_("Liaison unit"), queryset=Unit.objects.none())
    district = forms.CharField(label=_("District"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = units


# ------------------------------------------------------------------ staff register, audit, tokens


class ImportForm(BootstrapForm):
    file = forms.FileField(
        label=_("Roster file (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(label=_("Validate only (write nothing)"), required=False, initial=True)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Choose an .xlsx workbook or a .csv file."))
        return upload


EXPORT_FORMATS = [
    ("xlsx", _("Excel workbook (.xlsx), units and people")),
    ("csv-people", _("CSV, people")),
    ("csv-units", _("CSV, units")),
]


class ExportForm(BootstrapForm):
    what = forms.ChoiceField(label=_("Format"), choices=EXPORT_FORMATS)
    unit = UnitChoiceField(label=_("Unit (with sub-units)"), queryset=Unit.objects.none(), required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = units
        field.empty_label = str(_("Everything I may export"))


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False)
    target = forms.CharField(label=_("Target"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action_field = self.fields["action"]
        assert isinstance(action_field, forms.ChoiceField)
        action_field.choices = [("", _("All actions")), *((code, label) for code, label in ACTIONS.items())]
        _bootstrap(self)


class TokenForm(BootstrapForm):
    name = forms.CharField(label=_("Token name"), max_length=80, help_text=_("What the token is for."))
