"""Template filters of the rostering pages."""

from __future__ import annotations

from typing import Any

from django import template

from muster.roster.naming import shift_name as _shift_name

register = template.Library()


@register.filter
def shift_name(shift: Any) -> str:
    """``{{ shift|shift_name }}``: 早班/中班/夜班 for the shifts of the 三班倒 template (see ``naming``)."""
    return _shift_name(shift) if shift is not None else ""
