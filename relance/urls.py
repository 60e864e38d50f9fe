from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

import relance.web.admin  # noqa: F401  (registers the ledger in the admin)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # ESP event webhooks (bounces), e.g. /anymail/postmark/tracking/, authenticated by anymail.
    path("anymail/", include("anymail.urls")),
]
