"""``django.contrib.admin`` with the site that logs staff in through allauth (its own module:
an app config module must not import models, and ``portal/apps.py`` holds the portal's one)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"
