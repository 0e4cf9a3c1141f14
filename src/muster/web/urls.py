from django.urls import path

from muster.web.views import audit, home, people, roster, teams, tokens, units

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
    # teams and partners
    path("teams/", teams.team_index, name="teams"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<int:pk>/", teams.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", teams.team_edit, name="team_edit"),
    path("teams/<int:pk>/members/", teams.team_member_add, name="team_member_add"),
    path(
        "teams/<int:pk>/members/<int:person_pk>/remove/", teams.team_member_remove, name="team_member_remove"
    ),
    path("partners/", teams.partner_index, name="partners"),
    path("partners/new/", teams.partner_create, name="partner_create"),
    # roster import / export
    path("roster/", roster.roster_page, name="roster"),
    path("roster/export/", roster.roster_export, name="roster_export"),
    path("roster/template/", roster.roster_template, name="roster_template"),
    # audit log, API tokens
    path("audit/", audit.audit_log, name="audit"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke_view, name="token_revoke"),
]
