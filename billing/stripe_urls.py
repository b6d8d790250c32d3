"""Machine endpoints from Stripe: no login, authenticated by signature (namespace "stripe")."""

from __future__ import annotations

from django.urls import path

from billing import prepaid_views

app_name = "stripe"

urlpatterns = [
    path("stripe/webhook/", prepaid_views.stripe_webhook, name="webhook"),
]
