from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

import relance.web.admin  # noqa: F401  (registers the ledger in the admin)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
