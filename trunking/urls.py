from __future__ import annotations

from django.urls import path

from trunking.views import trunking

app_name = "trunking"

urlpatterns = [
    path("trunking/", trunking.trunking, name="trunking"),
    path("trunking/confirm/", trunking.confirm, name="confirm"),
    path("trunking/cancel-decrease/", trunking.cancel_decrease, name="cancel_decrease"),
]
