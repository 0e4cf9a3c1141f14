from django.contrib import admin
from django.urls import include, path

from muster.api.urls import api
from muster.honors import views as honors_views
from muster.mobilize.views import checkin as mobilize_checkin
from muster.worker.health import healthz

handler400 = "muster.web.views.errors.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # the service worker sits at the root so its scope covers the check-in pages it keeps offline
    path("sw.js", mobilize_checkin.service_worker, name="service_worker"),
    path("manifest.webmanifest", mobilize_checkin.web_manifest, name="web_manifest"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("muster.accounts.urls")),
    path("mobilize/", include("muster.mobilize.urls")),
    path("party/", include("muster.partylife.urls")),
    path("points/", include("muster.points.urls")),
    path("honors/", include("muster.honors.urls")),
    path("verify/<str:token>/", honors_views.verify, name="certificate_verify"),
    path("reports/", include("muster.reports.urls")),
    path("roster/", include("muster.roster.urls")),
    path("notifications/", include("muster.notify.urls")),
    path("volunteers/", include("muster.volunteers.urls")),
    path("outreach/", include("muster.outreach.urls")),
    path("care/", include("muster.care.urls")),
    path("import/", include("muster.tabular.urls")),  # every pipeline importer's upload page
    path("", include("muster.web.urls")),
]
