"""Forms of the notification pages. They parse input; ``muster.notify.services`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from muster.notify.models import CHANNEL_CHOICES, BotKind, DeliveryStatus, Digest
from muster.notify.services import NOTICE_KINDS


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(
        label=_("Send my notices by e-mail"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    email = forms.CharField(
        label=_("E-mail address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"class": "form-control", "autocomplete": "email"}),
    )
    digest = forms.ChoiceField(
        label=_("When"),
        choices=Digest.choices,
        initial=Digest.IMMEDIATE,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )


def _kind_choices() -> list[tuple[str, Any]]:
    return list(NOTICE_KINDS.items())


class BotForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=BotKind.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_("For example the group's name."),
    )
    url = forms.CharField(
        label=_("Webhook address"),
        max_length=1000,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        help_text=_(
            "Copy it from the settings of the WeCom, DingTalk or Feishu group bot, "
            "or enter your webhook's address."
        ),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(
            attrs={"class": "form-control", "autocomplete": "off"}, render_value=False
        ),
        help_text=_(
            "The DingTalk or Feishu bot's signing secret, if it has one; "
            "required for a signed webhook. Stored encrypted."
        ),
    )
    clear_secret = forms.BooleanField(
        label=_("Remove the signing secret"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    verbs = forms.MultipleChoiceField(
        label=_("Also send these notices of the team's members"),
        required=False,
        choices=_kind_choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]  # a bot's type stays; add another bot for another platform
            self.fields["url"].required = False
            self.fields["url"].help_text = _("Leave empty to keep the current address.")
            self.fields["secret"].help_text = _("Leave empty to keep the current secret.")
        else:
            del self.fields["clear_secret"]
            del self.fields["is_active"]


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *DeliveryStatus.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *CHANNEL_CHOICES],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
