from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from muster.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "target_repr", "ip", "channel")
    list_filter = ("action", "channel")
    search_fields = ("actor_name", "target_repr", "action")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
