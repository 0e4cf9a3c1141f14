from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from muster.orgs.models import Partner, Person, RoleGrant, Tag, Team, TeamMembership, Unit


@admin.register(Unit)
class UnitAdmin(TreeAdmin):
    form = movenodeform_factory(Unit)
    list_display = ("name", "code", "kind", "is_active")
    search_fields = ("name", "code")
    list_filter = ("kind", "is_active")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit", "party_unit", "political_status", "employment_status")
    search_fields = ("code", "name")
    list_filter = ("political_status", "employment_status", "gender")
    raw_id_fields = ("unit", "party_unit", "user")
    filter_horizontal = ("tags",)


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    raw_id_fields = ("person",)
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "unit", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("unit",)
    inlines = [MembershipInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "district", "unit")
    search_fields = ("code", "name")
    list_filter = ("kind",)
    raw_id_fields = ("unit",)


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "unit", "granted_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "unit", "granted_by")


admin.site.register(Tag)
