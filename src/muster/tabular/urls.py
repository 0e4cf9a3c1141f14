from django.urls import path

from muster.tabular import views

app_name = "tabular"

urlpatterns = [
    path("<slug:key>/", views.import_page, name="import"),
    path("<slug:key>/confirm/", views.import_confirm, name="confirm"),
    path("<slug:key>/template/", views.import_template, name="template"),
]
