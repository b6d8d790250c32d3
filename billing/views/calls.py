"""The Calls page (filters, CSV export) and one call's detail."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing import exports
from billing.forms.calls import CallFilterForm
from billing.selectors.calls import CallFilters, call_for_account, call_page, calls_for_account
from billing.selectors.usage import minutes_summary
from billing.selectors.usage_charts import calls_chart_range, minutes_by_day
from billing.selectors.usage_figures import chart_days_text, minutes_per_day_figure
from portal.decorators import CustomerRequest, customer_view


@customer_view
@require_GET
def calls(request: CustomerRequest) -> HttpResponseBase:
    """The account's calls, newest first, filtered; ``?export=csv`` streams the filtered set."""
    account = request.account
    form = CallFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else CallFilters()
    # An invalid filter never exports the unfiltered set: the page shows the errors instead.
    if request.GET.get("export") == "csv" and not (form.is_bound and form.errors):
        queryset = calls_for_account(account=account, filters=filters)
        response = StreamingHttpResponse(
            exports.csv_lines(exports.call_rows(queryset, tz=account.tz)),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime(timezone.now(), account.tz).strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="calls-{account.code}-{stamp}.csv"'
        return response
    # Filters that contradict each other (From after To) show their error and no table: the
    # unfiltered calls under the error would read as the answer.
    filter_invalid = form.is_bound and bool(form.errors)
    page = None
    if not filter_invalid:
        page = call_page(
            account=account,
            filters=filters,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
        )
    filtered = filters != CallFilters()
    now = timezone.now()
    summary = minutes_summary(account=account, now=now)
    figure = None
    if not (form.is_bound and form.errors):
        first, last = calls_chart_range(account=account, filters=filters, now=now)
        figure = minutes_per_day_figure(
            key="calls-minutes",
            days=minutes_by_day(account=account, first=first, last=last, filters=filters),
            title=f"Billed minutes per day, {chart_days_text(first, last)}",
        )
    return render(
        request,
        "billing/calls.html",
        {
            "account": account,
            "form": form,
            "page": page,
            "filtered": filtered,
            "filter_invalid": filter_invalid,
            "summary": summary,
            "figure": figure,
        },
    )


@customer_view
@require_GET
def call_detail(request: CustomerRequest, call_id: int) -> HttpResponse:
    call = call_for_account(account=request.account, call_pk=call_id)
    return render(request, "billing/call_detail.html", {"account": request.account, "call": call})
