"""Template helpers of the web UI."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

_DIFF_ACTIONS = (".updated", ".moved")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


@register.filter
def change_lines(event: Any) -> list[tuple[str, str]]:
    """An audit event's changes as (field, text) lines: "old → new" for edits, the value otherwise."""
    changes = event.changes or {}
    if not isinstance(changes, dict):
        return [("", _text(changes))]
    is_diff = event.action.endswith(_DIFF_ACTIONS)
    lines = []
    for key, value in changes.items():
        if is_diff and isinstance(value, list) and len(value) == 2:
            lines.append((key, f"{_text(value[0])} → {_text(value[1])}"))
        else:
            lines.append((key, _text(value)))
    return lines
