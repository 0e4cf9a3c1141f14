from django.urls import path

from muster.honors import award_views, views

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
    # awards and commendations (表彰), formerly at /party/honors/
    path("awards/", award_views.honor_index, name="awards"),
    path("awards/new/", award_views.honor_create, name="award_create"),
    path("awards/<int:pk>/", award_views.honor_detail, name="award_detail"),
    path("awards/<int:pk>/evidence/", award_views.honor_evidence, name="award_evidence"),
]
