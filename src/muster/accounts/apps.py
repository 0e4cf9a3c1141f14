from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "muster.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib import admin

        from muster.accounts.forms import ThrottledAdminAuthenticationForm

        # The admin's login is throttled by the authentication backend like every password check; its
        # form says so when it refuses an attempt.
        admin.site.login_form = ThrottledAdminAuthenticationForm
