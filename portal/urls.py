from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from portal import views

app_name = "portal"

portal_patterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("account/", views.account_settings, name="account_settings"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include((portal_patterns, "portal"))),
    path("", include("billing.urls")),
    path("api/v1/", include("billing.api.urls")),
    path("", include("billing.stripe_urls")),
    path("", include("trunking.urls")),
]
