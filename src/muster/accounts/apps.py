from types import MethodType

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "muster.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib import admin

        from muster.accounts.forms import ThrottledAdminAuthenticationForm, throttled_admin_password_change

        # The admin's login is throttled by the authentication backend like every password check; its
        # form says so when it refuses an attempt. Its password change checks the old password through
        # the same throttle (AdminSite names its form inside the method: the method is replaced, before
        # the URLconf binds it).
        admin.site.login_form = ThrottledAdminAuthenticationForm
        change = MethodType(throttled_admin_password_change, admin.site)
        admin.site.password_change = change  # type: ignore[method-assign]
        from muster.audit.actions import ACTIONS as AUDIT_ACTIONS

        AUDIT_ACTIONS["accounts.password_change.failed"] = _("Password change failed (wrong password)")

        # logins for people (issue 27): their audit actions, and a person who leaves loses their login
        from muster.accounts.activation import end_logins
        from muster.audit.actions import ACTIONS
        from muster.orgs.signals import people_left

        ACTIONS.update(
            {
                "accounts.login.created": _("Login created for a person"),
                "accounts.activation.reissued": _("New activation link issued"),
                "accounts.login.activated": _("Login activated"),
                "accounts.login.ended": _("Login ended (the person left)"),
            }
        )
        people_left.connect(end_logins, dispatch_uid="accounts.end_logins")
