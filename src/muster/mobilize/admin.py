"""Back-office views. The ledger and check events are read-only here (append-only; fix through services)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from muster.mobilize.models import (
    Assignment,
    CheckEvent,
    Deployment,
    DeploymentMember,
    MeasureKind,
    MeasureValue,
    Post,
    Request,
    ServiceEntry,
    Shift,
)


@admin.register(MeasureKind)
class MeasureKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit_label", "is_active", "order")
    list_editable = ("is_active", "order")


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin):
    list_display = ("code", "partner", "title", "people_needed", "start", "end", "status")
    list_filter = ("status",)
    search_fields = ("code", "title")
    raw_id_fields = ("unit", "partner")


class MemberInline(admin.TabularInline):
    model = DeploymentMember
    raw_id_fields = ("person", "team")
    extra = 0


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("code", "unit", "seq", "title", "start", "end", "status")
    list_filter = ("status",)
    search_fields = ("code", "title")
    raw_id_fields = ("unit", "supported_unit", "partner", "request", "leader")
    inlines = [MemberInline]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "unit", "is_active")
    raw_id_fields = ("unit", "partner")


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ("__str__", "start", "end", "seats", "mode")
    raw_id_fields = ("deployment", "post")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("shift", "person", "created_at")
    raw_id_fields = ("shift", "person")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceEntry)
class ServiceEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "person",
        "kind",
        "op",
        "sign",
        "start",
        "end",
        "minutes",
        "actor_name",
        "created_at",
    )
    list_filter = ("kind", "op", "source")
    search_fields = ("person__code", "person__name")


@admin.register(CheckEvent)
class CheckEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "assignment", "kind", "at", "source", "created_at")


@admin.register(MeasureValue)
class MeasureValueAdmin(ReadOnlyAdmin):
    list_display = ("kind", "value", "deployment", "entry", "on")
