"""Web forms of outreach: thin, the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from muster.orgs.models import Unit
from muster.outreach import queries
from muster.outreach.models import (
    Agreement,
    IndicatorUnit,
    MeasureCategory,
    MeasureState,
    ServiceKind,
    TaxClass,
    TaxpayerHome,
    Visit,
    VisitForm,
)

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})
_TEXT = {"class": "form-control"}


def split_codes(value: str) -> list[str]:
    out: list[str] = []
    for part in value.replace("，", ",").replace("、", ",").replace("\n", ",").replace(" ", ",").split(","):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


class VisitRecordForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=_DATE)
    form = forms.ChoiceField(
        label=_("Form"), choices=VisitForm.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), widget=forms.Select(attrs={"class": "form-select"})
    )
    branch = forms.ModelChoiceField(
        label=_("Party branch"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    visitors = forms.CharField(
        label=_("Visitors (staff numbers)"), max_length=2000, widget=forms.TextInput(attrs=_TEXT)
    )
    enterprises = forms.CharField(
        label=_("Enterprises visited (credit codes)"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 2}),
    )
    topics = forms.CharField(
        label=_("Topics"), max_length=300, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    findings = forms.CharField(
        label=_("Findings"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 4}),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], branches: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]


class ResolveForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=_DATE)
    resolution = forms.CharField(
        label=_("How it was resolved"), max_length=10000, widget=forms.Textarea(attrs={**_TEXT, "rows": 3})
    )
    evidence = forms.CharField(
        label=_("Evidence"), max_length=300, required=False, widget=forms.TextInput(attrs=_TEXT)
    )


class ReasonForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=_DATE)
    reason = forms.CharField(
        label=_("Reason"), max_length=10000, widget=forms.Textarea(attrs={**_TEXT, "rows": 3})
    )


class StartForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=_DATE)


# ------------------------------------------------ homes, classes, measures, indicators, co-building

_SELECT = {"class": "form-select"}


def _units_field(label: Any, *, required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label, queryset=Unit.objects.none(), required=required, widget=forms.Select(attrs=_SELECT)
    )


def _partner_field() -> forms.CharField:
    return forms.CharField(
        label=_("Partner (code)"), max_length=40, required=False, widget=forms.TextInput(attrs=_TEXT)
    )


class HomeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, widget=forms.TextInput(attrs=_TEXT))
    unit = _units_field(_("Unit"))
    opened_on = forms.DateField(label=_("Opened on"), widget=_DATE)
    partner = _partner_field()
    address = forms.CharField(
        label=_("Address"), max_length=200, required=False, widget=forms.TextInput(attrs=_TEXT)
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class ClassForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=_DATE)
    topic = forms.CharField(label=_("Topic"), max_length=200, widget=forms.TextInput(attrs=_TEXT))
    unit = _units_field(_("Unit"))
    branch = _units_field(_("Party branch"), required=False)
    home = forms.ModelChoiceField(
        label=_("Taxpayer home"),
        queryset=TaxpayerHome.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    speaker = forms.CharField(
        label=_("Speaker"), max_length=60, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    partner = _partner_field()
    attendees = forms.IntegerField(
        label=_("Attendees"),
        min_value=0,
        max_value=100000,
        widget=forms.NumberInput(attrs={**_TEXT, "inputmode": "numeric"}),
    )
    satisfaction = forms.DecimalField(
        label=_("Satisfaction (0–100)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={**_TEXT, "inputmode": "decimal", "step": "0.01"}),
    )
    enterprises = forms.CharField(
        label=_("Enterprises (credit codes)"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        units: QuerySet[Unit],
        branches: QuerySet[Unit],
        homes: QuerySet[TaxpayerHome],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]
        self.fields["home"].queryset = homes  # type: ignore[attr-defined]


class CategoryForm(forms.Form):
    unit = _units_field(_("Catalog of"))
    name = forms.CharField(label=_("Name"), max_length=120, widget=forms.TextInput(attrs=_TEXT))
    order = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=10000,
        initial=0,
        widget=forms.NumberInput(attrs={**_TEXT, "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class _CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.unit.name}"


class MeasureForm(forms.Form):
    category = _CategoryChoice(
        label=_("Category"), queryset=MeasureCategory.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    title = forms.CharField(label=_("Measure"), max_length=200, widget=forms.TextInput(attrs=_TEXT))
    unit = _units_field(_("Unit"))
    started_on = forms.DateField(label=_("Start date"), widget=_DATE)
    state = forms.ChoiceField(
        label=_("State"),
        choices=MeasureState.choices,
        initial=MeasureState.IN_FORCE,
        widget=forms.Select(attrs=_SELECT),
    )

    def __init__(
        self, *args: Any, units: QuerySet[Unit], categories: QuerySet[MeasureCategory], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]


class MeasureEditForm(forms.Form):
    category = _CategoryChoice(
        label=_("Category"), queryset=MeasureCategory.objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    state = forms.ChoiceField(
        label=_("State"), choices=MeasureState.choices, widget=forms.Select(attrs=_SELECT)
    )

    def __init__(self, *args: Any, categories: QuerySet[MeasureCategory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories  # type: ignore[attr-defined]


class IndicatorForm(forms.Form):
    unit = _units_field(_("Unit"))
    name = forms.CharField(label=_("Name"), max_length=120, widget=forms.TextInput(attrs=_TEXT))
    measure_unit = forms.ChoiceField(
        label=_("Unit of measure"), choices=IndicatorUnit.choices, widget=forms.Select(attrs=_SELECT)
    )
    baseline = forms.DecimalField(
        label=_("Baseline"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_TEXT, "inputmode": "decimal", "step": "0.01"}),
    )
    baseline_on = forms.DateField(label=_("Baseline date"), widget=_DATE)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class IndicatorValueForm(forms.Form):
    measured_on = forms.DateField(label=_("Measured on"), widget=_DATE)
    value = forms.DecimalField(
        label=_("Value"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_TEXT, "inputmode": "decimal", "step": "0.01"}),
    )


class AgreementForm(forms.Form):
    branch = _units_field(_("Party branch"))
    partner = forms.CharField(label=_("Partner (code)"), max_length=40, widget=forms.TextInput(attrs=_TEXT))
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    start = forms.DateField(label=_("Start date"), widget=_DATE)
    end = forms.DateField(label=_("End date"), required=False, widget=_DATE)

    def __init__(self, *args: Any, branches: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]


# ------------------------------------------------ editing and closing homes, classes and agreements


class HomeEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, widget=forms.TextInput(attrs=_TEXT))
    opened_on = forms.DateField(label=_("Opened on"), widget=_DATE)
    partner = _partner_field()
    address = forms.CharField(
        label=_("Address"), max_length=200, required=False, widget=forms.TextInput(attrs=_TEXT)
    )


class CloseForm(forms.Form):
    """The day a home closes or an agreement ends."""

    on = forms.DateField(label=_("Closing day"), widget=_DATE)


class _AgreementChoice(forms.ModelChoiceField):
    """An agreement named by branch, partner (masked unless ``user`` may see it) and start."""

    user: Any = None

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.branch.name} · {queries.partner_shown(self.user, obj.partner)} · {obj.start:%Y-%m-%d}"


class ClassEditForm(ClassForm):
    """A class's fields but its unit, and the co-building agreement it belongs to."""

    agreement = _AgreementChoice(
        label=_("Co-building agreement"),
        queryset=Agreement.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )

    def __init__(self, *args: Any, agreements: QuerySet[Agreement], user: Any, **kwargs: Any) -> None:
        super().__init__(*args, units=Unit.objects.none(), **kwargs)
        del self.fields["unit"]
        self.fields["agreement"].queryset = agreements  # type: ignore[attr-defined]
        self.fields["agreement"].user = user  # type: ignore[attr-defined]


