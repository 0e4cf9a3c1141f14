from django.urls import path

from muster.honors import views

app_name = "honors"
urlpatterns = [
    path("", views.my_record, name="my_record"),
    path("people/<str:code>/", views.person_record, name="record"),
    path("people/<str:code>/issue/", views.certificate_issue, name="issue"),
    path("request/", views.certificate_request, name="request"),
    path("certificates/<int:pk>/pdf/", views.certificate_download, name="pdf"),
    path("certificates/<int:pk>/decide/", views.certificate_decide, name="decide"),
    path("approvals/", views.approvals, name="approvals"),
    path("tiers/", views.tiers, name="tiers"),
]
