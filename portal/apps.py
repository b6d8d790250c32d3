from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Accounts and users"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal import checks  # noqa: F401  (registers the deploy checks)
        from portal.site import site_sync

        # portal comes after django.contrib.sites in INSTALLED_APPS, so this runs after the
        # sites app has created its default "example.com" row, and corrects it.
        post_migrate.connect(site_sync, sender=self, dispatch_uid="portal.site_sync")

        # kombu's filesystem transport needs its folders before a worker starts.
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if key in options:
                Path(options[key]).mkdir(parents=True, exist_ok=True)
