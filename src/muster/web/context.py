from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs to draw the menu for the current user."""
    from muster.orgs.access import Perm, can_anywhere

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can_import": can_anywhere(user, Perm.IMPORT),
        "nav_can_audit": can_anywhere(user, Perm.AUDIT),
        "nav_can_change": can_anywhere(user, Perm.CHANGE),
    }
