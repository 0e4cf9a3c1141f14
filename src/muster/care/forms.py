"""Care web forms. They parse and present input; ``muster.care.services`` decides (its ``ValidationError``
lands on the form's fields through ``put_errors``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from muster.care.models import (
    Channel,
    ConsolationKind,
    DeliveryKind,
    Dimension,
    DimensionKind,
    DonationKind,
    HelpCategory,
    HelpSource,
    HelpStatus,
    LineStatus,
    SubjectStatus,
    SurveyRound,
    Urgency,
)
from muster.orgs.models import Unit
from muster.web.forms import BootstrapForm, BoundedDateField, BoundedDateTimeField, UnitChoiceField

DT = {"type": "datetime-local"}
DAY = {"type": "date"}


def put_errors(form: forms.Form, exc: ValidationError, *, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ``ValidationError`` on the form: each message on its field when the form has it
    (``lines.3.quantity`` goes to ``lines``), else above the form."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        for m in exc.messages:
            form.add_error(None, m)
        return
    for key, errors in exc.message_dict.items():
        name = aliases.get(key, key)
        if name not in form.fields:
            name = aliases.get(key.split(".")[0], key.split(".")[0])
        prefix = ""
        if name != key and key.startswith(f"{name}.") and key.split(".")[1].isdigit():
            prefix = _("Line %(n)s: ") % {"n": key.split(".")[1]}
        target = name if name in form.fields else None
        for m in errors:
            form.add_error(target, f"{prefix}{m}")


class UnitField(UnitChoiceField):
    pass


class SubjectForm(BootstrapForm):
    unit = UnitField(label=_("Unit"), queryset=Unit.objects.none())
    code = forms.CharField(label=_("Code"), max_length=40)
    person = forms.CharField(
        label=_("Person code"),
        max_length=40,
        required=False,
        help_text=_("For a person of the register (a retiree, a staff member); leave empty for a resident."),
    )
    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    birth_date = BoundedDateField(label=_("Birth date"), required=False, widget=forms.DateInput(DAY))
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput({"inputmode": "tel"})
    )
    id_number = forms.CharField(label=_("ID number"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    community = forms.CharField(label=_("Community"), max_length=120, required=False)
    liaison = forms.CharField(label=_("Liaison (person code)"), max_length=40, required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class SubjectEditForm(BootstrapForm):
    liaison = forms.CharField(label=_("Liaison (person code)"), max_length=40, required=False)
    community = forms.CharField(label=_("Community"), max_length=120, required=False)
    phone = forms.CharField(
        label=_("New phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput({"inputmode": "tel"}),
        help_text=_("Leave empty to keep the current one."),
    )
    address = forms.CharField(
        label=_("New address"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to keep the current one."),
    )


class StatusForm(BootstrapForm):
    status = forms.ChoiceField(label=_("Status"), choices=SubjectStatus.choices)
    on = BoundedDateField(label=_("Since"), widget=forms.DateInput(DAY))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RoundForm(BootstrapForm):
    unit = UnitField(label=_("Unit"), queryset=Unit.objects.none())
    name = forms.CharField(label=_("Name"), max_length=120)
    dimensions = forms.ModelMultipleChoiceField(
        label=_("Questions"),
        queryset=Dimension.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        to_field_name="code",
        help_text=_("None ticked: all of them."),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["dimensions"].widget.attrs["class"] = "form-check-input"


class AnswerForm(BootstrapForm):
    """A subject's answers in a round: one field per question of the round (large touch targets)."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE, widget=forms.RadioSelect
    )
    at = BoundedDateTimeField(
        label=_("Time"), required=False, widget=forms.DateTimeInput(DT), help_text=_("Empty: now.")
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, round: SurveyRound, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dimension_codes: list[str] = []
        fields: dict[str, forms.Field] = {}
        for d in round.dimensions.all():
            name = f"d_{d.code}"
            self.dimension_codes.append(d.code)
            field: forms.Field
            if d.kind == DimensionKind.CHOICE:
                field = forms.ChoiceField(
                    label=d.label,
                    choices=[(c, c) for c in d.choices],
                    required=False,
                    widget=forms.RadioSelect,
                )
            elif d.kind == DimensionKind.NUMBER:
                field = forms.CharField(
                    label=d.label,
                    required=False,
                    max_length=6,
                    widget=forms.TextInput({"inputmode": "numeric", "class": "form-control"}),
                )
            elif d.kind == DimensionKind.DATE:
                field = forms.CharField(
                    label=d.label,
                    required=False,
                    max_length=10,
                    widget=forms.DateInput({"type": "date", "class": "form-control"}),
                )
            else:
                field = forms.CharField(
                    label=d.label,
                    required=False,
                    max_length=500,
                    widget=forms.TextInput({"class": "form-control"}),
                )
            fields[name] = field
        # the questions first, then channel, time and note
        rest = dict(self.fields)
        self.fields = {**fields, **rest}
        for f in self.fields.values():
            if isinstance(f.widget, forms.RadioSelect):
                f.widget.attrs["class"] = "btn-check"

    def answers(self) -> dict[str, str]:
        return {
            code: self.cleaned_data[f"d_{code}"]
            for code in self.dimension_codes
            if self.cleaned_data.get(f"d_{code}") not in (None, "")
        }


class DeliveryForm(BootstrapForm):
    """One subject's delivery (the liaison on the doorstep): delivered now unless said otherwise."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=DeliveryKind.choices, widget=forms.RadioSelect, initial=DeliveryKind.SUPPLIES
    )
    item = forms.CharField(label=_("Item"), max_length=80)
    quantity = forms.CharField(
        label=_("Quantity"), max_length=20, initial="1", widget=forms.TextInput({"inputmode": "decimal"})
    )
    note = forms.CharField(label=_("Note (e.g. the prescription)"), max_length=300, required=False)
    help_request = forms.TypedChoiceField(
        label=_("Fulfils help request"), coerce=int, required=False, empty_value=None
    )
    delivered = forms.BooleanField(label=_("Delivered now"), required=False, initial=True)
    receipt = forms.FileField(
        label=_("Receipt (photo or PDF)"),
        required=False,
        widget=forms.ClearableFileInput({"accept": "image/*,application/pdf"}),
    )

    def __init__(self, *args: Any, requests: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["help_request"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—")] + [
            (r.pk, f"#{r.pk} {r.get_category_display()} · {r.description[:30]}") for r in requests
        ]
        self.fields["kind"].widget.attrs["class"] = "btn-check"


class RunForm(BootstrapForm):
    """A delivery run to many subjects (a manager): one line per subject — code, item, quantity, note."""

    unit = UnitField(label=_("Unit"), queryset=Unit.objects.none())
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=DeliveryKind.choices)
    at = BoundedDateTimeField(label=_("Time"), required=False, widget=forms.DateTimeInput(DT))
    lines = forms.CharField(
        label=_("Lines"),
        max_length=100_000,
        widget=forms.Textarea({"rows": 6}),
        help_text=_("One line per delivery: subject code, item, quantity, note — separated by commas."),
    )
    delivered = forms.BooleanField(label=_("Already delivered"), required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class LineMarkForm(BootstrapForm):
    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in LineStatus.choices if c[0] != LineStatus.PLANNED]
    )
    reason = forms.CharField(label=_("Reason (when failed)"), max_length=300, required=False)


class HelpForm(BootstrapForm):
    unit = UnitField(label=_("Unit"), queryset=Unit.objects.none())
    subject = forms.CharField(label=_("Care subject code"), max_length=40, required=False)
    requester_name = forms.CharField(label=_("Requester"), max_length=60, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=HelpSource.choices, initial=HelpSource.DUTY_POST)
    category = forms.ChoiceField(label=_("Category"), choices=HelpCategory.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    description = forms.CharField(
        label=_("What is needed"), max_length=1000, widget=forms.Textarea({"rows": 3})
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class HelpStepForm(BootstrapForm):
    status = forms.ChoiceField(
        label=_("Next step"), choices=[c for c in HelpStatus.choices if c[0] != HelpStatus.NEW]
    )
    assignee = forms.CharField(label=_("Assignee (person code)"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class ConsolationForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ConsolationKind.choices)
    at = BoundedDateTimeField(label=_("Time"), required=False, widget=forms.DateTimeInput(DT))
    to_family = forms.BooleanField(label=_("To the family"), required=False)
    amount = forms.CharField(
        label=_("Amount (yuan)"),
        max_length=20,
        required=False,
        widget=forms.TextInput({"inputmode": "decimal"}),
    )
    channel = forms.CharField(label=_("Paid by (WeChat, bank transfer, cash)"), max_length=12, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    receipt = forms.FileField(label=_("Receipt (photo or PDF)"), required=False)


class DonationForm(BootstrapForm):
    unit = UnitField(label=_("Unit"), queryset=Unit.objects.none())
    donor = forms.CharField(label=_("Donor"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=DonationKind.choices)
    value = forms.CharField(
        label=_("Value (yuan)"), max_length=20, widget=forms.TextInput({"inputmode": "decimal"})
    )
    items = forms.CharField(label=_("Items"), max_length=500, required=False)
    partner = forms.CharField(label=_("Partner code"), max_length=40, required=False)
    subject = forms.CharField(label=_("Care subject code"), max_length=40, required=False)
    beneficiary = forms.CharField(label=_("Beneficiary"), max_length=120, required=False)
    at = BoundedDateTimeField(label=_("Time"), required=False, widget=forms.DateTimeInput(DT))
    receipt = forms.FileField(label=_("Receipt (photo or PDF)"), required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class DriveForm(BootstrapForm):
    unit = UnitField(label=_("Unit"), queryset=Unit.objects.none())
    name = forms.CharField(label=_("Name"), max_length=120)
    beneficiary = forms.CharField(label=_("Beneficiary"), max_length=200)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class ContributionForm(BootstrapForm):
    person = forms.CharField(label=_("Person code"), max_length=40, required=False)
    name = forms.CharField(label=_("Name (someone not in the register)"), max_length=60, required=False)
    amount = forms.CharField(
        label=_("Amount (yuan)"), max_length=20, widget=forms.TextInput({"inputmode": "decimal"})
    )


class ReceiptForm(BootstrapForm):
    receipt = forms.FileField(
        label=_("Receipt (photo or PDF)"),
        widget=forms.ClearableFileInput({"accept": "image/*,application/pdf"}),
    )
