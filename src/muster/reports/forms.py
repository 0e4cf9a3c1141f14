"""Forms of the report pages: which unit, as of when ("24:00" accepted), and what an export stamps."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.clock import TimeParseError, local_tz
from muster.mobilize.ledger_io import describe_time_error
from muster.reports.rollup import cutoff, parse_cutoff
from muster.web.forms import BoundedDateField

_TIME = re.compile(r"^(?:[01]?\d|2[0-3]):[0-5]\d$|^24:00$")

RANK_CHOICES = [
    ("person_times", gettext_lazy("Person-times")),
    ("batches", gettext_lazy("Batches")),
    ("persons", gettext_lazy("Persons")),
    ("hours", gettext_lazy("Hours")),
    ("community_persons", gettext_lazy("Community service persons")),
    ("community_hours", gettext_lazy("Community service hours")),
]


def split_cutoff(as_of: datetime) -> tuple[date, str]:
    """A cutoff as the form shows it: a midnight is the previous day at "24:00"."""
    local = cutoff(as_of)
    if local.hour == 0 and local.minute == 0:
        return (local - timedelta(minutes=1)).date(), "24:00"
    return local.date(), local.strftime("%H:%M")


def cutoff_label(as_of: datetime) -> str:
    """ "2022-03-18 24:00" for a midnight, else "2022-03-18 08:30"."""
    day, time = split_cutoff(as_of)
    return f"{day.isoformat()} {time}"


def default_cutoff() -> datetime:
    return cutoff(timezone.now())


class CutoffForm(forms.Form):
    """The unit (its code; empty = the user's own top unit) and the cutoff (date and time)."""

    unit = forms.CharField(
        label=gettext_lazy("Unit"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("The unit's code; empty for your own top unit."),
        widget=forms.TextInput(
            attrs={"class": "form-control", "list": "report-units", "autocomplete": "off"}
        ),
    )
    date = BoundedDateField(
        label=gettext_lazy("As of (date)"),
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
    )
    time = forms.CharField(
        label=gettext_lazy("As of (time)"),
        max_length=5,
        initial="24:00",
        help_text=gettext_lazy('HH:MM; "24:00" is the end of the day.'),
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "24:00", "inputmode": "numeric"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.as_of: datetime | None = None

    @classmethod
    def for_request(cls, params: Any, **kwargs: Any) -> CutoffForm:
        """Bound to the query string when it names a cutoff, else bound to the defaults (now)."""
        if params.get("date"):
            data = {k: params.get(k, "") for k in ("unit", "date", "time")}
            if not data["time"]:
                data["time"] = "24:00"
        else:
            day, time = split_cutoff(default_cutoff())
            data = {"unit": params.get("unit", ""), "date": day.isoformat(), "time": time}
        return cls(data, **kwargs)

    def clean_unit(self) -> str:
        return str(self.cleaned_data.get("unit") or "").strip()

    def clean_time(self) -> str:
        value = str(self.cleaned_data.get("time") or "").strip().replace("：", ":")
        if not _TIME.match(value):
            raise forms.ValidationError(
                _('Enter a time as HH:MM, from 00:00 to 24:00 (for example "24:00").')
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, time = data.get("date"), data.get("time")
        if day and time:
            try:
                self.as_of = parse_cutoff(f"{day.isoformat()} {time}")
            except TimeParseError as exc:
                raise forms.ValidationError(describe_time_error(exc)) from exc
        return data

    def query(self, **override: str) -> str:
        """The query string of this cutoff (for links to the other pages of the same report)."""
        from django.http import QueryDict

        q = QueryDict(mutable=True)
        assert self.as_of is not None
        day, time = split_cutoff(self.as_of)
        q.update({"unit": self.cleaned_data.get("unit") or "", "date": day.isoformat(), "time": time})
        for k, v in override.items():
            q[k] = v
        return q.urlencode()


class SeriesForm(forms.Form):
    """Options of the time series page: the first day and the ranking figure."""

    start = BoundedDateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
    )
    rank = forms.ChoiceField(
        label=gettext_lazy("Rank by"),
        choices=RANK_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    MAX_DAYS = 366

    def clean_rank(self) -> str:
        return str(self.cleaned_data.get("rank") or "person_times")


class PublishForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )


class ExportForm(forms.Form):
    """What the Excel 台账 stamps besides the figures: the person in charge (负责人)."""

    FORMATS = (("xlsx", "Excel"), ("csv", "CSV"))

    format = forms.ChoiceField(choices=FORMATS, required=False)
    in_charge = forms.CharField(
        label=gettext_lazy("Person in charge"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def clean_format(self) -> str:
        return str(self.cleaned_data.get("format") or "xlsx")

    def clean_in_charge(self) -> str:
        return " ".join(str(self.cleaned_data.get("in_charge") or "").split())


def local_today() -> date:
    return timezone.now().astimezone(local_tz()).date()
