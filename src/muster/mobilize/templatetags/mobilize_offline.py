"""``{% offline_owner %}``: the opaque id of the login that the offline pages and pending checks belong to."""

from __future__ import annotations

from typing import Any

from django import template

from muster.mobilize.views.checkin import offline_owner as _owner

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_owner(context: Any) -> str:
    request = context.get("request")
    return _owner(getattr(request, "user", None))
