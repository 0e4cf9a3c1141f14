from django.contrib.auth import views as auth_views
from django.urls import path

from muster.accounts.forms import ThrottledAuthenticationForm, ThrottledPasswordChangeForm
from muster.accounts.views import activate

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=ThrottledAuthenticationForm, template_name="accounts/login.html"
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("activate/<str:token>/", activate, name="activate"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            form_class=ThrottledPasswordChangeForm, template_name="accounts/password_change.html"
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
]
