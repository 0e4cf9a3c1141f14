from django.contrib import admin
from django.http import HttpRequest

from muster.accounts.models import ApiToken, LoginFailure


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Recent failed logins; deleting a user name's rows ends the waits they cause."""

    list_display = ("username", "ip", "at")
    search_fields = ("username", "ip")
    readonly_fields = ("username", "ip", "at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
