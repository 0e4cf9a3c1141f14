"""Forms of a batch's own pages: edit, cancel, and its members (picker, team, pasted staff numbers).

They parse and present input; ``muster.mobilize.services`` decides (the same checks as the API's
``PATCH /deployments/{code}``, ``POST …/cancel`` and ``…/members``).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from muster.mobilize.forms import dt_field
from muster.orgs.models import Team
from muster.web.forms import BootstrapForm

# Staff numbers in a pasted list: one per line, or separated by commas (either width), 、 ; or spaces.
_PASTE_SPLIT = re.compile(r"[,，、;；\s]+")
PASTE_MAX_CODES = 500
CODE_MAX_LENGTH = 40


class DeploymentEditForm(BootstrapForm):
    title = forms.CharField(label=_("Task"), max_length=200)
    site = forms.CharField(label=_("Place"), max_length=200, required=False)
    start = dt_field(_("Start"))
    end = dt_field(_("End"))
    leader = forms.CharField(
        label=_("Leader (staff number)"),
        max_length=CODE_MAX_LENGTH,
        required=False,
        help_text=_("A new leader who is not yet in the batch joins it."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, has_leader: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_leader = has_leader

    def clean_leader(self) -> str:
        code = (self.cleaned_data.get("leader") or "").strip()
        if not code and self.has_leader:
            raise forms.ValidationError(_("A batch's leader can be changed but not removed."))
        return code


class CancelForm(BootstrapForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The members are told this reason."),
    )
    confirm = forms.BooleanField(
        label=_("I understand: the batch stops counting as a batch; hours already recorded stay."),
        required=True,
    )


class MemberSearchForm(BootstrapForm):
    q = forms.CharField(max_length=60, required=False)


class MemberAddForm(forms.Form):
    person = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class TeamAddForm(BootstrapForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]


class PasteForm(BootstrapForm):
    codes = forms.CharField(
        label=_("Staff numbers"),
        max_length=20000,
        widget=forms.Textarea(
            attrs={"rows": 5, "class": "form-control font-monospace", "autocomplete": "off"}
        ),
        help_text=_("One per line, or separated by commas."),
    )

    def clean_codes(self) -> list[str]:
        codes = [c for c in _PASTE_SPLIT.split(self.cleaned_data.get("codes") or "") if c]
        if not codes:
            raise forms.ValidationError(_("Enter at least one staff number."))
        if len(codes) > PASTE_MAX_CODES:
            raise forms.ValidationError(
                _("At most %(max)s staff numbers at a time (this list has %(n)s).")
                % {"max": PASTE_MAX_CODES, "n": len(codes)}
            )
        return list(dict.fromkeys(codes))  # the first occurrence of each, in the pasted order
