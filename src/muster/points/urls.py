from django.urls import path

from muster.points import views

app_name = "points"
urlpatterns = [
    path("", views.my_statement, name="my_statement"),
    path("people/<str:code>/", views.person_statement, name="statement"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("rules/", views.rules, name="rules"),
    path("rules/change/", views.rule_change, name="rule_change"),
    path("rules/recompute/", views.recompute, name="recompute"),
]
