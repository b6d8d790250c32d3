"""The Statements page (list, statement, its PDF and CSV) and card-payment receipts.

The PDF is WeasyPrint's rendering of the same document template as the HTML page, so the two
cannot disagree. It is imported when a PDF is asked for: its import is heavy, and the rest of
the portal must not depend on the PDF libraries being loadable.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing import exports
from billing.models import Deposit, Statement
from billing.money import format_usd
from billing.selectors.deposits import deposit_for_account
from billing.selectors.statements import statement_for_account, statements_for_account
from billing.services.statements import (
    provider_address,
    provider_name,
    statement_period_label,
)
from portal.decorators import CustomerRequest, customer_view
from portal.models import Account


def _statement_context(statement: Statement, account: Account) -> dict[str, Any]:
    lines = list(statement.lines.all())
    groups = [
        {
            "label": label,
            "total": getattr(statement, value),
            "lines": [line for line in lines if line.group == value],
        }
        for value, label in Statement.Group.choices
    ]
    return {
        "account": account,
        "statement": statement,
        "period_label": statement_period_label(statement, account),
        "groups": groups,
        "address_lines": statement.provider_address.splitlines(),
        "closed_at": statement.closed_at,
    }


@customer_view
@require_GET
def statements(request: CustomerRequest) -> HttpResponse:
    account = request.account
    rows = [
        {"statement": s, "period_label": statement_period_label(s, account)}
        for s in statements_for_account(account=account)
    ]
    with timezone.override(account.tz):
        return render(request, "billing/statements/list.html", {"account": account, "rows": rows})


@customer_view
@require_GET
def statement(request: CustomerRequest, statement_id: int) -> HttpResponse:
    found = statement_for_account(account=request.account, statement_id=statement_id)
    context = _statement_context(found, request.account)
    # Templates' date filters convert to the active time zone: the customer's own.
    with timezone.override(request.account.tz):
        return render(request, "billing/statements/detail.html", context)


@customer_view
@require_GET
def statement_pdf(request: CustomerRequest, statement_id: int) -> HttpResponse:
    found = statement_for_account(account=request.account, statement_id=statement_id)
    context = _statement_context(found, request.account)
    with timezone.override(request.account.tz):
        html = render_to_string("billing/statements/statement_pdf.html", context, request=request)
    return _pdf_response(
        html,
        filename=f"statement-{request.account.code}-{found.invoice_label}.pdf",
        request=request,
    )


@customer_view
@require_GET
def statement_csv(request: CustomerRequest, statement_id: int) -> HttpResponse:
    account = request.account
    found = statement_for_account(account=account, statement_id=statement_id)
    first, last = found.local_dates(account.tz)
    rows: list[list[object]] = [
        ["Invoice", "", "", found.invoice_label],
        ["Period", "", "", f"{first.isoformat()} to {last.isoformat()} ({account.tz})"],
        ["Opening balance", "", "", f"{found.opening_balance:.4f}"],
    ]
    group_labels = dict(Statement.Group.choices)
    rows += [
        [group_labels[line.group], line.label, line.count, f"{line.amount:.4f}"]
        for line in found.lines.all()
    ]
    rows += [
        [f"Total {label.lower()}", "", "", f"{getattr(found, value):.4f}"]
        for value, label in Statement.Group.choices
    ]
    rows.append(["Closing balance", "", "", f"{found.closing_balance:.4f}"])
    body = "".join(exports.csv_lines(rows, header=["Section", "Line", "Entries", "Amount (USD)"]))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{account.code}-{found.invoice_label}.csv"'
    )
    return response


@customer_view
@require_GET
def deposit_receipt(request: CustomerRequest, deposit_id: int) -> HttpResponse:
    """The receipt of a successful card payment; any other payment has none (404)."""
    account = request.account
    deposit = deposit_for_account(account=account, deposit_id=deposit_id)
    if deposit.status != Deposit.Status.SUCCEEDED:
        raise Http404("This payment has no receipt.")
    paid_at = deposit.completed_at or deposit.created_at
    context = {
        "account": account,
        "deposit": deposit,
        "receipt_number": f"R-{deposit.pk:06d}",
        "paid_at": paid_at,
        "amount": format_usd(deposit.amount),
        "provider_name": provider_name(),
        "address_lines": provider_address().splitlines(),
    }
    with timezone.override(account.tz):
        html = render_to_string("billing/statements/receipt_pdf.html", context, request=request)
    return _pdf_response(
        html, filename=f"receipt-{account.code}-{context['receipt_number']}.pdf", request=request
    )


def _pdf_response(html: str, *, filename: str, request: HttpRequest) -> HttpResponse:
    from weasyprint import HTML

    # No base URL and no fetcher beyond data: the template inlines its styles, so rendering
    # never reaches out to the network or the file system.
    pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"PDF rendering fetches nothing ({url!r})")
