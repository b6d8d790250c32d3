"""Machine endpoints from Stripe: no login, authenticated by signature (namespace "stripe")."""

from __future__ import annotations

from django.urls import path

from billing import views

app_name = "stripe"

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="webhook"),
]
