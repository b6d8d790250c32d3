"""URLs of the switch API: namespace "api", mounted at /api/v1/ by portal/urls.py."""

from __future__ import annotations

from django.urls import path

from billing import api

app_name = "api"

urlpatterns = [
    path("calls/authorize", api.authorize, name="authorize"),
    path("cdrs", api.cdrs, name="cdrs"),
    path("accounts/<str:code>", api.account, name="account"),
    path("openapi.json", api.openapi_json, name="openapi"),
]
