from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "muster.outreach"
    label = "outreach"
    verbose_name = _("Outreach and service")

    def ready(self) -> None:
        from muster.notify.services import register_kind
        from muster.orgs import access

        # The scoping table: how each outreach model reaches a unit path.
        access.SCOPE_FIELDS.update(
            {
                "outreach.enterprise": ("unit__path",),
                "outreach.liaison": ("enterprise__unit__path",),
                "outreach.visit": ("unit__path", "branch__path"),
                "outreach.problem": ("unit__path", "branch__path"),
                "outreach.taxpayerhome": ("unit__path",),
                "outreach.taxclass": ("unit__path", "branch__path"),
                "outreach.measurecategory": ("unit__path",),
                "outreach.servicemeasure": ("unit__path", "category__unit__path"),
                "outreach.indicator": ("unit__path",),
                "outreach.servicelogentry": ("unit__path",),
                "outreach.agreement": ("branch__path",),
                # a file belongs to one visit, one problem or one class: seen with it
                "outreach.attachment": (
                    "visit__unit__path",
                    "visit__branch__path",
                    "problem__unit__path",
                    "problem__branch__path",
                    "tax_class__unit__path",
                    "tax_class__branch__path",
                ),
            }
        )
        from muster.audit.actions import ACTIONS

        ACTIONS.update(
            {
                "outreach.visit.file_added": _("File attached to a visit"),
                "outreach.visit.file_read": _("Visit file opened"),
                "outreach.problem.file_added": _("File attached to a problem"),
                "outreach.problem.file_read": _("Problem file opened"),
                "outreach.class.file_added": _("File attached to a taxpayer class"),
                "outreach.class.file_read": _("Taxpayer class file opened"),
            }
        )
        from muster.orgs.signals import unit_moved
        from muster.outreach import facts

        unit_moved.connect(facts.on_unit_moved, dispatch_uid="outreach.facts.unit_moved")
        register_kind("outreach.problem_resolved", _("A problem of the problem list was resolved"))
