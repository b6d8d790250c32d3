"""URLs of the switch API: namespace "api", mounted at /api/v1/ by portal/urls.py."""

from __future__ import annotations

from django.urls import path

from billing.api import views

app_name = "api"

urlpatterns = [
    path("calls/authorize", views.authorize, name="authorize"),
    path("cdrs", views.cdrs, name="cdrs"),
    path("accounts/<str:code>", views.account, name="account"),
    path("openapi.json", views.openapi_json, name="openapi"),
]
