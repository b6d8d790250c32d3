from __future__ import annotations

from django.urls import path

from billing.views import calls, deposits, numbers, per_minute, plans, rates, statements

app_name = "billing"

urlpatterns: list = [
    path("calls/", calls.calls, name="calls"),
    path("calls/<int:call_id>/", calls.call_detail, name="call_detail"),
    path("numbers/", numbers.numbers, name="numbers"),
    path("rates/", rates.rate_lookup, name="rate_lookup"),
    # Settings: the Service Plan page
    path("service-plan/", plans.service_plan, name="service_plan"),
    path("service-plan/switch/", plans.service_plan_switch, name="service_plan_switch"),
    path("service-plan/cancel/", plans.service_plan_cancel, name="service_plan_cancel"),
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
