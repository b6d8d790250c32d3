"""Machine endpoints from Stripe: no login, authenticated by signature (namespace "stripe")."""

from __future__ import annotations

from django.urls import path

from billing.views import stripe_webhook

app_name = "stripe"

urlpatterns = [
    path("stripe/webhook/", stripe_webhook.stripe_webhook, name="webhook"),
]
