from django.urls import path

from muster.web.views import audit, home, logins, people, people_import, teams, tokens, units

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    # units
    path("units/", units.tree, name="units"),
    path("units/<int:pk>/", units.detail, name="unit_detail"),
    path("units/<int:pk>/children/", units.children, name="unit_children"),
    path("units/<int:pk>/people/", units.people, name="unit_people"),
    path("units/<int:pk>/edit/", units.edit, name="unit_edit"),
    path("units/<int:pk>/move/", units.move, name="unit_move"),
    path("units/<int:pk>/add/", units.add_child, name="unit_add_child"),
    path("units/<int:pk>/grants/", units.grant, name="unit_grant"),
    path("grants/<int:pk>/revoke/", units.revoke, name="grant_revoke"),
    # people
    path("people/", people.person_list, name="people"),
    path("people/new/", people.person_create, name="person_create"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path("people/<int:pk>/login/", logins.person_login, name="person_login"),
    # teams and partners
    path("teams/", teams.team_index, name="teams"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<int:pk>/", teams.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", teams.team_edit, name="team_edit"),
    path("teams/<int:pk>/members/", teams.team_member_add, name="team_member_add"),
    path("teams/<int:pk>/logins/", logins.team_logins, name="team_logins"),
    path(
        "teams/<int:pk>/members/<int:person_pk>/remove/", teams.team_member_remove, name="team_member_remove"
    ),
    path("partners/", teams.partner_index, name="partners"),
    path("partners/new/", teams.partner_create, name="partner_create"),
    # the staff register (人员名册): import / export; the old /roster/ addresses redirect here
    path("people/import/", people_import.people_import, name="people_import"),
    path("people/import/confirm/", people_import.people_import_confirm, name="people_import_confirm"),
    path("people/export/", people_import.people_export, name="people_export"),
    path("people/template/", people_import.people_template, name="people_template"),
    # (/roster/ itself is rostering's plans index now; it sends an old import form's POST here)
    path("roster/export/", people_import.moved_to("people_export")),
    path("roster/template/", people_import.moved_to("people_template")),
    # audit log, API tokens
    path("audit/", audit.audit_log, name="audit"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke_view, name="token_revoke"),
]
