from django.urls import path

from muster.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", views.preferences, name="settings"),
    path("settings/test/", views.preferences_test, name="settings_test"),
    path("people/<int:pk>/", views.preferences, name="person_settings"),
    path("people/<int:pk>/test/", views.preferences_test, name="person_settings_test"),
    path("teams/<int:team_pk>/bots/add/", views.bot_add, name="bot_add"),
    path("bots/<int:pk>/edit/", views.bot_edit, name="bot_edit"),
    path("bots/<int:pk>/delete/", views.bot_delete, name="bot_delete"),
    path("bots/<int:pk>/test/", views.bot_test, name="bot_test"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]