class AgreementEditForm(forms.Form):
    partner = forms.CharField(  # empty: the partner stays (one the user may not see is not shown)
        label=_("Partner (code)"), max_length=40, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, widget=forms.TextInput(attrs=_TEXT)
    )
    start = forms.DateField(label=_("Start date"), widget=_DATE)
    end = forms.DateField(label=_("End date"), required=False, widget=_DATE)


class _ActivityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.held_on:%Y-%m-%d} · {getattr(obj, 'topics', '') or getattr(obj, 'topic', '') or obj}"


class AttachActivityForm(forms.Form):
    """Count one visit or one class as an activity of a co-building agreement."""

    visit = _ActivityChoice(
        label=_("Visit"), queryset=Visit.objects.none(), required=False, widget=forms.Select(attrs=_SELECT)
    )
    tax_class = _ActivityChoice(
        label=_("Taxpayer class"),
        queryset=TaxClass.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )

    def __init__(
        self, *args: Any, visits: QuerySet[Visit], classes: QuerySet[TaxClass], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = visits  # type: ignore[attr-defined]
        self.fields["tax_class"].queryset = classes  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("visit") is None) == (data.get("tax_class") is None):
            raise forms.ValidationError(_("Choose one visit or one class."))
        return data


# ------------------------------------------------ the service log


class ServiceLogForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Time"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    kind = forms.ChoiceField(label=_("Type"), choices=ServiceKind.choices, widget=forms.Select(attrs=_SELECT))
    unit = _units_field(_("Unit"))
    enterprise = forms.CharField(
        label=_("Enterprise (credit code)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs=_TEXT),
    )
    taxpayer = forms.CharField(
        label=_("Taxpayer"),
        max_length=120,
        required=False,
        help_text=_("A person or a body without a credit code; left empty, the enterprise's name."),
        widget=forms.TextInput(attrs=_TEXT),
    )
    matter = forms.CharField(
        label=_("Matter"), max_length=300, widget=forms.Textarea(attrs={**_TEXT, "rows": 2})
    )
    staff = forms.CharField(
        label=_("Staff (staff number)"), max_length=40, widget=forms.TextInput(attrs=_TEXT)
    )
    outside_hours = forms.BooleanField(
        label=_("Outside office hours"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
