"""Web forms of awards and commendations. They parse and present input; ``muster.honors.awards`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from muster.honors.models import HonorKind, HonorLevel
from muster.orgs.models import Unit
from muster.web.forms import BootstrapForm, BoundedDateField, UnitChoiceField


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class HonorForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Type"), choices=HonorKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    level = forms.ChoiceField(label=_("Level"), choices=HonorLevel.choices)
    awarded_on = BoundedDateField(label=_("Date"), widget=DateInput())
    branch = UnitChoiceField(label=_("Proposed by"), queryset=Unit.objects.none())
    person = forms.CharField(label=_("To a person (staff number)"), max_length=40, required=False)
    unit = forms.CharField(label=_("or to a unit (code)"), max_length=40, required=False)
    issuer = forms.CharField(label=_("Issued by"), max_length=200, required=False)
    evidence = forms.FileField(
        label=_("Evidence"),
        required=False,
        help_text=_("A PDF scan or a photo (JPEG, PNG, WebP or HEIC) of at most 5 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp,image/heic"}
        ),
    )
    evidence_note = forms.CharField(label=_("Evidence (description or link)"), max_length=300, required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = units


class HonorDecideForm(BootstrapForm):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    opinion = forms.CharField(label=_("Opinion"), max_length=300, required=False)
