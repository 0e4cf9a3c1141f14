from django.urls import path

from muster.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.rollup_view, name="rollup"),
    path("series/", views.series_view, name="series"),
    path("series.json", views.series_json, name="series_json"),
    path("export/", views.export, name="export"),
    path("briefing/", views.briefing, name="briefing"),
    path("publish/", views.publish, name="publish"),
    path("snapshots/", views.snapshot_list, name="snapshots"),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="snapshot"),
    path("snapshots/<int:pk>/export/", views.snapshot_export, name="snapshot_export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
]
