from django.urls import path

from muster.care import views

app_name = "care"
urlpatterns = [
    path("", views.today, name="today"),
    path("subjects/<str:code>/", views.subject, name="subject"),
    path("subjects/<str:code>/ok/", views.contact_ok, name="contact_ok"),
    path("subjects/<str:code>/help/", views.help_raise, name="help_raise"),
    path("overdue/", views.overdue, name="overdue"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
]
