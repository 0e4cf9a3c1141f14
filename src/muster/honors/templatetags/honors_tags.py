"""``{% person_honors person %}`` (the person page) and ``{% team_stars memberships %}`` (a team page):
the star tier and a link to the volunteer record, read through ``muster.honors.queries``."""

from __future__ import annotations

from typing import Any

from django import template

from muster.honors import queries

register = template.Library()


@register.inclusion_tag("honors/_person_honors.html")
def person_honors(person: Any) -> dict[str, Any]:
    return {"person": person, "tier": queries.person_tier(person)}


@register.inclusion_tag("honors/_team_stars.html")
def team_stars(memberships: Any) -> dict[str, Any]:
    """The members (already filtered to what the viewer may see) with their tiers, best first."""
    people = [m.person for m in memberships]
    tiers = queries.people_tiers(people)
    rows = sorted(
        ((p, tiers[p.pk]) for p in people if tiers[p.pk].level),
        key=lambda pt: (-pt[1].minutes, pt[0].code),
    )
    return {"rows": rows}
