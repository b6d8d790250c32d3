"""The Service Plan page: the plan and its minutes, the recurring charges and next bill, the
included destinations, this month's forecast, and switching plan from the next billing month."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing.forms.plans import PlanSwitchForm
from billing.permissions import can_change_plan
from billing.selectors.service_plan import service_plan_overview
from billing.selectors.usage_charts import usage_overview
from billing.selectors.usage_figures import overview_figures
from billing.services.plans import account_plan_change_cancel, account_plan_choose
from portal.decorators import CustomerRequest, customer_view
from portal.errors import DomainError


@customer_view
@require_GET
def service_plan(request: CustomerRequest) -> HttpResponse:
    account = request.account
    now = timezone.now()
    overview = service_plan_overview(account=account, now=now)
    usage = usage_overview(account=account, now=now, summary=overview.minutes)
    context = {
        "account": account,
        "overview": overview,
        "usage": usage,
        "figures": overview_figures(overview=usage, prefix="plan"),
        "can_change_plan": can_change_plan(request.user),
    }
    with timezone.override(account.tz):
        return render(request, "billing/service_plan.html", context)


@customer_view
@require_POST
def service_plan_switch(request: CustomerRequest) -> HttpResponse:
    """Switch plan from the next billing month; nothing is charged now."""
    if not can_change_plan(request.user):
        raise PermissionDenied("Only the account owner or billing users may switch plans.")
    form = PlanSwitchForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("billing:service_plan")
    try:
        row = account_plan_choose(
            account=request.account, plan_id=form.cleaned_data["plan"], now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("billing:service_plan")
    local = timezone.localtime(row.starts_at, request.account.tz)
    if row.starts_at > timezone.now():
        messages.success(
            request, f"You will switch to the {row.plan.name} plan on {local:%B} {local.day}."
        )
    else:
        messages.info(request, f"You stay on the {row.plan.name} plan.")
    return redirect("billing:service_plan")


@customer_view
@require_POST
def service_plan_cancel(request: CustomerRequest) -> HttpResponse:
    """Withdraw a pending switch: the current plan continues."""
    if not can_change_plan(request.user):
        raise PermissionDenied("Only the account owner or billing users may switch plans.")
    if account_plan_change_cancel(account=request.account, now=timezone.now()):
        messages.success(request, "The plan switch was cancelled. Your plan stays as it is.")
    else:
        messages.info(request, "There was no pending plan switch.")
    return redirect("billing:service_plan")
