from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Accounts and users"

    def ready(self) -> None:
        from portal import checks  # noqa: F401  (registers the deploy checks)

        # kombu's filesystem transport needs its folders before a worker starts.
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if key in options:
                Path(options[key]).mkdir(parents=True, exist_ok=True)
