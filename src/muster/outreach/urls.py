from django.urls import path

from muster.outreach import views

app_name = "outreach"
urlpatterns = [
    path("", views.index, name="index"),
    path("enterprises/", views.enterprise_list, name="enterprises"),
    path("enterprises/<str:code>/", views.enterprise_detail, name="enterprise_detail"),
    path("mine/", views.mine, name="mine"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/files/", views.visit_attach, name="visit_attach"),
    path("visit-files/<int:pk>/", views.attachment_file, name="attachment_file"),
    path("problems/", views.problem_list, name="problems"),
    path("problems/<int:pk>/", views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/<str:step>/", views.problem_step, name="problem_step"),
    path("measures/", views.measure_list, name="measures"),
    path("measures/new/", views.measure_create, name="measure_create"),
    path("measures/<int:pk>/edit/", views.measure_edit, name="measure_edit"),
    path("measure-categories/new/", views.category_create, name="category_create"),
    path("indicators/new/", views.indicator_create, name="indicator_create"),
    path("indicators/<int:pk>/values/new/", views.indicator_value_create, name="indicator_value_create"),
    path("homes/", views.home_list, name="homes"),
    path("homes/new/", views.home_create, name="home_create"),
    path("classes/new/", views.class_create, name="class_create"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
]
