from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.urls import reverse


class Nav:
    """What the menus and tabs may show to the current user: each answer is the same check the page
    behind the link makes, so a user never sees a link that leads to "not found" or "not allowed".
    Evaluated lazily (a page that draws no party tabs asks nothing about party organizations)."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def own_person(self) -> Any:
        from muster.orgs.models import Person

        return Person.objects.filter(user_id=self.user.pk).select_related("unit").first()

    @cached_property
    def sees_units(self) -> bool:
        """Whether the user holds any role (the unit, people and report pages need one)."""
        from muster.orgs.access import visible_roots

        return self.user.is_superuser or visible_roots(self.user).exists()

    @cached_property
    def party_scope(self) -> bool:
        """Compliance, what is due, inactivity and the membership pipeline: a visible party organization."""
        from muster.partylife.views.common import party_units

        return party_units(self.user).exists()

    @cached_property
    def party_review(self) -> bool:
        from muster.orgs.access import Perm, can_anywhere

        return can_anywhere(self.user, Perm.PARTY_APPROVE)

    @cached_property
    def talk_matrix(self) -> bool:
        from muster.orgs.access import Perm
        from muster.partylife.views.common import meeting_units

        return meeting_units(self.user, Perm.VIEW).exists()

    @cached_property
    def talk_create(self) -> bool:
        from muster.partylife.views.talks import talk_units

        return talk_units(self.user).exists()

    @cached_property
    def points_url(self) -> str | None:
        """The points menu: the user's own statement, else the leaderboards, else no menu at all."""
        if self.own_person is not None:
            return reverse("points:my_statement")
        if self.leaderboard:
            return reverse("points:leaderboard")
        return None

    @cached_property
    def leaderboard(self) -> bool:
        return self.sees_units

    @cached_property
    def reports(self) -> bool:
        return self.sees_units


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs to draw the menu for the current user."""
    from muster.orgs.access import Perm, can_anywhere

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": Nav(user),
        "nav_can_import": can_anywhere(user, Perm.IMPORT),
        "nav_can_audit": can_anywhere(user, Perm.AUDIT),
        "nav_can_change": can_anywhere(user, Perm.CHANGE),
    }
