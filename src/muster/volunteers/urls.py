from django.urls import path

from muster.volunteers import views

app_name = "volunteers"
urlpatterns = [
    path("", views.index, name="index"),
    path("openings/<int:pk>/signup/", views.signup, name="signup"),
    path("signups/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("profile/", views.my_profile, name="my_profile"),
    path("people/<str:code>/profile/", views.person_profile, name="person_profile"),
    path("shifts/<int:pk>/needs/", views.needs, name="needs"),
    path("batches/<str:code>/open/", views.open_batch, name="open_batch"),
    path("callups/", views.callups, name="callups"),
    path("callups/new/", views.callup_new, name="callup_new"),
    path("callups/<str:code>/", views.callup, name="callup"),
    path("callups/<str:code>/pick/", views.callup_pick, name="callup_pick"),
    path("answer/<str:token>/", views.answer, name="answer"),
]
