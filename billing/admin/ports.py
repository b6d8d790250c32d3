"""Number ports: the fee table, and the staff workflow of a request (start with the FOC date,
complete with the ported numbers and their DID group, reject with a reason, cancel). Each move
is a service call under the request's row lock; it is recorded and e-mailed by the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.admin.base import MoneyAdminMixin, ReadOnlyAdmin
from billing.forms.ports import (
    PortCompleteForm,
    PortRejectForm,
    PortStaffCancelForm,
    PortStartForm,
)
from billing.models import PortFee, PortNumber, PortRequest, PortTransition
from billing.models.ports import DEFAULT_COUNTRY
from billing.services.ports import port_cancel, port_complete, port_reject, port_start
from billing.views.ports import bill_response
from portal.admin_inlines import LabelledTabularInline
from portal.errors import DomainError
from portal.models import User


@admin.register(PortFee)
class PortFeeAdmin(MoneyAdminMixin, admin.ModelAdmin):
    list_display = ("country_label", "fee", "toll_free_portable")
    list_editable = ("fee", "toll_free_portable")
    list_display_links = ("country_label",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The default row prices every country without its own: change it, never delete it.
        if obj is not None and obj.country == DEFAULT_COUNTRY:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Country", ordering="country")
    def country_label(self, obj: PortFee) -> str:
        return obj.country or "Default (every other country)"


class PortNumberInline(MoneyAdminMixin, LabelledTabularInline):
    model = PortNumber
    extra = 0
    can_delete = False
    fields = ("number", "country", "line_type", "fee", "outcome")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PortTransitionInline(MoneyAdminMixin, LabelledTabularInline):
    model = PortTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "by_staff", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


ACTIONS: dict[str, tuple[str, type[forms.Form]]] = {
    "start": ("Start (set the FOC date)", PortStartForm),
    "complete": ("Complete (tick the ported numbers)", PortCompleteForm),
    "reject": ("Reject (with a reason the customer sees)", PortRejectForm),
    "cancel": ("Cancel", PortStaffCancelForm),
}


def _one(step: str) -> Callable[..., HttpResponse | None]:
    def action(
        modeladmin: PortRequestAdmin, request: HttpRequest, queryset: QuerySet[PortRequest]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            modeladmin.message_user(request, "Select exactly one request.", messages.WARNING)
            return None
        port = queryset.get()
        return HttpResponseRedirect(reverse("admin:billing_portrequest_step", args=[port.pk, step]))

    action.__name__ = f"port_{step}"
    return admin.action(description=ACTIONS[step][0] + " …")(action)


@admin.register(PortRequest)
class PortRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "account",
        "status",
        "number_count",
        "fee_total",
        "requested_date",
        "foc_date",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("=id", "account__code", "account__name", "numbers__number")
    list_select_related = ("account",)
    date_hierarchy = "created_at"
    inlines = (PortNumberInline, PortTransitionInline)
    readonly_fields = [
        *(f.name for f in PortRequest._meta.fields if f.name != "bill"),
        "bill_link",
        "workflow",
    ]
    exclude = ("bill",)
    actions = [_one("start"), _one("complete"), _one("reject"), _one("cancel")]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change page shows the request; its fields stay read-only (see readonly_fields).
        return bool(request.user.has_perm("billing.change_portrequest"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[PortRequest]:
        return super().get_queryset(request).prefetch_related("numbers")

    @admin.display(description="Numbers")
    def number_count(self, obj: PortRequest) -> int:
        return len(obj.numbers.all())

    @admin.display(description="Bill copy")
    def bill_link(self, obj: PortRequest) -> str:
        if not obj.bill:
            return "—"
        url = reverse("admin:billing_portrequest_bill", args=[obj.pk])
        return format_html('<a href="{}">Download ({})</a>', url, obj.bill_content_type)

    @admin.display(description="Move the request")
    def workflow(self, obj: PortRequest) -> str:
        if not obj.is_open:
            return "—"
        links = [
            format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("admin:billing_portrequest_step", args=[obj.pk, step]),
                label,
            )
            for step, (label, _form) in ACTIONS.items()
        ]
        return format_html(" ".join(["{}"] * len(links)), *links)

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "<int:port_id>/step/<str:step>/",
                self.admin_site.admin_view(self.step_view),
                name="billing_portrequest_step",
            ),
            path(
                "<int:port_id>/bill/",
                self.admin_site.admin_view(self.bill_view),
                name="billing_portrequest_bill",
            ),
        ]
        return custom + super().get_urls()

    def bill_view(self, request: HttpRequest, port_id: int) -> FileResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return bill_response(get_object_or_404(PortRequest, pk=port_id))

    def _form(self, step: str, port: PortRequest, data: Any) -> forms.Form:
        if step == "complete":
            numbers = list(port.numbers.values_list("number", flat=True))
            return PortCompleteForm(data, numbers=numbers)
        return ACTIONS[step][1](data)

    def step_view(self, request: HttpRequest, port_id: int, step: str) -> HttpResponse:
        if step not in ACTIONS or not self.has_change_permission(request):
            return HttpResponse(status=404 if step not in ACTIONS else 403)
        port = get_object_or_404(PortRequest.objects.select_related("account"), pk=port_id)
        form = self._form(step, port, request.POST if request.method == "POST" else None)
        staff: User = request.user  # type: ignore[assignment]
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            try:
                if step == "start":
                    port_start(
                        port=port,
                        staff_user=staff,
                        foc_date=data["foc_date"],
                        note=data["note"],
                        now=now,
                    )
                elif step == "complete":
                    port_complete(
                        port=port,
                        staff_user=staff,
                        ported=data["ported"],
                        did_group=data["did_group"],
                        note=data["note"],
                        now=now,
                    )
                elif step == "reject":
                    port_reject(port=port, staff_user=staff, reason=data["reason"], now=now)
                else:
                    port_cancel(port=port, user=staff, by_staff=True, note=data["note"], now=now)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                port.refresh_from_db()
                self.message_user(
                    request, f"{port}: done; the customer was e-mailed.", messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse("admin:billing_portrequest_change", args=[port.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{ACTIONS[step][0]}: {port}",
            "port": port,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/port_step.html", context)
