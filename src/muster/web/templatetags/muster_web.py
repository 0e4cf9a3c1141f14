"""Template helpers of the web UI."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

register = template.Library()

_DIFF_ACTIONS = (".updated", ".moved")
_ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)$")

# what an audit event's data says under keys that are not fields of its target's model
KEY_LABELS: dict[str, Any] = {
    "count": _("shifts created"),
    "credits": _("points credited"),
    "facts": _("facts"),
    "first": _("first shift starts"),
    "last": _("last shift starts"),
    "id_number": _("ID number"),
    "people": _("people"),
    "phone": _("Phone"),
    "previous": _("before"),
    "reason": _("reason"),
    "reversals": _("reversals"),
    "required_seats": _("required seats"),
    "source": _("source"),
    "sources": _("sources"),
    "superuser": _("superuser"),
    "teams": _("teams"),
    "username": _("user name"),
    "user": _("user"),
    "role": _("role"),
}
# the apps' record types, as the "sources" of point facts name them
MODEL_LABELS = {"mobilize.serviceentry": _("service entry"), "partylife.meeting": _("meeting")}


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, str):
        if _ISO_INSTANT.match(value):
            try:
                return timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
            except ValueError:
                return value
        if value in MODEL_LABELS:
            return str(MODEL_LABELS[value])
    return str(value)


# Models that moved between apps keep their old label on audit rows written before the move (the log is
# append-only); the label is read through this map so those rows still get their field names.
MOVED_MODELS = {"partylife.honor": "honors.honor", "partylife.honorapproval": "honors.honorapproval"}


def _model(event: Any) -> type[models.Model] | None:
    label = getattr(event, "target_type", "") or ""
    label = MOVED_MODELS.get(label.lower(), label)
    if "." not in label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def _label(field: Any, key: str) -> str:
    if field is not None and getattr(field, "verbose_name", None):
        name = str(field.verbose_name)
        if name.replace(" ", "_") != key:  # a label of its own, not Django's default from the name
            return name
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name)
    return key.replace("_", " ")


def _key_choices() -> dict[str, dict[str, Any]]:
    from muster.orgs.models import Role

    return {"role": dict(Role.choices)}


def _value(field: Any, value: Any, key: str = "") -> Any:
    """A stored value as people read it: the label of a choice, the name of a catalog entry."""
    if field is None and isinstance(value, str):
        return _key_choices().get(key, {}).get(value, value)
    if field is None or value is None or isinstance(value, list | dict):
        return value
    choices = getattr(field, "flatchoices", None)
    if choices:
        return dict(choices).get(value, value)
    related = getattr(field, "related_model", None)
    if related is not None and isinstance(value, str) and field.many_to_one:
        names = {f.name for f in related._meta.get_fields()}
        # catalogs (measure kinds …) are named by code in the log; units, people and teams keep their
        # codes, which people know (工号, unit codes)
        if {"code", "name"} <= names and related._meta.label_lower not in _CODED:
            found = related._default_manager.filter(code=value).values_list("name", flat=True).first()
            return found or value
    return value


_CODED = {"orgs.unit", "orgs.person", "orgs.team", "orgs.partner"}


@register.filter
def change_lines(event: Any) -> list[tuple[str, str]]:
    """An audit event's changes as (field, text) lines: "old → new" for edits, the value otherwise; the
    field's label and the value's label (a choice, a catalog entry) rather than stored codes."""
    changes = event.changes or {}
    if not isinstance(changes, dict):
        return [("", _text(changes))]
    is_diff = event.action.endswith(_DIFF_ACTIONS)
    model = _model(event)
    lines = []
    for key, value in changes.items():
        field = _field(model, key)
        label = _label(field, key)
        if is_diff and isinstance(value, list) and len(value) == 2:
            before, after = _value(field, value[0], key), _value(field, value[1], key)
            lines.append((label, f"{_text(before)} → {_text(after)}"))
        else:
            lines.append((label, _text(_value(field, value, key))))
    return lines


@register.filter
def target_text(event: Any) -> str:
    """The target as the log stored it, with stored codes of its model's choices shown as their labels
    (a service entry is stored as "#12 34 correct_approve …")."""
    text = str(getattr(event, "target_repr", "") or "")
    model = _model(event)
    if model is None or not text:
        return text
    labels: dict[str, str] = {}
    for field in model._meta.get_fields():
        for value, label in getattr(field, "flatchoices", None) or ():
            if isinstance(value, str) and value:
                labels.setdefault(value, str(label))
    if not labels:
        return text
    return " ".join(labels.get(token, token) for token in text.split(" "))


CHANNELS = {
    "web": _("Web"),
    "api": _("API"),
    "cli": _("Command line"),
    "worker": _("Background task"),
    "system": _("System"),
}


@register.filter
def channel_label(code: str) -> str:
    """Where a change came from, in words (the log stores ``web``, ``api``, ``cli`` …)."""
    return str(CHANNELS.get(code, code or ""))


@register.filter
def actor_label(event: Any) -> str:
    """Who made a change: the user name, or "System" for the system's own changes (demo, migrations)."""
    name = getattr(event, "actor_name", "") or ""
    if getattr(event, "actor_id", None) is None and name in ("", "system"):
        return str(CHANNELS["system"])
    return name
