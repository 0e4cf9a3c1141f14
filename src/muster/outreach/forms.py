"""Web forms of outreach: thin, the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from muster.orgs.models import Unit
from muster.outreach.models import VisitForm

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
