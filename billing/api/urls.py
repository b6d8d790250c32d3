"""URLs of the switch API: namespace "api", mounted at /api/v1/ by portal/urls.py."""

from __future__ import annotations

from django.urls import path, re_path

from billing.api import views

app_name = "api"

urlpatterns = [
    path("calls/authorize", views.authorize, name="authorize"),
    path("cdrs", views.cdrs, name="cdrs"),
    path("accounts/<str:code>", views.account, name="account"),
    path("openapi.json", views.openapi_json, name="openapi"),
    # Last: any other path under /api/v1/ is a JSON 404, not the site's HTML page.
    re_path(r"", views.not_found, name="not_found"),
]
