from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

import relance.web.admin  # noqa: F401  (registers the ledger in the admin)
from relance.api.app import urls as api_urls
from relance.channels import esp_webhooks

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="start", permanent=False)),
    path("", include("relance.web.urls")),
    path("", include("relance.portal.urls")),
    path("api/", api_urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # ESP event webhooks (bounces), e.g. /anymail/postmark/tracking/: refused (403) unless
    # anymail's WEBHOOK_SECRET or the ESP's signing key authenticates them.
    path("anymail/", include(esp_webhooks.urls())),
]

handler403 = "relance.web.errors.forbidden"
handler404 = "relance.web.errors.not_found"
