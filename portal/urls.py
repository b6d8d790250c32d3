from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from portal import views

app_name = "portal"

portal_patterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("account/", views.account_settings, name="account_settings"),
    path("account/people/invite/", views.people_invite, name="people_invite"),
    path("account/people/<int:user_id>/role/", views.people_role, name="people_role"),
    path("account/people/<int:user_id>/remove/", views.people_remove, name="people_remove"),
    path("account/leave/", views.account_leave, name="account_leave"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Outside the Control Center namespaces: the invitee has no login yet.
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("", include((portal_patterns, "portal"))),
    path("", include("billing.urls")),
    path("api/v1/", include("billing.api.urls")),
    path("", include("billing.stripe_urls")),
    path("", include("trunking.urls")),
]
