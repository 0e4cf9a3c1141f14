from django.urls import path

from muster.care import views

app_name = "care"
urlpatterns = [
    path("", views.today, name="today"),
    path("subjects/", views.subjects, name="subjects"),
    path("subjects/new/", views.subject_new, name="subject_new"),
    path("subjects/<str:code>/", views.subject, name="subject"),
    path("subjects/<str:code>/edit/", views.subject_edit, name="subject_edit"),
    path("subjects/<str:code>/status/", views.subject_status, name="subject_status"),
    path("subjects/<str:code>/ok/", views.contact_ok, name="contact_ok"),
    path("subjects/<str:code>/help/", views.help_raise, name="help_raise"),
    path("subjects/<str:code>/delivery/", views.subject_delivery, name="subject_delivery"),
    path("subjects/<str:code>/consolation/", views.consolation_new, name="consolation_new"),
    path("overdue/", views.overdue, name="overdue"),
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/new/", views.round_new, name="round_new"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("rounds/<int:pk>/answer/<str:code>/", views.answer, name="answer"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/new/", views.run_new, name="run_new"),
    path("deliveries/<int:pk>/", views.run_detail, name="run"),
    path("help/", views.help_list, name="help_list"),
    path("help/new/", views.help_new, name="help_new"),
    path("help/<int:pk>/", views.help_detail, name="help"),
    path("consolations/", views.consolations, name="consolations"),
    path("consolations/<int:pk>/approve/", views.consolation_approve, name="consolation_approve"),
    path("donations/", views.donations, name="donations"),
    path("donations/new/", views.donation_new, name="donation_new"),
    path("drives/new/", views.drive_new, name="drive_new"),
    path("drives/<int:pk>/", views.drive_detail, name="drive"),
    path("receipts/<str:kind>/<int:pk>/upload/", views.receipt_upload, name="receipt_upload"),
    path("receipts/<int:pk>/", views.receipt_file, name="receipt"),
]
