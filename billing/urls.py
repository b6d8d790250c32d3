from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns: list = [
    path("calls/", views.calls, name="calls"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("numbers/", views.numbers, name="numbers"),
    path("rates/", views.rate_lookup, name="rate_lookup"),
    # Prepaid balance (issue 4)
    path("per-minute/", views.per_minute, name="per_minute"),
    path("per-minute/add-credit/", views.add_credit, name="add_credit"),
    path(
        "per-minute/payments/<int:deposit_id>/confirm/",
        views.deposit_confirm,
        name="deposit_confirm",
    ),
    path(
        "per-minute/payments/<int:deposit_id>/return/",
        views.deposit_return,
        name="deposit_return",
    ),
    path(
        "per-minute/payments/<int:deposit_id>/authenticate/",
        views.deposit_authenticate,
        name="deposit_authenticate",
    ),
    path("per-minute/auto-recharge/", views.auto_recharge_settings, name="auto_recharge"),
    path("per-minute/card/remove/", views.card_remove, name="card_remove"),
]
