from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns: list = [
    path("calls/", views.calls, name="calls"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("numbers/", views.numbers, name="numbers"),
    path("rates/", views.rate_lookup, name="rate_lookup"),
]
