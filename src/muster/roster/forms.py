"""The solve form: the period, the rules and, under "advanced", the time limit and the seed (left empty:
the defaults, ``DEFAULT_SECONDS`` and seed 0)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from muster.roster.adapter import MAX_SECONDS, Rules
from muster.web.forms import BootstrapForm, BoundedDateField


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


DEFAULT_SECONDS = 10
ADVANCED = ("seconds", "seed")


class SolveForm(BootstrapForm):
    start_date = BoundedDateField(label=_("First day"), widget=DateInput())
    end_date = BoundedDateField(label=_("Last day"), widget=DateInput())
    seconds = forms.IntegerField(
        label=_("Time limit (seconds)"),
        min_value=1,
        max_value=MAX_SECONDS,
        initial=DEFAULT_SECONDS,
        required=False,
        help_text=_("How long the solver may search; longer can give a fairer roster."),
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        initial=0,
        required=False,
        help_text=_("Another seed gives another roster of about the same quality."),
    )
    min_rest_minutes = forms.IntegerField(
        label=_("Minimum rest between shifts (minutes)"), min_value=0, max_value=48 * 60
    )
    max_hours_day = forms.IntegerField(
        label=_("Maximum hours a day"), min_value=0, max_value=24, help_text=_("0 = no limit")
    )
    max_hours_week = forms.IntegerField(
        label=_("Maximum hours a week"), min_value=0, max_value=168, help_text=_("0 = no limit")
    )
    max_consecutive_days = forms.IntegerField(
        label=_("Maximum consecutive days"), min_value=0, max_value=92, help_text=_("0 = no limit")
    )
    max_shifts_per_day = forms.IntegerField(label=_("Maximum shifts a day"), min_value=1, max_value=24)
    no_night_then_morning = forms.BooleanField(
        label=_("No morning shift after a night shift"), required=False
    )
    fairness = forms.IntegerField(
        label=_("Weight of fairness"),
        min_value=0,
        max_value=100,
        help_text=_("Penalty per hour between the most and the least loaded person."),
    )

    def clean_seconds(self) -> int:
        value = self.cleaned_data.get("seconds")
        return DEFAULT_SECONDS if value is None else int(value)

    def clean_seed(self) -> int:
        value = self.cleaned_data.get("seed")
        return 0 if value is None else int(value)

    def ordinary_fields(self) -> list[Any]:
        return [f for f in self.visible_fields() if f.name not in ADVANCED]

    def advanced_fields(self) -> list[Any]:
        return [f for f in self.visible_fields() if f.name in ADVANCED]

    def advanced_errors(self) -> bool:
        return any(self.errors.get(name) for name in ADVANCED)

    def rules(self) -> Rules:
        d = self.cleaned_data
        return Rules(
            min_rest_minutes=d["min_rest_minutes"],
            max_hours_day=d["max_hours_day"],
            max_hours_week=d["max_hours_week"],
            max_consecutive_days=d["max_consecutive_days"],
            max_shifts_per_day=d["max_shifts_per_day"],
            no_night_then_morning=d["no_night_then_morning"],
            fairness=d["fairness"],
        )


class ResolveForm(BootstrapForm):
    seconds = forms.IntegerField(
        label=_("Time limit (seconds)"), min_value=1, max_value=MAX_SECONDS, required=False
    )
    seed = forms.IntegerField(label=_("Seed"), min_value=0, max_value=2**31 - 1, required=False)
