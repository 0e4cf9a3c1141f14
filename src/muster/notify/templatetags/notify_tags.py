"""``{% team_bots team %}``: the "Group bots" section of a team's page."""

from __future__ import annotations

from typing import Any

from django import template

from muster.notify.views import team_section
from muster.orgs.models import Team

register = template.Library()


@register.inclusion_tag("notify/_team_bots.html", takes_context=True)
def team_bots(context: template.Context, team: Team) -> dict[str, Any]:
    request = context["request"]
    return {**team_section(request.user, team), "csrf_token": context.get("csrf_token")}
