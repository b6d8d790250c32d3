from __future__ import annotations

from django.urls import path

from billing.views import (
    calls,
    deposits,
    numbers,
    payments,
    per_minute,
    permissions,
    plans,
    ports,
    rates,
    statements,
)

app_name = "billing"

urlpatterns: list = [
    path("calls/", calls.calls, name="calls"),
    path("calls/<int:call_id>/", calls.call_detail, name="call_detail"),
    path("numbers/", numbers.numbers, name="numbers"),
    path("numbers/ports/new/", ports.port_new, name="port_new"),
    path("numbers/ports/<int:port_id>/", ports.port_detail, name="port_detail"),
    path("numbers/ports/<int:port_id>/submit/", ports.port_submit_view, name="port_submit"),
    path("numbers/ports/<int:port_id>/cancel/", ports.port_cancel_view, name="port_cancel"),
    path("numbers/ports/<int:port_id>/bill/", ports.port_bill, name="port_bill"),
    path("rates/", rates.rate_lookup, name="rate_lookup"),
    # Settings: the Service Plan page
    path("service-plan/", plans.service_plan, name="service_plan"),
    path("service-plan/switch/", plans.service_plan_switch, name="service_plan_switch"),
    path("service-plan/cancel/", plans.service_plan_cancel, name="service_plan_cancel"),
    # Settings: Call permissions (toll-fraud protection)
    path("call-permissions/", permissions.call_permissions, name="call_permissions"),
    path("call-permissions/save/", permissions.call_permissions_save, name="call_permissions_save"),
    path(
        "call-permissions/release/",
        permissions.call_permissions_release,
        name="call_permissions_release",
    ),
    # Prepaid balance
    path("per-minute/", per_minute.per_minute, name="per_minute"),
    path("per-minute/add-credit/", deposits.add_credit, name="add_credit"),
    path(
        "per-minute/payments/<int:deposit_id>/confirm/",
        deposits.deposit_confirm,
        name="deposit_confirm",
    ),
    path(
        "per-minute/payments/<int:deposit_id>/return/",
        deposits.deposit_return,
        name="deposit_return",
    ),
    path(
        "per-minute/payments/<int:deposit_id>/authenticate/",
        deposits.deposit_authenticate,
        name="deposit_authenticate",
    ),
    path(
        "per-minute/payments/<int:deposit_id>/cancel/",
        deposits.deposit_cancel_view,
        name="deposit_cancel",
    ),
    path("per-minute/payments/", payments.payments, name="payments"),
    path("per-minute/auto-recharge/", per_minute.auto_recharge_settings, name="auto_recharge"),
    path("per-minute/card/remove/", per_minute.card_remove, name="card_remove"),
    path(
        "per-minute/payments/<int:deposit_id>/receipt.pdf",
        statements.deposit_receipt,
        name="deposit_receipt",
    ),
    # Statements (under Per Minute)
    path("per-minute/statements/", statements.statements, name="statements"),
    path("per-minute/statements/<int:statement_id>/", statements.statement, name="statement"),
    path(
        "per-minute/statements/<int:statement_id>/statement.pdf",
        statements.statement_pdf,
        name="statement_pdf",
    ),
    path(
        "per-minute/statements/<int:statement_id>/statement.csv",
        statements.statement_csv,
        name="statement_csv",
    ),
]
