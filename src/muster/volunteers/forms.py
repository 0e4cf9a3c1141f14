"""Web forms: a profile in a few text boxes (one line per window, day off, period, skill, wish), so it
can be typed on a phone; every bad line is named with its number."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster import dates
from muster.volunteers.services import PreferenceIn, QualificationIn, WindowIn

TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _day(text: str, field: str, n: int) -> date:
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise forms.ValidationError(
            _("Line %(n)s: %(text)s is not a date (YYYY-MM-DD).") % {"n": n, "text": text}
        ) from None
    if not dates.day_in_range(d):
        raise forms.ValidationError(_("Line %(n)s: %(msg)s") % {"n": n, "msg": dates.date_range_message()})
    return d


def _minute(text: str, n: int) -> int:
    m = TIME.match(text)
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise forms.ValidationError(_("Line %(n)s: %(text)s is not a time (HH:MM).") % {"n": n, "text": text})
    value = int(m.group(1)) * 60 + int(m.group(2))
    if value > 1440:
        raise forms.ValidationError(_("Line %(n)s: %(text)s is not a time (HH:MM).") % {"n": n, "text": text})
    return value


def _lines(text: str) -> list[tuple[int, list[str]]]:
    return [(i, line.split()) for i, line in enumerate(text.splitlines(), 1) if line.strip()]


class ProfileForm(forms.Form):
    available_from = forms.DateField(label=gettext_lazy("Available from"), required=False)
    available_until = forms.DateField(label=gettext_lazy("Available until"), required=False)
    max_hours_week = forms.IntegerField(
        label=gettext_lazy("Most hours a week"), required=False, min_value=1, max_value=168
    )
    no_nights = forms.BooleanField(label=gettext_lazy("No night shifts"), required=False)
    windows = forms.CharField(
        label=gettext_lazy("Weekly windows"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One a line: weekday (1 = Monday … 7 = Sunday) from–to, e.g. 1 08:00-12:00"),
    )
    days_off = forms.CharField(
        label=gettext_lazy("Dates off"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One date a line, e.g. 2026-03-10"),
    )
    home_observation = forms.CharField(
        label=gettext_lazy("Home observation (居家观察)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One period a line: from to, e.g. 2026-03-01 2026-03-14"),
    )
    qualifications = forms.CharField(
        label=gettext_lazy("Skills and qualifications"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One a line: skill code and, if it expires, the last valid day"),
    )
    preferences = forms.CharField(
        label=gettext_lazy("Wishes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One a line: kind|site|time, value, + (wanted) or - (unwanted), weight 1-10; e.g. time night - 5"
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault(
                "class", "form-check-input" if isinstance(f, forms.BooleanField) else "form-control"
            )

    def clean_windows(self) -> list[WindowIn]:
        out = []
        for n, parts in _lines(self.cleaned_data["windows"]):
            if (
                len(parts) != 2
                or "-" not in parts[1]
                or not parts[0].isdigit()
                or not 1 <= int(parts[0]) <= 7
            ):
                raise forms.ValidationError(
                    _("Line %(n)s: write a weekday 1-7 and from-to, e.g. 1 08:00-12:00.") % {"n": n}
                )
            a, b = parts[1].split("-", 1)
            out.append(WindowIn(int(parts[0]) - 1, _minute(a, n), _minute(b, n)))
        return out

    def clean_days_off(self) -> list[date]:
        return [_day(parts[0], "days_off", n) for n, parts in _lines(self.cleaned_data["days_off"])]

    def clean_home_observation(self) -> list[tuple[date, date]]:
        out = []
        for n, parts in _lines(self.cleaned_data["home_observation"]):
            if len(parts) != 2:
                raise forms.ValidationError(_("Line %(n)s: write the first and the last day.") % {"n": n})
            out.append((_day(parts[0], "home_observation", n), _day(parts[1], "home_observation", n)))
        return out

    def clean_qualifications(self) -> list[QualificationIn]:
        out = []
        for n, parts in _lines(self.cleaned_data["qualifications"]):
            until = _day(parts[1], "qualifications", n) if len(parts) > 1 else None
            out.append(QualificationIn(parts[0], until, " ".join(parts[2:])[:200]))
        return out

    def clean_preferences(self) -> list[PreferenceIn]:
        out = []
        for n, parts in _lines(self.cleaned_data["preferences"]):
            if len(parts) != 4 or parts[2] not in "+-" or not parts[3].isdigit():
                raise forms.ValidationError(
                    _("Line %(n)s: write kind, value, + or -, and a weight, e.g. time night - 5.") % {"n": n}
                )
            out.append(PreferenceIn(parts[0], parts[1], parts[2] == "+", int(parts[3])))
        return out


def profile_initial(p: Any) -> dict[str, Any]:
    prof = getattr(p, "volunteer_profile", None)

    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return {
        "available_from": prof.available_from if prof else None,
        "available_until": prof.available_until if prof else None,
        "max_hours_week": prof.max_hours_week if prof else None,
        "no_nights": prof.no_nights if prof else False,
        "windows": "\n".join(
            f"{w.weekday + 1} {hhmm(w.start_minute)}-{hhmm(w.end_minute)}" for w in p.weekly_windows.all()
        ),
        "days_off": "\n".join(str(d.day) for d in p.days_off.all()),
        "home_observation": "\n".join(f"{h.start} {h.end}" for h in p.home_observations.all()),
        "qualifications": "\n".join(
            f"{q.skill.code} {q.valid_until or ''}".strip() for q in p.qualifications.select_related("skill")
        ),
        "preferences": "\n".join(
            f"{x.kind} {x.value} {'+' if x.wanted else '-'} {x.weight}" for x in p.shift_preferences.all()
        ),
    }


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        choices=[("yes", gettext_lazy("I'll go (报名)")), ("no", gettext_lazy("Cannot attend (不能参加)"))]
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=300)
