"""Namespaced action codes and their translated labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "orgs.unit.created": _("Unit created"),
    "orgs.unit.updated": _("Unit updated"),
    "orgs.unit.moved": _("Unit moved"),
    "orgs.person.created": _("Person created"),
    "orgs.person.updated": _("Person updated"),
    "orgs.team.created": _("Team created"),
    "orgs.team.updated": _("Team updated"),
    "orgs.team.member_added": _("Team member added"),
    "orgs.team.member_removed": _("Team member removed"),
    "orgs.partner.created": _("Partner created"),
    "orgs.partner.updated": _("Partner updated"),
    "orgs.tag.created": _("Tag created"),
    "orgs.roster.imported": _("Roster imported"),
    "orgs.roster.exported": _("Roster exported"),
    "accounts.grant.created": _("Role granted"),
    "accounts.grant.revoked": _("Role revoked"),
    "accounts.user.created": _("User created"),
    "accounts.token.created": _("API token created"),
    "accounts.token.revoked": _("API token revoked"),
    "accounts.login.failed": _("Login failed"),
}


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))
