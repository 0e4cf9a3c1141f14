from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "muster.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self) -> None:
        from muster.audit.actions import ACTIONS
        from muster.notify.services import register_kind

        ACTIONS.update(
            {
                "volunteers.skill.saved": _("Skill saved"),
                "volunteers.profile.changed": _("Volunteer profile changed"),
                "volunteers.need.changed": _("Shift needs changed"),
                "volunteers.opening.created": _("Shifts opened for sign-up"),
                "volunteers.opening.closed": _("Sign-up closed"),
                "volunteers.signup.created": _("Signed up for a shift"),
                "volunteers.signup.waiting": _("Joined a waiting list"),
                "volunteers.signup.cancelled": _("Sign-up cancelled"),
                "volunteers.signup.promoted": _("Moved up from the waiting list"),
                "volunteers.callup.created": _("Call-up sent"),
                "volunteers.callup.answered": _("Call-up answered"),
                "volunteers.callup.picked": _("Volunteers picked from a call-up"),
            }
        )
        register_kind("volunteers.promoted", _("A seat from the waiting list"))
        register_kind("volunteers.callup", _("Call-up (集结号)"))
